/*
 * bpmn.h — BPMN 2.0 process models: parsed from the XML that Camunda Modeler
 * saves, validated, and held as an immutable index-based structure that the
 * engine executes.
 *
 * A resource (one .bpmn file) holds one or more processes; only processes with
 * isExecutable="true" are kept (a non-executable process, such as a black-box
 * pool of a collaboration, is modelling only and is skipped without checks).
 * Inside a process, flow nodes and sequence flows live in two arrays and refer
 * to each other by uint32_t index, so the engine keeps (process, index) pairs
 * instead of pointers or strings.
 *
 * The parser is libxml2 with network access off, no entity substitution, no
 * DTD loading; a document with a DOCTYPE is refused before its internal subset
 * is read, so entity bombs and external entities never expand. Elements are
 * matched by namespace URI, not by prefix. Diagram interchange (bpmndi) and
 * modelling-only elements are ignored. Every BPMN element that would change
 * execution but is not executed yet is refused with a message naming its id
 * and type; the table of supported, ignored and refused elements is in
 * elements.c, the one place later work extends. docs/BPMN.md lists them.
 *
 * Errors: parsing stops at the first problem and returns TANDEM_EINVAL (or
 * TANDEM_ETOOBIG for an oversized resource, TANDEM_ENOMEM) with a message in
 * the tandem_diag of the form "<resource name>:<line>: <problem>", e.g.
 *   order.bpmn:12: element 'Gateway_1' of type 'exclusiveGateway' is not supported yet
 * (without ":<line>" when the problem has no line). The message is meant for
 * users: the gateway returns it in a 400 problem detail. Bad input never
 * aborts.
 *
 * Ownership: a tandem_bpmn_resource is one arena; every pointer reachable from
 * it (processes, elements, flows, strings) stays valid until
 * tandem_bpmn_free() of that resource, and nothing in it points into the
 * caller's input bytes. A resource is never changed after parsing, so any
 * number of threads may read it at once.
 */
#ifndef TANDEM_BPMN_BPMN_H
#define TANDEM_BPMN_BPMN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

/* Largest resource accepted (Zeebe's default maximum message size is 4 MiB,
 * and a deployment carries the resource in one message). */
#define TANDEM_BPMN_RESOURCE_SIZE_BYTES_MAX (4u * 1024u * 1024u)
/* Executable processes in one resource. */
#define TANDEM_BPMN_PROCESSES_MAX 64u
/* Flow nodes, and separately sequence flows, in one process. */
#define TANDEM_BPMN_ELEMENTS_MAX 65536u
/* Length of an id (process id, element id, flow id) in bytes. */
#define TANDEM_BPMN_ID_LEN_MAX 255u
/* Headers, inputs and outputs of one service task (each). */
#define TANDEM_BPMN_TASK_ENTRIES_MAX 1024u
/* Retries of a job when the task definition names none. */
#define TANDEM_BPMN_RETRIES_DEFAULT 3u
/* "No such element / flow / process" in index results. */
#define TANDEM_BPMN_NONE UINT32_MAX

_Static_assert(TANDEM_BPMN_ELEMENTS_MAX < TANDEM_BPMN_NONE, "indices never collide with NONE");

/* Kinds of flow node that can be in a model. Only executable kinds exist:
 * anything else is refused at parse time. Extend with elements.c. */
enum tandem_bpmn_type {
    TANDEM_BPMN_START_EVENT = 1, /* none start event */
    TANDEM_BPMN_SERVICE_TASK = 2,
    TANDEM_BPMN_END_EVENT = 3, /* none end event */
};

/* BPMN local name of a type ("startEvent"); never NULL. */
const char *tandem_bpmn_type_name(enum tandem_bpmn_type type);

/* zeebe:taskHeaders/zeebe:header. */
typedef struct tandem_bpmn_header {
    const char *key;   /* read-only: never NULL or empty */
    const char *value; /* read-only: never NULL, may be "" */
} tandem_bpmn_header;

/* zeebe:ioMapping/zeebe:input or zeebe:output: text kept for later use. */
typedef struct tandem_bpmn_mapping {
    const char *source; /* read-only: "" when absent; "=..." is an expression */
    const char *target; /* read-only: never NULL or empty */
} tandem_bpmn_mapping;

/* What a service task tells the engine about its jobs. All read-only. */
typedef struct tandem_bpmn_task {
    /* zeebe:taskDefinition type: a job type, or an expression when it starts
     * with '=' (evaluated by the engine). Never NULL or empty. */
    const char *type;
    /* zeebe:taskDefinition retries as written, "3" when absent. */
    const char *retries;
    /* The retries as a number when static; retries_is_expression when it
     * starts with '=' (then retries_count is 0). */
    uint32_t retries_count;
    bool retries_is_expression;
    const tandem_bpmn_header *headers;
    uint32_t header_count;
    const tandem_bpmn_mapping *inputs;
    uint32_t input_count;
    const tandem_bpmn_mapping *outputs;
    uint32_t output_count;
} tandem_bpmn_task;

