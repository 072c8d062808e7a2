/*
 * store_map.c — which record sets which row: the SQL of the cached
 * statements and one mapping function per value type.
 *
 * Every statement that changes an existing row carries the position guard
 * (`position < record position`, or `WHERE excluded.position > position` on
 * an upsert) and sets the row's position to the record's, so applying a
 * record a second time, or an older record after a newer one, changes
 * nothing. docs/STORE_FORMAT.md lists the mapping in a table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/log.h"
#include "bpmn/bpmn.h"
#include "engine/value.h"
#include "export/store_int.h"
#include "protocol/key.h"
#include "protocol/types.h"

#define GUARD(table) " WHERE excluded.position > " table ".position"

static const char *const stmt_sql[TANDEM_STORE_STMT_COUNT] = {
    [TANDEM_STORE_STMT_POSITION_GET] =
        "SELECT position FROM exporter_position WHERE exporter_id = ?1 AND partition_id = ?2",
    [TANDEM_STORE_STMT_POSITION_SET] =
        "INSERT INTO exporter_position(exporter_id, partition_id, position) VALUES (?1, ?2, ?3)"
        " ON CONFLICT(exporter_id, partition_id) DO UPDATE SET position = excluded.position",
    [TANDEM_STORE_STMT_PD_UPSERT] =
        "INSERT INTO process_definition(process_definition_key, process_definition_id, name,"
        " version, version_tag, resource_name, tenant_id, xml, deployment_key, position)"
        " VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6, ?7, ?8, ?9)"
        " ON CONFLICT(process_definition_key) DO UPDATE SET"
        " process_definition_id = excluded.process_definition_id, name = excluded.name,"
        " version = excluded.version, resource_name = excluded.resource_name,"
        " tenant_id = excluded.tenant_id, xml = excluded.xml,"
        " deployment_key = excluded.deployment_key, position = excluded.position" GUARD(
            "process_definition"),
    [TANDEM_STORE_STMT_PD_XML] = "SELECT process_definition_id, xml FROM process_definition"
                                 " WHERE process_definition_key = ?1",
    [TANDEM_STORE_STMT_PI_INSERT] =
        "INSERT INTO process_instance(process_instance_key, process_definition_key,"
        " process_definition_id, process_definition_version, process_definition_version_tag,"
        " state, start_date, end_date, has_incident, tenant_id, parent_process_instance_key,"
        " parent_element_instance_key, partition_id, position)"
        " VALUES (?1, ?2, ?3, ?4, NULL, 'ACTIVE', ?5, NULL, 0, ?6, ?7, ?8, ?9, ?10)"
        " ON CONFLICT(process_instance_key) DO UPDATE SET position = excluded.position" GUARD(
            "process_instance"),
    [TANDEM_STORE_STMT_PI_END] = "UPDATE process_instance SET state = ?2, end_date = ?3,"
                                 " position = ?4 WHERE process_instance_key = ?1 AND position < ?4",
    [TANDEM_STORE_STMT_PI_INCIDENT] =
        "UPDATE process_instance SET has_incident = EXISTS(SELECT 1 FROM incident"
        " WHERE incident.process_instance_key = ?1 AND incident.state = 'ACTIVE'),"
        " position = ?2 WHERE process_instance_key = ?1 AND position < ?2",
    [TANDEM_STORE_STMT_EI_INSERT] =
        "INSERT INTO element_instance(element_instance_key, process_instance_key,"
        " process_definition_key, process_definition_id, element_id, element_name, type, state,"
        " start_date, end_date, has_incident, incident_key, flow_scope_key, tenant_id, position)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'ACTIVE', ?8, NULL, 0, NULL, ?9, ?10, ?11)"
        " ON CONFLICT(element_instance_key) DO UPDATE SET position = excluded.position" GUARD(
            "element_instance"),
    [TANDEM_STORE_STMT_EI_END] = "UPDATE element_instance SET state = ?2, end_date = ?3,"
                                 " position = ?4 WHERE element_instance_key = ?1 AND position < ?4",
    [TANDEM_STORE_STMT_EI_INCIDENT] =
        "UPDATE element_instance SET has_incident = EXISTS(SELECT 1 FROM incident"
        " WHERE incident.element_instance_key = ?1 AND incident.state = 'ACTIVE'),"
        " incident_key = coalesce(?3, incident_key), position = ?2"
        " WHERE element_instance_key = ?1 AND position < ?2",
    [TANDEM_STORE_STMT_VAR_UPSERT] =
        "INSERT INTO variable(variable_key, name, value, scope_key, process_instance_key,"
        " tenant_id, position) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        " ON CONFLICT(variable_key) DO UPDATE SET name = excluded.name, value = excluded.value,"
        " scope_key = excluded.scope_key, process_instance_key = excluded.process_instance_key,"
        " tenant_id = excluded.tenant_id, position = excluded.position" GUARD("variable"),
    [TANDEM_STORE_STMT_JOB_UPSERT] =
        "INSERT INTO job(job_key, type, worker, state, kind, listener_event_type, retries,"
        " deadline, end_time, error_code, error_message, has_failed_with_retries_left,"
        " element_id, element_instance_key, process_instance_key, process_definition_key,"
        " process_definition_id, custom_headers, tenant_id, position) VALUES (?1, ?2, ?3, ?4,"
        " ?5, ?6, ?7, ?8, ?9, ?10, ?11, coalesce(?12, 0), ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"
        " ON CONFLICT(job_key) DO UPDATE SET type = excluded.type, worker = excluded.worker,"
        " state = excluded.state, kind = excluded.kind,"
        " listener_event_type = excluded.listener_event_type, retries = excluded.retries,"
        " deadline = excluded.deadline, end_time = coalesce(excluded.end_time, job.end_time),"
        " error_code = excluded.error_code, error_message = excluded.error_message,"
        " has_failed_with_retries_left = coalesce(?12, job.has_failed_with_retries_left),"
        " element_id = excluded.element_id, element_instance_key = excluded.element_instance_key,"
        " process_instance_key = excluded.process_instance_key,"
        " process_definition_key = excluded.process_definition_key,"
        " process_definition_id = excluded.process_definition_id,"
        " custom_headers = excluded.custom_headers, tenant_id = excluded.tenant_id,"
        " position = excluded.position" GUARD("job"),
    [TANDEM_STORE_STMT_JOB_ACTIVATED] = "UPDATE job SET worker = ?2, deadline = ?3, position = ?4"
                                        " WHERE job_key = ?1 AND position < ?4",
    [TANDEM_STORE_STMT_INC_UPSERT] =
        "INSERT INTO incident(incident_key, error_type, error_message, element_id,"
        " element_instance_key, process_instance_key, process_definition_key,"
        " process_definition_id, job_key, state, creation_time, tenant_id, position)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'ACTIVE', ?10, ?11, ?12)"
        " ON CONFLICT(incident_key) DO UPDATE SET error_type = excluded.error_type,"
        " error_message = excluded.error_message, element_id = excluded.element_id,"
        " element_instance_key = excluded.element_instance_key,"
        " process_instance_key = excluded.process_instance_key,"
        " process_definition_key = excluded.process_definition_key,"
        " process_definition_id = excluded.process_definition_id, job_key = excluded.job_key,"
        " state = 'ACTIVE', creation_time = excluded.creation_time,"
        " tenant_id = excluded.tenant_id, position = excluded.position" GUARD("incident"),
    [TANDEM_STORE_STMT_INC_RESOLVE] = "UPDATE incident SET state = 'RESOLVED', position = ?2"
                                      " WHERE incident_key = ?1 AND position < ?2",
};

const char *tandem_store_stmt_sql(enum tandem_store_stmt which)
{
    TANDEM_ASSERT((unsigned)which < TANDEM_STORE_STMT_COUNT);
    TANDEM_ASSERT(stmt_sql[which] != NULL);
    return stmt_sql[which];
}

const tandem_store_table tandem_store_tables[] = {
    {"process_definition", "process_definition_key"},
    {"process_instance", "process_instance_key"},
    {"element_instance", "element_instance_key"},
    {"variable", "variable_key"},
    {"job", "job_key"},
    {"incident", "incident_key"},
};
const unsigned tandem_store_table_count =
    (unsigned)(sizeof(tandem_store_tables) / sizeof(tandem_store_tables[0]));

/* ---- Binding helpers --------------------------------------------------- */

