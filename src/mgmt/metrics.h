/*
 * metrics.h — the metrics registry of a broker, rendered for Prometheus.
 *
 * Modules register their counters, gauges and histograms at start-up and keep
 * the returned handles; updating a handle is one or a few relaxed C11 atomic
 * operations, safe from any thread and never blocking, so the journal's I/O
 * thread, the loop and the exporters' threads all record into the same
 * registry. /actuator/prometheus renders it in the Prometheus text exposition
 * format 0.0.4.
 *
 * Naming (Prometheus conventions, units last): tandem_<module>_<what>_<unit>,
 * e.g. tandem_journal_fsync_duration_seconds, tandem_journal_appends_total.
 * Counter names must end in "_total"; names ending in "_bucket", "_sum" or
 * "_count" are refused for histograms. Durations are in seconds, sizes in
 * bytes. Constant labels (e.g. partition="1") are fixed at registration;
 * several registrations with the same name and different labels form one
 * metric family, which must agree on type and help.
 *
 * Bounds: the registry holds at most `metrics_max` series (given at create),
 * 8 labels each, 32 histogram buckets; no allocation happens after create.
 *
 * Ownership: the registry owns every metric; handles stay valid until
 * tandem_metrics_destroy. Registration copies names, help and labels.
 * Registration and rendering take a lock (they are rare); updates do not.
 */
#ifndef TANDEM_MGMT_METRICS_H
#define TANDEM_MGMT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

#define TANDEM_METRIC_NAME_SIZE_MAX   128 /* bytes, including the NUL */
#define TANDEM_METRIC_HELP_SIZE_MAX   256 /* bytes, including the NUL */
#define TANDEM_METRIC_LABELS_SIZE_MAX 256 /* rendered `k="v",...`, including the NUL */
#define TANDEM_METRIC_LABELS_MAX      8
#define TANDEM_METRIC_BUCKETS_MAX     32 /* finite bounds; +Inf is implicit */

typedef struct tandem_metrics tandem_metrics;
typedef struct tandem_counter tandem_counter;
typedef struct tandem_gauge tandem_gauge;
typedef struct tandem_histogram tandem_histogram;

typedef struct tandem_metric_label {
    const char *name;  /* [a-zA-Z_][a-zA-Z0-9_]*, not "__..." and not "le" */
    const char *value; /* any UTF-8; escaped when rendered */
} tandem_metric_label;

/* Creates an empty registry for up to metrics_max (1..4096) series.
 * TANDEM_EINVAL, TANDEM_ENOMEM. */
int tandem_metrics_create(size_t metrics_max, tandem_metrics **out);

/* Frees the registry; every handle dies with it. NULL is a no-op. */
void tandem_metrics_destroy(tandem_metrics *r);

/*
 * Registers a series. `labels` may be NULL when label_count is 0. Errors, with
 * the name and the rule in diag: TANDEM_EINVAL (bad name, label or buckets;
 * same family with another type or help), TANDEM_EEXIST (same name and
 * labels), TANDEM_ERANGE (a string over its limit), TANDEM_EFULL (registry
 * full). On error *out is untouched.
 */
int tandem_metrics_counter(tandem_metrics *r, const char *name, const char *help,
                           const tandem_metric_label *labels, size_t label_count,
                           tandem_counter **out, tandem_diag *diag);
int tandem_metrics_gauge(tandem_metrics *r, const char *name, const char *help,
                         const tandem_metric_label *labels, size_t label_count, tandem_gauge **out,
                         tandem_diag *diag);
/* `bounds` are the finite upper bounds of the buckets, strictly increasing
 * (1..TANDEM_METRIC_BUCKETS_MAX of them). */
int tandem_metrics_histogram(tandem_metrics *r, const char *name, const char *help,
                             const tandem_metric_label *labels, size_t label_count,
                             const double *bounds, size_t bound_count, tandem_histogram **out,
                             tandem_diag *diag);

/* Appends the text exposition format 0.0.4 of every series to `out`, families
 * in registration order. TANDEM_ENOMEM (out may then hold a partial text). */
int tandem_metrics_render(tandem_metrics *r, tandem_buf *out);

/* Updates, from any thread. A NULL handle is a no-op, so a module can run
 * without a registry (tests, tools). */
void tandem_counter_add(tandem_counter *c, uint64_t n);
void tandem_counter_inc(tandem_counter *c);
void tandem_gauge_set(tandem_gauge *g, double v);
void tandem_gauge_add(tandem_gauge *g, double delta);
/* Values are finite numbers; NaN and infinities are ignored because they
 * would poison _sum forever. */
void tandem_histogram_observe(tandem_histogram *h, double v);

/* Readers for tests and health checks. */
uint64_t tandem_counter_value(const tandem_counter *c);
double tandem_gauge_value(const tandem_gauge *g);
uint64_t tandem_histogram_count(const tandem_histogram *h);
double tandem_histogram_sum(const tandem_histogram *h);

#endif
