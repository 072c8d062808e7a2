/*
 * Event appliers: the one path that changes the engine's state (DESIGN §2).
 * The leader runs them on the events it produces, followers and replay on
 * committed events; they depend only on (state, event). An event that does
 * not fit the state (a job that does not exist, ...) is damage or a bug, so
 * it gives TANDEM_ECORRUPT naming the record and the caller stops.
 */
#include <string.h>

#include "base/assert.h"
#include "engine/engine_int.h"
#include "protocol/key.h"

static int misfit(tandem_diag *diag, const tandem_record *rec, const char *why)
{
    TANDEM_ASSERT(rec != NULL && why != NULL);
    tandem_name_buf vt, in;
    return tandem_diag_set(diag, TANDEM_ECORRUPT,
                           "engine: cannot apply %s %s with key %llu at position %llu: %s",
                           tandem_value_type_name(rec->value_type, &vt),
                           tandem_intent_name(rec->value_type, rec->intent, &in),
                           (unsigned long long)rec->key, (unsigned long long)rec->position, why);
}

/* Keys come from the events: the generator moves past every key of this
 * partition an event carries, so a follower's generator matches the leader's. */
static int advance_key_generator(tandem_engine *e, tandem_kv_txn *txn, uint64_t key,
                                 tandem_diag *diag)
{
    TANDEM_ASSERT(e != NULL && txn != NULL);
    if (key == TANDEM_KEY_NONE || tandem_key_partition(key) != e->partition_id) {
        return 0;
    }
    uint64_t next;
    int rc = engine_key_next_get(e, txn, &next, diag);
    if (rc != 0) {
        return rc;
    }
    uint64_t counter = tandem_key_counter(key);
    if (counter < next) {
        return 0;
    }
    TANDEM_ASSERT(counter < TANDEM_KEY_COUNTER_MAX);
    return engine_key_next_put(e, txn, counter + 1, diag);
}

/* ---- Element instances ------------------------------------------------- */

static int adjust_children(tandem_engine *e, tandem_kv_txn *txn, const tandem_record *rec,
                           uint64_t scope_key, bool add, tandem_diag *diag)
{
    TANDEM_ASSERT(rec != NULL);
    TANDEM_ASSERT(scope_key != TANDEM_KEY_NONE && scope_key != rec->key);
    engine_element parent;
    int rc = engine_element_get(e, txn, scope_key, &parent, diag);
    if (rc == TANDEM_ENOENT) {
        return misfit(diag, rec, "its flow scope does not exist");
    }
    if (rc != 0) {
        return rc;
    }
    if (!add && parent.child_count == 0) {
        return misfit(diag, rec, "its flow scope has no active children");
    }
    parent.child_count = add ? parent.child_count + 1 : parent.child_count - 1;
    rc = engine_element_put(e, txn, scope_key, &parent, diag);
    if (rc != 0) {
        return rc;
    }
    uint8_t prefix[8];
    engine_be64(prefix, scope_key);
    return add ? engine_index_put(e, txn, TBL_ELEMENT_CHILD, prefix, 8, rec->key, diag)
               : engine_index_del(e, txn, TBL_ELEMENT_CHILD, prefix, 8, rec->key, diag);
}

static int apply_element_gone(tandem_engine *e, tandem_kv_txn *txn, const tandem_record *rec,
                              tandem_diag *diag)
{
    TANDEM_ASSERT(rec->value_type == TANDEM_VALUE_PROCESS_INSTANCE);
    engine_element el;
    int rc = engine_element_get(e, txn, rec->key, &el, diag);
    if (rc == TANDEM_ENOENT) {
        return misfit(diag, rec, "no such element instance");
    }
    if (rc != 0) {
        return rc;
    }
    uint8_t k[8];
    engine_be64(k, rec->key);
    rc = tandem_kv_del(txn, engine_tbl(e, TBL_ELEMENT), k, sizeof(k), diag);
    if (rc != 0) {
        return rc;
    }
    /* The scope ended: its variables go with it. */
    rc = engine_variables_drop(e, txn, rec->key, diag);
    if (rc != 0) {
        return rc;
    }
    if (el.value.flow_scope_key != TANDEM_KEY_NONE) {
        return adjust_children(e, txn, rec, el.value.flow_scope_key, false, diag);
    }
    /* The process instance ended: a waiting client's registration goes too. */
    rc = tandem_kv_del(txn, engine_tbl(e, TBL_AWAIT), k, sizeof(k), diag);
    return rc == TANDEM_ENOENT ? 0 : rc;
}

