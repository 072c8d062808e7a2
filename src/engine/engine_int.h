/*
 * engine_int.h — internals shared by the files of the engine module.
 *
 * engine.c        engine, output, record emission, key generator, dispatch
 * engine_state.c  state tables: row layouts and their get/put helpers
 * engine_apply.c  the event appliers (the one apply path)
 * engine_deploy.c DEPLOYMENT CREATE and the process model cache
 * engine_flow.c   process instance creation, element lifecycle, cancel
 * engine_job.c    job commands, job batch activation, time-driven commands
 * engine_json.c   variable documents (jansson)
 * engine_distribution.c  command distribution: sends, receiving, acks, retry
 * engine_feel.c   FEEL: expressions compiled with the model, mappings, job properties
 * engine_incident.c  INCIDENT RESOLVE and VARIABLE_DOCUMENT UPDATE
 */
#ifndef TANDEM_ENGINE_ENGINE_INT_H
#define TANDEM_ENGINE_ENGINE_INT_H

#include "engine/engine.h"

#include "bpmn/bpmn.h"

/* Tables, in the order of tandem_engine_tables. */
enum engine_table {
    TBL_META,                 /* "key_next" -> u64 LE: next key counter of this partition */
    TBL_PROCESS,              /* def key BE8 -> PROCESS value (with the XML) */
    TBL_PROCESS_LATEST,       /* bpmnProcessId -> latest row (version, key, checksum) */
    TBL_PROCESS_VERSION,      /* bpmnProcessId 0x00 version BE4 -> def key BE8 */
    TBL_ELEMENT,              /* element instance key BE8 -> element row */
    TBL_ELEMENT_CHILD,        /* flow scope key BE8 + child key BE8 -> "" */
    TBL_VARIABLE,             /* scope key BE8 + name -> variable row */
    TBL_JOB,                  /* job key BE8 -> job row */
    TBL_JOB_ACTIVATABLE,      /* type 0x00 job key BE8 -> "" */
    TBL_JOB_DEADLINE,         /* deadline BE8 + job key BE8 -> "" */
    TBL_JOB_BACKOFF,          /* recurring time BE8 + job key BE8 -> "" */
    TBL_INCIDENT,             /* incident key BE8 -> INCIDENT value */
    TBL_AWAIT,                /* process instance key BE8 -> await row */
    TBL_DEPLOYMENT,           /* deployment key BE8 -> "" (the deployments this partition has) */
    TBL_DISTRIBUTION,         /* distribution key BE8 -> COMMAND_DISTRIBUTION STARTED value */
    TBL_DISTRIBUTION_PENDING, /* distribution key BE8 + partition BE4 -> sent at ms BE8 */
    TBL_COUNT
};

/* States of a job row. */
enum engine_job_state {
    JOB_ACTIVATABLE = 1,
    JOB_ACTIVATED = 2,
    JOB_FAILED = 3,  /* no retries left: an incident holds it */
    JOB_BACKOFF = 4, /* failed with retries and a back-off not yet over */
};
const char *engine_job_state_name(uint32_t state);

/* A bump allocator for copies of state bytes that must outlive the next put
 * (KV views end at the next write). Blocks never move; reset per call. */
typedef struct engine_arena_block engine_arena_block;
typedef struct engine_arena {
    engine_arena_block *head;
    size_t used_bytes; /* total handed out since reset, bounded by a limit */
} engine_arena;
/* NULL on out of memory. */
void *engine_arena_alloc(engine_arena *a, size_t len);
/* A copy as a view; on ENOMEM returns -1. */
int engine_arena_dup(engine_arena *a, const void *p, size_t len, tandem_sv *out);
void engine_arena_reset(engine_arena *a);

/* Scopes in a chain from an element to its process instance. */
#define ENGINE_SCOPE_DEPTH_MAX 64u

/* The compiled FEEL expressions of one process (engine_feel.c). */
typedef struct engine_exprs engine_exprs;

/* A cached parsed model. */
typedef struct engine_model {
    uint64_t process_definition_key; /* TANDEM_KEY_NONE: free slot */
    tandem_bpmn_resource *resource;
    const tandem_bpmn_process *process;
    engine_exprs *exprs; /* owned */
} engine_model;

/* Offsets of a record's owned bytes in the output (private to engine.c). */
typedef struct tandem_engine_offsets_ {
    size_t value;
    size_t reason;
    size_t ext;
} engine_record_offsets;

struct tandem_engine {
    uint32_t partition_id;
    uint32_t partition_count; /* >= 1 */
    uint32_t table_base;
    engine_arena arena;
    tandem_buf scratch; /* state row encoding */
    tandem_buf unknown; /* unknown fields of decoded values (dropped per call) */
    engine_model models[TANDEM_ENGINE_MODEL_CACHE_MAX];
    uint32_t model_next; /* round-robin eviction */
    uint32_t depth;      /* > 0 while a public call runs (arena reset on exit) */
};

