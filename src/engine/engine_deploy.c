/*
 * DEPLOYMENT CREATE, and the cache of parsed process models.
 *
 * A deployment is atomic: every resource is parsed before anything is
 * written, and the first problem rejects the whole command. A process whose
 * resource bytes are identical to its latest version keeps that version's key
 * (no PROCESS CREATED); a changed one gets the next version.
 *
 * Deployments are processed on the partition that receives them and get its
 * keys; then the DEPLOYMENT CREATED value (every process with its key and
 * version, and the resources) is distributed to the other partitions
 * (engine_distribution.c), which create the processes with those keys.
 */
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "engine/engine_int.h"
#include "protocol/key.h"

#define REJECT_PREFIX "Expected to deploy new resources, but encountered the following errors:\n"

typedef struct deploy_resource {
    tandem_sv name;    /* view: command */
    tandem_sv content; /* view: command */
    char *name_cstr;   /* arena */
    tandem_bpmn_resource *parsed;
} deploy_resource;

typedef struct deploy_process {
    const tandem_bpmn_process *process;
    uint32_t resource;
    uint64_t key;
    int32_t version;
    bool duplicate;
} deploy_process;

static void free_parsed(deploy_resource *res, uint32_t count)
{
    TANDEM_ASSERT(res != NULL);
    TANDEM_ASSERT(count <= TANDEM_ENGINE_DEPLOY_RESOURCES_MAX);
    for (uint32_t i = 0; i < count; i++) {
        tandem_bpmn_free(res[i].parsed);
        res[i].parsed = NULL;
    }
}

/* Reads the resource list of the command; a rejection when it is unusable. */
static int read_resources(engine_ctx *ctx, const tandem_deployment_value *v, deploy_resource *res,
                          uint32_t *count)
{
    TANDEM_ASSERT(ctx != NULL && v != NULL && res != NULL && count != NULL);
    TANDEM_ASSERT(!ctx->rejected);
    tandem_value_list it;
    tandem_value_list_init(&it, v->resources);
    tandem_field f;
    uint32_t n = 0;
    while (tandem_value_list_next(&it, &f)) {
        if (n == TANDEM_ENGINE_DEPLOY_RESOURCES_MAX) {
            return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                                 "Expected to deploy at most %u resources, but more were given",
                                 TANDEM_ENGINE_DEPLOY_RESOURCES_MAX);
        }
        deploy_resource *r = &res[n];
        memset(r, 0, sizeof(*r));
        tandem_field name, content;
        if (f.wire != TANDEM_WIRE_NESTED || tandem_fields_find(f.data, f.len, 1, &name) != 0 ||
            name.wire != TANDEM_WIRE_STRING ||
            tandem_fields_find(f.data, f.len, 2, &content) != 0 ||
            content.wire != TANDEM_WIRE_BYTES) {
            return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                                 "Expected to deploy resources with a name and content, but "
                                 "resource %u has none",
                                 n + 1);
        }
        r->name = (tandem_sv){(const char *)name.data, name.len};
        r->content = (tandem_sv){(const char *)content.data, content.len};
        r->name_cstr = engine_arena_alloc(&ctx->engine->arena, name.len + 1);
        if (r->name_cstr == NULL) {
            return tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory");
        }
        memcpy(r->name_cstr, name.data, name.len);
        r->name_cstr[name.len] = 0;
        n++;
    }
    *count = n;
    if (it.fr.error != 0) {
        return engine_reject(
            ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
            "Expected to deploy new resources, but the resource list is malformed");
    }
    if (n == 0) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                             "Expected to deploy at least one resource, but none given");
    }
    return 0;
}

