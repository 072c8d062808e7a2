/*
 * Tests of the metrics registry: the exact Prometheus text of a small
 * registry, escaping and number formatting, registration errors, and updates
 * from several threads summing exactly.
 */
#include "mgmt/metrics.h"

#include <math.h>
#include <pthread.h>

#include "test.h"

static const char *render(tandem_metrics *r, tandem_buf *b)
{
    tandem_buf_reset(b);
    CHECK_OK(tandem_metrics_render(r, b));
    CHECK_OK(tandem_buf_append(b, "", 1));
    return (const char *)b->data;
}

static void test_exposition_text(void)
{
    tandem_metrics *r = NULL;
    CHECK_OK(tandem_metrics_create(16, &r));
    tandem_counter *p1 = NULL;
    tandem_counter *p2 = NULL;
    tandem_gauge *backlog = NULL;
    tandem_histogram *fsync = NULL;
    tandem_histogram *plain = NULL;
    tandem_metric_label l1[] = {{"partition", "1"}};
    tandem_metric_label l2[] = {{"partition", "2"}};
    CHECK_OK(tandem_metrics_counter(r, "tandem_journal_appends_total",
                                    "Entries appended to the journal.", l1, 1, &p1, NULL));
    CHECK_OK(tandem_metrics_gauge(r, "tandem_stream_backlog_records",
                                  "Records waiting to be processed.", NULL, 0, &backlog, NULL));
    static const double bounds[] = {0.001, 0.01, 1};
    CHECK_OK(tandem_metrics_histogram(r, "tandem_journal_fsync_duration_seconds",
                                      "Time of one fsync.", l1, 1, bounds, 3, &fsync, NULL));
    /* registered later, rendered with its family */
    CHECK_OK(tandem_metrics_counter(r, "tandem_journal_appends_total",
                                    "Entries appended to the journal.", l2, 1, &p2, NULL));
    static const double one[] = {1};
    CHECK_OK(tandem_metrics_histogram(r, "tandem_test_size_bytes", "Sizes.", NULL, 0, one, 1,
                                      &plain, NULL));

    tandem_counter_add(p1, 41);
    tandem_counter_inc(p1);
    tandem_counter_inc(p2);
    tandem_gauge_set(backlog, 2);
    tandem_gauge_add(backlog, -5.5);
    /* values exact in binary so the sum prints exactly */
    tandem_histogram_observe(fsync, 0.0009765625);
    tandem_histogram_observe(fsync, 0.5);
    tandem_histogram_observe(fsync, 0.25);
    tandem_histogram_observe(fsync, 2);
    tandem_histogram_observe(fsync, INFINITY); /* ignored */
    tandem_histogram_observe(fsync, NAN);      /* ignored */
    tandem_histogram_observe(plain, 1);        /* le is inclusive */

    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_STREQ("# HELP tandem_journal_appends_total Entries appended to the journal.\n"
                "# TYPE tandem_journal_appends_total counter\n"
                "tandem_journal_appends_total{partition=\"1\"} 42\n"
                "tandem_journal_appends_total{partition=\"2\"} 1\n"
                "# HELP tandem_stream_backlog_records Records waiting to be processed.\n"
                "# TYPE tandem_stream_backlog_records gauge\n"
                "tandem_stream_backlog_records -3.5\n"
                "# HELP tandem_journal_fsync_duration_seconds Time of one fsync.\n"
                "# TYPE tandem_journal_fsync_duration_seconds histogram\n"
                "tandem_journal_fsync_duration_seconds_bucket{partition=\"1\",le=\"0.001\"} 1\n"
                "tandem_journal_fsync_duration_seconds_bucket{partition=\"1\",le=\"0.01\"} 1\n"
                "tandem_journal_fsync_duration_seconds_bucket{partition=\"1\",le=\"1\"} 3\n"
                "tandem_journal_fsync_duration_seconds_bucket{partition=\"1\",le=\"+Inf\"} 4\n"
                "tandem_journal_fsync_duration_seconds_sum{partition=\"1\"} 2.7509765625\n"
                "tandem_journal_fsync_duration_seconds_count{partition=\"1\"} 4\n"
                "# HELP tandem_test_size_bytes Sizes.\n"
                "# TYPE tandem_test_size_bytes histogram\n"
                "tandem_test_size_bytes_bucket{le=\"1\"} 1\n"
                "tandem_test_size_bytes_bucket{le=\"+Inf\"} 1\n"
                "tandem_test_size_bytes_sum 1\n"
                "tandem_test_size_bytes_count 1\n",
                render(r, &b));
    CHECK_EQ_U64(42, tandem_counter_value(p1));
    CHECK(tandem_gauge_value(backlog) == -3.5);
    CHECK_EQ_U64(4, tandem_histogram_count(fsync));
    CHECK(tandem_histogram_sum(fsync) == 2.7509765625);
    tandem_buf_free(&b);
    tandem_metrics_destroy(r);
}