/* Text views are bound with SQLITE_TRANSIENT: SQLite copies them, so the
 * record's bytes need not outlive the step. */
static void bind_sv(sqlite3_stmt *st, int i, tandem_sv v)
{
    TANDEM_ASSERT(st != NULL && i > 0 && i <= sqlite3_bind_parameter_count(st));
    TANDEM_ASSERT(v.len == 0 || v.ptr != NULL);
    TANDEM_ASSERT(v.len <= INT32_MAX);
    sqlite3_bind_text(st, i, v.len > 0 ? v.ptr : "", (int)v.len, SQLITE_TRANSIENT);
}

/* Empty text becomes NULL (error code, error message: "none"). */
static void bind_sv_or_null(sqlite3_stmt *st, int i, tandem_sv v)
{
    TANDEM_ASSERT(st != NULL && i > 0);
    TANDEM_ASSERT(v.len == 0 || v.ptr != NULL);
    if (v.len == 0) {
        sqlite3_bind_null(st, i);
    } else {
        bind_sv(st, i, v);
    }
}

static void bind_key(sqlite3_stmt *st, int i, uint64_t key)
{
    TANDEM_ASSERT(st != NULL && i > 0);
    TANDEM_ASSERT(i <= sqlite3_bind_parameter_count(st));
    if (key == TANDEM_KEY_NONE || key > INT64_MAX) {
        sqlite3_bind_null(st, i);
    } else {
        sqlite3_bind_int64(st, i, (sqlite3_int64)key);
    }
}

