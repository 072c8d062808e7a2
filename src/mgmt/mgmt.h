/*
 * mgmt.h — the management API of a broker (like Zeebe's port 9600): health,
 * liveness, readiness and Prometheus metrics, plus the routes the broker adds
 * (partitions, cluster changes, exporters, backups).
 *
 *   GET /actuator/health            200 {"status":"UP",...} or 503 {"status":"DOWN",...}
 *                                   with one entry per registered component
 *   GET /actuator/health/liveness   200 {"status":"UP"}, answered by the loop: a loop
 *                                   that is stuck never answers, so the probe times out
 *   GET /actuator/health/readiness  200 {"status":"UP"} once the broker said it is ready,
 *                                   503 {"status":"OUT_OF_SERVICE"} before
 *   GET /actuator/prometheus        the metrics registry, text format 0.0.4
 *
 * The broker decides what health means: it registers components (a name and
 * a check callback) and sets the readiness flag when its journal and state
 * are recovered. All handlers, checks included, run on the loop thread.
 *
 * Ownership: the management server borrows the loop and the metrics registry
 * (both must outlive it) and copies the configuration strings and component
 * names. It owns its HTTP server.
 */
#ifndef TANDEM_MGMT_MGMT_H
#define TANDEM_MGMT_MGMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "base/error.h"
#include "mgmt/http.h"
#include "mgmt/metrics.h"

/* Health components per server. */
#define TANDEM_MGMT_COMPONENTS_MAX 16
/* Bytes of a component's detail text, with the NUL. */
#define TANDEM_MGMT_DETAIL_SIZE_MAX 256

typedef struct tandem_mgmt tandem_mgmt;

typedef enum tandem_health {
    TANDEM_HEALTH_UP = 0,
    TANDEM_HEALTH_DOWN = 1,
} tandem_health;

/* Reports one component's health, on the loop thread. It may write a short
 * reason into detail[detail_size] (NUL-terminated; left empty = no detail);
 * the text is shown under "details":{"message":...}. */
typedef tandem_health (*tandem_mgmt_health_fn)(void *ctx, char *detail, size_t detail_size);

typedef struct tandem_mgmt_config {
    tandem_http_config http; /* host, port, limits; name defaults to "management" */
    tandem_metrics *metrics; /* required: rendered by /actuator/prometheus */
} tandem_mgmt_config;

/* Creates the server with its built-in routes; not listening yet.
 * Errors as tandem_http_server_create. */
int tandem_mgmt_create(uv_loop_t *loop, const tandem_mgmt_config *cfg, tandem_mgmt **out,
                       tandem_diag *diag);

/* Adds a health component before start. `name` ([a-zA-Z0-9_-]{1,63}) is
 * copied. TANDEM_EINVAL, TANDEM_EEXIST, TANDEM_EFULL, TANDEM_ESTATE after start. */
int tandem_mgmt_add_health(tandem_mgmt *m, const char *name, tandem_mgmt_health_fn fn, void *ctx,
                           tandem_diag *diag);

/* Adds a broker route before start (see tandem_http_route). */
int tandem_mgmt_route(tandem_mgmt *m, const char *method, const char *pattern,
                      tandem_http_handler_fn fn, void *ctx, tandem_diag *diag);

/* Readiness, from any thread; false until the broker sets it. */
void tandem_mgmt_set_ready(tandem_mgmt *m, bool ready);
bool tandem_mgmt_ready(const tandem_mgmt *m);

/* Starts listening (see tandem_http_server_start). */
int tandem_mgmt_start(tandem_mgmt *m, tandem_diag *diag);

/* The bound port; 0 before start. */
uint16_t tandem_mgmt_port(const tandem_mgmt *m);

/* The underlying HTTP server, for stats. Owned by m. */
tandem_http_server *tandem_mgmt_http(tandem_mgmt *m);

/* Closes like tandem_http_server_close; `cb` (may be NULL) runs once the
 * memory is released, from a later loop callback. */
void tandem_mgmt_close(tandem_mgmt *m, tandem_http_close_fn cb, void *data);

#endif
