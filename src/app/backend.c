/* The broker's side of the REST gateway (see backend.h). */
#include "app/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/broker_int.h"
#include "base/assert.h"
#include "base/log.h"
#include "engine/value.h"
#include "protocol/key.h"
#include "protocol/types.h"

/* The request stream id of the embedded gateway in command records. */
#define BACKEND_STREAM_ID 1
/* Parked awaitCompletion calls older than this are answered 504 by the sweep
 * (the gateway has answered the client at its requestTimeout long before). */
#define BACKEND_AWAIT_MAX_MS (60u * 60u * 1000u)

enum call_kind { CALL_DEPLOY, CALL_CREATE, CALL_CANCEL, CALL_ACTIVATE, CALL_EMPTY };

/* A gateway call on its way through one or more partitions. */
typedef struct pending {
    struct pending *next; /* parked list link */
    tandem_gateway_call *call;
    int kind;
    bool await;
    int64_t request_id;
    uint64_t parked_ms;
    /* activation: the request, the slots still to ask, the answers so far */
    tandem_gateway_activate_request activate;
    tandem_buf activate_bytes; /* type, worker and fetch names of the request, copied */
    uint32_t next_slot;
    int32_t jobs_left;
    tandem_buf *answers; /* one JOB_BATCH ACTIVATED value per partition asked */
    uint32_t answer_count;
} pending;

/* Per-broker state of the backend, kept in the broker. */
typedef struct backend {
    int64_t next_request_id;
    pending *parked; /* awaitCompletion calls waiting for their result */
    uint32_t create_rr;
} backend;

static backend *backend_of(broker *b)
{
    return (backend *)b->backend;
}

/* --- helpers --- */

static char *sv_dup(tandem_buf *scratch, tandem_sv sv)
{
    size_t off = scratch->len;
    if (tandem_buf_append(scratch, sv.ptr, sv.len) != TANDEM_OK ||
        tandem_buf_put_u8(scratch, 0) != TANDEM_OK) {
        return NULL;
    }
    /* offset + 1 (so offset 0 is not NULL), fixed up by sv_fix once scratch stops growing */
    return (char *)(uintptr_t)(off + 1);
}

static const char *sv_fix(const tandem_buf *scratch, char *off)
{
    return off == NULL ? "" : (const char *)scratch->data + ((uintptr_t)off - 1);
}

static tandem_gateway_rejection map_rejection(uint8_t type)
{
    switch (type) {
    case TANDEM_REJECTION_INVALID_ARGUMENT:
        return TANDEM_GATEWAY_INVALID_ARGUMENT;
    case TANDEM_REJECTION_NOT_FOUND:
        return TANDEM_GATEWAY_NOT_FOUND;
    case TANDEM_REJECTION_ALREADY_EXISTS:
        return TANDEM_GATEWAY_ALREADY_EXISTS;
    case TANDEM_REJECTION_INVALID_STATE:
        return TANDEM_GATEWAY_INVALID_STATE;
    case TANDEM_REJECTION_UNAUTHORIZED:
        return TANDEM_GATEWAY_UNAUTHORIZED;
    case TANDEM_REJECTION_FORBIDDEN:
        return TANDEM_GATEWAY_FORBIDDEN;
    case TANDEM_REJECTION_EXCEEDED_BATCH_RECORD_SIZE:
        return TANDEM_GATEWAY_EXCEEDED_BATCH_RECORD_SIZE;
    default:
        return TANDEM_GATEWAY_PROCESSING_ERROR;
    }
}

static void pending_free(pending *p)
{
    if (p == NULL) {
        return;
    }
    tandem_buf_free(&p->activate_bytes);
    for (uint32_t i = 0; i < p->answer_count; i++) {
        tandem_buf_free(&p->answers[i]);
    }
    free(p->answers);
    free(p);
}