static void test_escaping_and_numbers(void)
{
    tandem_metrics *r = NULL;
    CHECK_OK(tandem_metrics_create(8, &r));
    tandem_metric_label labels[] = {{"path", "a\"b\\c\nd"}, {"node", ""}};
    tandem_gauge *g = NULL;
    CHECK_OK(tandem_metrics_gauge(r, "tandem_test_value", "Line one\nback\\slash \"quoted\".",
                                  labels, 2, &g, NULL));
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_STREQ("# HELP tandem_test_value Line one\\nback\\\\slash \"quoted\".\n"
                "# TYPE tandem_test_value gauge\n"
                "tandem_test_value{path=\"a\\\"b\\\\c\\nd\",node=\"\"} 0\n",
                render(r, &b));
    static const struct {
        double v;
        const char *text;
    } numbers[] = {
        {0.1, "0.1"},       {1e-05, "1e-05"},
        {1e21, "1e+21"},    {123456789, "123456789"},
        {-0.5, "-0.5"},     {1.0 / 3.0, "0.3333333333333333"},
        {INFINITY, "+Inf"}, {-INFINITY, "-Inf"},
        {NAN, "NaN"},
    };
    char want[128];
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
        tandem_gauge_set(g, numbers[i].v);
        snprintf(want, sizeof(want), "\"} %s\n", numbers[i].text);
        CHECK_CONTAINS(render(r, &b), want);
    }
    tandem_buf_free(&b);
    tandem_metrics_destroy(r);
}

static void test_registration_errors(void)
{
    tandem_metrics *r = NULL;
    CHECK_RC(TANDEM_EINVAL, tandem_metrics_create(0, &r));
    CHECK_RC(TANDEM_EINVAL, tandem_metrics_create(5000, &r));
    CHECK_OK(tandem_metrics_create(3, &r));
    tandem_counter *c = NULL;
    tandem_gauge *g = NULL;
    tandem_histogram *h = NULL;
    tandem_diag d;
    static const double bounds[] = {1, 2};
    static const double unordered[] = {1, 1};
    static const double infinite[] = {1, INFINITY};

    CHECK_RC(TANDEM_EINVAL, tandem_metrics_counter(r, "9lives_total", "h", NULL, 0, &c, &d));
    CHECK_CONTAINS(d.message, "metric name \"9lives_total\" must match");
    CHECK_RC(TANDEM_EINVAL, tandem_metrics_counter(r, "tandem:x_total", "h", NULL, 0, &c, &d));
    CHECK_RC(TANDEM_EINVAL, tandem_metrics_counter(r, "tandem_appends", "h", NULL, 0, &c, &d));
    CHECK_CONTAINS(d.message, "counter name \"tandem_appends\" must end in \"_total\"");
    CHECK_RC(TANDEM_EINVAL, tandem_metrics_gauge(r, "tandem_x_total", "h", NULL, 0, &g, &d));
    CHECK_CONTAINS(d.message, "only counter names end in \"_total\", not gauge");
    CHECK_RC(TANDEM_EINVAL,
             tandem_metrics_histogram(r, "tandem_x_count", "h", NULL, 0, bounds, 2, &h, &d));
    CHECK_CONTAINS(d.message, "must not end in _bucket, _sum or _count");
    CHECK_RC(TANDEM_EINVAL,
             tandem_metrics_histogram(r, "tandem_x_seconds", "h", NULL, 0, unordered, 2, &h, &d));
    CHECK_CONTAINS(d.message, "strictly increasing");
    CHECK_RC(TANDEM_EINVAL,
             tandem_metrics_histogram(r, "tandem_x_seconds", "h", NULL, 0, infinite, 2, &h, &d));
    CHECK_CONTAINS(d.message, "+Inf is implicit");
    CHECK_RC(TANDEM_EINVAL,
             tandem_metrics_histogram(r, "tandem_x_seconds", "h", NULL, 0, bounds, 0, &h, &d));
    CHECK_CONTAINS(d.message, "needs 1 to 32 bucket bounds");

    tandem_metric_label le[] = {{"le", "1"}};
    tandem_metric_label reserved[] = {{"__name", "1"}};
    tandem_metric_label twice[] = {{"a", "1"}, {"a", "2"}};
    tandem_metric_label bad[] = {{"a-b", "1"}};
    CHECK_RC(TANDEM_EINVAL, tandem_metrics_counter(r, "tandem_x_total", "h", le, 1, &c, &d));
    CHECK_CONTAINS(d.message, "label name \"le\"");
    CHECK_RC(TANDEM_EINVAL, tandem_metrics_counter(r, "tandem_x_total", "h", reserved, 1, &c, &d));
    CHECK_RC(TANDEM_EINVAL, tandem_metrics_counter(r, "tandem_x_total", "h", twice, 2, &c, &d));
    CHECK_CONTAINS(d.message, "label \"a\" is given twice");
    CHECK_RC(TANDEM_EINVAL, tandem_metrics_counter(r, "tandem_x_total", "h", bad, 1, &c, &d));
    char long_value[300];
    memset(long_value, 'v', sizeof(long_value) - 1);
    long_value[sizeof(long_value) - 1] = '\0';
    tandem_metric_label too_long[] = {{"a", long_value}};
    CHECK_RC(TANDEM_ERANGE, tandem_metrics_counter(r, "tandem_x_total", "h", too_long, 1, &c, &d));
    CHECK_CONTAINS(d.message, "labels are over 255 bytes");
    CHECK_RC(TANDEM_ERANGE,
             tandem_metrics_counter(r, "tandem_x_total", long_value, NULL, 0, &c, &d));
    CHECK_CONTAINS(d.message, "help of \"tandem_x_total\"");

    tandem_metric_label p1[] = {{"partition", "1"}};
    tandem_metric_label p2[] = {{"partition", "2"}};
    tandem_metric_label p3[] = {{"partition", "3"}};
    CHECK_OK(tandem_metrics_counter(r, "tandem_x_total", "h", p1, 1, &c, &d));
    CHECK_RC(TANDEM_EEXIST, tandem_metrics_counter(r, "tandem_x_total", "h", p1, 1, &c, &d));
    CHECK_CONTAINS(d.message, "metric \"tandem_x_total{partition=\"1\"}\" is already registered");
    CHECK_RC(TANDEM_EINVAL, tandem_metrics_counter(r, "tandem_x_total", "other", p2, 1, &c, &d));
    CHECK_CONTAINS(d.message, "already registered as a counter with other help");
    CHECK_OK(tandem_metrics_counter(r, "tandem_x_total", "h", p2, 1, &c, &d));
    CHECK_OK(tandem_metrics_gauge(r, "tandem_y", "h", NULL, 0, &g, &d));
    CHECK_RC(TANDEM_EFULL, tandem_metrics_counter(r, "tandem_x_total", "h", p3, 1, &c, &d));
    CHECK_CONTAINS(d.message, "registry is full (3 series)");

    /* NULL handles are no-ops */
    tandem_counter_inc(NULL);
    tandem_gauge_set(NULL, 1);
    tandem_gauge_add(NULL, 1);
    tandem_histogram_observe(NULL, 1);
    tandem_metrics_destroy(r);
    tandem_metrics_destroy(NULL);
}

