/*
 * value.h — the record values the engine reads and writes, as C structs, and
 * their codecs.
 *
 * A record's value (record.h) is a tagged field sequence (field.h). Each value
 * type the engine uses has a struct here and one encode/decode pair. Field
 * numbers are listed in docs/ENGINE.md and never reused: a new field gets a
 * new tag, so an older broker skips it. Decoding keeps every field whose tag
 * it does not know and encoding writes them back, so a value survives a trip
 * through a broker that is older than its writer.
 *
 * Conventions of every value struct:
 * - keys are uint64_t, TANDEM_KEY_NONE (key.h) when absent;
 * - signed numbers (versions, retries, times in ms) are int64_t/int32_t with
 *   TANDEM_NONE (-1) for "none" where the field says so;
 * - text and nested lists are tandem_sv views (pointer + length, not
 *   NUL-terminated). A list is a nested field whose content repeats tag 1
 *   (see tandem_value_list_next).
 * - JSON documents (variables, custom headers) are JSON text in a string
 *   field; an empty view means "{}".
 *
 * Ownership: a decoded struct is a set of views into the bytes it was decoded
 * from, plus `unknown`, a view into the `unknown_buf` the caller passed to
 * decode (may be NULL to drop unknown fields). Both must outlive the struct.
 * Encoding only reads the struct. Nothing here allocates except the buffers
 * the caller passes in.
 *
 * Decoding never trusts its input: malformed bytes or a field of the wrong
 * wire type give TANDEM_ECORRUPT with a message naming the value type, the
 * field and the byte offset, never an assertion.
 */
#ifndef TANDEM_ENGINE_VALUE_H
#define TANDEM_ENGINE_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "protocol/field.h"

/* A view of bytes owned elsewhere (see Ownership above). */
typedef struct tandem_sv {
    const char *ptr;
    size_t len;
} tandem_sv;

/* A view of a NUL-terminated string (NULL gives the empty view). */
tandem_sv tandem_sv_of(const char *s);
bool tandem_sv_eq(tandem_sv a, tandem_sv b);
bool tandem_sv_eq_cstr(tandem_sv a, const char *s);

/* ---- Enumerations inside values (Zeebe's names, our numbers) ----------- */

/* BpmnElementType of PROCESS_INSTANCE values. */
enum tandem_bpmn_element_type {
    TANDEM_ELEMENT_UNSPECIFIED = 0,
    TANDEM_ELEMENT_PROCESS = 1,
    TANDEM_ELEMENT_START_EVENT = 2,
    TANDEM_ELEMENT_SERVICE_TASK = 3,
    TANDEM_ELEMENT_END_EVENT = 4,
    TANDEM_ELEMENT_SEQUENCE_FLOW = 5,
};
/* "PROCESS", "START_EVENT", ...; "UNSPECIFIED" for unknown numbers. Static. */
const char *tandem_bpmn_element_type_name(unsigned type);

/* ErrorType of INCIDENT values. */
enum tandem_incident_error_type {
    TANDEM_INCIDENT_UNKNOWN = 0,
    TANDEM_INCIDENT_JOB_NO_RETRIES = 1,
    TANDEM_INCIDENT_IO_MAPPING_ERROR = 2,    /* an input or output mapping failed */
    TANDEM_INCIDENT_EXTRACT_VALUE_ERROR = 3, /* a job type or retries expression failed */
};
/* "JOB_NO_RETRIES", ...; "UNKNOWN" for unknown numbers. Static. */
const char *tandem_incident_error_type_name(unsigned type);

/* JobKind and JobListenerEventType of JOB values. */
enum tandem_job_kind { TANDEM_JOB_KIND_BPMN_ELEMENT = 0 };
enum tandem_job_listener_event { TANDEM_JOB_LISTENER_UNSPECIFIED = 0 };
const char *tandem_job_kind_name(unsigned kind);
const char *tandem_job_listener_event_name(unsigned event);

/* ---- Lists ---------------------------------------------------------------- */

/*
 * Iterates over a list view (nested content repeating tag 1):
 *
 *   tandem_value_list it; tandem_value_list_init(&it, v.job_keys);
 *   tandem_field f;
 *   while (tandem_value_list_next(&it, &f)) { ... f.u / f.data ... }
 *   if (it.fr.error) ... TANDEM_ECORRUPT
 *
 * Fields with another tag are skipped (room for later list attributes).
 */
typedef struct tandem_value_list {
    tandem_field_reader fr; /* read-only: fr.error is set on malformed bytes */
} tandem_value_list;
void tandem_value_list_init(tandem_value_list *it, tandem_sv list);
bool tandem_value_list_next(tandem_value_list *it, tandem_field *f);

/* Appends one element to a list being built in `list_buf` (caller owned):
 * the list's content bytes, to be put in a struct as a view of list_buf. */