/* Answers a call whose item failed before the engine saw it, or was rejected. */
static bool answer_failure(work_item *w, pending *p)
{
    tandem_item *it = &w->item;
    if (it->rc != TANDEM_OK) {
        if (it->rc == TANDEM_ETOOBIG) {
            tandem_gateway_fail(p->call, 400, "INVALID_ARGUMENT", it->error);
        } else if (it->rc == TANDEM_ESTATE) {
            tandem_gateway_fail(p->call, 500, "INTERNAL_ERROR", it->error);
        } else {
            tandem_gateway_fail(p->call, 503, "UNAVAILABLE", it->error);
        }
        return true;
    }
    if (it->has_response && it->response.record_type == TANDEM_RECORD_COMMAND_REJECTION) {
        tandem_name_buf nb;
        const char *intent = tandem_intent_name(it->command.value_type, it->command.intent, &nb);
        char reason[1024];
        snprintf(reason, sizeof(reason), "%.*s", (int)it->response.rejection_reason_len,
                 it->response.rejection_reason != NULL ? it->response.rejection_reason : "");
        tandem_gateway_reject(p->call, map_rejection(it->response.rejection_type), intent, reason);
        return true;
    }
    return false;
}

static void item_release(work_item *w)
{
    tandem_item_free(&w->item);
    free(w);
}

/* Queues a command for a slot; answers 503 itself when the queue is full. */
static void submit(broker *b, uint32_t slot, pending *p, uint8_t value_type, uint16_t intent,
                   uint64_t key, tandem_buf *value, void (*done)(broker *, work_item *))
{
    char why[300];
    if (broker_export_backpressure(b, slot, why, sizeof(why))) {
        tandem_gateway_fail(p->call, 503, "RESOURCE_EXHAUSTED", why);
        pending_free(p);
        tandem_buf_free(value);
        return;
    }
    work_item *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        tandem_gateway_fail(p->call, 503, "RESOURCE_EXHAUSTED", "out of memory");
        pending_free(p);
        tandem_buf_free(value);
        return;
    }
    tandem_item_init(&w->item, TANDEM_ITEM_COMMAND);
    w->item.payload = *value; /* moved */
    tandem_buf_init(value);
    tandem_record *cmd = &w->item.command;
    cmd->record_type = TANDEM_RECORD_COMMAND;
    cmd->value_type = value_type;
    cmd->intent = intent;
    cmd->key = key;
    cmd->request_stream_id = BACKEND_STREAM_ID;
    cmd->request_id = p->request_id = backend_of(b)->next_request_id++;
    w->slot = slot;
    w->done = done;
    w->ctx = p;
    int rc = broker_io_submit(b, w);
    if (rc != TANDEM_OK) {
        tandem_gateway_fail(p->call, 503, "RESOURCE_EXHAUSTED",
                            rc == TANDEM_EFULL ? "the broker's command queue is full"
                                               : "the broker is stopping");
        pending_free(p);
        item_release(w);
    }
}

static pending *pending_new(tandem_gateway_call *call, int kind)
{
    pending *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        tandem_gateway_fail(call, 503, "RESOURCE_EXHAUSTED", "out of memory");
        return NULL;
    }
    p->call = call;
    p->kind = kind;
    tandem_buf_init(&p->activate_bytes);
    return p;
}

/* The slot of a key's partition, or -1 (answered NOT_FOUND). */
static int slot_of_key(broker *b, int64_t key, tandem_gateway_call *call, const char *what)
{
    uint32_t partition = (uint32_t)((uint64_t)key >> 51);
    for (uint32_t i = 0; i < b->slot_count; i++) {
        if (b->slots[i].id == partition) {
            return (int)i;
        }
    }
    char reason[160];
    snprintf(reason, sizeof(reason), "Expected to find %s with key '%lld', but none was found",
             what, (long long)key);
    tandem_gateway_fail(call, 404, "NOT_FOUND", reason);
    return -1;
}

/* --- topology and health --- */

static void op_topology(void *ctx, tandem_gateway_topology *out)
{
    broker *b = ctx;
    memset(out, 0, sizeof(*out));
    out->cluster_size = b->cfg->cluster_size;
    out->partitions_count = b->cfg->partition_count;
    out->replication_factor = b->cfg->replication_factor;
    out->last_completed_change_id = -1;
    out->broker_count = 1;
    tandem_gateway_broker *br = &out->brokers[0];
    br->node_id = b->cfg->node_id;
    snprintf(br->host, sizeof(br->host), "%s", b->cfg->advertised_host);
    br->port = b->cfg->internal_api_port;
    snprintf(br->version, sizeof(br->version), "%s", TANDEM_GATEWAY_VERSION_DEFAULT);
    for (uint32_t i = 0; i < b->slot_count && i < TANDEM_GATEWAY_PARTITIONS_MAX; i++) {
        partition_view v;
        broker_io_view(b, i, &v);
        br->partitions[i].partition_id = b->slots[i].id;
        br->partitions[i].role = TANDEM_GATEWAY_ROLE_LEADER;
        br->partitions[i].health = v.stopped ? TANDEM_GATEWAY_DEAD : TANDEM_GATEWAY_HEALTHY;
        br->partition_count++;
    }
}

