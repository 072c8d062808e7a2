/*
 * Tests of the exporter framework (src/export/exporter.c) with an in-memory
 * exporter and an in-memory log of committed batches: order, only committed
 * entries, back-off on a failing store without holding up another exporter,
 * resuming after the stored position, a full queue caught up by later pumps,
 * the compaction guard on a real journal, the backpressure bound, enable
 * with initializeFrom, disable, pause and resume, and option errors.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "base/faultfs.h"
#include "base/rand.h"
#include "export/exporter.h"
#include "export/exporter_record.h"
#include "protocol/field.h"
#include "state/kv.h"
#include "stream/partition.h"
#include "journal/journal.h"
#include "protocol/batch.h"
#include "protocol/types.h"
#include "test.h"

#define LOG_ENTRIES_MAX   512
#define MEM_RECORDS_MAX   8192
#define RECORDS_PER_ENTRY 3

/* ---- an in-memory store ------------------------------------------------------ */

typedef struct mem_store {
    pthread_mutex_t lock;
    uint64_t positions[MEM_RECORDS_MAX]; /* every exported record position, in call order */
    size_t count;
    uint64_t position;     /* the stored position (one partition: id 1) */
    uint64_t set_position; /* last set_position, 0 when none */
    atomic_int fail;       /* export fails while set */
    atomic_int export_calls;
    atomic_int opened; /* 1 while open */
    atomic_int opens;
    atomic_int open_delay_ms; /* open sleeps this long (a slow store) */
    atomic_int *destroyed;    /* set on destroy, so tests see it afterwards */
} mem_store;

static int mem_open(void *impl, tandem_diag *diag)
{
    mem_store *m = impl;
    (void)diag;
    CHECK_EQ_U64(0, (uint64_t)atomic_load(&m->opened));
    int delay_ms = atomic_load(&m->open_delay_ms);
    if (delay_ms > 0) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)delay_ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    atomic_store(&m->opened, 1);
    atomic_fetch_add(&m->opens, 1);
    return TANDEM_OK;
}

static int mem_export(void *impl, uint32_t partition_id, const tandem_record *const *records,
                      size_t count, tandem_diag *diag)
{
    mem_store *m = impl;
    atomic_fetch_add(&m->export_calls, 1);
    if (atomic_load(&m->fail)) {
        return tandem_diag_set(diag, TANDEM_EACCES, "store is read-only (test)");
    }
    CHECK_EQ_U64(1, partition_id);
    CHECK(count > 0);
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < count; i++) {
        CHECK(records[i]->position > m->position);
        CHECK(m->count < MEM_RECORDS_MAX);
        m->positions[m->count++] = records[i]->position;
        m->position = records[i]->position;
    }
    pthread_mutex_unlock(&m->lock);
    return TANDEM_OK;
}

static int mem_position(void *impl, uint32_t partition_id, uint64_t *out, tandem_diag *diag)
{
    mem_store *m = impl;
    (void)diag;
    CHECK_EQ_U64(1, partition_id);
    pthread_mutex_lock(&m->lock);
    *out = m->position;
    pthread_mutex_unlock(&m->lock);
    return TANDEM_OK;
}

static int mem_set_position(void *impl, uint32_t partition_id, uint64_t position, tandem_diag *diag)
{
    mem_store *m = impl;
    (void)diag;
    CHECK_EQ_U64(1, partition_id);
    pthread_mutex_lock(&m->lock);
    m->position = position;
    m->set_position = position;
    pthread_mutex_unlock(&m->lock);
    return TANDEM_OK;
}

static void mem_close(void *impl)
{
    mem_store *m = impl;
    CHECK_EQ_U64(1, (uint64_t)atomic_load(&m->opened));
    atomic_store(&m->opened, 0);
}

static void mem_destroy(void *impl)
{
    mem_store *m = impl;
    CHECK_EQ_U64(0, (uint64_t)atomic_load(&m->opened));
    if (m->destroyed != NULL) {
        atomic_store(m->destroyed, 1);
    }
}

static const tandem_exporter_vtable mem_vt = {
    .open = mem_open,
    .export_records = mem_export,
    .position = mem_position,
    .set_position = mem_set_position,
    .close = mem_close,
    .destroy = mem_destroy,
};