static int apply_process_instance(tandem_engine *e, tandem_kv_txn *txn, const tandem_record *rec,
                                  tandem_diag *diag)
{
    TANDEM_ASSERT(rec->value_type == TANDEM_VALUE_PROCESS_INSTANCE);
    TANDEM_ASSERT(e != NULL && txn != NULL);
    switch (rec->intent) {
    case TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATING: {
        engine_element el = {.state = rec->intent,
                             .child_count = 0,
                             .job_key = TANDEM_KEY_NONE,
                             .incident_key = TANDEM_KEY_NONE};
        int rc = tandem_process_instance_value_decode(rec->value, rec->value_len, &el.value,
                                                      &e->unknown, diag);
        if (rc != 0) {
            return rc;
        }
        rc = engine_element_put(e, txn, rec->key, &el, diag);
        if (rc == 0 && el.value.flow_scope_key != TANDEM_KEY_NONE) {
            rc = adjust_children(e, txn, rec, el.value.flow_scope_key, true, diag);
        }
        return rc;
    }
    case TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATED:
    case TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_COMPLETING:
    case TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_TERMINATING: {
        engine_element el;
        int rc = engine_element_get(e, txn, rec->key, &el, diag);
        if (rc == TANDEM_ENOENT) {
            return misfit(diag, rec, "no such element instance");
        }
        if (rc != 0) {
            return rc;
        }
        el.state = rec->intent;
        return engine_element_put(e, txn, rec->key, &el, diag);
    }
    case TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_COMPLETED:
    case TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_TERMINATED:
        return apply_element_gone(e, txn, rec, diag);
    default:
        return 0; /* SEQUENCE_FLOW_TAKEN and others change nothing kept */
    }
}

/* ---- Jobs ------------------------------------------------------------- */

/* The index rows a job has in its state. */
static int job_index(tandem_engine *e, tandem_kv_txn *txn, uint64_t key, const engine_job *job,
                     bool add, tandem_diag *diag)
{
    TANDEM_ASSERT(job != NULL);
    TANDEM_ASSERT(key != TANDEM_KEY_NONE);
    uint8_t prefix[TANDEM_KV_KEY_MAX_BYTES];
    size_t prefix_len;
    enum engine_table t;
    switch (job->state) {
    case JOB_ACTIVATABLE:
        if (job->value.type.len + 1 > sizeof(prefix) - 8) {
            return tandem_diag_set(diag, TANDEM_ECORRUPT, "engine: job type of %zu bytes",
                                   job->value.type.len);
        }
        memcpy(prefix, job->value.type.ptr, job->value.type.len);
        prefix[job->value.type.len] = 0;
        prefix_len = job->value.type.len + 1;
        t = TBL_JOB_ACTIVATABLE;
        break;
    case JOB_ACTIVATED:
        engine_be64(prefix, (uint64_t)job->value.deadline_ms);
        prefix_len = 8;
        t = TBL_JOB_DEADLINE;
        break;
    case JOB_BACKOFF:
        engine_be64(prefix, (uint64_t)job->value.recurring_time_ms);
        prefix_len = 8;
        t = TBL_JOB_BACKOFF;
        break;
    default:
        return 0; /* FAILED: held by its incident, in no index */
    }
    return add ? engine_index_put(e, txn, t, prefix, prefix_len, key, diag)
               : engine_index_del(e, txn, t, prefix, prefix_len, key, diag);
}

