#include "engine/value.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "protocol/key.h"
#include "protocol/record.h"

/*
 * The codecs are table driven: each value type is a list of (tag, kind,
 * offset, default) entries, so adding a field is one line and every type
 * shares one encoder and one decoder. A field equal to its default is not
 * written (an absent field decodes to the default), which keeps the common
 * "key none" and "empty text" fields out of the log.
 */

enum field_kind {
    KIND_U64, /* wire UINT */
    KIND_U32, /* wire UINT, checked to fit */
    KIND_I64, /* wire SINT */
    KIND_I32, /* wire SINT, checked to fit */
    KIND_BOOL,
    KIND_STR,   /* wire STRING, tandem_sv */
    KIND_BYTES, /* wire BYTES, tandem_sv */
    KIND_LIST,  /* wire NESTED, tandem_sv of the content */
};

typedef struct field_desc {
    uint32_t tag;
    enum field_kind kind;
    size_t offset;
    int64_t def; /* default of numbers (U64 NONE is -1 cast) */
    const char *name;
} field_desc;

typedef struct value_desc {
    const char *name;
    const field_desc *fields;
    size_t field_count;
    size_t unknown_offset;
} value_desc;

#define NONE_KEY ((int64_t)-1) /* TANDEM_KEY_NONE as the default of a U64 */
_Static_assert((uint64_t)NONE_KEY == TANDEM_KEY_NONE, "key none is all ones");

/* ---- Views ------------------------------------------------------------ */

tandem_sv tandem_sv_of(const char *s)
{
    tandem_sv v = {s != NULL ? s : "", s != NULL ? strlen(s) : 0};
    TANDEM_ASSERT(v.ptr != NULL);
    return v;
}

