/*
 * Variable documents: JSON objects from commands, split into one variable
 * per top-level entry, each stored as compact JSON text (jansson). Entry
 * order is the document's (jansson keeps insertion order), so the events a
 * document produces are the same on every run.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "engine/engine_int.h"
#include "protocol/key.h"

/* A variable's state key is the scope key (8 bytes) and the name. */
#define VARIABLE_NAME_MAX_BYTES (TANDEM_KV_KEY_MAX_BYTES - 8u)

/* Nesting deeper than this is refused before jansson recurses into it. */
#define JSON_DEPTH_MAX 64

static const char *json_type_name(const json_t *j)
{
    TANDEM_ASSERT(j != NULL);
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "OBJECT";
    case JSON_ARRAY:
        return "ARRAY";
    case JSON_STRING:
        return "STRING";
    case JSON_INTEGER:
    case JSON_REAL:
        return "NUMBER";
    case JSON_TRUE:
    case JSON_FALSE:
        return "BOOLEAN";
    case JSON_NULL:
        return "NIL";
    }
    return "UNKNOWN";
}

static bool too_deep(tandem_sv doc)
{
    TANDEM_ASSERT(doc.ptr != NULL || doc.len == 0);
    /* A bracket count outside strings: enough to bound jansson's recursion. */
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < doc.len; i++) {
        char c = doc.ptr[i];
        if (in_string) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > JSON_DEPTH_MAX) {
                return true;
            }
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return false;
}

/* Parses a document that must be a JSON object; NULL with a reason otherwise. */
static json_t *load_object(tandem_sv doc, char *reason, size_t reason_len)
{
    TANDEM_ASSERT(doc.ptr != NULL || doc.len == 0);
    TANDEM_ASSERT(reason != NULL && reason_len > 0);
    if (too_deep(doc)) {
        snprintf(reason, reason_len,
                 "Expected document to be valid JSON, but it is nested deeper than %d levels",
                 JSON_DEPTH_MAX);
        return NULL;
    }
    json_error_t err;
    json_t *j = json_loadb(doc.ptr, doc.len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
    if (j == NULL) {
        snprintf(reason, reason_len,
                 "Expected document to be valid JSON, but it could not be parsed: %s (line %d, "
                 "column %d)",
                 err.text, err.line, err.column);
        return NULL;
    }
    if (!json_is_object(j)) {
        snprintf(reason, reason_len, "Expected document to be a root level object, but was '%s'",
                 json_type_name(j));
        json_decref(j);
        return NULL;
    }
    /* Names are state keys after the 8-byte scope: bounded, and a NUL inside
     * one would make two names equal. */
    const char *name;
    size_t name_len;
    json_t *value;
    json_object_keylen_foreach(j, name, name_len, value)
    {
        (void)value;
        if (name_len == 0 || name_len > VARIABLE_NAME_MAX_BYTES || memchr(name, 0, name_len)) {
            snprintf(reason, reason_len,
                     "Expected variable names of 1 to %u bytes without NUL characters, but got "
                     "'%.40s' (%zu bytes)",
                     VARIABLE_NAME_MAX_BYTES, name, name_len);
            json_decref(j);
            return NULL;
        }
    }
    return j;
}

bool engine_json_is_object(tandem_sv doc, char *reason, size_t reason_len)
{
    TANDEM_ASSERT(reason != NULL && reason_len > 0);
    TANDEM_ASSERT(doc.ptr != NULL || doc.len == 0);
    if (doc.len == 0) {
        return true;
    }
    json_t *j = load_object(doc, reason, reason_len);
    json_decref(j);
    return j != NULL;
}

/* Compact JSON text of a value with the shortest real precision that reads
 * back equal (jansson's default of 17 digits prints 0.1 as
 * 0.10000000000000001). malloc'd; NULL on out of memory. */
static char *dump_value(const json_t *value)
{
    TANDEM_ASSERT(value != NULL);
    for (int precision = 15; precision <= 17; precision++) {
        char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY |
                                           JSON_REAL_PRECISION((size_t)precision));
        if (text == NULL || precision == 17) {
            return text;
        }
        json_t *back = json_loads(text, JSON_DECODE_ANY, NULL);
        bool same = back != NULL && json_equal(back, value);
        json_decref(back);
        if (same) {
            return text;
        }
        free(text);
    }
    TANDEM_UNREACHABLE();
}

