#include "mgmt/metrics.h"

#include <math.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"

#define METRICS_MAX_LIMIT 4096
#define FAMILY_END        UINT32_MAX

_Static_assert(TANDEM_METRIC_BUCKETS_MAX < 256, "bucket index fits the loops below");
_Static_assert(METRICS_MAX_LIMIT < FAMILY_END, "series index never equals the end marker");

enum metric_kind { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

static const char *const kind_names[] = {"counter", "gauge", "histogram"};

/*
 * One series. Counters keep an integer count; gauges keep the bits of a
 * double so that set is a single store; histograms keep per-bucket counts
 * (not cumulative, so an observation touches one bucket) plus the sum. The
 * total count is the sum of the buckets, computed when rendering, so _count
 * always equals the +Inf bucket even while other threads observe.
 */
typedef struct metric {
    enum metric_kind kind;
    uint32_t family_next; /* next series of the same family, FAMILY_END when last */
    bool family_head;     /* first registered series of its family */
    char name[TANDEM_METRIC_NAME_SIZE_MAX];
    char help[TANDEM_METRIC_HELP_SIZE_MAX];
    char labels[TANDEM_METRIC_LABELS_SIZE_MAX]; /* rendered `k="v",...`, "" without labels */
    _Atomic uint64_t value;
    uint32_t bound_count;
    double bounds[TANDEM_METRIC_BUCKETS_MAX];
    _Atomic uint64_t buckets[TANDEM_METRIC_BUCKETS_MAX + 1]; /* the last one is +Inf */
    _Atomic uint64_t sum_bits;
} metric;

struct tandem_metrics {
    pthread_mutex_t lock; /* registration and rendering only */
    size_t count;
    size_t max;
    metric *metrics; /* max entries, allocated once so handles never move */
};

static uint64_t double_bits(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    return bits;
}

static double bits_double(uint64_t bits)
{
    double v;
    memcpy(&v, &bits, sizeof(v));
    return v;
}

int tandem_metrics_create(size_t metrics_max, tandem_metrics **out)
{
    TANDEM_ASSERT(out != NULL);
    if (metrics_max == 0 || metrics_max > METRICS_MAX_LIMIT) {
        return TANDEM_EINVAL;
    }
    int rc = TANDEM_ENOMEM;
    tandem_metrics *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        goto fail;
    }
    r->metrics = calloc(metrics_max, sizeof(metric));
    if (r->metrics == NULL) {
        goto fail_registry;
    }
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        rc = TANDEM_ESYS;
        goto fail_metrics;
    }
    r->max = metrics_max;
    TANDEM_ASSERT(r->count == 0);
    *out = r;
    return TANDEM_OK;

fail_metrics:
    free(r->metrics);
fail_registry:
    free(r);
fail:
    return rc;
}

void tandem_metrics_destroy(tandem_metrics *r)
{
    if (r == NULL) {
        return;
    }
    TANDEM_ASSERT(r->count <= r->max);
    TANDEM_ASSERT(r->metrics != NULL);
    pthread_mutex_destroy(&r->lock);
    free(r->metrics);
    free(r);
}

/* ---- registration ---- */

static bool ident_char(char c, bool first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
        return true;
    }
    return !first && c >= '0' && c <= '9';
}

static bool valid_ident(const char *s)
{
    TANDEM_ASSERT(ident_char('_', true) && !ident_char('0', true));
    if (s == NULL || *s == '\0') {
        return false;
    }
    for (const char *p = s; *p != '\0'; p++) {
        if (!ident_char(*p, p == s)) {
            return false;
        }
    }
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    TANDEM_ASSERT(s != NULL && suffix != NULL);
    size_t n = strlen(s);
    size_t m = strlen(suffix);
    TANDEM_ASSERT(m > 0);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int check_name(const char *name, enum metric_kind kind, tandem_diag *diag)
{
    TANDEM_ASSERT(kind <= METRIC_HISTOGRAM);
    if (!valid_ident(name)) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "metric name \"%s\" must match [a-zA-Z_][a-zA-Z0-9_]*",
                               name == NULL ? "(null)" : name);
    }
    if (strlen(name) >= TANDEM_METRIC_NAME_SIZE_MAX) {
        return tandem_diag_set(diag, TANDEM_ERANGE, "metric name \"%.40s...\" is over %d bytes",
                               name, TANDEM_METRIC_NAME_SIZE_MAX - 1);
    }
    if (kind == METRIC_COUNTER && !ends_with(name, "_total")) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "counter name \"%s\" must end in \"_total\"",
                               name);
    }
    if (kind != METRIC_COUNTER && ends_with(name, "_total")) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "only counter names end in \"_total\", not %s \"%s\"",
                               kind_names[kind], name);
    }
    if (kind == METRIC_HISTOGRAM &&
        (ends_with(name, "_bucket") || ends_with(name, "_sum") || ends_with(name, "_count"))) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "histogram name \"%s\" must not end in _bucket, _sum or _count",
                               name);
    }
    return TANDEM_OK;
}