bool tandem_sv_eq(tandem_sv a, tandem_sv b)
{
    TANDEM_ASSERT(a.ptr != NULL || a.len == 0);
    TANDEM_ASSERT(b.ptr != NULL || b.len == 0);
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool tandem_sv_eq_cstr(tandem_sv a, const char *s)
{
    TANDEM_ASSERT(s != NULL);
    return tandem_sv_eq(a, tandem_sv_of(s));
}

/* ---- Enumeration names ------------------------------------------------- */

const char *tandem_bpmn_element_type_name(unsigned type)
{
    static const char *const names[] = {"UNSPECIFIED",  "PROCESS",   "START_EVENT",
                                        "SERVICE_TASK", "END_EVENT", "SEQUENCE_FLOW"};
    _Static_assert(sizeof(names) / sizeof(names[0]) == TANDEM_ELEMENT_SEQUENCE_FLOW + 1,
                   "one name per element type");
    return type < sizeof(names) / sizeof(names[0]) ? names[type] : names[0];
}

const char *tandem_incident_error_type_name(unsigned type)
{
    static const char *const names[] = {"UNKNOWN", "JOB_NO_RETRIES", "IO_MAPPING_ERROR",
                                        "EXTRACT_VALUE_ERROR"};
    _Static_assert(TANDEM_INCIDENT_JOB_NO_RETRIES == 1 && TANDEM_INCIDENT_IO_MAPPING_ERROR == 2 &&
                       TANDEM_INCIDENT_EXTRACT_VALUE_ERROR == 3,
                   "numbers documented in docs/ENGINE.md");
    _Static_assert(sizeof(names) / sizeof(names[0]) == TANDEM_INCIDENT_EXTRACT_VALUE_ERROR + 1,
                   "one name per error type");
    return type < sizeof(names) / sizeof(names[0]) ? names[type] : names[0];
}

const char *tandem_job_kind_name(unsigned kind)
{
    return kind == TANDEM_JOB_KIND_BPMN_ELEMENT ? "BPMN_ELEMENT" : "UNKNOWN";
}

const char *tandem_job_listener_event_name(unsigned event)
{
    return event == TANDEM_JOB_LISTENER_UNSPECIFIED ? "UNSPECIFIED" : "UNKNOWN";
}

/* ---- Lists ------------------------------------------------------------ */

#define LIST_TAG 1u

void tandem_value_list_init(tandem_value_list *it, tandem_sv list)
{
    TANDEM_ASSERT(it != NULL);
    TANDEM_ASSERT(list.ptr != NULL || list.len == 0);
    tandem_field_reader_init(&it->fr, list.ptr, list.len);
}

bool tandem_value_list_next(tandem_value_list *it, tandem_field *f)
{
    TANDEM_ASSERT(it != NULL && f != NULL);
    while (tandem_field_next(&it->fr, f)) {
        if (f->tag == LIST_TAG) {
            return true;
        }
    }
    return false;
}

int tandem_value_list_add_str(tandem_buf *list_buf, tandem_sv s)
{
    TANDEM_ASSERT(list_buf != NULL);
    tandem_field_writer w;
    tandem_field_writer_init(&w, list_buf);
    tandem_field_put_string(&w, LIST_TAG, s.ptr != NULL ? s.ptr : "", s.len);
    return tandem_field_writer_finish(&w);
}

int tandem_value_list_add_uint(tandem_buf *list_buf, uint64_t u)
{
    TANDEM_ASSERT(list_buf != NULL);
    tandem_field_writer w;
    tandem_field_writer_init(&w, list_buf);
    tandem_field_put_uint(&w, LIST_TAG, u);
    return tandem_field_writer_finish(&w);
}

int tandem_value_list_add_nested(tandem_buf *list_buf, const void *fields, size_t len)
{
    TANDEM_ASSERT(list_buf != NULL);
    TANDEM_ASSERT(fields != NULL || len == 0);
    tandem_field_writer w;
    tandem_field_writer_init(&w, list_buf);
    tandem_field_put_nested(&w, LIST_TAG, fields != NULL ? fields : "", len);
    return tandem_field_writer_finish(&w);
}

/* ---- Generic codec ---------------------------------------------------- */

static void *field_ptr(void *v, const field_desc *d)
{
    TANDEM_ASSERT(v != NULL && d != NULL);
    return (char *)v + d->offset;
}

static const void *field_cptr(const void *v, const field_desc *d)
{
    TANDEM_ASSERT(v != NULL && d != NULL);
    return (const char *)v + d->offset;
}

static void value_init(const value_desc *desc, void *v, size_t size)
{
    TANDEM_ASSERT(desc != NULL && v != NULL);
    memset(v, 0, size);
    for (size_t i = 0; i < desc->field_count; i++) {
        const field_desc *d = &desc->fields[i];
        void *p = field_ptr(v, d);
        switch (d->kind) {
        case KIND_U64:
            *(uint64_t *)p = (uint64_t)d->def;
            break;
        case KIND_U32:
            *(uint32_t *)p = (uint32_t)d->def;
            break;
        case KIND_I64:
            *(int64_t *)p = d->def;
            break;
        case KIND_I32:
            *(int32_t *)p = (int32_t)d->def;
            break;
        case KIND_BOOL:
            *(bool *)p = d->def != 0;
            break;
        case KIND_STR:
        case KIND_BYTES:
        case KIND_LIST:
            *(tandem_sv *)p = (tandem_sv){"", 0};
            break;
        }
    }
    *(tandem_sv *)((char *)v + desc->unknown_offset) = (tandem_sv){"", 0};
}

static void encode_field(tandem_field_writer *w, const field_desc *d, const void *v)
{
    TANDEM_ASSERT(w != NULL && d != NULL && v != NULL);
    TANDEM_ASSERT(d->tag >= TANDEM_FIELD_TAG_MIN);
    const void *p = field_cptr(v, d);
    switch (d->kind) {
    case KIND_U64:
        if (*(const uint64_t *)p != (uint64_t)d->def) {
            tandem_field_put_uint(w, d->tag, *(const uint64_t *)p);
        }
        break;
    case KIND_U32:
        if (*(const uint32_t *)p != (uint32_t)d->def) {
            tandem_field_put_uint(w, d->tag, *(const uint32_t *)p);
        }
        break;
    case KIND_I64:
        if (*(const int64_t *)p != d->def) {
            tandem_field_put_int(w, d->tag, *(const int64_t *)p);
        }
        break;
    case KIND_I32:
        if (*(const int32_t *)p != (int32_t)d->def) {
            tandem_field_put_int(w, d->tag, *(const int32_t *)p);
        }
        break;
    case KIND_BOOL:
        if (*(const bool *)p != (d->def != 0)) {
            tandem_field_put_bool(w, d->tag, *(const bool *)p);
        }
        break;
    case KIND_STR:
    case KIND_BYTES:
    case KIND_LIST: {
        const tandem_sv *s = p;
        TANDEM_ASSERT(s->ptr != NULL || s->len == 0);
        if (s->len == 0) {
            break;
        }
        if (d->kind == KIND_STR) {
            tandem_field_put_string(w, d->tag, s->ptr, s->len);
        } else if (d->kind == KIND_BYTES) {
            tandem_field_put_bytes(w, d->tag, s->ptr, s->len);
        } else {
            tandem_field_put_nested(w, d->tag, s->ptr, s->len);
        }
        break;
    }
    }
}

static int value_encode(const value_desc *desc, const void *v, tandem_buf *out)
{
    TANDEM_ASSERT(desc != NULL && v != NULL && out != NULL);
    size_t start = out->len;
    tandem_field_writer w;
    tandem_field_writer_init(&w, out);
    for (size_t i = 0; i < desc->field_count; i++) {
        encode_field(&w, &desc->fields[i], v);
    }
    const tandem_sv *unknown = (const tandem_sv *)((const char *)v + desc->unknown_offset);
    if (unknown->len > 0) {
        tandem_field_put_raw(&w, unknown->ptr, unknown->len);
    }
    int rc = tandem_field_writer_finish(&w);
    if (rc != 0) {
        tandem_buf_truncate(out, start);
    }
    TANDEM_ASSERT(rc != 0 || out->len >= start);
    return rc;
}

static const field_desc *find_desc(const value_desc *desc, uint32_t tag)
{
    TANDEM_ASSERT(desc != NULL);
    TANDEM_ASSERT(tag >= TANDEM_FIELD_TAG_MIN);
    for (size_t i = 0; i < desc->field_count; i++) {
        if (desc->fields[i].tag == tag) {
            return &desc->fields[i];
        }
    }
    return NULL;
}

static enum tandem_wire kind_wire(enum field_kind kind)
{
    switch (kind) {
    case KIND_U64:
    case KIND_U32:
        return TANDEM_WIRE_UINT;
    case KIND_I64:
    case KIND_I32:
        return TANDEM_WIRE_SINT;
    case KIND_BOOL:
        return TANDEM_WIRE_BOOL;
    case KIND_STR:
        return TANDEM_WIRE_STRING;
    case KIND_BYTES:
        return TANDEM_WIRE_BYTES;
    case KIND_LIST:
        return TANDEM_WIRE_NESTED;
    }
    TANDEM_UNREACHABLE();
}

static int decode_field(const value_desc *desc, const field_desc *d, const tandem_field *f, void *v,
                        tandem_diag *diag)
{
    TANDEM_ASSERT(desc != NULL && d != NULL && f != NULL && v != NULL);
    TANDEM_ASSERT(f->tag == d->tag);
    void *p = field_ptr(v, d);
    if (f->wire != kind_wire(d->kind)) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "%s value: field %s (tag %u) is a %s, not a %s", desc->name, d->name,
                               (unsigned)d->tag, tandem_wire_name(f->wire),
                               tandem_wire_name(kind_wire(d->kind)));
    }
    switch (d->kind) {
    case KIND_U64:
        *(uint64_t *)p = f->u;
        break;
    case KIND_U32:
        if (f->u > UINT32_MAX) {
            goto range;
        }
        *(uint32_t *)p = (uint32_t)f->u;
        break;
    case KIND_I64:
        *(int64_t *)p = f->i;
        break;
    case KIND_I32:
        if (f->i < INT32_MIN || f->i > INT32_MAX) {
            goto range;
        }
        *(int32_t *)p = (int32_t)f->i;
        break;
    case KIND_BOOL:
        *(bool *)p = f->u != 0;
        break;
    case KIND_LIST: {
        int rc = tandem_fields_validate(f->data, f->len, diag, d->name);
        if (rc != 0) {
            return rc;
        }
    } /* fall through */
    case KIND_STR:
    case KIND_BYTES:
        *(tandem_sv *)p = (tandem_sv){(const char *)f->data, f->len};
        break;
    }
    return 0;