static void bind_i64(sqlite3_stmt *st, int i, uint64_t v)
{
    TANDEM_ASSERT(st != NULL && i > 0);
    TANDEM_ASSERT(i <= sqlite3_bind_parameter_count(st));
    sqlite3_bind_int64(st, i, v > INT64_MAX ? INT64_MAX : (sqlite3_int64)v);
}

/* A key that can name a row: a NULL would make SQLite pick a fresh rowid,
 * and a second export of the record would add a second row. */
static bool row_key_ok(uint64_t key)
{
    _Static_assert(TANDEM_KEY_NONE > INT64_MAX || TANDEM_KEY_NONE == 0, "NONE is never a row key");
    return key != TANDEM_KEY_NONE && key <= INT64_MAX;
}

/* Runs the cached statement `which` after `bind` filled it in. */
#define RUN(s, which, what, diag, ...)                                                             \
    do {                                                                                           \
        sqlite3_stmt *st = NULL;                                                                   \
        int rc_ = tandem_store_stmt((s), (which), &st, (diag));                                    \
        if (rc_ != 0) {                                                                            \
            return rc_;                                                                            \
        }                                                                                          \
        __VA_ARGS__;                                                                               \
        rc_ = tandem_store_step_done((s), st, (what), (diag));                                     \
        if (rc_ != 0) {                                                                            \
            return rc_;                                                                            \
        }                                                                                          \
        *applied = *applied || sqlite3_changes((s)->db) > 0;                                       \
    } while (0)

/* ---- Models: names of processes and elements --------------------------- */

void tandem_store_models_free(tandem_store *s)
{
    TANDEM_ASSERT(s != NULL);
    for (unsigned i = 0; i < TANDEM_STORE_MODEL_CACHE_MAX; i++) {
        tandem_bpmn_free(s->models[i].resource);
        free(s->models[i].process_id);
        s->models[i] = (tandem_store_model){0};
    }
    s->model_next = 0;
}

/* Caches a parsed resource (taking ownership) under a definition key.
 * Returns its slot, or NULL on out of memory with `res` freed: only a cache,
 * names are looked up again next time. */