int tandem_value_list_add_str(tandem_buf *list_buf, tandem_sv s);
int tandem_value_list_add_uint(tandem_buf *list_buf, uint64_t u);
int tandem_value_list_add_nested(tandem_buf *list_buf, const void *fields, size_t len);

/* ---- Value structs -------------------------------------------------------- */

/* DEPLOYMENT (CREATE command, CREATED event). */
typedef struct tandem_deployment_value {
    /* List of nested { 1: name string, 2: content bytes }. */
    tandem_sv resources;
    /* List of nested process metadata (tandem_process_value without the
     * resource bytes, plus 10: duplicate bool); filled in by CREATED. */
    tandem_sv processes;
    tandem_sv tenant_id;
    tandem_sv unknown;
} tandem_deployment_value;

/* PROCESS (CREATED event; also the metadata entries of a deployment). */
typedef struct tandem_process_value {
    tandem_sv bpmn_process_id;
    int32_t version;
    uint64_t process_definition_key;
    tandem_sv resource_name;
    tandem_sv checksum; /* SHA-256 of the resource bytes */
    tandem_sv resource; /* the BPMN XML; empty in deployment metadata */
    tandem_sv tenant_id;
    uint64_t deployment_key;
    bool duplicate; /* metadata only: same as the latest version, nothing created */
    tandem_sv unknown;
} tandem_process_value;

/* PROCESS_INSTANCE (element lifecycle events, CANCEL, ACTIVATE_ELEMENT, ...). */
typedef struct tandem_process_instance_value {
    tandem_sv bpmn_process_id;
    int32_t version;
    uint64_t process_definition_key;
    uint64_t process_instance_key;
    tandem_sv element_id;
    uint64_t flow_scope_key;    /* TANDEM_KEY_NONE for the process itself */
    uint32_t bpmn_element_type; /* enum tandem_bpmn_element_type */
    uint64_t parent_process_instance_key;
    uint64_t parent_element_instance_key;
    tandem_sv tenant_id;
    tandem_sv unknown;
} tandem_process_instance_value;

/* PROCESS_INSTANCE_CREATION (CREATE, CREATE_WITH_AWAITING_RESULT, CREATED). */
typedef struct tandem_process_instance_creation_value {
    tandem_sv bpmn_process_id;       /* with version; empty when by key */
    int32_t version;                 /* -1: latest */
    uint64_t process_definition_key; /* TANDEM_KEY_NONE when by id */
    uint64_t process_instance_key;   /* set by CREATED */
    tandem_sv variables;             /* JSON object text; empty = {} */
    tandem_sv fetch_variables;       /* list of strings; empty = all */
    tandem_sv tenant_id;
    bool await_result; /* CREATED of a CREATE_WITH_AWAITING_RESULT */
    tandem_sv unknown;
} tandem_process_instance_creation_value;

/* PROCESS_INSTANCE_RESULT (COMPLETED; a response, not a log record). */
typedef struct tandem_process_instance_result_value {
    tandem_sv bpmn_process_id;
    int32_t version;
    uint64_t process_definition_key;
    uint64_t process_instance_key;
    tandem_sv variables; /* JSON object text, filtered by fetchVariables */
    tandem_sv tenant_id;
    tandem_sv unknown;
} tandem_process_instance_result_value;

/* JOB (events and commands). Everything ActivatedJobResult needs. */
typedef struct tandem_job_value {
    tandem_sv type;
    tandem_sv worker;
    int32_t retries;
    int64_t deadline_ms; /* ms since the epoch; TANDEM_NONE when not activated */
    int64_t timeout_ms;  /* UPDATE_TIMEOUT / UPDATE: the new timeout; else TANDEM_NONE */
    tandem_sv error_message;
    tandem_sv error_code;
    tandem_sv custom_headers; /* JSON object text of string values */
    tandem_sv variables;      /* JSON object text */
    tandem_sv bpmn_process_id;
    int32_t process_definition_version;
    uint64_t process_definition_key;
    uint64_t process_instance_key;
    tandem_sv element_id;
    uint64_t element_instance_key;
    tandem_sv tenant_id;
    int64_t retry_backoff_ms;     /* FAIL: 0 = activatable again at once */
    int64_t recurring_time_ms;    /* FAILED with back-off: when it recurs; else TANDEM_NONE */
    uint32_t kind;                /* enum tandem_job_kind */
    uint32_t listener_event;      /* enum tandem_job_listener_event */
    tandem_sv changed_attributes; /* UPDATE: list of "retries" / "timeout" */
    tandem_sv unknown;
} tandem_job_value;