static int parse_all(engine_ctx *ctx, deploy_resource *res, uint32_t count)
{
    TANDEM_ASSERT(ctx != NULL && res != NULL);
    TANDEM_ASSERT(count >= 1 && count <= TANDEM_ENGINE_DEPLOY_RESOURCES_MAX);
    for (uint32_t i = 0; i < count; i++) {
        tandem_diag pd = {0};
        int rc = tandem_bpmn_parse(res[i].content.ptr, res[i].content.len, res[i].name_cstr,
                                   &res[i].parsed, &pd);
        if (rc == TANDEM_ENOMEM) {
            return tandem_diag_set(ctx->diag, rc, "engine: out of memory parsing '%s'",
                                   res[i].name_cstr);
        }
        if (rc != 0) {
            return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT, REJECT_PREFIX "%s",
                                 tandem_diag_text(&pd));
        }
        TANDEM_ASSERT(res[i].parsed != NULL && res[i].parsed->process_count >= 1);
        /* Every expression must compile: an instance must not find a syntax
         * error that the deployment could have named. */
        for (uint32_t p = 0; p < res[i].parsed->process_count; p++) {
            engine_exprs *x = NULL;
            char err[512];
            rc = engine_exprs_compile(&res[i].parsed->processes[p], &x, err, sizeof(err));
            engine_exprs_free(x);
            if (rc == TANDEM_ENOMEM) {
                return tandem_diag_set(ctx->diag, rc, "engine: %s", err);
            }
            if (rc != 0) {
                return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT, REJECT_PREFIX "%s:%s",
                                     res[i].name_cstr, err);
            }
        }
    }
    return 0;
}

/* Collects the processes, refusing a process id defined twice. */
static int collect(engine_ctx *ctx, deploy_resource *res, uint32_t count, deploy_process *procs,
                   uint32_t *proc_count, uint32_t proc_max)
{
    TANDEM_ASSERT(ctx != NULL && res != NULL && procs != NULL && proc_count != NULL);
    TANDEM_ASSERT(count >= 1 && proc_max >= 1);
    uint32_t n = 0;
    for (uint32_t i = 0; i < count; i++) {
        for (uint32_t p = 0; p < res[i].parsed->process_count; p++) {
            const tandem_bpmn_process *proc = &res[i].parsed->processes[p];
            for (uint32_t j = 0; j < n; j++) {
                if (strcmp(procs[j].process->id, proc->id) == 0) {
                    return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                                         REJECT_PREFIX
                                         "Duplicated process id in resources '%s' and '%s'",
                                         res[procs[j].resource].name_cstr, res[i].name_cstr);
                }
            }
            if (n == proc_max) {
                return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT,
                                     "Expected to deploy at most %u processes, but more were given",
                                     proc_max);
            }
            procs[n++] = (deploy_process){proc, i, TANDEM_KEY_NONE, 0, false};
        }
    }
    *proc_count = n;
    return 0;
}

static int assign_versions(engine_ctx *ctx, deploy_resource *res, deploy_process *procs, uint32_t n)
{
    TANDEM_ASSERT(ctx != NULL && res != NULL && procs != NULL);
    TANDEM_ASSERT(n >= 1);
    for (uint32_t i = 0; i < n; i++) {
        deploy_process *p = &procs[i];
        const tandem_bpmn_digest *digest = &res[p->resource].parsed->digest;
        engine_latest latest;
        int rc = engine_latest_get(ctx->engine, ctx->txn, tandem_sv_of(p->process->id), &latest,
                                   ctx->diag);
        if (rc != 0 && rc != TANDEM_ENOENT) {
            return rc;
        }
        if (rc == 0 && latest.checksum.len == sizeof(digest->bytes) &&
            memcmp(latest.checksum.ptr, digest->bytes, sizeof(digest->bytes)) == 0) {
            p->key = latest.key;
            p->version = latest.version;
            p->duplicate = true;
        } else {
            p->key = engine_key_new(ctx);
            p->version = rc == 0 ? latest.version + 1 : 1;
            p->duplicate = false;
        }
        TANDEM_ASSERT(p->version >= 1);
    }
    return 0;
}

static void process_value(const deploy_resource *r, const deploy_process *p,
                          uint64_t deployment_key, tandem_sv tenant_id, bool with_resource,
                          tandem_process_value *v)
{
    TANDEM_ASSERT(r != NULL && p != NULL && v != NULL);
    TANDEM_ASSERT(r->parsed != NULL && p->key != TANDEM_KEY_NONE);
    tandem_process_value_init(v);
    v->bpmn_process_id = tandem_sv_of(p->process->id);
    v->version = p->version;
    v->process_definition_key = p->key;
    v->resource_name = r->name;
    v->checksum =
        (tandem_sv){(const char *)r->parsed->digest.bytes, sizeof(r->parsed->digest.bytes)};
    v->resource = with_resource ? r->content : (tandem_sv){"", 0};
    v->tenant_id = tenant_id;
    v->deployment_key = deployment_key;
    v->duplicate = !with_resource && p->duplicate;
}