static int job_set_element(tandem_engine *e, tandem_kv_txn *txn, uint64_t element_key,
                           uint64_t job_key, tandem_diag *diag)
{
    TANDEM_ASSERT(e != NULL && txn != NULL);
    TANDEM_ASSERT(job_key != element_key);
    engine_element el;
    int rc = engine_element_get(e, txn, element_key, &el, diag);
    if (rc == TANDEM_ENOENT) {
        return 0; /* a job without its element (later: standalone jobs) */
    }
    if (rc != 0) {
        return rc;
    }
    el.job_key = job_key;
    return engine_element_put(e, txn, element_key, &el, diag);
}

static int apply_job_created(tandem_engine *e, tandem_kv_txn *txn, const tandem_record *rec,
                             tandem_diag *diag)
{
    TANDEM_ASSERT(rec->intent == TANDEM_INTENT_JOB_CREATED);
    TANDEM_ASSERT(rec->value_type == TANDEM_VALUE_JOB);
    engine_job job = {.state = JOB_ACTIVATABLE, .incident_key = TANDEM_KEY_NONE};
    int rc = tandem_job_value_decode(rec->value, rec->value_len, &job.value, &e->unknown, diag);
    if (rc != 0) {
        return rc;
    }
    if (job.value.retries <= 0) {
        return misfit(diag, rec, "a new job without retries");
    }
    rc = engine_job_put(e, txn, rec->key, &job, diag);
    if (rc == 0) {
        rc = job_index(e, txn, rec->key, &job, true, diag);
    }
    if (rc == 0) {
        rc = job_set_element(e, txn, job.value.element_instance_key, rec->key, diag);
    }
    return rc;
}

/* The change of a job that JOB_BATCH ACTIVATED makes (JOB intents are below). */
#define CHANGE_ACTIVATED 0xffffu

/* Applies a change of one job: `ev` is the event's job value (views into the
 * record), `change` a JOB intent or CHANGE_ACTIVATED. */
static int apply_job_change(tandem_engine *e, tandem_kv_txn *txn, const tandem_record *rec,
                            uint64_t key, const tandem_job_value *ev, unsigned change,
                            tandem_diag *diag)
{
    TANDEM_ASSERT(rec != NULL && ev != NULL);
    TANDEM_ASSERT(key != TANDEM_KEY_NONE);
    engine_job job;
    int rc = engine_job_get(e, txn, key, &job, diag);
    if (rc == TANDEM_ENOENT) {
        return misfit(diag, rec, "no such job");
    }
    if (rc == 0) {
        rc = job_index(e, txn, key, &job, false, diag);
    }
    if (rc != 0) {
        return rc;
    }
    uint8_t k[8];
    engine_be64(k, key);
    switch (change) {
    case TANDEM_INTENT_JOB_COMPLETED:
    case TANDEM_INTENT_JOB_CANCELED:
        rc = tandem_kv_del(txn, engine_tbl(e, TBL_JOB), k, sizeof(k), diag);
        if (rc == 0) {
            rc = job_set_element(e, txn, job.value.element_instance_key, TANDEM_KEY_NONE, diag);
        }
        return rc;
    case CHANGE_ACTIVATED:
        if (job.state != JOB_ACTIVATABLE) {
            return misfit(diag, rec, "a job that is not activatable");
        }
        job.state = JOB_ACTIVATED;
        job.value.worker = ev->worker;
        job.value.deadline_ms = ev->deadline_ms;
        break;
    case TANDEM_INTENT_JOB_TIMEOUT_UPDATED:
        if (job.state != JOB_ACTIVATED) {
            return misfit(diag, rec, "a job that is not activated");
        }
        job.value.deadline_ms = ev->deadline_ms;
        break;
    case TANDEM_INTENT_JOB_FAILED:
        job.value.retries = ev->retries;
        job.value.error_message = ev->error_message;
        job.value.retry_backoff_ms = ev->retry_backoff_ms;
        job.value.deadline_ms = TANDEM_NONE;
        if (ev->retries <= 0) {
            job.state = JOB_FAILED;
        } else if (ev->retry_backoff_ms > 0) {
            job.state = JOB_BACKOFF;
            job.value.recurring_time_ms = ev->recurring_time_ms;
        } else {
            job.state = JOB_ACTIVATABLE;
        }
        break;
    case TANDEM_INTENT_JOB_RECURRED_AFTER_BACKOFF:
    case TANDEM_INTENT_JOB_TIMED_OUT:
        job.state = JOB_ACTIVATABLE;
        job.value.deadline_ms = TANDEM_NONE;
        job.value.recurring_time_ms = TANDEM_NONE;
        break;
    case TANDEM_INTENT_JOB_RETRIES_UPDATED:
        job.value.retries = ev->retries;
        break;
    default:
        return misfit(diag, rec, "not a job change");
    }
    rc = engine_job_put(e, txn, key, &job, diag);
    return rc != 0 ? rc : job_index(e, txn, key, &job, true, diag);
}