/* Appends `s` to the NUL-terminated text in dst[cap]; false when it does not fit. */
static bool append_text(char *dst, size_t cap, size_t *len, const char *s, size_t n)
{
    TANDEM_ASSERT(dst != NULL && s != NULL);
    TANDEM_ASSERT(*len < cap);
    if (n >= cap - *len) {
        return false;
    }
    memcpy(dst + *len, s, n);
    *len += n;
    dst[*len] = '\0';
    return true;
}

/* Renders the constant labels as `k="v",k2="v2"` with values escaped as the
 * exposition format requires (backslash, double quote, newline). */
static int render_labels(const tandem_metric_label *labels, size_t count, char *dst,
                         tandem_diag *diag)
{
    TANDEM_ASSERT(dst != NULL);
    TANDEM_ASSERT(labels != NULL || count == 0);
    size_t len = 0;
    dst[0] = '\0';
    if (count > TANDEM_METRIC_LABELS_MAX) {
        return tandem_diag_set(diag, TANDEM_ERANGE, "%zu labels, at most %d are allowed", count,
                               TANDEM_METRIC_LABELS_MAX);
    }
    for (size_t i = 0; i < count; i++) {
        const char *k = labels[i].name;
        if (!valid_ident(k) || strncmp(k, "__", 2) == 0 || strcmp(k, "le") == 0) {
            return tandem_diag_set(diag, TANDEM_EINVAL,
                                   "label name \"%s\" must match [a-zA-Z_][a-zA-Z0-9_]* and "
                                   "not be \"le\" or start with \"__\"",
                                   k == NULL ? "(null)" : k);
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(labels[j].name, k) == 0) {
                return tandem_diag_set(diag, TANDEM_EINVAL, "label \"%s\" is given twice", k);
            }
        }
        const char *v = labels[i].value == NULL ? "" : labels[i].value;
        bool ok = (i == 0 || append_text(dst, TANDEM_METRIC_LABELS_SIZE_MAX, &len, ",", 1)) &&
                  append_text(dst, TANDEM_METRIC_LABELS_SIZE_MAX, &len, k, strlen(k)) &&
                  append_text(dst, TANDEM_METRIC_LABELS_SIZE_MAX, &len, "=\"", 2);
        for (const char *p = v; ok && *p != '\0'; p++) {
            if (*p == '\\') {
                ok = append_text(dst, TANDEM_METRIC_LABELS_SIZE_MAX, &len, "\\\\", 2);
            } else if (*p == '"') {
                ok = append_text(dst, TANDEM_METRIC_LABELS_SIZE_MAX, &len, "\\\"", 2);
            } else if (*p == '\n') {
                ok = append_text(dst, TANDEM_METRIC_LABELS_SIZE_MAX, &len, "\\n", 2);
            } else {
                ok = append_text(dst, TANDEM_METRIC_LABELS_SIZE_MAX, &len, p, 1);
            }
        }
        if (!ok || !append_text(dst, TANDEM_METRIC_LABELS_SIZE_MAX, &len, "\"", 1)) {
            return tandem_diag_set(diag, TANDEM_ERANGE, "labels are over %d bytes when rendered",
                                   TANDEM_METRIC_LABELS_SIZE_MAX - 1);
        }
    }
    return TANDEM_OK;
}