/* JOB_BATCH (ACTIVATE command, ACTIVATED event). */
typedef struct tandem_job_batch_value {
    tandem_sv type;
    tandem_sv worker;
    int64_t timeout_ms;
    int32_t max_jobs_to_activate;
    tandem_sv fetch_variables; /* list of strings; empty = all */
    tandem_sv tenant_id;
    tandem_sv job_keys; /* ACTIVATED: list of uint keys */
    tandem_sv jobs;     /* ACTIVATED: list of nested job values, same order */
    bool truncated;     /* ACTIVATED: more jobs were activatable than fit */
    tandem_sv unknown;
} tandem_job_batch_value;

/* VARIABLE (CREATED, UPDATED). */
typedef struct tandem_variable_value {
    tandem_sv name;
    tandem_sv value; /* JSON text */
    uint64_t scope_key;
    uint64_t process_instance_key;
    uint64_t process_definition_key;
    tandem_sv bpmn_process_id;
    tandem_sv tenant_id;
    tandem_sv unknown;
} tandem_variable_value;

/* INCIDENT (CREATED, RESOLVED). */
typedef struct tandem_incident_value {
    uint32_t error_type; /* enum tandem_incident_error_type */
    tandem_sv error_message;
    tandem_sv bpmn_process_id;
    uint64_t process_definition_key;
    uint64_t process_instance_key;
    tandem_sv element_id;
    uint64_t element_instance_key;
    uint64_t job_key;
    uint64_t variable_scope_key;
    tandem_sv tenant_id;
    tandem_sv unknown;
} tandem_incident_value;

/* updateSemantics of VARIABLE_DOCUMENT values. */
enum tandem_variable_document_semantics {
    TANDEM_VARIABLES_PROPAGATE = 0, /* each variable goes to the nearest scope that has it */
    TANDEM_VARIABLES_LOCAL = 1,     /* every variable goes to the given scope */
};

/* VARIABLE_DOCUMENT (UPDATE command, UPDATED event): a document of variables
 * set on an element instance's scope. */
typedef struct tandem_variable_document_value {
    uint64_t scope_key;        /* an element instance key (the process instance key too) */
    uint32_t update_semantics; /* enum tandem_variable_document_semantics */
    tandem_sv variables;       /* JSON object text */
    tandem_sv tenant_id;
    tandem_sv unknown;
} tandem_variable_document_value;

/* COMMAND_DISTRIBUTION (STARTED, DISTRIBUTING, ACKNOWLEDGE, ACKNOWLEDGED,
 * FINISHED): one command of the distributing partition carried to others. */
typedef struct tandem_command_distribution_value {
    /* DISTRIBUTING, ACKNOWLEDGE, ACKNOWLEDGED: the receiving partition;
     * STARTED, FINISHED: the distributing one. */
    uint32_t partition_id;
    uint32_t value_type;     /* of the distributed command */
    uint32_t intent;         /* of the distributed command */
    tandem_sv command_value; /* STARTED only: the distributed command's value */
    tandem_sv unknown;
} tandem_command_distribution_value;

/*
 * For each struct X above (deployment, process, process_instance,
 * process_instance_creation, process_instance_result, job, job_batch,
 * variable, incident, command_distribution, variable_document):
 *
 *   void tandem_X_value_init(tandem_X_value *v);
 *       every field to its default (keys NONE, times NONE, views empty).
 *   int tandem_X_value_encode(const tandem_X_value *v, tandem_buf *out);
 *       appends the field sequence; TANDEM_ENOMEM, TANDEM_EINVAL (unknown or
 *       a list view that is not a field sequence).
 *   int tandem_X_value_decode(const void *data, size_t len, tandem_X_value *v,
 *                             tandem_buf *unknown_buf, tandem_diag *diag);
 *       init + fields read; TANDEM_ECORRUPT on malformed bytes.
 */
#define TANDEM_ENGINE_VALUES(X)                                                                    \
    X(deployment)                                                                                  \
    X(process)                                                                                     \
    X(process_instance)                                                                            \
    X(process_instance_creation)                                                                   \
    X(process_instance_result)                                                                     \
    X(job)                                                                                         \
    X(job_batch)                                                                                   \
    X(variable)                                                                                    \
    X(incident)                                                                                    \
    X(command_distribution)                                                                        \
    X(variable_document)

#define TANDEM_VALUE_DECLARE_(name)                                                                \
    void tandem_##name##_value_init(tandem_##name##_value *v);                                     \
    int tandem_##name##_value_encode(const tandem_##name##_value *v, tandem_buf *out);             \
    int tandem_##name##_value_decode(const void *data, size_t len, tandem_##name##_value *v,       \
                                     tandem_buf *unknown_buf, tandem_diag *diag);
TANDEM_ENGINE_VALUES(TANDEM_VALUE_DECLARE_)
#undef TANDEM_VALUE_DECLARE_

#endif