static int write_events(engine_ctx *ctx, const tandem_deployment_value *cmd_value,
                        deploy_resource *res, deploy_process *procs, uint32_t n,
                        uint64_t deployment_key)
{
    TANDEM_ASSERT(ctx != NULL && cmd_value != NULL);
    TANDEM_ASSERT(deployment_key != TANDEM_KEY_NONE);
    tandem_buf list = TANDEM_BUF_INIT, item = TANDEM_BUF_INIT;
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        tandem_process_value v;
        if (!procs[i].duplicate) {
            process_value(&res[procs[i].resource], &procs[i], deployment_key, cmd_value->tenant_id,
                          true, &v);
            rc = engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_PROCESS,
                             TANDEM_INTENT_PROCESS_CREATED, procs[i].key, ENGINE_ENC(process), &v,
                             false);
        }
        if (rc == 0) {
            process_value(&res[procs[i].resource], &procs[i], deployment_key, cmd_value->tenant_id,
                          false, &v);
            tandem_buf_reset(&item);
            rc = tandem_process_value_encode(&v, &item);
            rc = rc != 0 ? rc : tandem_value_list_add_nested(&list, item.data, item.len);
            if (rc != 0 && ctx->diag != NULL && ctx->diag->code == 0) {
                tandem_diag_set(ctx->diag, rc, "engine: encoding deployment metadata");
            }
        }
    }
    if (rc == 0) {
        tandem_deployment_value d = *cmd_value;
        d.processes = (tandem_sv){(const char *)list.data, list.len};
        rc = engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_DEPLOYMENT,
                         TANDEM_INTENT_DEPLOYMENT_CREATED, deployment_key, ENGINE_ENC(deployment),
                         &d, true);
    }
    tandem_buf_free(&item);
    tandem_buf_free(&list);
    return rc;
}

int engine_deploy(engine_ctx *ctx, const tandem_record *cmd)
{
    TANDEM_ASSERT(ctx != NULL && cmd != NULL);
    TANDEM_ASSERT(cmd->intent == TANDEM_INTENT_DEPLOYMENT_CREATE);
    if (cmd->key != TANDEM_KEY_NONE) {
        /* only a distributed deployment carries a key: its deployment key */
        return engine_deploy_distributed(ctx, cmd);
    }
    tandem_deployment_value v;
    tandem_diag dd = {0};
    if (tandem_deployment_value_decode(cmd->value, cmd->value_len, &v, NULL, &dd) != 0) {
        return engine_reject(ctx, TANDEM_REJECTION_INVALID_ARGUMENT, REJECT_PREFIX "%s",
                             tandem_diag_text(&dd));
    }
    deploy_resource *res = calloc(TANDEM_ENGINE_DEPLOY_RESOURCES_MAX, sizeof(*res));
    deploy_process *procs = calloc(TANDEM_ENGINE_DEPLOY_RESOURCES_MAX, sizeof(*procs));
    if (res == NULL || procs == NULL) {
        free(res);
        free(procs);
        return tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory");
    }
    uint32_t count = 0, n = 0;
    int rc = read_resources(ctx, &v, res, &count);
    if (rc == 0 && !ctx->rejected) {
        rc = parse_all(ctx, res, count);
    }
    if (rc == 0 && !ctx->rejected) {
        rc = collect(ctx, res, count, procs, &n, TANDEM_ENGINE_DEPLOY_RESOURCES_MAX);
    }
    if (rc == 0 && !ctx->rejected) {
        uint64_t deployment_key = engine_key_new(ctx);
        rc = assign_versions(ctx, res, procs, n);
        if (rc == 0) {
            rc = write_events(ctx, &v, res, procs, n, deployment_key);
        }
        if (rc == 0) {
            /* DEPLOYMENT CREATED, the last record, is what the others get */
            uint32_t created = ctx->out->record_count - 1;
            TANDEM_ASSERT(ctx->out->records[created].key == deployment_key);
            rc = engine_distribute(ctx, deployment_key, TANDEM_VALUE_DEPLOYMENT,
                                   TANDEM_INTENT_DEPLOYMENT_CREATE,
                                   engine_record_value(ctx, created));
        }
    }
    free_parsed(res, count);
    free(res);
    free(procs);
    return rc;
}