static int apply_job(tandem_engine *e, tandem_kv_txn *txn, const tandem_record *rec,
                     tandem_diag *diag)
{
    TANDEM_ASSERT(rec->value_type == TANDEM_VALUE_JOB);
    TANDEM_ASSERT(rec->record_type == TANDEM_RECORD_EVENT);
    if (rec->intent == TANDEM_INTENT_JOB_CREATED) {
        return apply_job_created(e, txn, rec, diag);
    }
    switch (rec->intent) {
    case TANDEM_INTENT_JOB_COMPLETED:
    case TANDEM_INTENT_JOB_CANCELED:
    case TANDEM_INTENT_JOB_FAILED:
    case TANDEM_INTENT_JOB_RECURRED_AFTER_BACKOFF:
    case TANDEM_INTENT_JOB_TIMED_OUT:
    case TANDEM_INTENT_JOB_RETRIES_UPDATED:
    case TANDEM_INTENT_JOB_TIMEOUT_UPDATED:
        break;
    default:
        return 0;
    }
    tandem_job_value ev;
    int rc = tandem_job_value_decode(rec->value, rec->value_len, &ev, &e->unknown, diag);
    return rc != 0 ? rc : apply_job_change(e, txn, rec, rec->key, &ev, rec->intent, diag);
}

static int apply_job_batch(tandem_engine *e, tandem_kv_txn *txn, const tandem_record *rec,
                           tandem_diag *diag)
{
    TANDEM_ASSERT(rec->value_type == TANDEM_VALUE_JOB_BATCH);
    TANDEM_ASSERT(e != NULL && txn != NULL);
    if (rec->intent != TANDEM_INTENT_JOB_BATCH_ACTIVATED) {
        return 0;
    }
    tandem_job_batch_value batch;
    int rc = tandem_job_batch_value_decode(rec->value, rec->value_len, &batch, &e->unknown, diag);
    if (rc != 0) {
        return rc;
    }
    tandem_value_list keys, jobs;
    tandem_value_list_init(&keys, batch.job_keys);
    tandem_value_list_init(&jobs, batch.jobs);
    tandem_field kf, jf;
    for (uint32_t n = 0; tandem_value_list_next(&keys, &kf); n++) {
        TANDEM_ASSERT(n <= TANDEM_ENGINE_ACTIVATE_JOBS_MAX * 64u);
        if (!tandem_value_list_next(&jobs, &jf) || kf.wire != TANDEM_WIRE_UINT ||
            jf.wire != TANDEM_WIRE_NESTED) {
            return misfit(diag, rec, "job keys and jobs do not match");
        }
        tandem_job_value job;
        rc = tandem_job_value_decode(jf.data, jf.len, &job, NULL, diag);
        if (rc == 0) {
            rc = apply_job_change(e, txn, rec, kf.u, &job, CHANGE_ACTIVATED, diag);
        }
        if (rc != 0) {
            return rc;
        }
    }
    if (keys.fr.error != 0 || jobs.fr.error != 0) {
        return misfit(diag, rec, "malformed job list");
    }
    return 0;
}

