/* Internals shared by broker.c, broker_io.c and broker_apply.c. */
#ifndef TANDEM_APP_BROKER_INT_H
#define TANDEM_APP_BROKER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/error.h"
#include "cluster/config.h"
#include "mgmt/mgmt.h"
#include "mgmt/metrics.h"
#include "stream/partition.h"

/* Appends waiting for the I/O thread; more is backpressure (503). */
#define BROKER_IO_QUEUE_CAPACITY 4096u

/* A journal append on its way: made on the loop, filled in by the I/O
 * thread, answered and freed on the loop. */
typedef struct append_req {
    struct append_req *next;   /* private: queue link */
    tandem_http_request *http; /* loop only; NULL once cancelled */
    uint32_t slot;             /* index into broker.slots */
    uint8_t *payload;          /* owned; the probe record's value bytes */
    size_t len;
    uint64_t index;    /* out: journal index */
    uint64_t position; /* out: record position */
    int rc;            /* out */
    char error[256];   /* out: message when rc != 0 */
} append_req;

/* What the loop may know of a partition the I/O thread owns. */
typedef struct partition_view {
    uint64_t term;
    uint64_t first;
    uint64_t last;
    uint64_t commit;
    uint64_t applied;
    bool stopped;
} partition_view;

typedef struct partition_slot {
    uint32_t id;
    tandem_partition *p;    /* the I/O thread's while it runs, the loop's before and after */
    uint64_t next_position; /* I/O thread: position of the next record */
    uint64_t last_timestamp_ms;
    char incarnation[40];
    partition_view view; /* guarded by io.lock */
    tandem_gauge *g_commit;
    tandem_gauge *g_applied;
} partition_slot;

typedef struct io_thread {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    append_req *submit_head; /* guarded by lock */
    append_req *submit_tail;
    uint32_t submit_count;
    append_req *done_head; /* guarded by lock */
    append_req *done_tail;
    bool stop;    /* guarded by lock */
    int fatal_rc; /* guarded by lock: first fatal error of the thread */
    char fatal_msg[512];
    uv_async_t async; /* wakes the loop when answers are ready */
    bool started;
    bool async_open;
} io_thread;

typedef struct broker {
    const tandem_config *cfg;
    uv_loop_t loop;
    tandem_metrics *metrics;
    tandem_mgmt *mgmt;
    partition_slot *slots;
    uint32_t slot_count;
    io_thread io;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    bool stopping;
    int exit_rc;
    tandem_diag exit_diag;
    int lock_fd; /* flock on <data.directory>/LOCK, held while the broker runs; -1 when none */
    tandem_counter *c_appends;
    tandem_counter *c_flushes;
    tandem_histogram *h_flush;
} broker;

/* broker.c */
void broker_shutdown(broker *b, int rc);
void broker_append_done(broker *b, append_req *r);

/* broker_io.c */
int broker_io_start(broker *b, tandem_diag *diag);
/* TANDEM_EFULL when the queue is at capacity, TANDEM_ECLOSED when stopping. */
int broker_io_submit(broker *b, append_req *r);
void broker_io_view(broker *b, uint32_t slot, partition_view *out);
/* Tells the thread to finish, joins it, answers what it finished. */
void broker_io_stop(broker *b);
void broker_io_close_async(broker *b, uv_close_cb cb);

/* broker_apply.c */
/* Sets the apply function and tables of the broker's partitions. */
void broker_apply_options(tandem_partition_options *opts);
/* Position the next record of the partition gets (after what is applied). */
int broker_apply_next_position(tandem_partition *p, uint64_t *out, tandem_diag *diag);
/* Encodes a probe record carrying `payload` as a one-record batch. */
int broker_probe_batch(tandem_buf *out, uint32_t partition_id, uint64_t position,
                       uint64_t timestamp_ms, const void *payload, size_t len, tandem_diag *diag);

#endif