/* ---- Model cache ------------------------------------------------------ */

void engine_models_free(tandem_engine *e)
{
    TANDEM_ASSERT(e != NULL);
    for (uint32_t i = 0; i < TANDEM_ENGINE_MODEL_CACHE_MAX; i++) {
        tandem_bpmn_free(e->models[i].resource);
        engine_exprs_free(e->models[i].exprs);
        e->models[i].resource = NULL;
        e->models[i].process = NULL;
        e->models[i].exprs = NULL;
        e->models[i].process_definition_key = TANDEM_KEY_NONE;
    }
}

static bool model_matches(const engine_model *m, uint64_t key, const tandem_process_value *pv)
{
    TANDEM_ASSERT(m != NULL && pv != NULL);
    /* A key alone is not enough: keys of a discarded round are handed out
     * again, so the cached model must also be of the same bytes and id. */
    return m->process_definition_key == key && m->resource != NULL &&
           pv->checksum.len == sizeof(m->resource->digest.bytes) &&
           memcmp(pv->checksum.ptr, m->resource->digest.bytes, pv->checksum.len) == 0 &&
           tandem_sv_eq_cstr(pv->bpmn_process_id, m->process->id);
}

int engine_model_get(engine_ctx *ctx, uint64_t def_key, engine_def *out)
{
    TANDEM_ASSERT(def_key != TANDEM_KEY_NONE);
    TANDEM_ASSERT(ctx != NULL && out != NULL);
    tandem_engine *e = ctx->engine;
    tandem_process_value pv;
    int rc = engine_process_get(e, ctx->txn, def_key, &pv, ctx->diag);
    if (rc != 0) {
        return rc;
    }
    out->key = def_key;
    out->version = pv.version;
    out->bpmn_process_id = pv.bpmn_process_id;
    out->tenant_id = pv.tenant_id;
    for (uint32_t i = 0; i < TANDEM_ENGINE_MODEL_CACHE_MAX; i++) {
        if (model_matches(&e->models[i], def_key, &pv)) {
            out->process = e->models[i].process;
            out->exprs = e->models[i].exprs;
            return 0;
        }
    }
    char id[TANDEM_BPMN_ID_LEN_MAX + 1];
    if (pv.bpmn_process_id.len >= sizeof(id)) {
        return tandem_diag_set(ctx->diag, TANDEM_ECORRUPT, "engine: process id too long in state");
    }
    memcpy(id, pv.bpmn_process_id.ptr, pv.bpmn_process_id.len);
    id[pv.bpmn_process_id.len] = 0;
    tandem_bpmn_resource *parsed = NULL;
    rc = tandem_bpmn_parse(pv.resource.ptr, pv.resource.len, id, &parsed, ctx->diag);
    if (rc != 0) {
        return rc == TANDEM_ENOMEM ? rc : TANDEM_ECORRUPT;
    }
    const tandem_bpmn_process *proc = tandem_bpmn_process_find(parsed, id);
    if (proc == NULL) {
        tandem_bpmn_free(parsed);
        return tandem_diag_set(ctx->diag, TANDEM_ECORRUPT,
                               "engine: process '%s' is not in its stored resource", id);
    }
    /* Compiled once here, evaluated by every instance of the definition;
     * the deployment checked them, so a failure is damage. */
    engine_exprs *exprs = NULL;
    char err[512];
    rc = engine_exprs_compile(proc, &exprs, err, sizeof(err));
    if (rc != 0) {
        tandem_bpmn_free(parsed);
        return tandem_diag_set(ctx->diag, rc == TANDEM_ENOMEM ? rc : TANDEM_ECORRUPT,
                               "engine: process '%s': %s", id, err);
    }
    /* Round-robin eviction: the models one command uses are few, and a
     * command never asks for more than a handful, so recency is not tracked. */
    engine_model *slot = &e->models[e->model_next];
    e->model_next = (e->model_next + 1) % TANDEM_ENGINE_MODEL_CACHE_MAX;
    tandem_bpmn_free(slot->resource);
    engine_exprs_free(slot->exprs);
    slot->process_definition_key = def_key;
    slot->resource = parsed;
    slot->process = proc;
    slot->exprs = exprs;
    out->process = proc;
    out->exprs = exprs;
    TANDEM_ASSERT(out->exprs != NULL);
    return 0;
}
