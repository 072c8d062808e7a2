/*
 * gateway.h — the REST gateway: the Camunda 8.8 Orchestration Cluster REST
 * API v2 (`/v2/...`) as the real clients use it, on its own HTTP server
 * (named "rest", api.rest.port).
 *
 * The gateway is the HTTP/JSON side only. It decodes and validates requests
 * (keys as JSON strings, the `<default>` tenant, Camunda's validation
 * messages), hands each decoded request to a backend — the engine — through
 * the asynchronous interface below, and turns the backend's answer into the
 * response: JSON documents shaped like the reference's, or
 * application/problem+json errors with the reference's status mapping.
 *
 * Every backend operation but topology and status gets a call handle
 * (tandem_gateway_call). The backend answers it exactly once, on the loop
 * thread, now (from inside the operation) or later, with the matching
 * tandem_gateway_complete_* function, tandem_gateway_reject or
 * tandem_gateway_fail. The gateway keeps a deadline per call: when it passes
 * first, the client gets 504 and the backend's later answer is dropped — the
 * backend must still answer the handle, because that is what frees it.
 *
 * Job activation is the one operation that the gateway may repeat: the
 * backend answers each activate_jobs invocation with the jobs it activated
 * now, possibly none. With none and time left (long polling), the gateway
 * holds the HTTP request and invokes activate_jobs again with the same handle
 * when the backend calls tandem_gateway_notify_jobs_available for the job
 * type; at the deadline it answers {"jobs":[]}. Jobs are never dropped: an
 * activation that is with the backend when the deadline passes is answered
 * with whatever it brings.
 *
 * Threads: everything here runs on the loop thread.
 *
 * Ownership and lifetimes:
 * - The gateway borrows the loop and the backend context (both must outlive
 *   it) and copies the configuration strings.
 * - Request structs handed to the backend, and every string and byte they
 *   point to, are valid only until the backend function returns: the backend
 *   copies what it keeps.
 * - Result structs passed to the complete functions are read during the call
 *   and copied into the response; the backend keeps its memory.
 * - A call handle is valid from the backend invocation until the backend
 *   answers it; the gateway frees it in that answer.
 * - Variables travel as JSON text: compact, NUL-terminated, always a JSON
 *   object ("{}" when there are none). Text the backend passes in a result
 *   must be a JSON object; it is copied into the response as it is.
 */
#ifndef TANDEM_GATEWAY_GATEWAY_H
#define TANDEM_GATEWAY_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "base/error.h"
#include "mgmt/http.h"

/* The only tenant until multi-tenancy exists. */
#define TANDEM_GATEWAY_DEFAULT_TENANT "<default>"
/* Reported as gatewayVersion: clients read it to choose API generations. */
#define TANDEM_GATEWAY_VERSION_DEFAULT "8.8.0"
/* Limits of one request. */
#define TANDEM_GATEWAY_RESOURCES_MAX           64   /* resources in one deployment */
#define TANDEM_GATEWAY_RESOURCE_NAME_SIZE_MAX  1024 /* file name bytes, with the NUL */
#define TANDEM_GATEWAY_FETCH_VARIABLES_MAX     256  /* names in fetchVariable(s) */
#define TANDEM_GATEWAY_JOBS_MAX                1000 /* maxJobsToActivate */
#define TANDEM_GATEWAY_BODY_SIZE_BYTES_DEFAULT (4u * 1024u * 1024u)
/* Topology limits. */
#define TANDEM_GATEWAY_BROKERS_MAX    16
#define TANDEM_GATEWAY_PARTITIONS_MAX 64

typedef struct tandem_gateway tandem_gateway;
typedef struct tandem_gateway_call tandem_gateway_call;

/* ---- requests handed to the backend ---- */

typedef struct tandem_gateway_resource {
    const char *name;    /* the part's file name, never empty */
    const uint8_t *data; /* the file's bytes (not NUL-terminated) */
    size_t size_bytes;
} tandem_gateway_resource;