static bool op_healthy(void *ctx)
{
    broker *b = ctx;
    for (uint32_t i = 0; i < b->slot_count; i++) {
        partition_view v;
        broker_io_view(b, i, &v);
        if (v.stopped) {
            return false;
        }
    }
    return !b->stopping;
}

/* --- deploy --- */

static void deploy_done(broker *b, work_item *w)
{
    (void)b;
    pending *p = w->ctx;
    if (answer_failure(w, p)) {
        goto out;
    }
    tandem_deployment_value dv;
    tandem_buf unknown = TANDEM_BUF_INIT;
    tandem_diag diag;
    tandem_diag_clear(&diag);
    if (!w->item.has_response ||
        tandem_deployment_value_decode(w->item.response.value, w->item.response.value_len, &dv,
                                       &unknown, &diag) != TANDEM_OK) {
        tandem_gateway_fail(p->call, 500, "INTERNAL_ERROR", "deployment answer unreadable");
        tandem_buf_free(&unknown);
        goto out;
    }
    tandem_gateway_deployed_process procs[TANDEM_GATEWAY_RESOURCES_MAX];
    char *ids[TANDEM_GATEWAY_RESOURCES_MAX];
    char *names[TANDEM_GATEWAY_RESOURCES_MAX];
    tandem_buf scratch = TANDEM_BUF_INIT;
    uint32_t n = 0;
    tandem_value_list it;
    tandem_value_list_init(&it, dv.processes);
    tandem_field f;
    while (n < TANDEM_GATEWAY_RESOURCES_MAX && tandem_value_list_next(&it, &f)) {
        tandem_process_value pv;
        tandem_buf pu = TANDEM_BUF_INIT;
        if (tandem_process_value_decode(f.data, f.len, &pv, &pu, &diag) == TANDEM_OK) {
            ids[n] = sv_dup(&scratch, pv.bpmn_process_id);
            names[n] = sv_dup(&scratch, pv.resource_name);
            procs[n].version = pv.version;
            procs[n].process_definition_key = (int64_t)pv.process_definition_key;
            n++;
        }
        tandem_buf_free(&pu);
    }
    for (uint32_t i = 0; i < n; i++) {
        procs[i].process_definition_id = sv_fix(&scratch, ids[i]);
        procs[i].resource_name = sv_fix(&scratch, names[i]);
    }
    tandem_gateway_deployment d = {(int64_t)w->item.response.key, procs, n};
    tandem_gateway_complete_deploy(p->call, &d);
    tandem_buf_free(&scratch);
    tandem_buf_free(&unknown);
out:
    pending_free(p);
    item_release(w);
}

static void op_deploy(void *ctx, const tandem_gateway_deploy_request *req,
                      tandem_gateway_call *call)
{
    broker *b = ctx;
    pending *p = pending_new(call, CALL_DEPLOY);
    if (p == NULL) {
        return;
    }
    tandem_buf list = TANDEM_BUF_INIT;
    tandem_buf value = TANDEM_BUF_INIT;
    int rc = TANDEM_OK;
    for (uint32_t i = 0; i < req->resource_count && rc == TANDEM_OK; i++) {
        tandem_buf one = TANDEM_BUF_INIT;
        tandem_field_writer fw;
        tandem_field_writer_init(&fw, &one);
        tandem_field_put_cstr(&fw, 1, req->resources[i].name);
        tandem_field_put_bytes(&fw, 2, req->resources[i].data, req->resources[i].size_bytes);
        rc = tandem_field_writer_finish(&fw);
        if (rc == TANDEM_OK) {
            rc = tandem_value_list_add_nested(&list, one.data, one.len);
        }
        tandem_buf_free(&one);
    }
    tandem_deployment_value dv;
    tandem_deployment_value_init(&dv);
    dv.resources = (tandem_sv){(const char *)list.data, list.len};
    dv.tenant_id = tandem_sv_of(TANDEM_GATEWAY_DEFAULT_TENANT);
    if (rc == TANDEM_OK) {
        rc = tandem_deployment_value_encode(&dv, &value);
    }
    tandem_buf_free(&list);
    if (rc != TANDEM_OK) {
        tandem_gateway_fail(call, 503, "RESOURCE_EXHAUSTED", tandem_strerror(rc));
        tandem_buf_free(&value);
        pending_free(p);
        return;
    }
    /* deployments are processed on partition 1 (DESIGN §1) */
    submit(b, 0, p, TANDEM_VALUE_DEPLOYMENT, TANDEM_INTENT_DEPLOYMENT_CREATE, TANDEM_KEY_NONE,
           &value, deploy_done);
}

