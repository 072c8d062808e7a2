/* Internals shared by broker.c, broker_io.c and broker_apply.c. */
#ifndef TANDEM_APP_BROKER_INT_H
#define TANDEM_APP_BROKER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <uv.h>

#include "base/error.h"
#include "cluster/config.h"
#include "mgmt/mgmt.h"
#include "mgmt/metrics.h"
#include "engine/engine.h"
#include "export/exporter.h"
#include "gateway/gateway.h"
#include "search/search.h"
#include "stream/partition.h"
#include "stream/processor.h"

/* Exporters of a broker: "sqlite" and "secondary" (exporters.* keys). */
#define BROKER_EXPORTERS_MAX 2u

/* Appends waiting for the I/O thread; more is backpressure (503). */
#define BROKER_IO_QUEUE_CAPACITY 4096u

struct broker;

/* Work on its way to a partition: made on the loop, processed in a round
 * of the I/O thread, answered and freed on the loop by `done`. */
typedef struct work_item {
    struct work_item *next;                              /* private: queue link */
    uint32_t slot;                                       /* index into broker.slots */
    tandem_item item;                                    /* the processor's in/out */
    void (*done)(struct broker *b, struct work_item *w); /* loop: answer and free */
    void *ctx; /* the requester (an HTTP request, a gateway call), NULL once gone */
} work_item;

/* What a round reported besides the items' answers, for the loop. */
typedef struct round_report {
    struct round_report *next;
    uint32_t slot;
    tandem_round_output out;
} round_report;

/* What the loop may know of a partition the I/O thread owns. */
typedef struct partition_view {
    uint64_t term;
    uint64_t first;
    uint64_t last;
    uint64_t commit;
    uint64_t applied;
    /* Where compaction may cut: below min(applied + 1, every enabled
     * exporter's acknowledged index + 1). The broker does not compact yet. */
    uint64_t compact_below;
    bool stopped;
} partition_view;

typedef struct partition_slot {
    uint32_t id;
    tandem_partition *p;         /* the I/O thread's while it runs, the loop's before and after */
    tandem_engine *engine;       /* owned; the partition's apply path and the processor use it */
    tandem_processor *processor; /* owned; I/O thread */
    int64_t next_due_ms;         /* I/O thread: earliest time-driven work, INT64_MAX when none */
    /* Records applied by replay (after a restart, the journal after the
     * state's applied position) rather than by leader rounds. */
    _Atomic uint64_t replayed_records;
    tandem_gauge *g_replayed;
    char incarnation[40];
    partition_view view; /* guarded by io.lock */
    tandem_gauge *g_commit;
    tandem_gauge *g_applied;
    /* I/O thread: the exporter positions last written as EXPORTER records,
     * and the partition's last position those records were expected to end
     * at (when nothing else was written since, no new record is needed). */
    uint64_t positions_written[BROKER_EXPORTERS_MAX];
    uint64_t positions_expected_last;
} partition_slot;

typedef struct io_thread {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    work_item *submit_head; /* guarded by lock */
    work_item *submit_tail;
    uint32_t submit_count;
    work_item *done_head; /* guarded by lock */
    work_item *done_tail;
    round_report *reports; /* guarded by lock: reports for the loop, newest first */
    bool stop;             /* guarded by lock */
    int fatal_rc;          /* guarded by lock: first fatal error of the thread */
    char fatal_msg[512];
    uint64_t positions_due_ns; /* I/O thread: next EXPORTER records, monotonic clock */
    uv_async_t async;          /* wakes the loop when answers are ready */
    bool started;
    bool async_open;
} io_thread;