typedef struct tandem_gateway_deploy_request {
    const tandem_gateway_resource *resources;
    uint32_t resource_count; /* 1..TANDEM_GATEWAY_RESOURCES_MAX */
} tandem_gateway_deploy_request;

typedef struct tandem_gateway_create_request {
    bool by_key;                       /* true: process_definition_key; false: id + version */
    const char *process_definition_id; /* NULL when by_key */
    int32_t version;                   /* -1 = latest; only when !by_key */
    int64_t process_definition_key;    /* only when by_key */
    const char *variables_json;        /* JSON object text */
    bool await_completion;
    const char *const *fetch_variables; /* names; only with await_completion */
    uint32_t fetch_variable_count;
    int64_t operation_reference; /* 0 = none, else >= 1 */
} tandem_gateway_create_request;

typedef struct tandem_gateway_cancel_request {
    int64_t process_instance_key;
    int64_t operation_reference; /* 0 = none */
} tandem_gateway_cancel_request;

typedef struct tandem_gateway_activate_request {
    const char *type;
    const char *worker;                 /* "" when not given */
    int64_t timeout_ms;                 /* > 0: how long the activated jobs stay with the worker */
    int32_t max_jobs;                   /* 1..TANDEM_GATEWAY_JOBS_MAX */
    const char *const *fetch_variables; /* empty = all variables */
    uint32_t fetch_variable_count;
} tandem_gateway_activate_request;

typedef struct tandem_gateway_complete_request {
    int64_t job_key;
    const char *variables_json; /* JSON object text, "{}" when none */
} tandem_gateway_complete_request;

typedef struct tandem_gateway_fail_request {
    int64_t job_key;
    int32_t retries;            /* default 0: an incident */
    const char *error_message;  /* "" when not given */
    int64_t retry_backoff_ms;   /* default 0 */
    const char *variables_json; /* JSON object text, "{}" when none */
} tandem_gateway_fail_request;

typedef struct tandem_gateway_update_request {
    int64_t job_key;
    bool has_retries;
    int32_t retries;
    bool has_timeout;
    int64_t timeout_ms;
    int64_t operation_reference; /* 0 = none */
} tandem_gateway_update_request;

typedef struct tandem_gateway_resolve_request {
    int64_t incident_key;
    int64_t operation_reference; /* 0 = none */
} tandem_gateway_resolve_request;

typedef struct tandem_gateway_variables_request {
    int64_t element_instance_key; /* the scope: an element instance or a process instance */
    const char *variables_json;   /* JSON object text */
    bool local;                   /* true: all into the scope; false: propagate upwards */
    int64_t operation_reference;  /* 0 = none */
} tandem_gateway_variables_request;

/* ---- results passed by the backend ---- */

typedef enum tandem_gateway_role {
    TANDEM_GATEWAY_ROLE_LEADER,
    TANDEM_GATEWAY_ROLE_FOLLOWER,
    TANDEM_GATEWAY_ROLE_INACTIVE,
} tandem_gateway_role;

typedef enum tandem_gateway_health {
    TANDEM_GATEWAY_HEALTHY,
    TANDEM_GATEWAY_UNHEALTHY,
    TANDEM_GATEWAY_DEAD,
} tandem_gateway_health;

typedef struct tandem_gateway_partition {
    uint32_t partition_id;
    tandem_gateway_role role;
    tandem_gateway_health health;
} tandem_gateway_partition;

typedef struct tandem_gateway_broker {
    uint32_t node_id;
    char host[256];
    uint16_t port;
    char version[32];
    uint32_t partition_count; /* <= TANDEM_GATEWAY_PARTITIONS_MAX */
    tandem_gateway_partition partitions[TANDEM_GATEWAY_PARTITIONS_MAX];
} tandem_gateway_broker;

typedef struct tandem_gateway_topology {
    uint32_t cluster_size;
    uint32_t partitions_count;
    uint32_t replication_factor;
    int64_t last_completed_change_id; /* -1 = none */
    uint32_t broker_count;            /* <= TANDEM_GATEWAY_BROKERS_MAX */
    tandem_gateway_broker brokers[TANDEM_GATEWAY_BROKERS_MAX];
} tandem_gateway_topology;