range:
    return tandem_diag_set(diag, TANDEM_ECORRUPT, "%s value: field %s (tag %u) is out of range",
                           desc->name, d->name, (unsigned)d->tag);
}

static int value_decode(const value_desc *desc, const void *data, size_t len, void *v, size_t size,
                        tandem_buf *unknown_buf, tandem_diag *diag)
{
    TANDEM_ASSERT(desc != NULL && v != NULL);
    TANDEM_ASSERT(data != NULL || len == 0);
    value_init(desc, v, size);
    size_t unknown_start = unknown_buf != NULL ? unknown_buf->len : 0;
    tandem_field_reader fr;
    tandem_field_reader_init(&fr, data, len);
    tandem_field f;
    while (tandem_field_next(&fr, &f)) {
        const field_desc *d = find_desc(desc, f.tag);
        int rc = 0;
        if (d != NULL) {
            rc = decode_field(desc, d, &f, v, diag);
        } else if (unknown_buf != NULL) {
            rc = tandem_field_keep_unknown(unknown_buf, &f);
            if (rc != 0) {
                return tandem_diag_set(diag, rc, "%s value: keeping unknown fields", desc->name);
            }
        }
        if (rc != 0) {
            return rc;
        }
    }
    if (fr.error != 0) {
        char what[64];
        snprintf(what, sizeof(what), "%s value", desc->name);
        return tandem_field_reader_diag(&fr, diag, what);
    }
    if (unknown_buf != NULL && unknown_buf->len > unknown_start) {
        *(tandem_sv *)((char *)v + desc->unknown_offset) = (tandem_sv){
            (const char *)unknown_buf->data + unknown_start, unknown_buf->len - unknown_start};
    }
    return 0;
}

