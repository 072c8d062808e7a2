/* Internals of the exporter framework (exporter.c). */
#ifndef TANDEM_EXPORT_EXPORTER_INT_H
#define TANDEM_EXPORT_EXPORTER_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "export/exporter.h"

/* One committed journal entry, shared (read once) by every queue it is on. */
typedef struct exp_entry {
    _Atomic uint32_t refs;
    uint32_t partition_index;
    uint64_t index;
    uint8_t kind;
    size_t size_bytes;
    uint8_t data[];
} exp_entry;

/* Per exporter and partition. Guarded by the framework's lock. */
typedef struct exp_partition {
    uint64_t enq_next;      /* journal index the next pump gives this exporter; 0 = from first */
    uint64_t acked;         /* last journal index wholly in the store */
    uint64_t position;      /* last record position in the store */
    uint64_t init_position; /* enable with initialize_from: written to the store first */
    /* The stored position read at start or enable: the next pump finds the
     * first entry above it (binary search) instead of offering the journal
     * from its first index. 0 when there is nothing to find. */
    uint64_t seek_position;
} exp_partition;

typedef struct exporter {
    struct tandem_exporters *ex; /* private: owner */
    char id[TANDEM_EXPORTER_ID_LEN_MAX + 1];
    const tandem_exporter_vtable *vt;
    void *impl;
    tandem_gauge *const *g_position; /* borrowed; NULL when none */
    tandem_gauge *const *g_lag;
    pthread_t thread;
    bool thread_started;
    pthread_cond_t cond; /* the thread waits on it; signalled on work and control changes */
    /* Everything below is guarded by ex->lock. */
    bool enabled;
    bool opened;
    bool positions_loaded;
    bool init_pending;
    bool wake_pending; /* positions just read: ask for a pump (it seeks) */
    bool failing;
    uint64_t gen; /* bumped by enable/disable: work taken before is dropped */
    exp_partition *parts;
    exp_entry **queue; /* ring of queue_entries_max */
    uint32_t q_head;
    uint32_t q_count;
    uint32_t backoff_ms;
    char last_error[256];
    uint64_t exported_records;
    uint64_t failures;
    /* Entries taken off the queue and being exported; the thread's own. */
    exp_entry **held;
    uint32_t held_count;
    tandem_record *recs;
    const tandem_record **rec_ptrs;
    size_t recs_cap;
} exporter;

struct tandem_exporters {
    tandem_exporters_options opts;
    uint32_t *partition_ids;
    uint64_t *commit; /* per partition, as of the last pump; guarded by lock */
    uint64_t *first;  /* per partition, as of the last pump; guarded by lock */
    pthread_mutex_t lock;
    bool stop;   /* guarded by lock */
    bool paused; /* guarded by lock */
    bool started;
    uint32_t count;
    exporter exporters[TANDEM_EXPORTERS_MAX];
};

#endif