/* ---- Others ----------------------------------------------------------- */

/* An element's own incident (a mapping or an expression failed): the
 * element row keeps its key while it is open. */
static int incident_on_element(tandem_engine *e, tandem_kv_txn *txn, const tandem_record *rec,
                               const tandem_incident_value *v, bool created, tandem_diag *diag)
{
    TANDEM_ASSERT(rec != NULL && v != NULL);
    TANDEM_ASSERT(v->job_key == TANDEM_KEY_NONE);
    engine_element el;
    int rc = engine_element_get(e, txn, v->element_instance_key, &el, diag);
    if (rc == TANDEM_ENOENT) {
        return created ? misfit(diag, rec, "its element instance does not exist") : 0;
    }
    if (rc != 0) {
        return rc;
    }
    el.incident_key = created ? rec->key : TANDEM_KEY_NONE;
    return engine_element_put(e, txn, v->element_instance_key, &el, diag);
}

/* A job's incident: while it is open the job is FAILED and in no index;
 * resolving it makes the job activatable again when it has retries (the
 * resolve command checks that), as Zeebe's IncidentResolvedApplier does. */
static int incident_on_job(tandem_engine *e, tandem_kv_txn *txn, const tandem_record *rec,
                           const tandem_incident_value *v, bool created, tandem_diag *diag)
{
    TANDEM_ASSERT(rec != NULL && v != NULL);
    TANDEM_ASSERT(v->job_key != TANDEM_KEY_NONE);
    engine_job job;
    int rc = engine_job_get(e, txn, v->job_key, &job, diag);
    if (rc == TANDEM_ENOENT) {
        return created ? misfit(diag, rec, "its job does not exist") : 0;
    }
    if (rc != 0) {
        return rc;
    }
    job.incident_key = created ? rec->key : TANDEM_KEY_NONE;
    bool reactivated = !created && job.state == JOB_FAILED && job.value.retries > 0;
    if (reactivated) {
        job.state = JOB_ACTIVATABLE;
        job.value.deadline_ms = TANDEM_NONE;
    }
    rc = engine_job_put(e, txn, v->job_key, &job, diag);
    return rc != 0 || !reactivated ? rc : job_index(e, txn, v->job_key, &job, true, diag);
}

static int apply_incident(tandem_engine *e, tandem_kv_txn *txn, const tandem_record *rec,
                          tandem_diag *diag)
{
    TANDEM_ASSERT(rec->value_type == TANDEM_VALUE_INCIDENT);
    TANDEM_ASSERT(e != NULL && txn != NULL);
    tandem_incident_value v;
    int rc = tandem_incident_value_decode(rec->value, rec->value_len, &v, &e->unknown, diag);
    if (rc != 0) {
        return rc;
    }
    uint8_t k[8];
    engine_be64(k, rec->key);
    bool created = rec->intent == TANDEM_INTENT_INCIDENT_CREATED;
    if (created) {
        rc = tandem_kv_put(txn, engine_tbl(e, TBL_INCIDENT), k, sizeof(k), rec->value,
                           rec->value_len, diag);
    } else if (rec->intent == TANDEM_INTENT_INCIDENT_RESOLVED) {
        rc = tandem_kv_del(txn, engine_tbl(e, TBL_INCIDENT), k, sizeof(k), diag);
        if (rc == TANDEM_ENOENT) {
            return misfit(diag, rec, "no such incident");
        }
    } else {
        return 0;
    }
    if (rc != 0) {
        return rc;
    }
    return v.job_key == TANDEM_KEY_NONE ? incident_on_element(e, txn, rec, &v, created, diag)
                                        : incident_on_job(e, txn, rec, &v, created, diag);
}