typedef struct tandem_gateway_deployed_process {
    const char *process_definition_id;
    int32_t version;
    const char *resource_name;
    int64_t process_definition_key;
} tandem_gateway_deployed_process;

typedef struct tandem_gateway_deployment {
    int64_t deployment_key;
    const tandem_gateway_deployed_process *processes;
    uint32_t process_count;
} tandem_gateway_deployment;

typedef struct tandem_gateway_instance {
    const char *process_definition_id;
    int32_t version;
    int64_t process_definition_key;
    int64_t process_instance_key;
    const char *variables_json; /* NULL = "{}"; result variables with awaitCompletion */
} tandem_gateway_instance;

typedef struct tandem_gateway_job {
    int64_t job_key;
    const char *type;
    const char *process_definition_id;
    int32_t process_definition_version;
    const char *element_id;
    const char *custom_headers_json; /* NULL = "{}" */
    const char *worker;
    int32_t retries;
    int64_t deadline_ms;        /* epoch ms */
    const char *variables_json; /* NULL = "{}" */
    int64_t process_instance_key;
    int64_t process_definition_key;
    int64_t element_instance_key;
} tandem_gateway_job;

/* The engine's rejection types; the gateway maps them to HTTP statuses. */
typedef enum tandem_gateway_rejection {
    TANDEM_GATEWAY_INVALID_ARGUMENT,           /* 400 */
    TANDEM_GATEWAY_NOT_FOUND,                  /* 404 */
    TANDEM_GATEWAY_ALREADY_EXISTS,             /* 409 */
    TANDEM_GATEWAY_INVALID_STATE,              /* 409 */
    TANDEM_GATEWAY_UNAUTHORIZED,               /* 401 */
    TANDEM_GATEWAY_FORBIDDEN,                  /* 403 */
    TANDEM_GATEWAY_PROCESSING_ERROR,           /* 500 */
    TANDEM_GATEWAY_EXCEEDED_BATCH_RECORD_SIZE, /* 500 */
} tandem_gateway_rejection;

/* ---- the backend ---- */

typedef struct tandem_gateway_backend {
    void *ctx; /* passed to every function; borrowed */
    /* Fills the topology now. */
    void (*topology)(void *ctx, tandem_gateway_topology *out);
    /* True when the broker can serve requests (GET /v2/status). */
    bool (*healthy)(void *ctx);
    void (*deploy)(void *ctx, const tandem_gateway_deploy_request *req, tandem_gateway_call *call);
    void (*create_instance)(void *ctx, const tandem_gateway_create_request *req,
                            tandem_gateway_call *call);
    void (*cancel_instance)(void *ctx, const tandem_gateway_cancel_request *req,
                            tandem_gateway_call *call);
    /* Answered with tandem_gateway_complete_activation (or reject/fail). */
    void (*activate_jobs)(void *ctx, const tandem_gateway_activate_request *req,
                          tandem_gateway_call *call);
    void (*complete_job)(void *ctx, const tandem_gateway_complete_request *req,
                         tandem_gateway_call *call);
    void (*fail_job)(void *ctx, const tandem_gateway_fail_request *req, tandem_gateway_call *call);
    void (*update_job)(void *ctx, const tandem_gateway_update_request *req,
                       tandem_gateway_call *call);
    /* POST /v2/incidents/{incidentKey}/resolution; answered with
     * tandem_gateway_complete_empty (204). */
    void (*resolve_incident)(void *ctx, const tandem_gateway_resolve_request *req,
                             tandem_gateway_call *call);
    /* PUT /v2/element-instances/{elementInstanceKey}/variables; 204. */
    void (*set_variables)(void *ctx, const tandem_gateway_variables_request *req,
                          tandem_gateway_call *call);
} tandem_gateway_backend;