/* --- instances --- */

static void create_done(broker *b, work_item *w)
{
    pending *p = w->ctx;
    if (answer_failure(w, p)) {
        pending_free(p);
        item_release(w);
        return;
    }
    if (p->await) {
        /* the result comes in a later round report */
        p->parked_ms = tandem_clock_wall_ms(tandem_clock_real());
        p->next = backend_of(b)->parked;
        backend_of(b)->parked = p;
        item_release(w);
        return;
    }
    tandem_process_instance_creation_value cv;
    tandem_buf unknown = TANDEM_BUF_INIT;
    tandem_diag diag;
    if (!w->item.has_response || tandem_process_instance_creation_value_decode(
                                     w->item.response.value, w->item.response.value_len, &cv,
                                     &unknown, &diag) != TANDEM_OK) {
        tandem_gateway_fail(p->call, 500, "INTERNAL_ERROR", "creation answer unreadable");
    } else {
        tandem_buf scratch = TANDEM_BUF_INIT;
        char *id = sv_dup(&scratch, cv.bpmn_process_id);
        tandem_gateway_instance pi = {sv_fix(&scratch, id), cv.version,
                                      (int64_t)cv.process_definition_key,
                                      (int64_t)cv.process_instance_key, NULL};
        tandem_gateway_complete_create(p->call, &pi);
        tandem_buf_free(&scratch);
    }
    tandem_buf_free(&unknown);
    pending_free(p);
    item_release(w);
}

static void op_create(void *ctx, const tandem_gateway_create_request *req,
                      tandem_gateway_call *call)
{
    broker *b = ctx;
    pending *p = pending_new(call, CALL_CREATE);
    if (p == NULL) {
        return;
    }
    p->await = req->await_completion;
    tandem_buf fetch = TANDEM_BUF_INIT;
    tandem_buf value = TANDEM_BUF_INIT;
    int rc = TANDEM_OK;
    for (uint32_t i = 0; i < req->fetch_variable_count && rc == TANDEM_OK; i++) {
        rc = tandem_value_list_add_str(&fetch, tandem_sv_of(req->fetch_variables[i]));
    }
    tandem_process_instance_creation_value cv;
    tandem_process_instance_creation_value_init(&cv);
    if (req->by_key) {
        cv.process_definition_key = (uint64_t)req->process_definition_key;
    } else {
        cv.bpmn_process_id = tandem_sv_of(req->process_definition_id);
        cv.version = req->version;
    }
    cv.variables = tandem_sv_of(req->variables_json);
    cv.fetch_variables = (tandem_sv){(const char *)fetch.data, fetch.len};
    cv.tenant_id = tandem_sv_of(TANDEM_GATEWAY_DEFAULT_TENANT);
    if (rc == TANDEM_OK) {
        rc = tandem_process_instance_creation_value_encode(&cv, &value);
    }
    tandem_buf_free(&fetch);
    if (rc != TANDEM_OK) {
        tandem_gateway_fail(call, 503, "RESOURCE_EXHAUSTED", tandem_strerror(rc));
        tandem_buf_free(&value);
        pending_free(p);
        return;
    }
    /* Round-robin over the partitions (DESIGN §1): definition keys are
     * partition 1's and present on every partition once distributed. An
     * instance asked for on a partition the deployment has not reached yet
     * gets NOT_FOUND, as in Zeebe, and the client retries. */
    backend *be = backend_of(b);
    uint32_t slot = be->create_rr++ % b->slot_count;
    submit(b, slot, p, TANDEM_VALUE_PROCESS_INSTANCE_CREATION,
           p->await ? TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATE_WITH_AWAITING_RESULT
                    : TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATE,
           TANDEM_KEY_NONE, &value, create_done);
}

static void empty_done(broker *b, work_item *w)
{
    (void)b;
    pending *p = w->ctx;
    if (!answer_failure(w, p)) {
        tandem_gateway_complete_empty(p->call);
    }
    pending_free(p);
    item_release(w);
}

