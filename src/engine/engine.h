/*
 * engine.h — BPMN semantics as pure functions over a state transaction.
 *
 * The engine is the partition's state machine (DESIGN §2). The leader hands it
 * one command at a time with tandem_engine_process; the engine checks the
 * command against the state the transaction sees (committed state plus
 * everything processed earlier in this round), and returns the records to
 * append as one batch: the command itself first, then the events it caused,
 * each already applied to the transaction through tandem_engine_apply — the
 * same function followers and replay use — so that applying the batch's
 * events to the state before the call gives exactly the state after it. Or it
 * returns the command followed by one COMMAND_REJECTION.
 *
 * Follow-up commands (PROCESS_INSTANCE ACTIVATE_ELEMENT / COMPLETE_ELEMENT)
 * are written into the same batch and processed inline, at most
 * TANDEM_ENGINE_FOLLOW_UPS_MAX per client command.
 *
 * Purity: no I/O, no clock, no randomness. Time is the command's
 * timestamp_ms; keys come from a key generator kept in the state, advanced by
 * the events that carry new keys (so followers advance it identically).
 * Time-driven work (job deadlines, retry back-off) is found by
 * tandem_engine_due, which returns commands the leader appends and processes
 * like client commands.
 *
 * Distribution (DESIGN §1): a deployment is processed on the partition it
 * arrives at (partition 1 by routing) and gets that partition's keys; the
 * engine then writes COMMAND_DISTRIBUTION STARTED and one DISTRIBUTING per
 * other partition, and returns in its output a *send* per other partition: a
 * command for that partition (the deployment with its keys and versions,
 * keyed by the distribution key). The receiver creates the processes with
 * exactly those keys (once: a repeated one is only acknowledged) and returns
 * a send of COMMAND_DISTRIBUTION ACKNOWLEDGE back; the distributing partition
 * writes ACKNOWLEDGED, and FINISHED once every partition acknowledged. Sends
 * are effects, released by the caller only after the round commits, and may
 * be lost: tandem_engine_resends finds the pending ones to send again. The
 * engine knows nothing of transports; the same send goes to the local
 * partition or (later) to another broker.
 *
 * Ownership and threads: an engine is used by one thread (the partition's
 * loop). It owns a bounded cache of parsed process models with their
 * compiled FEEL expressions, which only speeds up processing (a miss
 * re-parses the XML kept in the state and compiles again), so a leader and a
 * follower with different cache contents produce identical records. FEEL
 * evaluations read the command's timestamp as now() and draw random numbers
 * from a source seeded by the command's position, so they stay pure.
 * Records in a tandem_engine_output point into memory owned by that output
 * and stay valid until the next process/due call with it, or its free.
 */
#ifndef TANDEM_ENGINE_ENGINE_H
#define TANDEM_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "engine/value.h"
#include "protocol/record.h"
#include "state/kv.h"

/* Follow-up commands processed inline for one command. */
#define TANDEM_ENGINE_FOLLOW_UPS_MAX 64u
/* Records produced for one command (command, events, follow-ups, rejection). */
#define TANDEM_ENGINE_RECORDS_MAX 1024u
/* Jobs one JOB_BATCH ACTIVATE may hand out, whatever maxJobsToActivate says. */
#define TANDEM_ENGINE_ACTIVATE_JOBS_MAX 256u
/* Bytes of one JOB_BATCH ACTIVATED value; jobs beyond it are left for the
 * next request and the batch is marked truncated. */
#define TANDEM_ENGINE_JOB_BATCH_BYTES_MAX (2u * 1024u * 1024u)
/* Commands one tandem_engine_due call returns. */
#define TANDEM_ENGINE_DUE_MAX 128u
/* Parsed process models kept in memory. */
#define TANDEM_ENGINE_MODEL_CACHE_MAX 64u
/* Resources in one deployment. */
#define TANDEM_ENGINE_DEPLOY_RESOURCES_MAX 64u
/* Sends one tandem_engine_resends call returns; the others wait for their
 * next retry time. */