/* ---- Tables of fields (numbers documented in docs/ENGINE.md) ------------- */

#define F(type, tag, kind, member, def)                                                            \
    {                                                                                              \
        tag, kind, offsetof(type, member), (int64_t)(def), #member                                 \
    }

#define T tandem_deployment_value
static const field_desc deployment_fields[] = {
    F(T, 1, KIND_LIST, resources, 0),
    F(T, 2, KIND_LIST, processes, 0),
    F(T, 3, KIND_STR, tenant_id, 0),
};
#undef T

#define T tandem_process_value
static const field_desc process_fields[] = {
    F(T, 1, KIND_STR, bpmn_process_id, 0),
    F(T, 2, KIND_I32, version, -1),
    F(T, 3, KIND_U64, process_definition_key, NONE_KEY),
    F(T, 4, KIND_STR, resource_name, 0),
    F(T, 5, KIND_BYTES, checksum, 0),
    F(T, 6, KIND_BYTES, resource, 0),
    F(T, 7, KIND_STR, tenant_id, 0),
    F(T, 8, KIND_U64, deployment_key, NONE_KEY),
    F(T, 10, KIND_BOOL, duplicate, 0),
};
#undef T

#define T tandem_process_instance_value
static const field_desc process_instance_fields[] = {
    F(T, 1, KIND_STR, bpmn_process_id, 0),
    F(T, 2, KIND_I32, version, -1),
    F(T, 3, KIND_U64, process_definition_key, NONE_KEY),
    F(T, 4, KIND_U64, process_instance_key, NONE_KEY),
    F(T, 5, KIND_STR, element_id, 0),
    F(T, 6, KIND_U64, flow_scope_key, NONE_KEY),
    F(T, 7, KIND_U32, bpmn_element_type, 0),
    F(T, 8, KIND_U64, parent_process_instance_key, NONE_KEY),
    F(T, 9, KIND_U64, parent_element_instance_key, NONE_KEY),
    F(T, 10, KIND_STR, tenant_id, 0),
};
#undef T

#define T tandem_process_instance_creation_value
static const field_desc process_instance_creation_fields[] = {
    F(T, 1, KIND_STR, bpmn_process_id, 0),
    F(T, 2, KIND_I32, version, -1),
    F(T, 3, KIND_U64, process_definition_key, NONE_KEY),
    F(T, 4, KIND_U64, process_instance_key, NONE_KEY),
    F(T, 5, KIND_STR, variables, 0),
    F(T, 6, KIND_LIST, fetch_variables, 0),
    F(T, 7, KIND_STR, tenant_id, 0),
    F(T, 8, KIND_BOOL, await_result, 0),
};
#undef T

#define T tandem_process_instance_result_value
static const field_desc process_instance_result_fields[] = {
    F(T, 1, KIND_STR, bpmn_process_id, 0),
    F(T, 2, KIND_I32, version, -1),
    F(T, 3, KIND_U64, process_definition_key, NONE_KEY),
    F(T, 4, KIND_U64, process_instance_key, NONE_KEY),
    F(T, 5, KIND_STR, variables, 0),
    F(T, 6, KIND_STR, tenant_id, 0),
};
#undef T

#define T tandem_job_value
static const field_desc job_fields[] = {
    F(T, 1, KIND_STR, type, 0),
    F(T, 2, KIND_STR, worker, 0),
    F(T, 3, KIND_I32, retries, 0),
    F(T, 4, KIND_I64, deadline_ms, -1),
    F(T, 5, KIND_I64, timeout_ms, -1),
    F(T, 6, KIND_STR, error_message, 0),
    F(T, 7, KIND_STR, error_code, 0),
    F(T, 8, KIND_STR, custom_headers, 0),
    F(T, 9, KIND_STR, variables, 0),
    F(T, 10, KIND_STR, bpmn_process_id, 0),
    F(T, 11, KIND_I32, process_definition_version, -1),
    F(T, 12, KIND_U64, process_definition_key, NONE_KEY),
    F(T, 13, KIND_U64, process_instance_key, NONE_KEY),
    F(T, 14, KIND_STR, element_id, 0),
    F(T, 15, KIND_U64, element_instance_key, NONE_KEY),
    F(T, 16, KIND_STR, tenant_id, 0),
    F(T, 17, KIND_I64, retry_backoff_ms, 0),
    F(T, 18, KIND_I64, recurring_time_ms, -1),
    F(T, 19, KIND_U32, kind, 0),
    F(T, 20, KIND_U32, listener_event, 0),
    F(T, 21, KIND_LIST, changed_attributes, 0),
};
#undef T