/* Sends a command on a key to the partition that owns the key, answering the
 * call when it is done (pending of `kind`). The caller encoded `value` (its
 * encoder returned encode_rc); the value is taken whatever happens. A key of
 * no partition here is answered 404 naming `what`, a value that could not be
 * encoded 503. */
static void keyed_command(broker *b, tandem_gateway_call *call, int64_t key, const char *what,
                          int kind, int encode_rc, tandem_buf *value, uint8_t value_type,
                          uint16_t intent, uint64_t record_key)
{
    TANDEM_ASSERT(b != NULL && call != NULL && value != NULL);
    int slot = slot_of_key(b, key, call, what);
    pending *p = slot < 0 ? NULL : pending_new(call, kind);
    if (p == NULL) {
        tandem_buf_free(value);
        return;
    }
    if (encode_rc != TANDEM_OK) {
        tandem_gateway_fail(call, 503, "RESOURCE_EXHAUSTED", "out of memory");
        tandem_buf_free(value);
        pending_free(p);
        return;
    }
    submit(b, (uint32_t)slot, p, value_type, intent, record_key, value, empty_done);
}

static void op_cancel(void *ctx, const tandem_gateway_cancel_request *req,
                      tandem_gateway_call *call)
{
    tandem_buf value = TANDEM_BUF_INIT;
    tandem_process_instance_value v;
    tandem_process_instance_value_init(&v);
    v.process_instance_key = (uint64_t)req->process_instance_key;
    int rc = tandem_process_instance_value_encode(&v, &value);
    keyed_command(ctx, call, req->process_instance_key, "process instance", CALL_CANCEL, rc, &value,
                  TANDEM_VALUE_PROCESS_INSTANCE, TANDEM_INTENT_PROCESS_INSTANCE_CANCEL,
                  (uint64_t)req->process_instance_key);
}

/* --- jobs --- */

static void job_command(broker *b, tandem_gateway_call *call, int64_t job_key, uint16_t intent,
                        const tandem_job_value *v)
{
    tandem_buf value = TANDEM_BUF_INIT;
    int rc = tandem_job_value_encode(v, &value);
    keyed_command(b, call, job_key, "job", CALL_EMPTY, rc, &value, TANDEM_VALUE_JOB, intent,
                  (uint64_t)job_key);
}

static void op_complete(void *ctx, const tandem_gateway_complete_request *req,
                        tandem_gateway_call *call)
{
    tandem_job_value v;
    tandem_job_value_init(&v);
    v.variables = tandem_sv_of(req->variables_json);
    job_command(ctx, call, req->job_key, TANDEM_INTENT_JOB_COMPLETE, &v);
}

static void op_fail(void *ctx, const tandem_gateway_fail_request *req, tandem_gateway_call *call)
{
    tandem_job_value v;
    tandem_job_value_init(&v);
    v.retries = req->retries;
    v.error_message = tandem_sv_of(req->error_message);
    v.retry_backoff_ms = req->retry_backoff_ms;
    v.variables = tandem_sv_of(req->variables_json);
    job_command(ctx, call, req->job_key, TANDEM_INTENT_JOB_FAIL, &v);
}

static void op_update(void *ctx, const tandem_gateway_update_request *req,
                      tandem_gateway_call *call)
{
    tandem_buf changed = TANDEM_BUF_INIT;
    tandem_job_value v;
    tandem_job_value_init(&v);
    if (req->has_retries) {
        v.retries = req->retries;
        tandem_value_list_add_str(&changed, tandem_sv_of("retries"));
    }
    if (req->has_timeout) {
        v.timeout_ms = req->timeout_ms;
        tandem_value_list_add_str(&changed, tandem_sv_of("timeout"));
    }
    v.changed_attributes = (tandem_sv){(const char *)changed.data, changed.len};
    job_command(ctx, call, req->job_key, TANDEM_INTENT_JOB_UPDATE, &v);
    tandem_buf_free(&changed);
}

/* --- incidents and variables --- */

static void op_resolve(void *ctx, const tandem_gateway_resolve_request *req,
                       tandem_gateway_call *call)
{
    TANDEM_ASSERT(req != NULL);
    tandem_buf value = TANDEM_BUF_INIT;
    tandem_incident_value v;
    tandem_incident_value_init(&v);
    int rc = tandem_incident_value_encode(&v, &value);
    keyed_command(ctx, call, req->incident_key, "incident", CALL_EMPTY, rc, &value,
                  TANDEM_VALUE_INCIDENT, TANDEM_INTENT_INCIDENT_RESOLVE,
                  (uint64_t)req->incident_key);
}