/* One process call. */
typedef struct engine_ctx {
    tandem_engine *engine;
    tandem_kv_txn *txn;
    const tandem_record *command; /* the client (or due) command */
    tandem_engine_output *out;
    tandem_diag *diag;
    uint64_t key_next; /* counter of the next key handed out by engine_key_new */
    /* follow-up commands still to process: indices into out->records */
    uint32_t follow_ups[TANDEM_ENGINE_FOLLOW_UPS_MAX];
    uint32_t follow_up_count;
    uint32_t follow_up_done;
    bool rejected;
    bool in_follow_up; /* events of follow-ups never answer the client */
    uint32_t depth;    /* element activation nesting */
} engine_ctx;

/* ---- engine.c ----------------------------------------------------------- */

uint32_t engine_tbl(const tandem_engine *e, enum engine_table t);
/* A fresh key of this partition. */
uint64_t engine_key_new(engine_ctx *ctx);
/* Appends a record with the command's envelope (timestamp, partition, source
 * position) to the output. `value` is encoded by the caller into
 * engine_value_buf first. Events are applied to the txn at once. When
 * `answer` the record becomes the response (request ids copied). *index_out
 * (may be NULL) receives its index. */
typedef int (*engine_encode_fn)(const void *value, tandem_buf *out);
int engine_emit(engine_ctx *ctx, uint8_t record_type, uint8_t value_type, uint16_t intent,
                uint64_t key, engine_encode_fn encode, const void *value, bool answer);