static int set_one(engine_ctx *ctx, tandem_sv name, const char *text, uint64_t scope_key,
                   const tandem_variable_value *proto)
{
    TANDEM_ASSERT(ctx != NULL && text != NULL && proto != NULL);
    TANDEM_ASSERT(name.len > 0);
    engine_variable old;
    int rc = engine_variable_get(ctx->engine, ctx->txn, scope_key, name, &old, ctx->diag);
    if (rc != 0 && rc != TANDEM_ENOENT) {
        return rc;
    }
    tandem_variable_value v = *proto;
    v.name = name;
    v.value = tandem_sv_of(text);
    if (rc == 0) {
        if (tandem_sv_eq(old.value, v.value)) {
            return 0; /* unchanged: Zeebe writes no event either */
        }
        return engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_VARIABLE,
                           TANDEM_INTENT_VARIABLE_UPDATED, old.key, ENGINE_ENC(variable), &v,
                           false);
    }
    return engine_emit(ctx, TANDEM_RECORD_EVENT, TANDEM_VALUE_VARIABLE,
                       TANDEM_INTENT_VARIABLE_CREATED, engine_key_new(ctx), ENGINE_ENC(variable),
                       &v, false);
}

int engine_json_set_variables(engine_ctx *ctx, tandem_sv doc, uint64_t scope_key,
                              uint64_t process_instance_key, uint64_t process_definition_key,
                              tandem_sv bpmn_process_id, tandem_sv tenant_id)
{
    TANDEM_ASSERT(ctx != NULL);
    TANDEM_ASSERT(scope_key != TANDEM_KEY_NONE);
    if (doc.len == 0) {
        return 0;
    }
    char reason[256];
    json_t *j = load_object(doc, reason, sizeof(reason));
    if (j == NULL) {
        /* Callers check documents before they write anything. */
        return tandem_diag_set(ctx->diag, TANDEM_EINVAL, "engine: %s", reason);
    }
    tandem_variable_value proto;
    tandem_variable_value_init(&proto);
    proto.scope_key = scope_key;
    proto.process_instance_key = process_instance_key;
    proto.process_definition_key = process_definition_key;
    proto.bpmn_process_id = bpmn_process_id;
    proto.tenant_id = tenant_id;
    int rc = 0;
    const char *name;
    json_t *value;
    json_object_foreach(j, name, value)
    {
        char *text = dump_value(value);
        if (text == NULL) {
            rc = tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory for variables");
            break;
        }
        rc = set_one(ctx, tandem_sv_of(name), text, scope_key, &proto);
        free(text);
        if (rc != 0) {
            break;
        }
    }
    json_decref(j);
    return rc;
}

int engine_json_headers(engine_ctx *ctx, const tandem_bpmn_task *task, tandem_sv *out)
{
    TANDEM_ASSERT(ctx != NULL && task != NULL && out != NULL);
    json_t *obj = json_object();
    int rc = obj == NULL ? -1 : 0;
    for (uint32_t i = 0; rc == 0 && i < task->header_count; i++) {
        rc = json_object_set_new(obj, task->headers[i].key, json_string(task->headers[i].value));
    }
    char *text = rc == 0 ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (text == NULL) {
        return tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory for headers");
    }
    rc = engine_arena_dup(&ctx->engine->arena, text, strlen(text), out);
    free(text);
    return rc != 0 ? tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory") : 0;
}

/* ---- Scopes ------------------------------------------------------------ */

/* The scope chain of `scope_key`: the scope, its flow scope, ... up to the
 * process instance. *el receives the scope's own element row. */
static int scope_chain(engine_ctx *ctx, uint64_t scope_key, uint64_t *chain, uint32_t *count,
                       engine_element *el)
{
    TANDEM_ASSERT(ctx != NULL && chain != NULL && count != NULL && el != NULL);
    TANDEM_ASSERT(scope_key != TANDEM_KEY_NONE);
    uint32_t n = 0;
    uint64_t key = scope_key;
    while (key != TANDEM_KEY_NONE) {
        if (n == ENGINE_SCOPE_DEPTH_MAX) {
            return tandem_diag_set(ctx->diag, TANDEM_ECORRUPT,
                                   "engine: scope %llu is nested deeper than %u scopes",
                                   (unsigned long long)scope_key, ENGINE_SCOPE_DEPTH_MAX);
        }
        engine_element e;
        int rc = engine_element_get(ctx->engine, ctx->txn, key, &e, ctx->diag);
        if (rc != 0) {
            return rc;
        }
        if (n == 0) {
            *el = e;
        }
        chain[n++] = key;
        key = e.value.flow_scope_key;
    }
    *count = n;
    TANDEM_ASSERT(n >= 1);
    return 0;
}

