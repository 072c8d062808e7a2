/*
 * processor.h — leader processing of one partition (DESIGN §2): commands in,
 * the engine's records appended as one batch per command, one fsync for the
 * whole round, and the answers handed out only after that commit.
 *
 * A round: begin the partition's round transaction; write the time-driven
 * commands the engine says are due (job time-outs, back-offs); process each
 * queued item in order — an engine command, or a probe record — against the
 * transaction (which holds the effects of the items before it); append every
 * batch; commit the round (journal fsync, then the state with the applied
 * position). Record positions are consecutive across the partition, and
 * timestamps never go back (max of the clock and the last timestamp).
 *
 * A command the engine cannot process (an error, not a rejection) is taken
 * out and the round is run again without it; it is answered with
 * TANDEM_ESTATE and nothing of it reaches the log. A journal or state
 * failure is fatal: the round fails, the partition stops, the caller stops
 * the broker.
 *
 * Sends (commands for partitions: distributed deployments, their
 * acknowledgements) come out of a round in its output, and only of a round
 * that committed: the caller delivers them through whatever transport
 * reaches the partition (the local broker's queue, later the network). A
 * round also asks the engine for the sends to repeat (pending distributions
 * past a retry time), so a lost send is repeated until acknowledged; after
 * a restart every pending one is repeated at the first round.
 *
 * Threads: one thread (the broker's I/O thread) owns a processor.
 */
#ifndef TANDEM_STREAM_PROCESSOR_H
#define TANDEM_STREAM_PROCESSOR_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "engine/engine.h"
#include "protocol/record.h"
#include "stream/partition.h"

enum tandem_item_kind {
    TANDEM_ITEM_COMMAND = 1, /* an engine command */
    TANDEM_ITEM_PROBE = 2,   /* a probe record carrying `payload` (write-path tests) */
    /* an EXPORTER POSITION_UPDATED event whose value is `payload`
     * (export/exporter_record.h); applied to the state like any event */
    TANDEM_ITEM_EXPORTER = 3,
};

/* One unit of work of a round, owned by the caller. Inputs are set before the
 * round; outputs are valid after it until the item is reused or freed. */
typedef struct tandem_item {
    /* in */
    int kind;
    tandem_record command; /* COMMAND: type, intent, key, request ids; value views `payload` */
    tandem_buf payload;    /* COMMAND: the value's fields; PROBE: the probe's bytes */
    /* out */
    int rc;                 /* 0, or why the item was not processed */
    char error[256];        /* message when rc != 0 */
    uint64_t index;         /* journal index of the item's batch */
    uint64_t position;      /* position of the command (or probe) record */
    bool has_response;      /* the engine named a record that answers the client */
    tandem_record response; /* views into response_bytes */
    tandem_buf response_bytes;
} tandem_item;

void tandem_item_init(tandem_item *item, int kind);
void tandem_item_free(tandem_item *item);

/* What a round produced besides the items' answers. */
typedef struct tandem_round_output {
    /* Job types that got activatable jobs: NUL-terminated strings one after
     * another in `types`, type_count of them. */
    tandem_buf types;
    uint32_t type_count;
    /* Results of awaited instances that completed (PROCESS_INSTANCE_RESULT),
     * each with the request it answers; records view result_bytes. */
    tandem_engine_result *results;
    uint32_t result_count;
    uint32_t result_cap;
    tandem_buf result_bytes;
    /* Commands to deliver to partitions (this one too), after this round
     * committed; records view send_bytes. */
    tandem_engine_send *sends;
    uint32_t send_count;
    uint32_t send_cap;
    tandem_buf send_bytes;
    /* Earliest time-driven work (or re-send) still pending, INT64_MAX when none. */
    int64_t next_due_ms;
} tandem_round_output;

void tandem_round_output_init(tandem_round_output *out);
void tandem_round_output_free(tandem_round_output *out);

typedef struct tandem_processor tandem_processor;

/* A processor over an open partition (whose state tables include the
 * engine's from table_base on) and an engine; both are borrowed and must
 * outlive it. A command whose batch would exceed entry_size_bytes_max is
 * answered TANDEM_ETOOBIG. next_position is the position the next record
 * gets (tandem_partition_last_position + 1 after open). */
int tandem_processor_create(tandem_partition *p, tandem_engine *engine,
                            uint32_t entry_size_bytes_max, uint64_t next_position,
                            tandem_processor **out);
void tandem_processor_destroy(tandem_processor *pr);

/* Runs one round over items[0..count) at wall time now_ms (see above).
 * Returns 0 when the round committed (each item says how it went), or the
 * fatal error. */
int tandem_processor_round(tandem_processor *pr, tandem_item **items, size_t count, uint64_t now_ms,
                           tandem_round_output *out, tandem_diag *diag);

uint64_t tandem_processor_next_position(const tandem_processor *pr);

/*
 * The apply path of one committed journal entry (replay after a restart and,
 * with Raft, followers): a data entry's batch must decode and continue the
 * partition's record positions without a gap; every record goes to the
 * engine's one apply path (events change the state; commands, rejections and
 * probes do not), EXPORTER events to the exporter positions of the state; the
 * last position is recorded. Other entry kinds carry no
 * records. *records (may be NULL) receives the number of records applied.
 * TANDEM_ECORRUPT with the entry's index in diag (may be NULL) when the batch
 * is damaged or out of place.
 */
int tandem_processor_apply_entry(tandem_engine *engine, tandem_kv_txn *txn,
                                 const tandem_journal_entry *entry, const uint8_t *payload,
                                 uint32_t *records, tandem_diag *diag);

/* Deep copy of a record's views into `bytes` (reset first); dst views bytes. */
int tandem_record_copy(tandem_record *dst, tandem_buf *bytes, const tandem_record *src);

#endif