static const tandem_store_model *model_put(tandem_store *s, uint64_t key, tandem_bpmn_resource *res,
                                           tandem_sv id)
{
    TANDEM_ASSERT(s != NULL && res != NULL);
    char *copy = strndup(id.len > 0 ? id.ptr : "", id.len);
    if (copy == NULL) {
        tandem_bpmn_free(res);
        return NULL;
    }
    tandem_store_model *m = &s->models[s->model_next];
    s->model_next = (s->model_next + 1) % TANDEM_STORE_MODEL_CACHE_MAX;
    tandem_bpmn_free(m->resource);
    free(m->process_id);
    *m = (tandem_store_model){key, res, copy};
    TANDEM_ASSERT(s->model_next < TANDEM_STORE_MODEL_CACHE_MAX);
    return m;
}

static const tandem_bpmn_process *model_process(const tandem_store_model *m)
{
    TANDEM_ASSERT(m != NULL && m->resource != NULL);
    TANDEM_ASSERT(m->process_id != NULL);
    return tandem_bpmn_process_find(m->resource, m->process_id);
}

static const tandem_store_model *model_find(const tandem_store *s, uint64_t key)
{
    TANDEM_ASSERT(s != NULL);
    for (unsigned i = 0; i < TANDEM_STORE_MODEL_CACHE_MAX; i++) {
        if (s->models[i].resource != NULL && s->models[i].process_definition_key == key) {
            return &s->models[i];
        }
    }
    return NULL;
}

/* Parses XML into the cache; NULL when it does not parse (the store keeps
 * what the engine accepted, so this only happens with foreign records). */
static const tandem_store_model *model_parse(tandem_store *s, uint64_t key, tandem_sv id,
                                             const void *xml, size_t len)
{
    TANDEM_ASSERT(s != NULL);
    tandem_bpmn_resource *res = NULL;
    if (len == 0 || tandem_bpmn_parse(xml, len, NULL, &res, NULL) != 0) {
        return NULL;
    }
    return model_put(s, key, res, id);
}

/* The model of a definition: cached, else read back from process_definition. */
static int model_get(tandem_store *s, uint64_t key, const tandem_store_model **out,
                     tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && out != NULL);
    *out = model_find(s, key);
    if (*out != NULL) {
        return 0;
    }
    sqlite3_stmt *st = NULL;
    int rc = tandem_store_stmt(s, TANDEM_STORE_STMT_PD_XML, &st, diag);
    if (rc != 0) {
        return rc;
    }
    bind_key(st, 1, key);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        tandem_sv id = {(const char *)sqlite3_column_text(st, 0),
                        (size_t)sqlite3_column_bytes(st, 0)};
        *out = model_parse(s, key, id, sqlite3_column_blob(st, 1),
                           (size_t)sqlite3_column_bytes(st, 1));
        src = SQLITE_DONE;
    }
    rc = src == SQLITE_DONE ? 0 : tandem_store_sql_error(s, src, "read process XML", diag);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* Binds a BPMN name, NULL when the model gives none. */
static void bind_name(sqlite3_stmt *st, int i, const char *name)
{
    TANDEM_ASSERT(st != NULL && i > 0);
    if (name == NULL || name[0] == 0) {
        sqlite3_bind_null(st, i);
    } else {
        sqlite3_bind_text(st, i, name, -1, SQLITE_TRANSIENT);
    }
}

/* ---- Value types --------------------------------------------------------- */

static int map_process(tandem_store *s, const tandem_record *r, const tandem_process_value *v,
                       bool *applied, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && r != NULL && v != NULL);
    TANDEM_ASSERT(r->record_type == TANDEM_RECORD_EVENT && r->position > 0);
    if (r->intent != TANDEM_INTENT_PROCESS_CREATED) {
        s->stats.records_not_mapped++;
        return 0;
    }
    if (!row_key_ok(v->process_definition_key)) {
        s->stats.records_undecodable++;
        return 0;
    }
    /* A definition's XML never changes under its key: parse it once. */
    const tandem_store_model *m = model_find(s, v->process_definition_key);
    if (m == NULL) {
        m = model_parse(s, v->process_definition_key, v->bpmn_process_id, v->resource.ptr,
                        v->resource.len);
    }
    const tandem_bpmn_process *p = m != NULL ? model_process(m) : NULL;
    RUN(s, TANDEM_STORE_STMT_PD_UPSERT, "write process_definition", diag, {
        bind_key(st, 1, v->process_definition_key);
        bind_sv(st, 2, v->bpmn_process_id);
        bind_name(st, 3, p != NULL ? p->name : NULL);
        sqlite3_bind_int64(st, 4, v->version);
        bind_sv(st, 5, v->resource_name);
        bind_sv(st, 6, v->tenant_id);
        bind_sv(st, 7, v->resource);
        bind_key(st, 8, v->deployment_key);
        bind_i64(st, 9, r->position);
    });
    return 0;
}