#define T tandem_job_batch_value
static const field_desc job_batch_fields[] = {
    F(T, 1, KIND_STR, type, 0),
    F(T, 2, KIND_STR, worker, 0),
    F(T, 3, KIND_I64, timeout_ms, -1),
    F(T, 4, KIND_I32, max_jobs_to_activate, 0),
    F(T, 5, KIND_LIST, fetch_variables, 0),
    F(T, 6, KIND_STR, tenant_id, 0),
    F(T, 7, KIND_LIST, job_keys, 0),
    F(T, 8, KIND_LIST, jobs, 0),
    F(T, 9, KIND_BOOL, truncated, 0),
};
#undef T

#define T tandem_variable_value
static const field_desc variable_fields[] = {
    F(T, 1, KIND_STR, name, 0),
    F(T, 2, KIND_STR, value, 0),
    F(T, 3, KIND_U64, scope_key, NONE_KEY),
    F(T, 4, KIND_U64, process_instance_key, NONE_KEY),
    F(T, 5, KIND_U64, process_definition_key, NONE_KEY),
    F(T, 6, KIND_STR, bpmn_process_id, 0),
    F(T, 7, KIND_STR, tenant_id, 0),
};
#undef T

#define T tandem_incident_value
static const field_desc incident_fields[] = {
    F(T, 1, KIND_U32, error_type, 0),
    F(T, 2, KIND_STR, error_message, 0),
    F(T, 3, KIND_STR, bpmn_process_id, 0),
    F(T, 4, KIND_U64, process_definition_key, NONE_KEY),
    F(T, 5, KIND_U64, process_instance_key, NONE_KEY),
    F(T, 6, KIND_STR, element_id, 0),
    F(T, 7, KIND_U64, element_instance_key, NONE_KEY),
    F(T, 8, KIND_U64, job_key, NONE_KEY),
    F(T, 9, KIND_U64, variable_scope_key, NONE_KEY),
    F(T, 10, KIND_STR, tenant_id, 0),
};
#undef T

#define T tandem_command_distribution_value
static const field_desc command_distribution_fields[] = {
    F(T, 1, KIND_U32, partition_id, 0),
    F(T, 2, KIND_U32, value_type, 0),
    F(T, 3, KIND_U32, intent, 0),
    F(T, 4, KIND_BYTES, command_value, 0),
};
#undef T

#define T tandem_variable_document_value
static const field_desc variable_document_fields[] = {
    F(T, 1, KIND_U64, scope_key, NONE_KEY),
    F(T, 2, KIND_U32, update_semantics, 0),
    F(T, 3, KIND_STR, variables, 0),
    F(T, 4, KIND_STR, tenant_id, 0),
};
#undef T
#undef F

#define VALUE_DESC_(name)                                                                          \
    static const value_desc name##_desc = {#name, name##_fields,                                   \
                                           sizeof(name##_fields) / sizeof(name##_fields[0]),       \
                                           offsetof(tandem_##name##_value, unknown)};              \
    void tandem_##name##_value_init(tandem_##name##_value *v)                                      \
    {                                                                                              \
        TANDEM_ASSERT(v != NULL);                                                                  \
        value_init(&name##_desc, v, sizeof(*v));                                                   \
    }                                                                                              \
    int tandem_##name##_value_encode(const tandem_##name##_value *v, tandem_buf *out)              \
    {                                                                                              \
        TANDEM_ASSERT(v != NULL && out != NULL);                                                   \
        return value_encode(&name##_desc, v, out);                                                 \
    }                                                                                              \
    int tandem_##name##_value_decode(const void *data, size_t len, tandem_##name##_value *v,       \
                                     tandem_buf *unknown_buf, tandem_diag *diag)                   \
    {                                                                                              \
        TANDEM_ASSERT(v != NULL);                                                                  \
        TANDEM_ASSERT(data != NULL || len == 0);                                                   \
        return value_decode(&name##_desc, data, len, v, sizeof(*v), unknown_buf, diag);            \
    }
TANDEM_ENGINE_VALUES(VALUE_DESC_)
#undef VALUE_DESC_