static void op_set_variables(void *ctx, const tandem_gateway_variables_request *req,
                             tandem_gateway_call *call)
{
    TANDEM_ASSERT(req != NULL);
    tandem_buf value = TANDEM_BUF_INIT;
    tandem_variable_document_value v;
    tandem_variable_document_value_init(&v);
    v.scope_key = (uint64_t)req->element_instance_key;
    v.update_semantics = req->local ? TANDEM_VARIABLES_LOCAL : TANDEM_VARIABLES_PROPAGATE;
    v.variables = tandem_sv_of(req->variables_json);
    int rc = tandem_variable_document_value_encode(&v, &value);
    keyed_command(ctx, call, req->element_instance_key, "element instance", CALL_EMPTY, rc, &value,
                  TANDEM_VALUE_VARIABLE_DOCUMENT, TANDEM_INTENT_VARIABLE_DOCUMENT_UPDATE,
                  TANDEM_KEY_NONE);
}

/* --- activation: partition by partition until enough jobs --- */

static void activate_next(broker *b, pending *p);

static void activate_finish(pending *p)
{
    tandem_gateway_job *jobs = NULL;
    size_t count = 0;
    size_t cap = 0;
    tandem_buf scratch = TANDEM_BUF_INIT;
    /* two passes: strings go to scratch first (it may move), then pointers */
    typedef struct offs {
        char *type, *process_id, *element_id, *headers, *worker, *variables;
    } offs;
    offs *o = NULL;
    for (uint32_t a = 0; a < p->answer_count; a++) {
        tandem_job_batch_value bv;
        tandem_buf unknown = TANDEM_BUF_INIT;
        tandem_diag diag;
        if (tandem_job_batch_value_decode(p->answers[a].data, p->answers[a].len, &bv, &unknown,
                                          &diag) != TANDEM_OK) {
            tandem_buf_free(&unknown);
            continue;
        }
        tandem_value_list keys;
        tandem_value_list vals;
        tandem_value_list_init(&keys, bv.job_keys);
        tandem_value_list_init(&vals, bv.jobs);
        tandem_field fk;
        tandem_field fv;
        while (tandem_value_list_next(&keys, &fk) && tandem_value_list_next(&vals, &fv)) {
            tandem_job_value jv;
            tandem_buf ju = TANDEM_BUF_INIT;
            if (tandem_job_value_decode(fv.data, fv.len, &jv, &ju, &diag) != TANDEM_OK) {
                tandem_buf_free(&ju);
                continue;
            }
            if (count == cap) {
                cap = cap == 0 ? 16 : cap * 2;
                jobs = realloc(jobs, cap * sizeof(*jobs));
                o = realloc(o, cap * sizeof(*o));
                TANDEM_ASSERT(jobs != NULL && o != NULL);
            }
            tandem_gateway_job *j = &jobs[count];
            memset(j, 0, sizeof(*j));
            j->job_key = (int64_t)fk.u;
            j->process_definition_version = jv.process_definition_version;
            j->retries = jv.retries;
            j->deadline_ms = jv.deadline_ms;
            j->process_instance_key = (int64_t)jv.process_instance_key;
            j->process_definition_key = (int64_t)jv.process_definition_key;
            j->element_instance_key = (int64_t)jv.element_instance_key;
            o[count].type = sv_dup(&scratch, jv.type);
            o[count].process_id = sv_dup(&scratch, jv.bpmn_process_id);
            o[count].element_id = sv_dup(&scratch, jv.element_id);
            o[count].headers = sv_dup(&scratch, jv.custom_headers);
            o[count].worker = sv_dup(&scratch, jv.worker);
            o[count].variables = sv_dup(&scratch, jv.variables);
            count++;
            tandem_buf_free(&ju);
        }
        tandem_buf_free(&unknown);
    }
    for (size_t i = 0; i < count; i++) {
        jobs[i].type = sv_fix(&scratch, o[i].type);
        jobs[i].process_definition_id = sv_fix(&scratch, o[i].process_id);
        jobs[i].element_id = sv_fix(&scratch, o[i].element_id);
        const char *headers = sv_fix(&scratch, o[i].headers);
        jobs[i].custom_headers_json = headers[0] != '\0' ? headers : NULL;
        jobs[i].worker = sv_fix(&scratch, o[i].worker);
        const char *vars = sv_fix(&scratch, o[i].variables);
        jobs[i].variables_json = vars[0] != '\0' ? vars : NULL;
    }
    tandem_gateway_complete_activation(p->call, jobs, count);
    free(jobs);
    free(o);
    tandem_buf_free(&scratch);
}