static int map_process_row(tandem_store *s, const tandem_record *r,
                           const tandem_process_instance_value *v, bool *applied, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && r != NULL && v != NULL);
    TANDEM_ASSERT(r->record_type == TANDEM_RECORD_EVENT && r->position > 0);
    TANDEM_ASSERT(v->bpmn_element_type == TANDEM_ELEMENT_PROCESS);
    switch (r->intent) {
    case TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATING:
    case TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATED:
        RUN(s, TANDEM_STORE_STMT_PI_INSERT, "write process_instance", diag, {
            bind_key(st, 1, r->key);
            bind_key(st, 2, v->process_definition_key);
            bind_sv(st, 3, v->bpmn_process_id);
            sqlite3_bind_int64(st, 4, v->version);
            bind_i64(st, 5, r->timestamp_ms);
            bind_sv(st, 6, v->tenant_id);
            bind_key(st, 7, v->parent_process_instance_key);
            bind_key(st, 8, v->parent_element_instance_key);
            sqlite3_bind_int64(st, 9, r->partition_id);
            bind_i64(st, 10, r->position);
        });
        return 0;
    case TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_COMPLETED:
    case TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_TERMINATED:
        RUN(s, TANDEM_STORE_STMT_PI_END, "write process_instance", diag, {
            bind_key(st, 1, r->key);
            sqlite3_bind_text(st, 2,
                              r->intent == TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_COMPLETED
                                  ? "COMPLETED"
                                  : "TERMINATED",
                              -1, SQLITE_STATIC);
            bind_i64(st, 3, r->timestamp_ms);
            bind_i64(st, 4, r->position);
        });
        return 0;
    default:
        return 0;
    }
}

/* The BPMN name of the element of v (NULL when the model gives none or the
 * definition is unknown); valid until the model cache changes. */
static int element_name(tandem_store *s, const tandem_process_instance_value *v, const char **out,
                        tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && v != NULL && out != NULL);
    *out = NULL;
    const tandem_store_model *m = NULL;
    int rc = model_get(s, v->process_definition_key, &m, diag);
    const tandem_bpmn_process *p = rc == 0 && m != NULL ? model_process(m) : NULL;
    if (p == NULL) {
        return rc;
    }
    if (v->bpmn_element_type == TANDEM_ELEMENT_PROCESS) {
        *out = p->name;
    } else if (v->element_id.len <= TANDEM_BPMN_ID_LEN_MAX) {
        char id[TANDEM_BPMN_ID_LEN_MAX + 1];
        memcpy(id, v->element_id.len > 0 ? v->element_id.ptr : "", v->element_id.len);
        id[v->element_id.len] = 0;
        uint32_t idx = tandem_bpmn_element_find(p, id);
        *out = idx != TANDEM_BPMN_NONE ? p->elements[idx].name : NULL;
    }
    TANDEM_ASSERT(rc == 0);
    return 0;
}