/* Writes a COMMAND_REJECTION of the command and makes it the response. */
int engine_reject(engine_ctx *ctx, uint8_t rejection_type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int engine_note_activatable(engine_ctx *ctx, tandem_sv type);
int engine_add_result(engine_ctx *ctx, int32_t request_stream_id, int64_t request_id, uint64_t key,
                      const tandem_process_instance_result_value *v);
/* A view of the value bytes of out->records[i] (valid until the next emit). */
tandem_sv engine_record_value(const engine_ctx *ctx, uint32_t i);
/* Queues a follow-up command record (already emitted, index i). */
int engine_queue_follow_up(engine_ctx *ctx, uint32_t index);
/* Adds a command to an output outside a process call (tandem_engine_due). */
int engine_output_add_command(tandem_engine_output *out, const tandem_record *proto,
                              engine_encode_fn encode, const void *value);

#define ENGINE_ENC(name) ((engine_encode_fn)tandem_##name##_value_encode)

/* ---- engine_state.c ------------------------------------------------------ */

void engine_be64(uint8_t out[8], uint64_t v);
uint64_t engine_load_be64(const uint8_t *p);

typedef struct engine_element {
    uint32_t state; /* PROCESS_INSTANCE intent of the last lifecycle event */
    uint64_t child_count;
    uint64_t job_key;
    uint64_t incident_key;               /* an incident of the element itself (not of its job) */
    tandem_process_instance_value value; /* views: arena */
} engine_element;
int engine_element_get(tandem_engine *e, tandem_kv_txn *txn, uint64_t key, engine_element *out,
                       tandem_diag *diag);
int engine_element_put(tandem_engine *e, tandem_kv_txn *txn, uint64_t key, const engine_element *el,
                       tandem_diag *diag);

typedef struct engine_job {
    uint32_t state; /* enum engine_job_state */
    uint64_t incident_key;
    tandem_job_value value; /* views: arena */
} engine_job;
int engine_job_get(tandem_engine *e, tandem_kv_txn *txn, uint64_t key, engine_job *out,
                   tandem_diag *diag);
int engine_job_put(tandem_engine *e, tandem_kv_txn *txn, uint64_t key, const engine_job *job,
                   tandem_diag *diag);

typedef struct engine_variable {
    uint64_t key;
    tandem_sv value; /* JSON text, view: arena */
} engine_variable;
int engine_variable_get(tandem_engine *e, tandem_kv_txn *txn, uint64_t scope_key, tandem_sv name,
                        engine_variable *out, tandem_diag *diag);
int engine_variable_put(tandem_engine *e, tandem_kv_txn *txn, uint64_t scope_key, tandem_sv name,
                        const engine_variable *var, tandem_diag *diag);
/* Deletes every variable of a scope. */
int engine_variables_drop(tandem_engine *e, tandem_kv_txn *txn, uint64_t scope_key,
                          tandem_diag *diag);
/* The JSON object text of the variables of a scope, only the names in
 * `fetch` (a list of strings; empty: all), copied to the arena. */
int engine_variables_document(tandem_engine *e, tandem_kv_txn *txn, uint64_t scope_key,
                              tandem_sv fetch, tandem_sv *out, tandem_diag *diag);

typedef struct engine_latest {
    int32_t version;
    uint64_t key;
    tandem_sv checksum; /* view: arena */
} engine_latest;
int engine_latest_get(tandem_engine *e, tandem_kv_txn *txn, tandem_sv process_id,
                      engine_latest *out, tandem_diag *diag);
int engine_version_get(tandem_engine *e, tandem_kv_txn *txn, tandem_sv process_id, int32_t version,
                       uint64_t *key_out, tandem_diag *diag);
/* The PROCESS value of a definition key (views: arena). */
int engine_process_get(tandem_engine *e, tandem_kv_txn *txn, uint64_t key,
                       tandem_process_value *out, tandem_diag *diag);

typedef struct engine_await {
    int32_t request_stream_id;
    int64_t request_id;
    tandem_sv fetch_variables; /* list; view: arena */
} engine_await;
int engine_await_get(tandem_engine *e, tandem_kv_txn *txn, uint64_t pi_key, engine_await *out,
                     tandem_diag *diag);
int engine_await_put(tandem_engine *e, tandem_kv_txn *txn, uint64_t pi_key, const engine_await *a,
                     tandem_diag *diag);
/* PROCESS CREATED: the version index and, when newer, the latest row. */
int engine_process_index(tandem_engine *e, tandem_kv_txn *txn, const tandem_process_value *p,
                         tandem_diag *diag);

/* Puts/deletes a composite index key (prefix + key BE8) with an empty value. */
int engine_index_put(tandem_engine *e, tandem_kv_txn *txn, enum engine_table t, const void *prefix,
                     size_t prefix_len, uint64_t key, tandem_diag *diag);
int engine_index_del(tandem_engine *e, tandem_kv_txn *txn, enum engine_table t, const void *prefix,
                     size_t prefix_len, uint64_t key, tandem_diag *diag);

/* Meta: the next key counter (1 in a new state). */
int engine_key_next_get(tandem_engine *e, tandem_kv_txn *txn, uint64_t *out, tandem_diag *diag);
int engine_key_next_put(tandem_engine *e, tandem_kv_txn *txn, uint64_t next, tandem_diag *diag);

/* ---- engine_apply.c ------------------------------------------------------ */

int engine_apply_event(tandem_engine *e, tandem_kv_txn *txn, const tandem_record *rec,
                       tandem_diag *diag);

/* ---- engine_deploy.c ----------------------------------------------------- */

int engine_deploy(engine_ctx *ctx, const tandem_record *cmd);
/* A deployed process definition with its parsed model. */
typedef struct engine_def {
    uint64_t key;
    int32_t version;
    tandem_sv bpmn_process_id;          /* view: arena */
    tandem_sv tenant_id;                /* view: arena */
    const tandem_bpmn_process *process; /* cache: valid until the next model_get */
    const engine_exprs *exprs;          /* of `process`; same lifetime */
} engine_def;
/* The definition of a key, from the cache or the state (parsing the stored
 * XML). TANDEM_ENOENT when the key is unknown. */
int engine_model_get(engine_ctx *ctx, uint64_t def_key, engine_def *out);
void engine_models_free(tandem_engine *e);

/* ---- engine_distribution.c ---------------------------------------------- */

/* Adds a send of a command (value encoded by `encode`) to the output. */
int engine_add_send(engine_ctx *ctx, uint32_t partition_id, uint8_t value_type, uint16_t intent,
                    uint64_t key, engine_encode_fn encode, const void *value);
/* Distributes the command (value_type, intent, value) under `key` to every
 * other partition: STARTED, DISTRIBUTING per partition, a send each. */
int engine_distribute(engine_ctx *ctx, uint64_t key, uint8_t value_type, uint16_t intent,
                      tandem_sv value);
/* Acknowledges a distributed command to the partition of its key. */
int engine_acknowledge(engine_ctx *ctx, const tandem_record *cmd);
/* DEPLOYMENT CREATE carrying a distribution key: the processes with the
 * given keys and versions, once. */
int engine_deploy_distributed(engine_ctx *ctx, const tandem_record *cmd);
/* COMMAND_DISTRIBUTION ACKNOWLEDGE. */
int engine_distribution_ack(engine_ctx *ctx, const tandem_record *cmd);
int engine_resend_scan(tandem_engine *e, tandem_kv_txn *txn, uint64_t since_ms, uint64_t now_ms,
                       tandem_engine_output *out, int64_t *next_due_ms, tandem_diag *diag);
/* Applies COMMAND_DISTRIBUTION events and DEPLOYMENT CREATED. */
int engine_apply_distribution(tandem_engine *e, tandem_kv_txn *txn, const tandem_record *rec,
                              tandem_diag *diag);
/* Adds a send outside a process call (tandem_engine_resends). */
int engine_output_add_send(tandem_engine_output *out, uint32_t partition_id,
                           const tandem_record *proto, tandem_sv value);

/* ---- engine_flow.c ------------------------------------------------------- */

int engine_create_instance(engine_ctx *ctx, const tandem_record *cmd);
int engine_pi_command(engine_ctx *ctx, const tandem_record *cmd);
/* Index of an element of a definition by its id; TANDEM_ECORRUPT when the
 * id is not in the process. */
int engine_element_index(engine_ctx *ctx, const engine_def *def, tandem_sv element_id,
                         uint32_t *index);
/* Continues the instance after the element `key` completes its work (a
 * service task whose job completed): COMPLETE_ELEMENT follow-up. */
int engine_complete_element_later(engine_ctx *ctx, uint64_t element_key,
                                  const tandem_process_instance_value *v);

/* ---- engine_job.c -------------------------------------------------------- */

int engine_job_command(engine_ctx *ctx, const tandem_record *cmd);
int engine_job_batch_activate(engine_ctx *ctx, const tandem_record *cmd);
int engine_due_scan(tandem_engine *e, tandem_kv_txn *txn, uint64_t now_ms,
                    tandem_engine_output *out, int64_t *next_due_ms, tandem_diag *diag);
/* Creates the job of a service task element instance. */
int engine_job_create(engine_ctx *ctx, uint64_t element_key,
                      const tandem_process_instance_value *el, const tandem_bpmn_task *task,
                      tandem_sv type, int32_t retries);

/* ---- engine_json.c ------------------------------------------------------- */

/* Checks that `doc` is empty or a JSON object; on failure a message for a
 * rejection reason in `reason`. */
bool engine_json_is_object(tandem_sv doc, char *reason, size_t reason_len);
/* Writes VARIABLE CREATED/UPDATED events for every top-level entry of `doc`
 * (a JSON object already checked) into the scope. */
int engine_json_set_variables(engine_ctx *ctx, tandem_sv doc, uint64_t scope_key,
                              uint64_t process_instance_key, uint64_t process_definition_key,
                              tandem_sv bpmn_process_id, tandem_sv tenant_id);
/* The JSON object text of a task's headers (copied to the arena). */
int engine_json_headers(engine_ctx *ctx, const tandem_bpmn_task *task, tandem_sv *out);
/* The JSON object text of the variables visible from a scope (its own and
 * every enclosing scope's, inner ones shadowing), only the names in `fetch`
 * (empty: all); copied to the arena. */
int engine_variables_visible(engine_ctx *ctx, uint64_t scope_key, tandem_sv fetch, tandem_sv *out);
/* Sets the entries of `doc` (a JSON object already checked) from the scope
 * `scope_key`: all into that scope when `local`; otherwise each into the
 * nearest scope of the chain that has it, a new one into the outermost. */
int engine_json_merge_variables(engine_ctx *ctx, tandem_sv doc, uint64_t scope_key, bool local);

/* ---- engine_feel.c ------------------------------------------------------ */

/* Compiles every expression ("=...") of a process. On a syntax error
 * TANDEM_EINVAL and `err` says "<line>: element '<id>': the <what>
 * expression '<text>' is not valid: <problem>"; TANDEM_ENOMEM. */
int engine_exprs_compile(const tandem_bpmn_process *p, engine_exprs **out, char *err,
                         size_t err_len);
void engine_exprs_free(engine_exprs *x);
/* INCIDENT CREATED of an element (not of a job). */
int engine_raise_incident(engine_ctx *ctx, uint32_t error_type, const char *message,
                          uint64_t element_key, const tandem_process_instance_value *v);
/* The input mappings of element `index` into its local scope. When one
 * fails, an IO_MAPPING_ERROR incident is written and *incident set. */
int engine_input_mappings(engine_ctx *ctx, const engine_def *def, uint32_t index,
                          uint64_t element_key, const tandem_process_instance_value *v,
                          bool *incident);
/* The output mappings of element `index`, merged into its flow scope;
 * incidents as above. */
int engine_output_mappings(engine_ctx *ctx, const engine_def *def, uint32_t index,
                           uint64_t element_key, const tandem_process_instance_value *v,
                           bool *incident);
/* The job type and retries of service task `index` (expressions evaluated
 * over the element's variables; *type a view valid for the call). When one
 * fails, an EXTRACT_VALUE_ERROR incident is written and *incident set. */
int engine_job_properties(engine_ctx *ctx, const engine_def *def, uint32_t index,
                          uint64_t element_key, const tandem_process_instance_value *v,
                          tandem_sv *type, int32_t *retries, bool *incident);

/* ---- engine_incident.c -------------------------------------------------- */

int engine_incident_command(engine_ctx *ctx, const tandem_record *cmd);
int engine_variable_document_command(engine_ctx *ctx, const tandem_record *cmd);

#endif