static void activate_done(broker *b, work_item *w)
{
    pending *p = w->ctx;
    if (answer_failure(w, p)) {
        pending_free(p);
        item_release(w);
        return;
    }
    if (w->item.has_response) {
        tandem_buf *answers = realloc(p->answers, (p->answer_count + 1) * sizeof(*answers));
        TANDEM_ASSERT(answers != NULL);
        p->answers = answers;
        tandem_buf_init(&p->answers[p->answer_count]);
        tandem_buf_append(&p->answers[p->answer_count], w->item.response.value,
                          w->item.response.value_len);
        p->answer_count++;
        tandem_job_batch_value bv;
        tandem_buf unknown = TANDEM_BUF_INIT;
        tandem_diag diag;
        if (tandem_job_batch_value_decode(w->item.response.value, w->item.response.value_len, &bv,
                                          &unknown, &diag) == TANDEM_OK) {
            tandem_value_list it;
            tandem_value_list_init(&it, bv.job_keys);
            tandem_field f;
            while (tandem_value_list_next(&it, &f)) {
                p->jobs_left--;
            }
        }
        tandem_buf_free(&unknown);
    }
    item_release(w);
    if (p->jobs_left > 0 && p->next_slot < b->slot_count) {
        activate_next(b, p);
        return;
    }
    activate_finish(p);
    pending_free(p);
}

static void activate_next(broker *b, pending *p)
{
    tandem_buf fetch = TANDEM_BUF_INIT;
    tandem_buf value = TANDEM_BUF_INIT;
    int rc = TANDEM_OK;
    for (uint32_t i = 0; i < p->activate.fetch_variable_count && rc == TANDEM_OK; i++) {
        rc = tandem_value_list_add_str(&fetch, tandem_sv_of(p->activate.fetch_variables[i]));
    }
    tandem_job_batch_value bv;
    tandem_job_batch_value_init(&bv);
    bv.type = tandem_sv_of(p->activate.type);
    bv.worker = tandem_sv_of(p->activate.worker);
    bv.timeout_ms = p->activate.timeout_ms;
    bv.max_jobs_to_activate = p->jobs_left;
    bv.fetch_variables = (tandem_sv){(const char *)fetch.data, fetch.len};
    bv.tenant_id = tandem_sv_of(TANDEM_GATEWAY_DEFAULT_TENANT);
    if (rc == TANDEM_OK) {
        rc = tandem_job_batch_value_encode(&bv, &value);
    }
    tandem_buf_free(&fetch);
    if (rc != TANDEM_OK) {
        tandem_gateway_fail(p->call, 503, "RESOURCE_EXHAUSTED", tandem_strerror(rc));
        tandem_buf_free(&value);
        pending_free(p);
        return;
    }
    uint32_t slot = p->next_slot++;
    submit(b, slot, p, TANDEM_VALUE_JOB_BATCH, TANDEM_INTENT_JOB_BATCH_ACTIVATE, TANDEM_KEY_NONE,
           &value, activate_done);
}

static void op_activate(void *ctx, const tandem_gateway_activate_request *req,
                        tandem_gateway_call *call)
{
    broker *b = ctx;
    pending *p = pending_new(call, CALL_ACTIVATE);
    if (p == NULL) {
        return;
    }
    /* the request's strings live only during this call: copy them */
    tandem_buf *s = &p->activate_bytes;
    size_t count = req->fetch_variable_count;
    size_t need = strlen(req->type) + strlen(req->worker) + 2 + count * sizeof(char *);
    for (size_t i = 0; i < count; i++) {
        need += strlen(req->fetch_variables[i]) + 1;
    }
    if (tandem_buf_reserve(s, need) != TANDEM_OK) {
        tandem_gateway_fail(call, 503, "RESOURCE_EXHAUSTED", "out of memory");
        pending_free(p);
        return;
    }
    /* reserved: appends below never move the buffer */
    const char **names = (const char **)(void *)s->data;
    s->len = count * sizeof(char *);
    p->activate = *req;
    p->activate.type = (const char *)s->data + s->len;
    tandem_buf_append(s, req->type, strlen(req->type) + 1);
    p->activate.worker = (const char *)s->data + s->len;
    tandem_buf_append(s, req->worker, strlen(req->worker) + 1);
    for (size_t i = 0; i < count; i++) {
        names[i] = (const char *)s->data + s->len;
        tandem_buf_append(s, req->fetch_variables[i], strlen(req->fetch_variables[i]) + 1);
    }
    p->activate.fetch_variables = names;
    p->jobs_left = req->max_jobs;
    p->next_slot = 0;
    activate_next(b, p);
}