/* A flow node. All fields read-only. */
typedef struct tandem_bpmn_element {
    const char *id;   /* never NULL or empty */
    const char *name; /* "" when absent */
    enum tandem_bpmn_type type;
    uint32_t line; /* line in the resource, 0 when unknown */
    /* Flow indices of the incoming and outgoing sequence flows, in document
     * order: process->flow_refs[incoming_first .. +incoming_count). Use
     * tandem_bpmn_incoming / tandem_bpmn_outgoing. */
    uint32_t incoming_first;
    uint32_t incoming_count;
    uint32_t outgoing_first;
    uint32_t outgoing_count;
    const tandem_bpmn_task *task; /* service tasks only; NULL otherwise */
} tandem_bpmn_element;

/* A sequence flow. All fields read-only. */
typedef struct tandem_bpmn_flow {
    const char *id;   /* never NULL or empty */
    const char *name; /* "" when absent */
    uint32_t source;  /* element index */
    uint32_t target;  /* element index */
    /* conditionExpression text as written (whitespace trimmed), NULL when the
     * flow has none. Not evaluated yet: conditions matter with gateways. */
    const char *condition;
    uint32_t line;
} tandem_bpmn_flow;

/* One executable process. All fields read-only. */
typedef struct tandem_bpmn_process {
    const char *id;   /* bpmnProcessId; never NULL or empty */
    const char *name; /* "" when absent */
    const tandem_bpmn_element *elements;
    uint32_t element_count;
    const tandem_bpmn_flow *flows;
    uint32_t flow_count;
    /* Index array behind incoming/outgoing lists: 2 * flow_count entries. */
    const uint32_t *flow_refs;
    uint32_t start; /* index of the one none start event */
    /* private: element indices sorted by id, for tandem_bpmn_element_find */
    const uint32_t *by_id_;
} tandem_bpmn_process;

/* A SHA-256 digest of a resource's bytes. */
typedef struct tandem_bpmn_digest {
    uint8_t bytes[32];
} tandem_bpmn_digest;

typedef struct tandem_bpmn_arena tandem_bpmn_arena;

/* A parsed resource. All fields read-only. */
typedef struct tandem_bpmn_resource {
    const tandem_bpmn_process *processes; /* executable ones, in document order */
    uint32_t process_count;               /* >= 1 */
    size_t size_bytes;                    /* length of the parsed input */
    tandem_bpmn_digest digest;            /* tandem_bpmn_resource_digest of the input */
    tandem_bpmn_arena *arena_;            /* private: owns everything above */
} tandem_bpmn_resource;

/*
 * Parses and validates `len` bytes of BPMN XML. `name` is the resource name
 * used in messages (e.g. the file name of the deployment part; NULL gives
 * "resource"). On success *out is a new resource owned by the caller (free
 * with tandem_bpmn_free) and the input may be released at once. On failure
 * *out is NULL and the diag holds the message (see the header comment).
 */
int tandem_bpmn_parse(const void *data, size_t len, const char *name, tandem_bpmn_resource **out,
                      tandem_diag *diag);

/* Frees a resource and everything it owns. NULL is a no-op. */
void tandem_bpmn_free(tandem_bpmn_resource *resource);

/*
 * SHA-256 of the resource bytes, exactly as deployed: two deployments of the
 * same bytes get the same digest, so the engine returns the same key and
 * version; any changed byte (even whitespace) gives another digest. Chosen
 * over a 64-bit hash because an accidental or crafted collision would make a
 * changed process silently keep its old version.
 */
void tandem_bpmn_resource_digest(const void *data, size_t len, tandem_bpmn_digest *out);

/* The executable process with that bpmnProcessId, or NULL. */
const tandem_bpmn_process *tandem_bpmn_process_find(const tandem_bpmn_resource *resource,
                                                    const char *process_id);

/* Index of the element with that id (O(log n)), or TANDEM_BPMN_NONE. */
uint32_t tandem_bpmn_element_find(const tandem_bpmn_process *process, const char *element_id);

/* The process's none start event. */
const tandem_bpmn_element *tandem_bpmn_start_event(const tandem_bpmn_process *process);

/* Flow indices of the outgoing (incoming) flows of element `index`, in
 * document order; *count receives their number. Valid as the process. */
const uint32_t *tandem_bpmn_outgoing(const tandem_bpmn_process *process, uint32_t index,
                                     uint32_t *count);
const uint32_t *tandem_bpmn_incoming(const tandem_bpmn_process *process, uint32_t index,
                                     uint32_t *count);

/* Appends the Markdown tables of docs/BPMN.md (process children; zeebe
 * extension elements) generated from the rule tables, so the documentation
 * cannot drift from the code. TANDEM_ENOMEM on failure. */
int tandem_bpmn_doc_table(tandem_buf *out);

#endif