typedef struct broker {
    const tandem_config *cfg;
    uv_loop_t loop;
    tandem_metrics *metrics;
    tandem_mgmt *mgmt;
    tandem_gateway *gateway;       /* the REST API; NULL until started and after close */
    tandem_search_service *search; /* its read endpoints; closed after the gateway */
    void *backend;                 /* backend.c's state */
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
    /* Delivers a command to partition partition_id (a send of a committed
     * round: distributed deployments, acknowledgements). Called on the I/O
     * thread; the record is borrowed. A send that cannot be delivered is
     * dropped (the engine repeats it). Local partitions only for now; the
     * network transport will sit behind the same pointer. */
    int (*send)(struct broker *b, uint32_t partition_id, const tandem_record *command);
    /* The exporters (broker_export.c); NULL when the broker has no partition. */
    tandem_exporters *exporters;
    char export_ids[BROKER_EXPORTERS_MAX][TANDEM_EXPORTER_ID_LEN_MAX + 1];
    char export_paths[BROKER_EXPORTERS_MAX][TANDEM_CONFIG_PATH_LEN_MAX * 2 + 2];
    tandem_gauge **g_export_position; /* [exporter * slot_count + slot] */
    tandem_gauge **g_export_lag;
} broker;

/* broker.c */
void broker_shutdown(broker *b, int rc);
/* Loop: what a round reported (job types that became activatable, awaited
 * results); the report is freed by the caller afterwards. */
void broker_round_report(broker *b, round_report *r);

/* broker_io.c */
int broker_io_start(broker *b, tandem_diag *diag);
/* Queues w for its partition; TANDEM_EFULL when the queue is at capacity,
 * TANDEM_ECLOSED when stopping. On an error w stays the caller's. */
int broker_io_submit(broker *b, work_item *w);
void broker_io_view(broker *b, uint32_t slot, partition_view *out);
/* broker.send for partitions of this broker: queues the command for the
 * partition's next round. TANDEM_ENOENT for a partition not here,
 * TANDEM_EFULL / TANDEM_ECLOSED as broker_io_submit, TANDEM_ENOMEM. */
int broker_io_send_local(broker *b, uint32_t partition_id, const tandem_record *command);
/* Wakes the I/O thread (an exporter has room for entries); any thread. */
void broker_io_wake(broker *b);
/* Tells the thread to finish, joins it, answers what it finished. */
void broker_io_stop(broker *b);
void broker_io_close_async(broker *b, uv_close_cb cb);

/* broker_export.c */
/* Creates the exporters of the configuration (threads not started). */
int broker_export_open(broker *b, tandem_diag *diag);
int broker_export_register_metrics(broker *b, tandem_diag *diag);
int broker_export_start(broker *b, tandem_diag *diag);
/* Stops the exporter threads and closes the stores; after the I/O thread stopped. */
void broker_export_close(broker *b);
int broker_export_routes(broker *b, tandem_diag *diag);
/* I/O thread: gives the exporters the slot's committed entries they lack
 * (bounded per call); an error is a committed entry that cannot be read. */
int broker_export_pump(broker *b, uint32_t slot, tandem_diag *diag);
/* I/O thread (io.lock may be held): an exporter has room and entries to get. */
bool broker_export_pending(broker *b);
/* Journal index below which the slot's journal may be compacted: below
 * min(applied + 1, every enabled exporter's acknowledged index + 1). */
uint64_t broker_export_compaction_index(broker *b, uint32_t slot);
/* I/O thread, about once a second: queues an EXPORTER record for every
 * exporter whose position moved, unless only such records were written since
 * the last ones (an idle partition writes none). */
void broker_export_record_positions(broker *b);
/* Loop: true (with a message) when new commands for the slot must get 503
 * RESOURCE_EXHAUSTED because the log retained for the exporters passed
 * exporters.maxRetainedEntries. */
bool broker_export_backpressure(broker *b, uint32_t slot, char *why, size_t why_size);

/* broker_apply.c */
/* Sets the apply function (replaying batches through the slot's engine,
 * counting them in its replayed_records) and the state tables (the
 * partition's, then the engine's) of a partition. */
void broker_apply_options(tandem_partition_options *opts, partition_slot *slot);
/* Index of the engine's first table in the state (tandem_engine_config.table_base). */
uint32_t broker_engine_table_base(void);
/* Position the next record of the partition gets (after what is applied). */
int broker_apply_next_position(tandem_partition *p, uint64_t *out, tandem_diag *diag);
/* tandemctl state digest DIR: prints the digest of the partition's stored
 * state and of a replay of its whole journal into a fresh state; exit code 0
 * when they are equal, 1 when not or on an error, 2 for a bad DIR. */
int broker_state_digests(const char *dir, FILE *out, FILE *err);

#endif