/* --- reports --- */

void broker_backend_report(broker *b, const round_report *r)
{
    backend *be = backend_of(b);
    if (b->gateway == NULL || be == NULL) {
        return;
    }
    const char *t = (const char *)r->out.types.data;
    for (uint32_t i = 0; i < r->out.type_count; i++) {
        tandem_gateway_notify_jobs_available(b->gateway, t);
        t += strlen(t) + 1;
    }
    for (uint32_t i = 0; i < r->out.result_count; i++) {
        const tandem_engine_result *res = &r->out.results[i];
        pending **pp = &be->parked;
        while (*pp != NULL && (*pp)->request_id != res->request_id) {
            pp = &(*pp)->next;
        }
        if (*pp == NULL) {
            continue; /* the client is gone (timed out): nothing to answer */
        }
        pending *p = *pp;
        *pp = p->next;
        tandem_process_instance_result_value rv;
        tandem_buf unknown = TANDEM_BUF_INIT;
        tandem_diag diag;
        if (tandem_process_instance_result_value_decode(res->record.value, res->record.value_len,
                                                        &rv, &unknown, &diag) != TANDEM_OK) {
            tandem_gateway_fail(p->call, 500, "INTERNAL_ERROR", "result unreadable");
        } else {
            tandem_buf scratch = TANDEM_BUF_INIT;
            char *id = sv_dup(&scratch, rv.bpmn_process_id);
            char *vars = sv_dup(&scratch, rv.variables);
            const char *vars_text = sv_fix(&scratch, vars);
            tandem_gateway_instance pi = {
                sv_fix(&scratch, id), rv.version, (int64_t)rv.process_definition_key,
                (int64_t)rv.process_instance_key, vars_text[0] != '\0' ? vars_text : NULL};
            tandem_gateway_complete_create(p->call, &pi);
            tandem_buf_free(&scratch);
        }
        tandem_buf_free(&unknown);
        pending_free(p);
    }
    /* sweep awaits nobody will ever answer */
    uint64_t now = tandem_clock_wall_ms(tandem_clock_real());
    pending **pp = &be->parked;
    while (*pp != NULL) {
        pending *p = *pp;
        if (now - p->parked_ms > BACKEND_AWAIT_MAX_MS) {
            *pp = p->next;
            tandem_gateway_fail(p->call, 504, "DEADLINE_EXCEEDED",
                                "the process instance did not complete in time");
            pending_free(p);
            continue;
        }
        pp = &p->next;
    }
}

void broker_backend_close(broker *b)
{
    backend *be = backend_of(b);
    if (be == NULL) {
        return;
    }
    while (be->parked != NULL) {
        pending *p = be->parked;
        be->parked = p->next;
        tandem_gateway_fail(p->call, 503, "UNAVAILABLE", "the broker is stopping");
        pending_free(p);
    }
    free(be);
    b->backend = NULL;
}

void broker_backend_init(broker *b, tandem_gateway_backend *out)
{
    TANDEM_ASSERT(b != NULL && out != NULL);
    backend *be = calloc(1, sizeof(*be));
    TANDEM_ASSERT(be != NULL);
    be->next_request_id = 1;
    b->backend = be;
    memset(out, 0, sizeof(*out));
    out->ctx = b;
    out->topology = op_topology;
    out->healthy = op_healthy;
    out->deploy = op_deploy;
    out->create_instance = op_create;
    out->cancel_instance = op_cancel;
    out->activate_jobs = op_activate;
    out->complete_job = op_complete;
    out->fail_job = op_fail;
    out->update_job = op_update;
    out->resolve_incident = op_resolve;
    out->set_variables = op_set_variables;
}