#define TANDEM_ENGINE_RESENDS_MAX 1024u
/* Retry of an unacknowledged distribution: first after this long, then
 * doubling up to the maximum, measured from the DISTRIBUTING event. */
#define TANDEM_ENGINE_RESEND_FIRST_MS 1000u
#define TANDEM_ENGINE_RESEND_MAX_MS   10000u

/* ---- State tables -------------------------------------------------------- */

/*
 * The names of the KV tables the engine keeps its state in, in the order the
 * engine refers to them; *count receives their number. The partition opens
 * its state with these names (possibly after tables of its own: see
 * tandem_engine_config.table_base). Static; never NULL.
 */
const char *const *tandem_engine_tables(uint32_t *count);

/* ---- Engine -------------------------------------------------------------- */

typedef struct tandem_engine tandem_engine;

typedef struct tandem_engine_config {
    uint32_t partition_id; /* TANDEM_PARTITION_ID_MIN..MAX: the keys it generates */
    /* Index, in the state's table list, of the first name that
     * tandem_engine_tables returned (the others follow in order). */
    uint32_t table_base;
    /* Partitions of the cluster (0 counts as 1): a deployment processed here
     * is distributed to the others, 1..partition_count. */
    uint32_t partition_count;
} tandem_engine_config;

/* Creates an engine. TANDEM_EINVAL naming the field for a bad config,
 * TANDEM_ENOMEM. *out is the caller's, to release with tandem_engine_destroy. */
int tandem_engine_create(const tandem_engine_config *config, tandem_engine **out,
                         tandem_diag *diag);
/* NULL is a no-op. */
void tandem_engine_destroy(tandem_engine *engine);

/* ---- Output -------------------------------------------------------------- */

/* A PROCESS_INSTANCE_RESULT for a client that created an instance with
 * awaitCompletion and is still waiting. */
typedef struct tandem_engine_result {
    int32_t request_stream_id;
    int64_t request_id;
    tandem_record record; /* PROCESS_INSTANCE_RESULT COMPLETED; not a log record */
} tandem_engine_result;

/* A command for another partition (or this one), to be delivered after the
 * round that produced it committed. Delivery may fail or repeat: receivers
 * de-duplicate by the command's key (the distribution key). */
typedef struct tandem_engine_send {
    uint32_t partition_id; /* the receiving partition */
    tandem_record command; /* COMMAND, key = distribution key, no request ids */
} tandem_engine_send;

typedef struct tandem_engine_output {
    /* read-only: the batch to append, in order; records[0] is the command. */
    tandem_record *records;
    uint32_t record_count;
    /* read-only: index in records of the record that answers the client (the
     * rejection, or the event the client waits for), -1 when the command
     * carries no request id or awaits an instance result (then the answer is
     * in `results`, of this batch or a later one). That record carries the
     * command's request ids. */
    int32_t response_index;
    /* read-only: job types that got activatable jobs (each once), for waking
     * long-polling activations after commit. */
    tandem_sv *activatable_types;
    uint32_t activatable_type_count;
    /* read-only: results of awaited instances that completed in this batch. */
    tandem_engine_result *results;
    uint32_t result_count;
    /* read-only: commands for partitions (distribution, acknowledgements),
     * to deliver after the batch commits. */
    tandem_engine_send *sends;
    uint32_t send_count;
    /* private */
    uint32_t record_cap;
    uint32_t type_cap;
    uint32_t result_cap;
    uint32_t send_cap;
    tandem_buf bytes; /* values, reasons and names the views above point into */
    struct tandem_engine_offsets_ *record_offs;
    size_t *type_offs;
    struct tandem_engine_offsets_ *result_offs;
    struct tandem_engine_offsets_ *send_offs;
} tandem_engine_output;

/* An empty output; it grows on first use and keeps its memory. */
void tandem_engine_output_init(tandem_engine_output *out);
void tandem_engine_output_free(tandem_engine_output *out);

/* ---- Processing ---------------------------------------------------------- */