static void mem_init(mem_store *m)
{
    memset(m, 0, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
}

static uint64_t mem_pos(mem_store *m)
{
    pthread_mutex_lock(&m->lock);
    uint64_t p = m->position;
    pthread_mutex_unlock(&m->lock);
    return p;
}

/* ---- an in-memory log of committed batches ----------------------------------- */

typedef struct mem_log {
    tandem_buf entries[LOG_ENTRIES_MAX + 1]; /* 1-based */
    uint64_t last;
    int reads;
} mem_log;

/* Entry i holds records at positions (i-1)*3+1 .. i*3. */
static void log_fill(mem_log *l, uint64_t n)
{
    CHECK(n <= LOG_ENTRIES_MAX);
    memset(l, 0, sizeof(*l));
    for (uint64_t i = 1; i <= n; i++) {
        tandem_record recs[RECORDS_PER_ENTRY];
        for (int k = 0; k < RECORDS_PER_ENTRY; k++) {
            tandem_record_init(&recs[k]);
            recs[k].position = (i - 1) * RECORDS_PER_ENTRY + (uint64_t)k + 1;
            recs[k].partition_id = 1;
            recs[k].record_type = TANDEM_RECORD_EVENT;
            recs[k].value_type = TANDEM_VALUE_PROBE;
            recs[k].intent = TANDEM_INTENT_PROBE_APPENDED;
            recs[k].timestamp_ms = 1000;
        }
        tandem_buf_init(&l->entries[i]);
        CHECK_OK(tandem_batch_encode(&l->entries[i], recs, RECORDS_PER_ENTRY, NULL));
    }
    l->last = n;
}

static void log_free(mem_log *l)
{
    for (uint64_t i = 1; i <= l->last; i++) {
        tandem_buf_free(&l->entries[i]);
    }
}

static int log_read(void *arg, uint32_t partition_index, uint64_t index,
                    tandem_journal_entry *entry, tandem_buf *payload, tandem_diag *diag)
{
    mem_log *l = arg;
    CHECK_EQ_U64(0, partition_index);
    if (index < 1 || index > l->last) {
        return tandem_diag_set(diag, TANDEM_ERANGE, "no entry %llu", (unsigned long long)index);
    }
    l->reads++;
    entry->index = index;
    entry->term = 1;
    entry->kind = TANDEM_JOURNAL_DATA;
    entry->payload_size_bytes = (uint32_t)l->entries[index].len;
    tandem_buf_reset(payload);
    return tandem_buf_append(payload, l->entries[index].data, l->entries[index].len);
}

/* ---- helpers ---------------------------------------------------------------- */

static const uint32_t one_partition[] = {1};

static void opts_small(tandem_exporters_options *o)
{
    tandem_exporters_options_default(o);
    o->partition_count = 1;
    o->partition_ids = one_partition;
    o->backoff_initial_ms = 5;
    o->backoff_max_ms = 40;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Pumps (as the I/O thread does after rounds) until the store reaches
 * `position` or about 5 s pass; returns whether it did. */
static bool pump_until(tandem_exporters *ex, mem_log *l, uint64_t commit, mem_store *m,
                       uint64_t position)
{
    for (int i = 0; i < 5000; i++) {
        bool more = false;
        CHECK_OK(tandem_exporters_pump(ex, 0, 1, commit, log_read, l, &more, NULL));
        if (mem_pos(m) >= position) {
            return true;
        }
        sleep_ms(1);
    }
    return false;
}

static void check_contiguous(mem_store *m, uint64_t from, uint64_t to)
{
    pthread_mutex_lock(&m->lock);
    CHECK_EQ_U64(to - from + 1, m->count);
    for (size_t i = 0; i < m->count; i++) {
        CHECK_EQ_U64(from + i, m->positions[i]);
    }
    pthread_mutex_unlock(&m->lock);
}

static tandem_exporter_info info_of(tandem_exporters *ex, uint32_t i,
                                    tandem_exporter_partition_info *parts)
{
    tandem_exporter_info info;
    memset(&info, 0, sizeof(info));
    info.partition_count = 1;
    info.partitions = parts;
    tandem_exporters_info(ex, i, &info);
    return info;
}

/* ---- cases ------------------------------------------------------------------ */

static void test_exports_in_order(void)
{
    mem_log l;
    log_fill(&l, 200);
    mem_store m;
    mem_init(&m);
    tandem_exporters_options o;
    opts_small(&o);
    tandem_exporters *ex = NULL;
    CHECK_OK(tandem_exporters_create(&o, &ex, NULL));
    CHECK_OK(tandem_exporters_add(ex, "mem", &mem_vt, &m, true, NULL));
    CHECK_OK(tandem_exporters_start(ex, NULL));
    CHECK(pump_until(ex, &l, 200, &m, 600));
    check_contiguous(&m, 1, 600);
    tandem_exporter_partition_info parts[1];
    tandem_exporter_info info = info_of(ex, 0, parts);
    CHECK_STREQ("enabled", tandem_exporter_state_name(info.state));
    CHECK_EQ_U64(600, info.exported_records);
    CHECK_EQ_U64(600, parts[0].position);
    CHECK_EQ_U64(200, parts[0].acked_index);
    CHECK_EQ_U64(0, parts[0].lag_entries);
    /* each entry was read once, not once per retry or per exporter */
    CHECK_EQ_U64(200, (uint64_t)l.reads);
    tandem_exporters_destroy(ex);
    log_free(&l);
}

static void test_only_committed(void)
{
    mem_log l;
    log_fill(&l, 50);
    mem_store m;
    mem_init(&m);
    tandem_exporters_options o;
    opts_small(&o);
    tandem_exporters *ex = NULL;
    CHECK_OK(tandem_exporters_create(&o, &ex, NULL));
    CHECK_OK(tandem_exporters_add(ex, "mem", &mem_vt, &m, true, NULL));
    CHECK_OK(tandem_exporters_start(ex, NULL));
    CHECK(pump_until(ex, &l, 20, &m, 60));
    sleep_ms(50);
    bool more = true;
    CHECK_OK(tandem_exporters_pump(ex, 0, 1, 20, log_read, &l, &more, NULL));
    CHECK(!more);
    CHECK_EQ_U64(60, mem_pos(&m)); /* nothing of entries 21..50 */
    CHECK(!tandem_exporters_pending(ex));
    CHECK(pump_until(ex, &l, 50, &m, 150));
    check_contiguous(&m, 1, 150);
    tandem_exporters_destroy(ex);
    log_free(&l);
}

static void test_failing_store_backs_off_alone(void)
{
    mem_log l;
    log_fill(&l, 100);
    mem_store bad, good;
    mem_init(&bad);
    mem_init(&good);
    atomic_store(&bad.fail, 1);
    tandem_exporters_options o;
    opts_small(&o);
    o.backoff_initial_ms = 10;
    o.backoff_max_ms = 80;
    tandem_exporters *ex = NULL;
    CHECK_OK(tandem_exporters_create(&o, &ex, NULL));
    CHECK_OK(tandem_exporters_add(ex, "bad", &mem_vt, &bad, true, NULL));
    CHECK_OK(tandem_exporters_add(ex, "good", &mem_vt, &good, true, NULL));
    CHECK_OK(tandem_exporters_start(ex, NULL));
    CHECK(pump_until(ex, &l, 100, &good, 300));
    check_contiguous(&good, 1, 300);
    sleep_ms(400);
    tandem_exporter_partition_info parts[1];
    tandem_exporter_info info = info_of(ex, 0, parts);
    CHECK_STREQ("failing", tandem_exporter_state_name(info.state));
    CHECK_CONTAINS(info.last_error, "export: store is read-only (test)");
    CHECK_EQ_U64(0, parts[0].position);
    CHECK_EQ_U64(100, parts[0].lag_entries);
    /* back-off: 10, 20, 40, 80, 80, ... ms — a few tries in ~0.5 s, not hundreds */
    int calls = atomic_load(&bad.export_calls);
    CHECK_MSG(calls >= 3 && calls <= 15, "export calls %d", calls);
    atomic_store(&bad.fail, 0);
    CHECK(pump_until(ex, &l, 100, &bad, 300));
    check_contiguous(&bad, 1, 300);
    info = info_of(ex, 0, parts);
    CHECK_STREQ("enabled", tandem_exporter_state_name(info.state));
    CHECK_STREQ("", info.last_error);
    tandem_exporters_destroy(ex);
    log_free(&l);
}

static void test_resumes_after_stored_position(void)
{
    mem_log l;
    log_fill(&l, 400);
    mem_store m;
    mem_init(&m);
    m.position = 3 * 390 + 1; /* in the middle of entry 391 */
    tandem_exporters_options o;
    opts_small(&o);
    o.queue_entries_max = 8;
    o.batch_entries_max = 4;
    tandem_exporters *ex = NULL;
    CHECK_OK(tandem_exporters_create(&o, &ex, NULL));
    CHECK_OK(tandem_exporters_add(ex, "mem", &mem_vt, &m, true, NULL));
    CHECK_OK(tandem_exporters_start(ex, NULL));
    CHECK(pump_until(ex, &l, 400, &m, 1200));
    check_contiguous(&m, 3 * 390 + 2, 1200);
    /* a binary search found entry 391, instead of reading the 390 before it */
    CHECK_MSG(l.reads < 60, "%d entries read", l.reads);
    CHECK_EQ_U64(0, tandem_exporters_retained(ex, 0));
    tandem_exporters_destroy(ex);
    log_free(&l);
}

/* The search over a log with entries that hold no records (the no-op a new
 * term starts with) and positions at every place. */
static int gappy_read(void *arg, uint32_t partition_index, uint64_t index,
                      tandem_journal_entry *entry, tandem_buf *payload, tandem_diag *diag)
{
    int rc = log_read(arg, partition_index, index, entry, payload, diag);
    if (rc == TANDEM_OK && index % 7 == 3) {
        entry->kind = TANDEM_JOURNAL_NOOP; /* as if it held no batch */
    }
    return rc;
}

static void test_seek_over_entries_without_records(void)
{
    mem_log l;
    log_fill(&l, 100);
    for (uint64_t position = 1; position <= 300; position += 13) {
        mem_store m;
        mem_init(&m);
        m.position = position;
        tandem_exporters_options o;
        opts_small(&o);
        o.queue_entries_max = 4;
        o.batch_entries_max = 2;
        tandem_exporters *ex = NULL;
        CHECK_OK(tandem_exporters_create(&o, &ex, NULL));
        CHECK_OK(tandem_exporters_add(ex, "mem", &mem_vt, &m, true, NULL));
        CHECK_OK(tandem_exporters_start(ex, NULL));
        bool more = false;
        for (int i = 0; i < 5000 && mem_pos(&m) < 300; i++) {
            CHECK_OK(tandem_exporters_pump(ex, 0, 1, 100, gappy_read, &l, &more, NULL));
            sleep_ms(1);
        }
        /* every record of a data entry above the position, none twice */
        pthread_mutex_lock(&m.lock);
        uint64_t expect = position + 1;
        for (size_t i = 0; i < m.count; i++) {
            while (((expect - 1) / 3 + 1) % 7 == 3) {
                expect++; /* records of the entries that read as no-ops */
            }
            CHECK_EQ_U64(expect, m.positions[i]);
            expect++;
        }
        pthread_mutex_unlock(&m.lock);
        CHECK(m.count > 0 || position >= 297);
        tandem_exporters_destroy(ex);
    }
    log_free(&l);
}

static void test_full_queue_catches_up(void)
{
    mem_log l;
    log_fill(&l, 300);
    mem_store m;
    mem_init(&m);
    atomic_store(&m.fail, 1); /* hold the queue full first */
    tandem_exporters_options o;
    opts_small(&o);
    o.queue_entries_max = 4;
    o.batch_entries_max = 2;
    tandem_exporters *ex = NULL;
    CHECK_OK(tandem_exporters_create(&o, &ex, NULL));
    CHECK_OK(tandem_exporters_add(ex, "mem", &mem_vt, &m, true, NULL));
    CHECK_OK(tandem_exporters_start(ex, NULL));
    bool more = false;
    for (int i = 0; i < 5; i++) {
        CHECK_OK(tandem_exporters_pump(ex, 0, 1, 300, log_read, &l, &more, NULL));
        sleep_ms(5);
    }
    /* 4 queued + 2 held by the failing thread; the rest stays in the log */
    CHECK(l.reads <= 6);
    CHECK(!more);
    atomic_store(&m.fail, 0);
    CHECK(pump_until(ex, &l, 300, &m, 900));
    check_contiguous(&m, 1, 900);
    CHECK_EQ_U64(300, (uint64_t)l.reads);
    tandem_exporters_destroy(ex);
    log_free(&l);
}

static void test_backpressure_bound(void)
{
    mem_log l;
    log_fill(&l, 100);
    mem_store m;
    mem_init(&m);
    atomic_store(&m.fail, 1);
    tandem_exporters_options o;
    opts_small(&o);
    o.retained_entries_max = 30;
    tandem_exporters *ex = NULL;
    CHECK_OK(tandem_exporters_create(&o, &ex, NULL));
    CHECK_OK(tandem_exporters_add(ex, "mem", &mem_vt, &m, true, NULL));
    CHECK_OK(tandem_exporters_start(ex, NULL));
    bool more = false;
    CHECK_OK(tandem_exporters_pump(ex, 0, 1, 30, log_read, &l, &more, NULL));
    CHECK_EQ_U64(30, tandem_exporters_retained(ex, 0));
    CHECK(!tandem_exporters_over_bound(ex, 0)); /* at the bound, not past it */
    CHECK_OK(tandem_exporters_pump(ex, 0, 1, 31, log_read, &l, &more, NULL));
    CHECK(tandem_exporters_over_bound(ex, 0));
    atomic_store(&m.fail, 0);
    CHECK(pump_until(ex, &l, 31, &m, 93));
    for (int i = 0; i < 1000 && tandem_exporters_over_bound(ex, 0); i++) {
        sleep_ms(1);
    }
    CHECK(!tandem_exporters_over_bound(ex, 0));
    CHECK_EQ_U64(0, tandem_exporters_retained(ex, 0));
    /* a disabled exporter holds nothing back */
    atomic_store(&m.fail, 1);
    CHECK_OK(tandem_exporters_pump(ex, 0, 1, 100, log_read, &l, &more, NULL));
    sleep_ms(20);
    CHECK(tandem_exporters_over_bound(ex, 0));
    CHECK_OK(tandem_exporters_disable(ex, "mem", NULL));
    CHECK(!tandem_exporters_over_bound(ex, 0));
    CHECK_EQ_U64(UINT64_MAX, tandem_exporters_compact_bound(ex, 0));
    tandem_exporters_destroy(ex);
    log_free(&l);
}

/* The compaction guard on a real journal: segments below what the slowest
 * enabled exporter acknowledged go, nothing above it, and that exporter then
 * gets every record. */
typedef struct real_log {
    tandem_journal *j;
} real_log;

static int journal_read(void *arg, uint32_t partition_index, uint64_t index,
                        tandem_journal_entry *entry, tandem_buf *payload, tandem_diag *diag)
{
    real_log *r = arg;
    CHECK_EQ_U64(0, partition_index);
    return tandem_journal_read(r->j, index, entry, payload, diag);
}

static void test_compaction_guard(void)
{
    tandem_seeded_rand rand;
    tandem_seeded_rand_init(&rand, test_seed());
    tandem_faultfs *fs = NULL;
    CHECK_OK(tandem_faultfs_new(&rand.base, &fs));
    tandem_fileops *ops = tandem_faultfs_ops(fs);
    tandem_journal_options jo;
    tandem_journal_options_default(&jo);
    jo.segment_size_bytes = 4096; /* a few entries per segment */
    jo.entry_size_bytes_max = 1024;
    real_log r;
    CHECK_OK(tandem_journal_open(ops, "journal", &jo, &r.j, NULL));
    mem_log l;
    log_fill(&l, 200);
    for (uint64_t i = 1; i <= 200; i++) {
        uint64_t index = 0;
        CHECK_OK(tandem_journal_append(r.j, 1, TANDEM_JOURNAL_DATA, l.entries[i].data,
                                       l.entries[i].len, &index, NULL));
        CHECK_EQ_U64(i, index);
    }
    CHECK_OK(tandem_journal_flush(r.j, NULL));

    mem_store fast, slow;
    mem_init(&fast);
    mem_init(&slow);
    tandem_exporters_options o;
    opts_small(&o);
    o.queue_entries_max = 8;
    o.batch_entries_max = 4;
    tandem_exporters *ex = NULL;
    CHECK_OK(tandem_exporters_create(&o, &ex, NULL));
    CHECK_OK(tandem_exporters_add(ex, "fast", &mem_vt, &fast, true, NULL));
    CHECK_OK(tandem_exporters_add(ex, "slow", &mem_vt, &slow, true, NULL));
    CHECK_OK(tandem_exporters_start(ex, NULL));
    /* slow exports entries 1..60, then its store fails */
    bool more = false;
    for (int i = 0; i < 5000 && mem_pos(&slow) < 180; i++) {
        CHECK_OK(tandem_exporters_pump(ex, 0, 1, 60, journal_read, &r, &more, NULL));
        sleep_ms(1);
    }
    CHECK_EQ_U64(180, mem_pos(&slow));
    atomic_store(&slow.fail, 1);
    for (int i = 0; i < 5000 && mem_pos(&fast) < 600; i++) {
        CHECK_OK(tandem_exporters_pump(ex, 0, tandem_journal_first_index(r.j), 200, journal_read,
                                       &r, &more, NULL));
        sleep_ms(1);
    }
    CHECK_EQ_U64(600, mem_pos(&fast));
    uint64_t bound = tandem_exporters_compaction_index(ex, 0, 200);
    CHECK_EQ_U64(61, bound);
    CHECK_EQ_U64(61, tandem_exporters_compaction_index(ex, 0, 1000));
    CHECK_EQ_U64(41, tandem_exporters_compaction_index(ex, 0, 40)); /* the state's bound */
    CHECK_EQ_U64(41, tandem_exporters_compaction_index(NULL, 0, 40));
    CHECK_OK(tandem_journal_compact_below(r.j, bound, NULL));
    uint64_t first = tandem_journal_first_index(r.j);
    CHECK_MSG(first > 1 && first <= 61, "first index %llu", (unsigned long long)first);
    atomic_store(&slow.fail, 0);
    for (int i = 0; i < 5000 && mem_pos(&slow) < 600; i++) {
        CHECK_OK(tandem_exporters_pump(ex, 0, first, 200, journal_read, &r, &more, NULL));
        sleep_ms(1);
    }
    check_contiguous(&slow, 1, 600);
    check_contiguous(&fast, 1, 600);
    tandem_exporters_destroy(ex);
    tandem_journal_close(r.j);
    tandem_faultfs_free(fs);
    log_free(&l);
}

static void test_enable_initialize_from(void)
{
    mem_log l;
    log_fill(&l, 60);
    mem_store a, b;
    mem_init(&a);
    mem_init(&b);
    tandem_exporters_options o;
    opts_small(&o);
    tandem_exporters *ex = NULL;
    CHECK_OK(tandem_exporters_create(&o, &ex, NULL));
    CHECK_OK(tandem_exporters_add(ex, "a", &mem_vt, &a, true, NULL));
    CHECK_OK(tandem_exporters_add(ex, "b", &mem_vt, &b, false, NULL));
    CHECK_OK(tandem_exporters_start(ex, NULL));
    CHECK(pump_until(ex, &l, 30, &a, 90));
    tandem_exporter_partition_info parts[1];
    CHECK_STREQ("disabled", tandem_exporter_state_name(info_of(ex, 1, parts).state));
    CHECK_EQ_U64(0, atomic_load(&b.opened));
    tandem_diag d;
    CHECK_RC(TANDEM_ENOENT, tandem_exporters_enable(ex, "c", NULL, &d));
    CHECK_CONTAINS(d.message, "no exporter \"c\"");
    CHECK_RC(TANDEM_ENOENT, tandem_exporters_enable(ex, "b", "zz", &d));
    CHECK_CONTAINS(d.message, "initializeFrom: no exporter \"zz\"");
    CHECK_RC(TANDEM_EINVAL, tandem_exporters_enable(ex, "b", "b", &d));
    CHECK_OK(tandem_exporters_enable(ex, "b", "a", NULL));
    CHECK(pump_until(ex, &l, 60, &b, 180));
    CHECK_EQ_U64(90, b.set_position);
    check_contiguous(&b, 91, 180);
    CHECK(pump_until(ex, &l, 60, &a, 180));
    /* disable: nothing more reaches b; enable again resumes from b's store */
    CHECK_OK(tandem_exporters_disable(ex, "b", NULL));
    CHECK_STREQ("disabled", tandem_exporter_state_name(info_of(ex, 1, parts).state));
    for (int i = 0; i < 1000 && atomic_load(&b.opened); i++) {
        sleep_ms(1);
    }
    CHECK_EQ_U64(0, (uint64_t)atomic_load(&b.opened)); /* the file is the operator's now */
    CHECK_RC(TANDEM_ENOENT, tandem_exporters_disable(ex, "x", NULL));
    CHECK_OK(tandem_exporters_enable(ex, "b", NULL, NULL));
    for (int i = 0; i < 1000 && atomic_load(&b.opens) < 2; i++) {
        sleep_ms(1);
    }
    CHECK(pump_until(ex, &l, 60, &b, 180));
    check_contiguous(&b, 91, 180);
    CHECK_EQ_U64(2, (uint64_t)atomic_load(&b.opens));
    tandem_exporters_destroy(ex);
    log_free(&l);
}

static void test_pause_resume(void)
{
    mem_log l;
    log_fill(&l, 20);
    mem_store m;
    mem_init(&m);
    tandem_exporters_options o;
    opts_small(&o);
    tandem_exporters *ex = NULL;
    CHECK_OK(tandem_exporters_create(&o, &ex, NULL));
    CHECK_OK(tandem_exporters_add(ex, "mem", &mem_vt, &m, true, NULL));
    CHECK_OK(tandem_exporters_start(ex, NULL));
    tandem_exporters_pause(ex);
    CHECK(tandem_exporters_paused(ex));
    bool more = false;
    CHECK_OK(tandem_exporters_pump(ex, 0, 1, 20, log_read, &l, &more, NULL));
    sleep_ms(50);
    CHECK_EQ_U64(0, mem_pos(&m));
    tandem_exporter_partition_info parts[1];
    tandem_exporter_info info = info_of(ex, 0, parts);
    CHECK_STREQ("paused", tandem_exporter_state_name(info.state));
    CHECK_EQ_U64(20, parts[0].lag_entries);
    CHECK_EQ_U64(1, tandem_exporters_compact_bound(ex, 0)); /* paused still holds the log */
    tandem_exporters_resume(ex);
    CHECK(!tandem_exporters_paused(ex));
    CHECK(pump_until(ex, &l, 20, &m, 60));
    check_contiguous(&m, 1, 60);
    tandem_exporters_destroy(ex);
    log_free(&l);
}

static void test_bad_options_and_ids(void)
{
    tandem_exporters_options o;
    opts_small(&o);
    tandem_exporters *ex = NULL;
    tandem_diag d;
    o.partition_count = 0;
    CHECK_RC(TANDEM_EINVAL, tandem_exporters_create(&o, &ex, &d));
    CHECK_CONTAINS(d.message, "partition count 0");
    opts_small(&o);
    o.batch_entries_max = o.queue_entries_max + 1;
    CHECK_RC(TANDEM_EINVAL, tandem_exporters_create(&o, &ex, &d));
    CHECK_CONTAINS(d.message, "1 <= batch <= queue");
    opts_small(&o);
    o.backoff_initial_ms = 100;
    o.backoff_max_ms = 10;
    CHECK_RC(TANDEM_EINVAL, tandem_exporters_create(&o, &ex, &d));
    CHECK_CONTAINS(d.message, "back-off 100..10 ms");
    opts_small(&o);
    CHECK_OK(tandem_exporters_create(&o, &ex, NULL));
    mem_store m1, m2;
    mem_init(&m1);
    mem_init(&m2);
    atomic_int destroyed1 = 0, destroyed2 = 0;
    m1.destroyed = &destroyed1;
    m2.destroyed = &destroyed2;
    CHECK_RC(TANDEM_EINVAL, tandem_exporters_add(ex, "a b", &mem_vt, &m1, true, &d));
    CHECK_CONTAINS(d.message, "exporter id \"a b\"");
    CHECK_RC(TANDEM_EINVAL, tandem_exporters_add(ex, "", &mem_vt, &m1, true, &d));
    CHECK_OK(tandem_exporters_add(ex, "one", &mem_vt, &m1, true, NULL));
    CHECK_RC(TANDEM_EEXIST, tandem_exporters_add(ex, "one", &mem_vt, &m2, true, &d));
    CHECK_CONTAINS(d.message, "\"one\" is used twice");
    CHECK_EQ_U64(1, tandem_exporters_count(ex));
    CHECK_EQ_U64(0, (uint64_t)tandem_exporters_find(ex, "one"));
    CHECK_EQ_I64(-1, tandem_exporters_find(ex, "two"));
    tandem_exporters_destroy(ex); /* never started: frees what was added */
    CHECK_EQ_U64(1, (uint64_t)atomic_load(&destroyed1));
    CHECK_EQ_U64(0, (uint64_t)atomic_load(&destroyed2));
}

/* Stopping while a thread is inside its store (a slow open, a position
 * read) must not lose the stop: destroy returns and closes the store. */
static void test_destroy_while_opening(void)
{
    for (int round = 0; round < 20; round++) {
        mem_store m;
        mem_init(&m);
        atomic_store(&m.open_delay_ms, round % 5);
        atomic_int destroyed = 0;
        m.destroyed = &destroyed;
        tandem_exporters_options o;
        opts_small(&o);
        tandem_exporters *ex = NULL;
        CHECK_OK(tandem_exporters_create(&o, &ex, NULL));
        CHECK_OK(tandem_exporters_add(ex, "mem", &mem_vt, &m, true, NULL));
        CHECK_OK(tandem_exporters_start(ex, NULL));
        sleep_ms((unsigned)(round % 3));
        tandem_exporters_destroy(ex); /* hangs (and the case times out) if the stop is lost */
        CHECK_EQ_U64(1, (uint64_t)atomic_load(&destroyed));
        CHECK_EQ_U64(0, (uint64_t)atomic_load(&m.opened));
    }
}

/* The EXPORTER record: its value round-trips, bad bytes give errors that
 * name the problem, and applying it sets the state's position. */
static void test_position_record(void)
{
    tandem_buf v = TANDEM_BUF_INIT;
    tandem_diag d;
    CHECK_OK(tandem_exporter_record_encode(&v, "sqlite", 12345, NULL));
    char id[TANDEM_EXPORTER_ID_LEN_MAX + 1];
    uint64_t pos = 0;
    CHECK_OK(tandem_exporter_record_decode(v.data, v.len, id, &pos, NULL));
    CHECK_STREQ("sqlite", id);
    CHECK_EQ_U64(12345, pos);
    CHECK_RC(TANDEM_EINVAL, tandem_exporter_record_encode(&v, "", 1, &d));
    CHECK_CONTAINS(d.message, "exporter id of 0 bytes");
    /* every truncation is an error, never a crash */
    for (size_t cut = 0; cut < v.len; cut++) {
        CHECK(tandem_exporter_record_decode(v.data, cut, id, &pos, &d) == TANDEM_ECORRUPT);
    }
    tandem_buf bad = TANDEM_BUF_INIT;
    tandem_field_writer w;
    tandem_field_writer_init(&w, &bad);
    tandem_field_put_uint(&w, 1, 7);
    CHECK_OK(tandem_field_writer_finish(&w));
    CHECK_RC(TANDEM_ECORRUPT, tandem_exporter_record_decode(bad.data, bad.len, id, &pos, &d));
    CHECK_CONTAINS(d.message, "field 1 has the wrong wire type");
    tandem_buf_reset(&bad);
    tandem_field_writer_init(&w, &bad);
    tandem_field_put_cstr(&w, 1, "x");
    CHECK_OK(tandem_field_writer_finish(&w));
    CHECK_RC(TANDEM_ECORRUPT, tandem_exporter_record_decode(bad.data, bad.len, id, &pos, &d));
    CHECK_CONTAINS(d.message, "no position (field 2)");

    tandem_kv_options ko;
    memset(&ko, 0, sizeof(ko));
    const char *tables[] = {TANDEM_PARTITION_TABLE_NAME};
    ko.table_names = tables;
    ko.table_count = 1;
    tandem_kv *kv = NULL;
    CHECK_OK(tandem_kv_open_mem(&ko, &kv, NULL));
    tandem_kv_txn *txn = NULL;
    CHECK_OK(tandem_kv_begin_write(kv, &txn, NULL));
    CHECK_OK(tandem_exporter_state_position(txn, "sqlite", &pos, NULL));
    CHECK_EQ_U64(0, pos);
    tandem_record rec;
    tandem_record_init(&rec);
    rec.record_type = TANDEM_RECORD_EVENT;
    rec.value_type = TANDEM_VALUE_EXPORTER;
    rec.intent = TANDEM_INTENT_EXPORTER_POSITION_UPDATED;
    rec.value = v.data;
    rec.value_len = v.len;
    CHECK_OK(tandem_exporter_record_apply(txn, &rec, NULL));
    CHECK_OK(tandem_exporter_state_position(txn, "sqlite", &pos, NULL));
    CHECK_EQ_U64(12345, pos);
    CHECK_OK(tandem_exporter_state_position(txn, "secondary", &pos, NULL));
    CHECK_EQ_U64(0, pos);
    rec.value = bad.data; /* a damaged value is an error of the apply path */
    rec.value_len = bad.len;
    CHECK_RC(TANDEM_ECORRUPT, tandem_exporter_record_apply(txn, &rec, &d));
    rec.record_type = TANDEM_RECORD_COMMAND; /* not an event: nothing */
    CHECK_OK(tandem_exporter_record_apply(txn, &rec, NULL));
    tandem_kv_abort(txn);
    tandem_kv_close(kv);
    tandem_buf_free(&bad);
    tandem_buf_free(&v);
}

static const tandem_test cases[] = {
    {"exports_in_order", test_exports_in_order},
    {"only_committed", test_only_committed},
    {"failing_store_backs_off_alone", test_failing_store_backs_off_alone},
    {"resumes_after_stored_position", test_resumes_after_stored_position},
    {"seek_over_entries_without_records", test_seek_over_entries_without_records},
    {"full_queue_catches_up", test_full_queue_catches_up},
    {"backpressure_bound", test_backpressure_bound},
    {"compaction_guard", test_compaction_guard},
    {"enable_initialize_from", test_enable_initialize_from},
    {"pause_resume", test_pause_resume},
    {"bad_options_and_ids", test_bad_options_and_ids},
    {"position_record", test_position_record},
    {"destroy_while_opening", test_destroy_while_opening},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