static int map_element(tandem_store *s, const tandem_record *r,
                       const tandem_process_instance_value *v, bool *applied, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && r != NULL && v != NULL);
    TANDEM_ASSERT(r->record_type == TANDEM_RECORD_EVENT && r->position > 0);
    switch (r->intent) {
    case TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATING:
    case TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_ACTIVATED:
    case TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_COMPLETED:
    case TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_TERMINATED:
        break;
    default: /* COMPLETING, TERMINATING, ...: transitions without a row change */
        s->stats.records_not_mapped++;
        return 0;
    }
    if (v->bpmn_element_type == TANDEM_ELEMENT_SEQUENCE_FLOW) {
        s->stats.records_not_mapped++;
        return 0;
    }
    if (v->bpmn_element_type == TANDEM_ELEMENT_PROCESS) {
        int rc = map_process_row(s, r, v, applied, diag);
        if (rc != 0) {
            return rc;
        }
    }
    if (r->intent == TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_COMPLETED ||
        r->intent == TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_TERMINATED) {
        RUN(s, TANDEM_STORE_STMT_EI_END, "write element_instance", diag, {
            bind_key(st, 1, r->key);
            sqlite3_bind_text(st, 2,
                              r->intent == TANDEM_INTENT_PROCESS_INSTANCE_ELEMENT_COMPLETED
                                  ? "COMPLETED"
                                  : "TERMINATED",
                              -1, SQLITE_STATIC);
            bind_i64(st, 3, r->timestamp_ms);
            bind_i64(st, 4, r->position);
        });
        return 0;
    }
    const char *name = NULL;
    int rc = element_name(s, v, &name, diag);
    if (rc != 0) {
        return rc;
    }
    RUN(s, TANDEM_STORE_STMT_EI_INSERT, "write element_instance", diag, {
        bind_key(st, 1, r->key);
        bind_key(st, 2, v->process_instance_key);
        bind_key(st, 3, v->process_definition_key);
        bind_sv(st, 4, v->bpmn_process_id);
        bind_sv(st, 5, v->element_id);
        /* elementName is required in the 8.8 API; Operate shows the id for
         * an element without a name, so the row stores it as the name */
        if (name == NULL || name[0] == 0) {
            bind_sv(st, 6, v->element_id);
        } else {
            bind_name(st, 6, name);
        }
        sqlite3_bind_text(st, 7, tandem_bpmn_element_type_name(v->bpmn_element_type), -1,
                          SQLITE_STATIC);
        bind_i64(st, 8, r->timestamp_ms);
        bind_key(st, 9, v->flow_scope_key);
        bind_sv(st, 10, v->tenant_id);
        bind_i64(st, 11, r->position);
    });
    return 0;
}

static int map_variable(tandem_store *s, const tandem_record *r, const tandem_variable_value *v,
                        bool *applied, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && r != NULL && v != NULL);
    TANDEM_ASSERT(r->record_type == TANDEM_RECORD_EVENT && r->position > 0);
    if (r->intent != TANDEM_INTENT_VARIABLE_CREATED &&
        r->intent != TANDEM_INTENT_VARIABLE_UPDATED) {
        s->stats.records_not_mapped++;
        return 0;
    }
    RUN(s, TANDEM_STORE_STMT_VAR_UPSERT, "write variable", diag, {
        bind_key(st, 1, r->key);
        bind_sv(st, 2, v->name);
        bind_sv(st, 3, v->value);
        bind_key(st, 4, v->scope_key);
        bind_key(st, 5, v->process_instance_key);
        bind_sv(st, 6, v->tenant_id);
        bind_i64(st, 7, r->position);
    });
    return 0;
}

/* The state a job intent leaves in the row, or NULL when the intent has no
 * row change of its own. */
static const char *job_state(uint16_t intent)
{
    switch (intent) {
    case TANDEM_INTENT_JOB_CREATED:
        return "CREATED";
    case TANDEM_INTENT_JOB_COMPLETED:
        return "COMPLETED";
    case TANDEM_INTENT_JOB_FAILED:
        return "FAILED";
    case TANDEM_INTENT_JOB_TIMED_OUT:
        return "TIMED_OUT";
    case TANDEM_INTENT_JOB_RETRIES_UPDATED:
        return "RETRIES_UPDATED";
    case TANDEM_INTENT_JOB_CANCELED:
        return "CANCELED";
    case TANDEM_INTENT_JOB_ERROR_THROWN:
        return "ERROR_THROWN";
    default:
        return NULL;
    }
}