static int check_bounds(const char *name, const double *bounds, size_t count, tandem_diag *diag)
{
    TANDEM_ASSERT(name != NULL);
    if (bounds == NULL || count == 0 || count > TANDEM_METRIC_BUCKETS_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "histogram \"%s\" needs 1 to %d bucket bounds",
                               name, TANDEM_METRIC_BUCKETS_MAX);
    }
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(bounds[i])) {
            return tandem_diag_set(diag, TANDEM_EINVAL,
                                   "histogram \"%s\": bucket bounds must be finite (+Inf is "
                                   "implicit)",
                                   name);
        }
        if (i > 0 && !(bounds[i] > bounds[i - 1])) {
            return tandem_diag_set(diag, TANDEM_EINVAL,
                                   "histogram \"%s\": bucket bounds must be strictly increasing",
                                   name);
        }
    }
    TANDEM_ASSERT(count <= TANDEM_METRIC_BUCKETS_MAX);
    return TANDEM_OK;
}

/* Finds the family of `name` and checks that the new series fits it. Sets
 * *last to the family's last series, or FAMILY_END when the family is new. */
static int find_family(tandem_metrics *r, const metric *m, uint32_t *last, tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL && m != NULL);
    TANDEM_ASSERT(last != NULL && r->count <= r->max);
    *last = FAMILY_END;
    for (size_t i = 0; i < r->count; i++) {
        const metric *o = &r->metrics[i];
        if (!o->family_head || strcmp(o->name, m->name) != 0) {
            continue;
        }
        if (o->kind != m->kind || strcmp(o->help, m->help) != 0) {
            return tandem_diag_set(diag, TANDEM_EINVAL,
                                   "metric \"%s\" is already registered as a %s with other help",
                                   m->name, kind_names[o->kind]);
        }
        uint32_t at = (uint32_t)i;
        for (;;) {
            const metric *s = &r->metrics[at];
            if (strcmp(s->labels, m->labels) == 0) {
                return tandem_diag_set(diag, TANDEM_EEXIST,
                                       "metric \"%s{%s}\" is already registered", m->name,
                                       m->labels);
            }
            if (s->family_next == FAMILY_END) {
                break;
            }
            at = s->family_next;
        }
        *last = at;
        return TANDEM_OK;
    }
    return TANDEM_OK;
}