typedef struct worker {
    tandem_counter *c;
    tandem_gauge *g;
    tandem_histogram *h;
    uint64_t n;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (uint64_t i = 0; i < w->n; i++) {
        tandem_counter_inc(w->c);
        tandem_gauge_add(w->g, 1.0);
        tandem_histogram_observe(w->h, (double)(i % 4)); /* 0, 1, 2, 3 */
    }
    return NULL;
}

static void test_concurrent_updates(void)
{
    tandem_metrics *r = NULL;
    CHECK_OK(tandem_metrics_create(4, &r));
    worker w = {0};
    static const double bounds[] = {0.5, 1.5, 2.5};
    CHECK_OK(tandem_metrics_counter(r, "tandem_test_ops_total", "Ops.", NULL, 0, &w.c, NULL));
    CHECK_OK(tandem_metrics_gauge(r, "tandem_test_level", "Level.", NULL, 0, &w.g, NULL));
    CHECK_OK(tandem_metrics_histogram(r, "tandem_test_value", "Values.", NULL, 0, bounds, 3, &w.h,
                                      NULL));
    w.n = test_iterations(100000) / 4 * 4;
    enum { THREADS = 4 };
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_create(&t[i], NULL, work, &w) == 0);
    }
    /* rendering while the threads write must not block or tear */
    tandem_buf b = TANDEM_BUF_INIT;
    for (int i = 0; i < 20; i++) {
        render(r, &b);
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_join(t[i], NULL) == 0);
    }
    uint64_t total = w.n * THREADS;
    CHECK_EQ_U64(total, tandem_counter_value(w.c));
    CHECK(tandem_gauge_value(w.g) == (double)total);
    CHECK_EQ_U64(total, tandem_histogram_count(w.h));
    CHECK(tandem_histogram_sum(w.h) == (double)(total / 4 * 6));
    char want[256];
    snprintf(want, sizeof(want),
             "tandem_test_value_bucket{le=\"0.5\"} %" PRIu64 "\n"
             "tandem_test_value_bucket{le=\"1.5\"} %" PRIu64 "\n"
             "tandem_test_value_bucket{le=\"2.5\"} %" PRIu64 "\n"
             "tandem_test_value_bucket{le=\"+Inf\"} %" PRIu64 "\n",
             total / 4, total / 2, total / 4 * 3, total);
    CHECK_CONTAINS(render(r, &b), want);
    tandem_buf_free(&b);
    tandem_metrics_destroy(r);
}

static const tandem_test cases[] = {
    {"exposition_text", test_exposition_text},
    {"escaping_and_numbers", test_escaping_and_numbers},
    {"registration_errors", test_registration_errors},
    {"concurrent_updates", test_concurrent_updates},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