static int map_job(tandem_store *s, const tandem_record *r, const tandem_job_value *v,
                   bool *applied, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && r != NULL && v != NULL);
    TANDEM_ASSERT(r->record_type == TANDEM_RECORD_EVENT && r->position > 0);
    const char *state = job_state(r->intent);
    if (state == NULL) {
        s->stats.records_not_mapped++;
        return 0;
    }
    bool ended = r->intent == TANDEM_INTENT_JOB_COMPLETED ||
                 r->intent == TANDEM_INTENT_JOB_CANCELED ||
                 r->intent == TANDEM_INTENT_JOB_ERROR_THROWN;
    RUN(s, TANDEM_STORE_STMT_JOB_UPSERT, "write job", diag, {
        bind_key(st, 1, r->key);
        bind_sv(st, 2, v->type);
        bind_sv_or_null(st, 3, v->worker);
        sqlite3_bind_text(st, 4, state, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, tandem_job_kind_name(v->kind), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, tandem_job_listener_event_name(v->listener_event), -1,
                          SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, v->retries);
        if (v->deadline_ms >= 0) {
            sqlite3_bind_int64(st, 8, v->deadline_ms);
        }
        if (ended) {
            bind_i64(st, 9, r->timestamp_ms);
        }
        bind_sv_or_null(st, 10, v->error_code);
        bind_sv_or_null(st, 11, v->error_message);
        if (r->intent == TANDEM_INTENT_JOB_FAILED) {
            sqlite3_bind_int(st, 12, v->retries > 0);
        }
        bind_sv(st, 13, v->element_id);
        bind_key(st, 14, v->element_instance_key);
        bind_key(st, 15, v->process_instance_key);
        bind_key(st, 16, v->process_definition_key);
        bind_sv(st, 17, v->bpmn_process_id);
        bind_sv(st, 18, v->custom_headers.len > 0 ? v->custom_headers : tandem_sv_of("{}"));
        bind_sv(st, 19, v->tenant_id);
        bind_i64(st, 20, r->position);
    });
    return 0;
}

/* JOB_BATCH ACTIVATED: the worker and deadline of every activated job. */
static int map_job_batch(tandem_store *s, const tandem_record *r, const tandem_job_batch_value *v,
                         bool *applied, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && r != NULL && v != NULL);
    TANDEM_ASSERT(r->record_type == TANDEM_RECORD_EVENT && r->position > 0);
    if (r->intent != TANDEM_INTENT_JOB_BATCH_ACTIVATED) {
        s->stats.records_not_mapped++;
        return 0;
    }
    tandem_value_list keys, jobs;
    tandem_value_list_init(&keys, v->job_keys);
    tandem_value_list_init(&jobs, v->jobs);
    tandem_field kf, jf;
    while (tandem_value_list_next(&keys, &kf)) {
        tandem_job_value job;
        if (!tandem_value_list_next(&jobs, &jf) ||
            tandem_job_value_decode(jf.data, jf.len, &job, NULL, NULL) != 0) {
            /* Counted once: as applied when earlier jobs of the batch were. */
            s->stats.records_undecodable += *applied ? 0 : 1;
            return 0;
        }
        RUN(s, TANDEM_STORE_STMT_JOB_ACTIVATED, "write job", diag, {
            bind_key(st, 1, kf.u);
            bind_sv_or_null(st, 2, job.worker);
            if (job.deadline_ms >= 0) {
                sqlite3_bind_int64(st, 3, job.deadline_ms);
            }
            bind_i64(st, 4, r->position);
        });
    }
    return 0;
}