static int apply_variable(tandem_engine *e, tandem_kv_txn *txn, const tandem_record *rec,
                          tandem_diag *diag)
{
    TANDEM_ASSERT(rec->value_type == TANDEM_VALUE_VARIABLE);
    TANDEM_ASSERT(e != NULL && txn != NULL);
    if (rec->intent != TANDEM_INTENT_VARIABLE_CREATED &&
        rec->intent != TANDEM_INTENT_VARIABLE_UPDATED) {
        return 0;
    }
    tandem_variable_value v;
    int rc = tandem_variable_value_decode(rec->value, rec->value_len, &v, &e->unknown, diag);
    if (rc != 0) {
        return rc;
    }
    engine_variable var = {.key = rec->key, .value = v.value};
    rc = engine_variable_put(e, txn, v.scope_key, v.name, &var, diag);
    return rc == TANDEM_EINVAL ? misfit(diag, rec, "bad variable name") : rc;
}

static int apply_process(tandem_engine *e, tandem_kv_txn *txn, const tandem_record *rec,
                         tandem_diag *diag)
{
    TANDEM_ASSERT(rec->value_type == TANDEM_VALUE_PROCESS);
    TANDEM_ASSERT(e != NULL && txn != NULL);
    if (rec->intent != TANDEM_INTENT_PROCESS_CREATED) {
        return 0;
    }
    tandem_process_value v;
    int rc = tandem_process_value_decode(rec->value, rec->value_len, &v, &e->unknown, diag);
    if (rc != 0) {
        return rc;
    }
    if (v.process_definition_key != rec->key) {
        return misfit(diag, rec, "the record key is not the process definition key");
    }
    uint8_t k[8];
    engine_be64(k, rec->key);
    rc = tandem_kv_put(txn, engine_tbl(e, TBL_PROCESS), k, sizeof(k), rec->value, rec->value_len,
                       diag);
    return rc != 0 ? rc : engine_process_index(e, txn, &v, diag);
}

static int apply_creation(tandem_engine *e, tandem_kv_txn *txn, const tandem_record *rec,
                          tandem_diag *diag)
{
    TANDEM_ASSERT(rec->value_type == TANDEM_VALUE_PROCESS_INSTANCE_CREATION);
    TANDEM_ASSERT(e != NULL && txn != NULL);
    if (rec->intent != TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATED) {
        return 0;
    }
    tandem_process_instance_creation_value v;
    int rc = tandem_process_instance_creation_value_decode(rec->value, rec->value_len, &v,
                                                           &e->unknown, diag);
    if (rc != 0 || !v.await_result) {
        return rc;
    }
    engine_await a = {rec->request_stream_id, rec->request_id, v.fetch_variables};
    return engine_await_put(e, txn, v.process_instance_key, &a, diag);
}

int engine_apply_event(tandem_engine *e, tandem_kv_txn *txn, const tandem_record *rec,
                       tandem_diag *diag)
{
    TANDEM_ASSERT(e != NULL && txn != NULL && rec != NULL);
    TANDEM_ASSERT(rec->record_type == TANDEM_RECORD_EVENT);
    int rc = advance_key_generator(e, txn, rec->key, diag);
    if (rc != 0) {
        return rc;
    }
    switch (rec->value_type) {
    case TANDEM_VALUE_PROCESS:
        return apply_process(e, txn, rec, diag);
    case TANDEM_VALUE_PROCESS_INSTANCE_CREATION:
        return apply_creation(e, txn, rec, diag);
    case TANDEM_VALUE_PROCESS_INSTANCE:
        return apply_process_instance(e, txn, rec, diag);
    case TANDEM_VALUE_JOB:
        return apply_job(e, txn, rec, diag);
    case TANDEM_VALUE_JOB_BATCH:
        return apply_job_batch(e, txn, rec, diag);
    case TANDEM_VALUE_VARIABLE:
        return apply_variable(e, txn, rec, diag);
    case TANDEM_VALUE_INCIDENT:
        return apply_incident(e, txn, rec, diag);
    case TANDEM_VALUE_DEPLOYMENT:
    case TANDEM_VALUE_COMMAND_DISTRIBUTION:
        return engine_apply_distribution(e, txn, rec, diag);
    default:
        /* records of other modules (probes) are not the engine's */
        return 0;
    }
}