int engine_variables_visible(engine_ctx *ctx, uint64_t scope_key, tandem_sv fetch, tandem_sv *out)
{
    TANDEM_ASSERT(ctx != NULL && out != NULL);
    TANDEM_ASSERT(scope_key != TANDEM_KEY_NONE);
    uint64_t chain[ENGINE_SCOPE_DEPTH_MAX];
    uint32_t n = 0;
    engine_element el;
    int rc = scope_chain(ctx, scope_key, chain, &n, &el);
    if (rc == TANDEM_ENOENT) {
        n = 1; /* a scope without an element row (a job's ended element): its own variables */
        chain[0] = scope_key;
    } else if (rc != 0) {
        return rc;
    }
    /* Each scope's document; most chains have one scope with variables
     * (tasks without input mappings), which is the answer as it is. */
    tandem_sv docs[ENGINE_SCOPE_DEPTH_MAX];
    uint32_t nonempty = 0, last = 0;
    for (uint32_t i = 0; i < n; i++) {
        rc = engine_variables_document(ctx->engine, ctx->txn, chain[i], fetch, &docs[i], ctx->diag);
        if (rc != 0) {
            return rc;
        }
        TANDEM_ASSERT(docs[i].len >= 2);
        if (docs[i].len > 2) {
            nonempty++;
            last = i;
        }
    }
    if (nonempty <= 1) {
        *out = docs[last];
        return 0;
    }
    /* Outermost first, so inner scopes shadow outer ones. */
    json_t *all = json_object();
    for (uint32_t i = n; rc == 0 && all != NULL && i-- > 0;) {
        json_t *j = json_loadb(docs[i].ptr, docs[i].len, 0, NULL);
        if (j == NULL || json_object_update(all, j) != 0) {
            rc = tandem_diag_set(ctx->diag, TANDEM_ECORRUPT,
                                 "engine: the variables of scope %llu do not read back as JSON",
                                 (unsigned long long)chain[i]);
        }
        json_decref(j);
    }
    char *text = rc == 0 && all != NULL ? json_dumps(all, JSON_COMPACT) : NULL;
    json_decref(all);
    if (rc == 0 && text == NULL) {
        rc = tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory for variables");
    }
    if (rc == 0 && engine_arena_dup(&ctx->engine->arena, text, strlen(text), out) != 0) {
        rc = tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory for variables");
    }
    free(text);
    return rc;
}

int engine_json_merge_variables(engine_ctx *ctx, tandem_sv doc, uint64_t scope_key, bool local)
{
    TANDEM_ASSERT(ctx != NULL);
    TANDEM_ASSERT(scope_key != TANDEM_KEY_NONE);
    if (doc.len == 0) {
        return 0;
    }
    uint64_t chain[ENGINE_SCOPE_DEPTH_MAX];
    uint32_t n = 0;
    engine_element el;
    int rc = scope_chain(ctx, scope_key, chain, &n, &el);
    if (rc != 0) {
        return rc;
    }
    const tandem_process_instance_value *pv = &el.value;
    uint64_t pi_key = pv->process_instance_key;
    if (local || n == 1) {
        return engine_json_set_variables(ctx, doc, scope_key, pi_key, pv->process_definition_key,
                                         pv->bpmn_process_id, pv->tenant_id);
    }
    char reason[256];
    json_t *j = load_object(doc, reason, sizeof(reason));
    if (j == NULL) {
        return tandem_diag_set(ctx->diag, TANDEM_EINVAL, "engine: %s", reason);
    }
    tandem_variable_value proto;
    tandem_variable_value_init(&proto);
    proto.process_instance_key = pi_key;
    proto.process_definition_key = pv->process_definition_key;
    proto.bpmn_process_id = pv->bpmn_process_id;
    proto.tenant_id = pv->tenant_id;
    const char *name;
    json_t *value;
    json_object_foreach(j, name, value)
    {
        /* The nearest scope that has the variable; a new one goes to the
         * outermost scope, as Zeebe's propagating merge does. */
        uint64_t target = chain[n - 1];
        for (uint32_t i = 0; rc == 0 && i + 1 < n; i++) {
            engine_variable old;
            rc = engine_variable_get(ctx->engine, ctx->txn, chain[i], tandem_sv_of(name), &old,
                                     ctx->diag);
            if (rc == 0) {
                target = chain[i];
                break;
            }
            rc = rc == TANDEM_ENOENT ? 0 : rc;
        }
        char *text = rc == 0 ? dump_value(value) : NULL;
        if (rc == 0 && text == NULL) {
            rc = tandem_diag_set(ctx->diag, TANDEM_ENOMEM, "engine: out of memory for variables");
        }
        if (rc == 0) {
            proto.scope_key = target;
            rc = set_one(ctx, tandem_sv_of(name), text, target, &proto);
        }
        free(text);
        if (rc != 0) {
            break;
        }
    }
    json_decref(j);
    return rc;
}