static int map_incident(tandem_store *s, const tandem_record *r, const tandem_incident_value *v,
                        bool *applied, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && r != NULL && v != NULL);
    TANDEM_ASSERT(r->record_type == TANDEM_RECORD_EVENT && r->position > 0);
    bool created = r->intent == TANDEM_INTENT_INCIDENT_CREATED;
    if (created) {
        RUN(s, TANDEM_STORE_STMT_INC_UPSERT, "write incident", diag, {
            bind_key(st, 1, r->key);
            sqlite3_bind_text(st, 2, tandem_incident_error_type_name(v->error_type), -1,
                              SQLITE_STATIC);
            bind_sv(st, 3, v->error_message);
            bind_sv(st, 4, v->element_id);
            bind_key(st, 5, v->element_instance_key);
            bind_key(st, 6, v->process_instance_key);
            bind_key(st, 7, v->process_definition_key);
            bind_sv(st, 8, v->bpmn_process_id);
            bind_key(st, 9, v->job_key);
            bind_i64(st, 10, r->timestamp_ms);
            bind_sv(st, 11, v->tenant_id);
            bind_i64(st, 12, r->position);
        });
    } else if (r->intent == TANDEM_INTENT_INCIDENT_RESOLVED) {
        RUN(s, TANDEM_STORE_STMT_INC_RESOLVE, "write incident", diag, {
            bind_key(st, 1, r->key);
            bind_i64(st, 2, r->position);
        });
    } else {
        s->stats.records_not_mapped++;
        return 0;
    }
    /* The flags follow the incident table, so two incidents on one instance
     * and one resolved leave has_incident set. */
    RUN(s, TANDEM_STORE_STMT_EI_INCIDENT, "write element_instance", diag, {
        bind_key(st, 1, v->element_instance_key);
        bind_i64(st, 2, r->position);
        if (created) {
            bind_key(st, 3, r->key);
        }
    });
    RUN(s, TANDEM_STORE_STMT_PI_INCIDENT, "write process_instance", diag, {
        bind_key(st, 1, v->process_instance_key);
        bind_i64(st, 2, r->position);
    });
    return 0;
}

/* Decodes the value of type T and calls map_X; an undecodable value is
 * logged and skipped so one foreign record never stops the exporter. */
#define DECODE_AND_MAP(T, fn)                                                                      \
    do {                                                                                           \
        tandem_##T##_value v_;                                                                     \
        tandem_diag d_ = {0};                                                                      \
        if (tandem_##T##_value_decode(rec->value, rec->value_len, &v_, NULL, &d_) != 0) {          \
            s->stats.records_undecodable++;                                                        \
            char pos_[24];                                                                         \
            snprintf(pos_, sizeof(pos_), "%llu", (unsigned long long)rec->position);               \
            tandem_log(TANDEM_LOG_WARN, "store: record value does not decode, skipped",            \
                       "position", pos_, "error", d_.message, NULL);                               \
            return 0;                                                                              \
        }                                                                                          \
        return fn(s, rec, &v_, applied, diag);                                                     \
    } while (0)

int tandem_store_map_record(tandem_store *s, const tandem_record *rec, bool *applied,
                            tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && rec != NULL && applied != NULL);
    TANDEM_ASSERT(!s->read_only);
    *applied = false;
    if (rec->record_type != TANDEM_RECORD_EVENT) {
        s->stats.records_not_mapped++;
        return 0;
    }
    bool keyed =
        rec->value_type != TANDEM_VALUE_PROCESS && rec->value_type != TANDEM_VALUE_JOB_BATCH;
    if (keyed && !row_key_ok(rec->key)) {
        /* Every row these records create or change is named by the record key. */
        s->stats.records_undecodable++;
        return 0;
    }
    switch (rec->value_type) {
    case TANDEM_VALUE_PROCESS:
        DECODE_AND_MAP(process, map_process);
    case TANDEM_VALUE_PROCESS_INSTANCE:
        DECODE_AND_MAP(process_instance, map_element);
    case TANDEM_VALUE_VARIABLE:
        DECODE_AND_MAP(variable, map_variable);
    case TANDEM_VALUE_JOB:
        DECODE_AND_MAP(job, map_job);
    case TANDEM_VALUE_JOB_BATCH:
        DECODE_AND_MAP(job_batch, map_job_batch);
    case TANDEM_VALUE_INCIDENT:
        DECODE_AND_MAP(incident, map_incident);
    default:
        /* DEPLOYMENT CREATED repeats what its PROCESS CREATED records carry. */
        s->stats.records_not_mapped++;
        return 0;
    }
}