typedef struct tandem_gateway_config {
    /* Host, port and limits of the HTTP server. name defaults to "rest",
     * body_size_bytes_max to TANDEM_GATEWAY_BODY_SIZE_BYTES_DEFAULT. */
    tandem_http_config http;
    uint32_t calls_max;            /* calls with the backend or held; 0 = 1024; beyond: 503 */
    uint32_t long_poll_timeout_ms; /* activation with requestTimeout 0; 0 = 10000 */
    uint32_t request_timeout_ms;   /* any other call without a requestTimeout; 0 = 15000 */
    const char *gateway_version;   /* NULL = TANDEM_GATEWAY_VERSION_DEFAULT */
} tandem_gateway_config;

/* Every function of `backend` must be set. Creates the gateway and its HTTP
 * server with the /v2 routes; not listening yet. On error nothing is
 * allocated. Errors as tandem_http_server_create. */
int tandem_gateway_create(uv_loop_t *loop, const tandem_gateway_config *cfg,
                          const tandem_gateway_backend *backend, tandem_gateway **out,
                          tandem_diag *diag);

/* Starts listening (see tandem_http_server_start). */
int tandem_gateway_start(tandem_gateway *gw, tandem_diag *diag);

/* The bound port; 0 before start. */
uint16_t tandem_gateway_port(const tandem_gateway *gw);

/* The underlying HTTP server, for stats. Owned by gw. */
tandem_http_server *tandem_gateway_http(tandem_gateway *gw);

/* Calls currently with the backend or held by the gateway. */
uint32_t tandem_gateway_calls(const tandem_gateway *gw);

/*
 * Tells the gateway that jobs of `type` may be activatable now: every held
 * long poll for that type asks the backend again. Cheap when nobody waits.
 * May be called from inside a backend function.
 */
void tandem_gateway_notify_jobs_available(tandem_gateway *gw, const char *type);

/*
 * Closes: the HTTP server stops (held requests are answered 503 UNAVAILABLE,
 * see tandem_http_server_close) and the backend is not invoked any more.
 * Calls still with the backend stay valid until it answers them (the answers
 * go nowhere). The memory is released from a later loop callback once the
 * server is closed and every call is answered; then `cb` (may be NULL) runs.
 * Call once; not from inside a backend function.
 */
void tandem_gateway_close(tandem_gateway *gw, tandem_http_close_fn cb, void *data);

/* ---- answers from the backend (loop thread, exactly once per call) ---- */

/* POST /v2/deployments: 200 with the deployment. */
void tandem_gateway_complete_deploy(tandem_gateway_call *call, const tandem_gateway_deployment *d);
/* POST /v2/process-instances: 200 with the instance. */
void tandem_gateway_complete_create(tandem_gateway_call *call, const tandem_gateway_instance *pi);
/* Cancellation, job completion, failure and update, incident resolution,
 * setting variables: 204. */
void tandem_gateway_complete_empty(tandem_gateway_call *call);
/* Job activation: the jobs activated now (count may be 0, then jobs may be
 * NULL); see the long-polling rules above. */
void tandem_gateway_complete_activation(tandem_gateway_call *call, const tandem_gateway_job *jobs,
                                        size_t count);
/* A rejection by the engine: the mapped status, title = the type's name,
 * detail "Command '<intent>' rejected with code '<TYPE>': <reason>". */
void tandem_gateway_reject(tandem_gateway_call *call, tandem_gateway_rejection type,
                           const char *intent, const char *reason);
/* Any other error, e.g. 503 "RESOURCE_EXHAUSTED" for backpressure or
 * 503 "PARTITION_UNAVAILABLE". detail may be NULL. */
void tandem_gateway_fail(tandem_gateway_call *call, unsigned status, const char *title,
                         const char *detail);

/* The name of a rejection type ("NOT_FOUND") and its HTTP status. */
const char *tandem_gateway_rejection_name(tandem_gateway_rejection type);
unsigned tandem_gateway_rejection_status(tandem_gateway_rejection type);

#endif