static int do_register(tandem_metrics *r, enum metric_kind kind, const char *name, const char *help,
                       const tandem_metric_label *labels, size_t label_count, const double *bounds,
                       size_t bound_count, metric **out, tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL && out != NULL);
    TANDEM_ASSERT(kind != METRIC_HISTOGRAM || bounds != NULL || bound_count == 0);
    metric tmp;
    memset(&tmp, 0, sizeof(tmp));
    int rc = check_name(name, kind, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (help == NULL || strlen(help) >= TANDEM_METRIC_HELP_SIZE_MAX) {
        return tandem_diag_set(diag, TANDEM_ERANGE, "help of \"%s\" is missing or over %d bytes",
                               name, TANDEM_METRIC_HELP_SIZE_MAX - 1);
    }
    if (kind == METRIC_HISTOGRAM) {
        rc = check_bounds(name, bounds, bound_count, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
        memcpy(tmp.bounds, bounds, bound_count * sizeof(double));
        tmp.bound_count = (uint32_t)bound_count;
    }
    rc = render_labels(labels, label_count, tmp.labels, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    tmp.kind = kind;
    strcpy(tmp.name, name);
    strcpy(tmp.help, help);
    tmp.family_next = FAMILY_END;

    pthread_mutex_lock(&r->lock);
    uint32_t last = FAMILY_END;
    rc = find_family(r, &tmp, &last, diag);
    if (rc == TANDEM_OK && r->count == r->max) {
        rc = tandem_diag_set(diag, TANDEM_EFULL,
                             "metrics registry is full (%zu series), cannot add \"%s\"", r->max,
                             name);
    }
    if (rc == TANDEM_OK) {
        uint32_t at = (uint32_t)r->count;
        metric *m = &r->metrics[at];
        tmp.family_head = last == FAMILY_END;
        /* The slot is still zero from calloc, so copying the plain fields
         * and leaving the atomics at zero is initialisation enough. */
        memcpy(m, &tmp, sizeof(*m));
        if (last != FAMILY_END) {
            r->metrics[last].family_next = at;
        }
        r->count++;
        *out = m;
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

int tandem_metrics_counter(tandem_metrics *r, const char *name, const char *help,
                           const tandem_metric_label *labels, size_t label_count,
                           tandem_counter **out, tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL && out != NULL);
    metric *m = NULL;
    int rc = do_register(r, METRIC_COUNTER, name, help, labels, label_count, NULL, 0, &m, diag);
    if (rc == TANDEM_OK) {
        TANDEM_ASSERT(m != NULL && m->kind == METRIC_COUNTER);
        *out = (tandem_counter *)(void *)m;
    }
    return rc;
}

int tandem_metrics_gauge(tandem_metrics *r, const char *name, const char *help,
                         const tandem_metric_label *labels, size_t label_count, tandem_gauge **out,
                         tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL && out != NULL);
    metric *m = NULL;
    int rc = do_register(r, METRIC_GAUGE, name, help, labels, label_count, NULL, 0, &m, diag);
    if (rc == TANDEM_OK) {
        TANDEM_ASSERT(m != NULL && m->kind == METRIC_GAUGE);
        *out = (tandem_gauge *)(void *)m;
    }
    return rc;
}

int tandem_metrics_histogram(tandem_metrics *r, const char *name, const char *help,
                             const tandem_metric_label *labels, size_t label_count,
                             const double *bounds, size_t bound_count, tandem_histogram **out,
                             tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL && out != NULL);
    metric *m = NULL;
    int rc = do_register(r, METRIC_HISTOGRAM, name, help, labels, label_count, bounds, bound_count,
                         &m, diag);
    if (rc == TANDEM_OK) {
        TANDEM_ASSERT(m != NULL && m->kind == METRIC_HISTOGRAM);
        *out = (tandem_histogram *)(void *)m;
    }
    return rc;
}

/* ---- updates ---- */

static metric *counter_metric(const tandem_counter *c)
{
    metric *m = (metric *)(void *)(uintptr_t)c;
    TANDEM_ASSERT(m->kind == METRIC_COUNTER);
    TANDEM_ASSERT(m->bound_count == 0);
    return m;
}

static metric *gauge_metric(const tandem_gauge *g)
{
    metric *m = (metric *)(void *)(uintptr_t)g;
    TANDEM_ASSERT(m->kind == METRIC_GAUGE);
    TANDEM_ASSERT(m->bound_count == 0);
    return m;
}

static metric *histogram_metric(const tandem_histogram *h)
{
    metric *m = (metric *)(void *)(uintptr_t)h;
    TANDEM_ASSERT(m->kind == METRIC_HISTOGRAM);
    TANDEM_ASSERT(m->bound_count >= 1 && m->bound_count <= TANDEM_METRIC_BUCKETS_MAX);
    return m;
}

void tandem_counter_add(tandem_counter *c, uint64_t n)
{
    if (c == NULL) {
        return;
    }
    uint64_t before = atomic_fetch_add_explicit(&counter_metric(c)->value, n, memory_order_relaxed);
    TANDEM_ASSERT(before + n >= before); /* a 64-bit counter never wraps in practice */
}

void tandem_counter_inc(tandem_counter *c)
{
    tandem_counter_add(c, 1);
}

void tandem_gauge_set(tandem_gauge *g, double v)
{
    if (g == NULL) {
        return;
    }
    atomic_store_explicit(&gauge_metric(g)->value, double_bits(v), memory_order_relaxed);
}

/* Adds to a double kept as bits: a compare-and-swap loop, because there is
 * no atomic floating-point add. Contention is bounded by the number of
 * threads updating the same series. */
static void add_double(_Atomic uint64_t *bits, double delta)
{
    TANDEM_ASSERT(bits != NULL);
    TANDEM_ASSERT(!isnan(delta)); /* callers filter, or a gauge would stay NaN */
    uint64_t old = atomic_load_explicit(bits, memory_order_relaxed);
    for (;;) {
        uint64_t next = double_bits(bits_double(old) + delta);
        if (atomic_compare_exchange_weak_explicit(bits, &old, next, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            return;
        }
    }
}

void tandem_gauge_add(tandem_gauge *g, double delta)
{
    if (g == NULL || isnan(delta)) {
        return; /* NaN would stick forever */
    }
    add_double(&gauge_metric(g)->value, delta);
}

void tandem_histogram_observe(tandem_histogram *h, double v)
{
    if (h == NULL || !isfinite(v)) {
        return;
    }
    metric *m = histogram_metric(h);
    uint32_t i = 0;
    while (i < m->bound_count && v > m->bounds[i]) {
        i++;
    }
    TANDEM_ASSERT(i <= m->bound_count);
    atomic_fetch_add_explicit(&m->buckets[i], 1, memory_order_relaxed);
    add_double(&m->sum_bits, v);
}

uint64_t tandem_counter_value(const tandem_counter *c)
{
    TANDEM_ASSERT(c != NULL);
    return atomic_load_explicit(&counter_metric(c)->value, memory_order_relaxed);
}

double tandem_gauge_value(const tandem_gauge *g)
{
    TANDEM_ASSERT(g != NULL);
    return bits_double(atomic_load_explicit(&gauge_metric(g)->value, memory_order_relaxed));
}

uint64_t tandem_histogram_count(const tandem_histogram *h)
{
    TANDEM_ASSERT(h != NULL);
    metric *m = histogram_metric(h);
    uint64_t total = 0;
    for (uint32_t i = 0; i <= m->bound_count; i++) {
        total += atomic_load_explicit(&m->buckets[i], memory_order_relaxed);
    }
    return total;
}

double tandem_histogram_sum(const tandem_histogram *h)
{
    TANDEM_ASSERT(h != NULL);
    return bits_double(atomic_load_explicit(&histogram_metric(h)->sum_bits, memory_order_relaxed));
}

/* ---- rendering ---- */

/* The shortest decimal that reads back as the same double, as Prometheus
 * clients print them ("0.005", "1e-05"), with its spellings of the
 * non-finite values. */
static void format_double(char *out, size_t cap, double v)
{
    TANDEM_ASSERT(out != NULL && cap >= 32);
    if (isnan(v)) {
        snprintf(out, cap, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, cap, "%s", v > 0 ? "+Inf" : "-Inf");
        return;
    }
    TANDEM_ASSERT(isfinite(v));
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(out, cap, "%.*g", precision, v);
        if (strtod(out, NULL) == v) {
            return;
        }
    }
}

static int put_str(tandem_buf *out, const char *s)
{
    return tandem_buf_append(out, s, strlen(s));
}

/* `name{labels}` or `name{labels,extra}`; braces only when there is a label. */
static int put_series(tandem_buf *out, const char *name, const char *suffix, const char *labels,
                      const char *extra)
{
    TANDEM_ASSERT(name != NULL && suffix != NULL);
    TANDEM_ASSERT(labels != NULL && extra != NULL);
    int rc = put_str(out, name);
    rc = rc != TANDEM_OK ? rc : put_str(out, suffix);
    if (labels[0] == '\0' && extra[0] == '\0') {
        return rc;
    }
    rc = rc != TANDEM_OK ? rc : put_str(out, "{");
    rc = rc != TANDEM_OK ? rc : put_str(out, labels);
    if (labels[0] != '\0' && extra[0] != '\0') {
        rc = rc != TANDEM_OK ? rc : put_str(out, ",");
    }
    rc = rc != TANDEM_OK ? rc : put_str(out, extra);
    return rc != TANDEM_OK ? rc : put_str(out, "}");
}

static int put_value_line(tandem_buf *out, const char *value)
{
    TANDEM_ASSERT(out != NULL && value != NULL);
    TANDEM_ASSERT(value[0] != '\0');
    int rc = put_str(out, " ");
    rc = rc != TANDEM_OK ? rc : put_str(out, value);
    return rc != TANDEM_OK ? rc : put_str(out, "\n");
}

static int render_header(tandem_buf *out, const metric *m)
{
    TANDEM_ASSERT(out != NULL && m != NULL);
    TANDEM_ASSERT(m->family_head);
    int rc = put_str(out, "# HELP ");
    rc = rc != TANDEM_OK ? rc : put_str(out, m->name);
    rc = rc != TANDEM_OK ? rc : put_str(out, " ");
    /* HELP escapes only backslash and newline. */
    for (const char *p = m->help; rc == TANDEM_OK && *p != '\0'; p++) {
        if (*p == '\\') {
            rc = put_str(out, "\\\\");
        } else if (*p == '\n') {
            rc = put_str(out, "\\n");
        } else {
            rc = tandem_buf_append(out, p, 1);
        }
    }
    rc = rc != TANDEM_OK ? rc : put_str(out, "\n# TYPE ");
    rc = rc != TANDEM_OK ? rc : put_str(out, m->name);
    rc = rc != TANDEM_OK ? rc : put_str(out, " ");
    rc = rc != TANDEM_OK ? rc : put_str(out, kind_names[m->kind]);
    return rc != TANDEM_OK ? rc : put_str(out, "\n");
}

static int render_histogram(tandem_buf *out, const metric *m)
{
    TANDEM_ASSERT(m->kind == METRIC_HISTOGRAM);
    TANDEM_ASSERT(m->bound_count <= TANDEM_METRIC_BUCKETS_MAX);
    char num[64];
    char le[96];
    uint64_t cumulative = 0;
    int rc = TANDEM_OK;
    for (uint32_t i = 0; rc == TANDEM_OK && i <= m->bound_count; i++) {
        cumulative += atomic_load_explicit(&m->buckets[i], memory_order_relaxed);
        if (i < m->bound_count) {
            format_double(num, sizeof(num), m->bounds[i]);
        } else {
            snprintf(num, sizeof(num), "+Inf");
        }
        snprintf(le, sizeof(le), "le=\"%s\"", num);
        rc = put_series(out, m->name, "_bucket", m->labels, le);
        snprintf(num, sizeof(num), "%" PRIu64, cumulative);
        rc = rc != TANDEM_OK ? rc : put_value_line(out, num);
    }
    format_double(num, sizeof(num),
                  bits_double(atomic_load_explicit(&m->sum_bits, memory_order_relaxed)));
    rc = rc != TANDEM_OK ? rc : put_series(out, m->name, "_sum", m->labels, "");
    rc = rc != TANDEM_OK ? rc : put_value_line(out, num);
    snprintf(num, sizeof(num), "%" PRIu64, cumulative);
    rc = rc != TANDEM_OK ? rc : put_series(out, m->name, "_count", m->labels, "");
    return rc != TANDEM_OK ? rc : put_value_line(out, num);
}

static int render_series(tandem_buf *out, const metric *m)
{
    TANDEM_ASSERT(out != NULL && m != NULL);
    TANDEM_ASSERT(m->kind <= METRIC_HISTOGRAM);
    char num[64];
    uint64_t v = atomic_load_explicit(&m->value, memory_order_relaxed);
    switch (m->kind) {
    case METRIC_COUNTER:
        snprintf(num, sizeof(num), "%" PRIu64, v);
        break;
    case METRIC_GAUGE:
        format_double(num, sizeof(num), bits_double(v));
        break;
    case METRIC_HISTOGRAM:
        return render_histogram(out, m);
    default:
        TANDEM_UNREACHABLE();
    }
    int rc = put_series(out, m->name, "", m->labels, "");
    return rc != TANDEM_OK ? rc : put_value_line(out, num);
}

int tandem_metrics_render(tandem_metrics *r, tandem_buf *out)
{
    TANDEM_ASSERT(r != NULL && out != NULL);
    int rc = TANDEM_OK;
    pthread_mutex_lock(&r->lock);
    TANDEM_ASSERT(r->count <= r->max);
    for (size_t i = 0; rc == TANDEM_OK && i < r->count; i++) {
        const metric *head = &r->metrics[i];
        if (!head->family_head) {
            continue;
        }
        rc = render_header(out, head);
        for (uint32_t at = (uint32_t)i; rc == TANDEM_OK && at != FAMILY_END;
             at = r->metrics[at].family_next) {
            TANDEM_ASSERT(at < r->count);
            rc = render_series(out, &r->metrics[at]);
        }
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}