/*
 * Processes one command (record_type COMMAND; the caller has set its
 * position, timestamp_ms and partition_id) against `txn`, a write
 * transaction. On success `out` holds the batch: records[0] is a copy of the
 * command, the following records have positions command->position + 1, ...
 * and source_position command->position, their timestamp is the command's.
 * Events are already applied to txn. A command the state does not allow gives
 * a COMMAND_REJECTION (rejection type and Zeebe's reason text) and changes
 * nothing; that is a success of this call.
 *
 * A command of a value type or intent the engine does not process is
 * rejected (INVALID_ARGUMENT). A duplicate time-driven command (TIME_OUT of a
 * job that already timed out) is rejected with INVALID_STATE.
 *
 * Errors: TANDEM_EINVAL for a record that is not a command; TANDEM_ETOOBIG
 * when the command would produce more than the bounds above;
 * TANDEM_ECORRUPT when the state is damaged;
 * TANDEM_ENOMEM; KV errors. After an error the transaction may hold part of
 * the command's effects: the caller discards the transaction (or the overlay
 * round) and, if it wants, rejects the command with PROCESSING_ERROR.
 */
int tandem_engine_process(tandem_engine *engine, tandem_kv_txn *txn, const tandem_record *command,
                          tandem_engine_output *out, tandem_diag *diag);

/*
 * Applies one committed record to the state: the one apply path of replay and
 * followers. Events change the state; commands and rejections are ignored
 * (returns 0), so the caller may pass every record of a batch. Depends only on
 * (state, record). TANDEM_ECORRUPT when the event cannot be applied to this
 * state (a bug or damage: the caller stops), KV errors.
 */
int tandem_engine_apply(tandem_engine *engine, tandem_kv_txn *txn, const tandem_record *record,
                        tandem_diag *diag);

/*
 * The commands the leader must write for time-driven work at now_ms: JOB
 * TIME_OUT for every activated job whose deadline is <= now_ms, JOB
 * RECUR_AFTER_BACKOFF for every failed job whose back-off ended. At most
 * TANDEM_ENGINE_DUE_MAX commands in out->records (record_count may be 0),
 * with timestamp now_ms, position 0 and no request ids; the caller sets
 * positions, appends and processes each like a client command. Reads only.
 * *next_due_ms (may be NULL) receives the earliest due time after those
 * returned, or INT64_MAX when nothing is pending, so the leader can arm a timer.
 */
int tandem_engine_due(tandem_engine *engine, tandem_kv_txn *txn, uint64_t now_ms,
                      tandem_engine_output *out, int64_t *next_due_ms, tandem_diag *diag);

/*
 * The sends to repeat at now_ms: one per pending distribution (a
 * DISTRIBUTING not yet ACKNOWLEDGED) that has a retry time in
 * (since_ms, now_ms]. Retry times of a distribution written at t are t + 1 s,
 * t + 3 s, t + 7 s, ... (the interval doubling up to 10 s, then every 10 s).
 * The caller passes as since_ms the now_ms of its last successful call, or
 * 0 after a start: then every pending distribution is sent again at once
 * (what was in flight died with the process), so distribution resumes
 * right after a restart. At most
 * TANDEM_ENGINE_RESENDS_MAX sends in out->sends (record_count is 0). Reads
 * only; pure. *next_due_ms (may be NULL) receives the earliest retry time
 * after now_ms, INT64_MAX when nothing is pending.
 */
int tandem_engine_resends(tandem_engine *engine, tandem_kv_txn *txn, uint64_t since_ms,
                          uint64_t now_ms, tandem_engine_output *out, int64_t *next_due_ms,
                          tandem_diag *diag);

/*
 * Whether a job of `type` is activatable in the state `txn` sees (read only).
 * A JOB_BATCH ACTIVATE that finds no job still writes an (empty) ACTIVATED
 * event, so a long-polling gateway asks this first and parks the request
 * instead of appending one log entry per empty poll. 0, or a KV error.
 */
int tandem_engine_has_activatable(tandem_engine *engine, tandem_kv_txn *txn, const char *type,
                                  size_t type_len, bool *out, tandem_diag *diag);

#endif
