/*
 * The exporter framework (exporter.h): one thread and one bounded queue per
 * exporter, fed by pump on the journals' owner thread.
 *
 * Locking: one mutex for the framework. It is held only for bookkeeping,
 * never across a vtable call or a journal read, so an exporter stuck in its
 * store blocks nobody. Work an exporter took before an enable or disable is
 * recognised by the generation counter and dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/assert.h"
#include "base/log.h"
#include "export/exporter_int.h"
#include "protocol/batch.h"

#define RECS_CAP_INITIAL 4096u

void tandem_exporters_options_default(tandem_exporters_options *opts)
{
    TANDEM_ASSERT(opts != NULL);
    memset(opts, 0, sizeof(*opts));
    opts->queue_entries_max = 1024;
    opts->batch_entries_max = 64;
    opts->backoff_initial_ms = 100;
    opts->backoff_max_ms = 10000;
    opts->retained_entries_max = 0;
    TANDEM_ASSERT(opts->backoff_initial_ms <= opts->backoff_max_ms);
}

const char *tandem_exporter_state_name(enum tandem_exporter_state state)
{
    switch (state) {
    case TANDEM_EXPORTER_ENABLED:
        return "enabled";
    case TANDEM_EXPORTER_DISABLED:
        return "disabled";
    case TANDEM_EXPORTER_PAUSED:
        return "paused";
    case TANDEM_EXPORTER_FAILING:
        return "failing";
    }
    TANDEM_UNREACHABLE();
}

/* ---- entries ---------------------------------------------------------------- */

static exp_entry *entry_new(uint32_t partition_index, const tandem_journal_entry *je,
                            const tandem_buf *payload)
{
    TANDEM_ASSERT(je != NULL && payload != NULL);
    TANDEM_ASSERT(payload->len == je->payload_size_bytes);
    exp_entry *en = malloc(sizeof(*en) + payload->len);
    if (en == NULL) {
        return NULL;
    }
    atomic_init(&en->refs, 1);
    en->partition_index = partition_index;
    en->index = je->index;
    en->kind = je->kind;
    en->size_bytes = payload->len;
    if (payload->len > 0) {
        memcpy(en->data, payload->data, payload->len);
    }
    return en;
}

static void entry_unref(exp_entry *en)
{
    if (en == NULL) {
        return;
    }
    uint32_t before = atomic_fetch_sub(&en->refs, 1);
    TANDEM_ASSERT(before >= 1);
    if (before == 1) {
        free(en);
    }
}

/* ---- create / destroy ------------------------------------------------------- */

int tandem_exporters_create(const tandem_exporters_options *opts, tandem_exporters **out,
                            tandem_diag *diag)
{
    TANDEM_ASSERT(opts != NULL && out != NULL);
    if (opts->partition_count == 0 || opts->partition_count > TANDEM_EXPORTER_PARTITIONS_MAX ||
        opts->partition_ids == NULL) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "exporters: partition count %u not in 1..%u",
                               opts->partition_count, TANDEM_EXPORTER_PARTITIONS_MAX);
    }
    if (opts->queue_entries_max == 0 || opts->queue_entries_max > 1u << 20 ||
        opts->batch_entries_max == 0 || opts->batch_entries_max > opts->queue_entries_max) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "exporters: queue of %u entries and batches of %u entries: need "
                               "1 <= batch <= queue <= 1048576",
                               opts->queue_entries_max, opts->batch_entries_max);
    }
    if (opts->linger_ms > 10000) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "exporters: linger of %u ms, at most 10000",
                               opts->linger_ms);
    }
    if (opts->backoff_initial_ms == 0 || opts->backoff_initial_ms > opts->backoff_max_ms) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "exporters: back-off %u..%u ms: need 1 <= initial <= max",
                               opts->backoff_initial_ms, opts->backoff_max_ms);
    }
    tandem_exporters *ex = calloc(1, sizeof(*ex));
    if (ex == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "exporters: out of memory");
    }
    ex->opts = *opts;
    ex->partition_ids = calloc(opts->partition_count, sizeof(uint32_t));
    ex->commit = calloc(opts->partition_count, sizeof(uint64_t));
    ex->first = calloc(opts->partition_count, sizeof(uint64_t));
    if (ex->partition_ids == NULL || ex->commit == NULL || ex->first == NULL) {
        free(ex->partition_ids);
        free(ex->commit);
        free(ex->first);
        free(ex);
        return tandem_diag_set(diag, TANDEM_ENOMEM, "exporters: out of memory");
    }
    memcpy(ex->partition_ids, opts->partition_ids, opts->partition_count * sizeof(uint32_t));
    ex->opts.partition_ids = ex->partition_ids;
    pthread_mutex_init(&ex->lock, NULL);
    *out = ex;
    return TANDEM_OK;
}

static bool id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > TANDEM_EXPORTER_ID_LEN_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

int tandem_exporters_find(const tandem_exporters *ex, const char *id)
{
    TANDEM_ASSERT(ex != NULL && id != NULL);
    TANDEM_ASSERT(ex->count <= TANDEM_EXPORTERS_MAX);
    for (uint32_t i = 0; i < ex->count; i++) {
        if (strcmp(ex->exporters[i].id, id) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static void exporter_free_parts(exporter *e)
{
    free(e->parts);
    free(e->queue);
    free(e->held);
    free(e->recs);
    free((void *)e->rec_ptrs);
}

int tandem_exporters_add(tandem_exporters *ex, const char *id, const tandem_exporter_vtable *vt,
                         void *impl, bool enabled, tandem_diag *diag)
{
    TANDEM_ASSERT(ex != NULL && !ex->started);
    TANDEM_ASSERT(id != NULL && vt != NULL);
    TANDEM_ASSERT(vt->open != NULL && vt->export_records != NULL && vt->position != NULL &&
                  vt->set_position != NULL && vt->close != NULL && vt->destroy != NULL);
    if (!id_valid(id)) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "exporter id \"%.40s\": need 1..%d characters of [A-Za-z0-9_-]", id,
                               TANDEM_EXPORTER_ID_LEN_MAX);
    }
    if (tandem_exporters_find(ex, id) >= 0) {
        return tandem_diag_set(diag, TANDEM_EEXIST, "exporter id \"%s\" is used twice", id);
    }
    if (ex->count == TANDEM_EXPORTERS_MAX) {
        return tandem_diag_set(diag, TANDEM_EFULL, "more than %d exporters", TANDEM_EXPORTERS_MAX);
    }
    exporter *e = &ex->exporters[ex->count];
    memset(e, 0, sizeof(*e));
    e->parts = calloc(ex->opts.partition_count, sizeof(*e->parts));
    e->queue = calloc(ex->opts.queue_entries_max, sizeof(*e->queue));
    e->held = calloc(ex->opts.batch_entries_max, sizeof(*e->held));
    e->recs = calloc(RECS_CAP_INITIAL, sizeof(*e->recs));
    e->rec_ptrs = calloc(RECS_CAP_INITIAL, sizeof(*e->rec_ptrs));
    if (e->parts == NULL || e->queue == NULL || e->held == NULL || e->recs == NULL ||
        e->rec_ptrs == NULL) {
        exporter_free_parts(e);
        memset(e, 0, sizeof(*e));
        return tandem_diag_set(diag, TANDEM_ENOMEM, "exporter %s: out of memory", id);
    }
    e->recs_cap = RECS_CAP_INITIAL;
    e->ex = ex;
    snprintf(e->id, sizeof(e->id), "%s", id);
    e->vt = vt;
    e->impl = impl;
    e->enabled = enabled;
    e->backoff_ms = ex->opts.backoff_initial_ms;
    pthread_cond_init(&e->cond, NULL);
    ex->count++;
    return TANDEM_OK;
}

uint32_t tandem_exporters_count(const tandem_exporters *ex)
{
    TANDEM_ASSERT(ex != NULL);
    TANDEM_ASSERT(ex->count <= TANDEM_EXPORTERS_MAX);
    return ex->count;
}

/* Lock held. Drops the queue and what the thread holds is dropped by gen. */
static void queue_clear(exporter *e)
{
    uint32_t cap = e->ex->opts.queue_entries_max;
    TANDEM_ASSERT(e->q_count <= cap);
    while (e->q_count > 0) {
        entry_unref(e->queue[e->q_head]);
        e->queue[e->q_head] = NULL;
        e->q_head = (e->q_head + 1) % cap;
        e->q_count--;
    }
    TANDEM_ASSERT(e->q_count == 0);
}

static void held_clear(exporter *e)
{
    TANDEM_ASSERT(e->held_count <= e->ex->opts.batch_entries_max);
    for (uint32_t i = 0; i < e->held_count; i++) {
        entry_unref(e->held[i]);
        e->held[i] = NULL;
    }
    e->held_count = 0;
}

void tandem_exporters_destroy(tandem_exporters *ex)
{
    if (ex == NULL) {
        return;
    }
    TANDEM_ASSERT(ex->count <= TANDEM_EXPORTERS_MAX);
    pthread_mutex_lock(&ex->lock);
    ex->stop = true;
    for (uint32_t i = 0; i < ex->count; i++) {
        pthread_cond_broadcast(&ex->exporters[i].cond);
    }
    pthread_mutex_unlock(&ex->lock);
    for (uint32_t i = 0; i < ex->count; i++) {
        exporter *e = &ex->exporters[i];
        if (e->thread_started) {
            int rc = pthread_join(e->thread, NULL);
            TANDEM_ASSERT(rc == 0);
        }
        queue_clear(e);
        held_clear(e);
        if (e->opened) {
            e->vt->close(e->impl);
            e->opened = false;
        }
        e->vt->destroy(e->impl);
        pthread_cond_destroy(&e->cond);
        exporter_free_parts(e);
    }
    pthread_mutex_destroy(&ex->lock);
    free(ex->partition_ids);
    free(ex->commit);
    free(ex->first);
    free(ex);
}

void tandem_exporters_set_gauges(tandem_exporters *ex, uint32_t i, tandem_gauge *const *position,
                                 tandem_gauge *const *lag_entries)
{
    TANDEM_ASSERT(ex != NULL && !ex->started);
    TANDEM_ASSERT(i < ex->count);
    ex->exporters[i].g_position = position;
    ex->exporters[i].g_lag = lag_entries;
}

/* Lock held. Sets exporter e's gauges of partition p. */
static void gauges_update(exporter *e, uint32_t p)
{
    const exp_partition *ep = &e->parts[p];
    uint64_t commit = e->ex->commit[p];
    TANDEM_ASSERT(p < e->ex->opts.partition_count);
    if (e->g_position != NULL && e->g_position[p] != NULL) {
        tandem_gauge_set(e->g_position[p], (double)ep->position);
    }
    if (e->g_lag != NULL && e->g_lag[p] != NULL) {
        tandem_gauge_set(e->g_lag[p], (double)(commit > ep->acked ? commit - ep->acked : 0));
    }
}

/* ---- the exporter thread ---------------------------------------------------- */

/* Lock held. Waits ms, cut short only by stop or by an enable/disable (a
 * signal for new entries does not end a back-off). */
static void back_off_wait(exporter *e, uint32_t ms)
{
    TANDEM_ASSERT(ms > 0);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)(ms % 1000) * 1000000u;
    ts.tv_sec += (time_t)(ms / 1000) + (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    uint64_t gen = e->gen;
    while (!e->ex->stop && gen == e->gen) {
        int rc = pthread_cond_timedwait(&e->cond, &e->ex->lock, &ts);
        TANDEM_ASSERT(rc == 0 || rc == ETIMEDOUT);
        if (rc == ETIMEDOUT) {
            break;
        }
    }
}

/* Lock held. Records a failure and waits the back-off, which then doubles. */
static void fail_and_back_off(exporter *e, const char *what, const tandem_diag *diag)
{
    TANDEM_ASSERT(e != NULL && what != NULL);
    e->failing = true;
    e->failures++;
    snprintf(e->last_error, sizeof(e->last_error), "%s: %s", what, tandem_diag_text(diag));
    if (e->failures == 1 || e->failures % 100 == 0) {
        tandem_log(TANDEM_LOG_WARN, "exporter failed; retrying with back-off", "exporter", e->id,
                   "detail", e->last_error, NULL);
    }
    uint32_t wait_ms = e->backoff_ms;
    uint32_t max_ms = e->ex->opts.backoff_max_ms;
    e->backoff_ms = wait_ms > max_ms / 2 ? max_ms : wait_ms * 2;
    TANDEM_ASSERT(e->backoff_ms <= max_ms);
    back_off_wait(e, wait_ms);
}

static void succeeded(exporter *e)
{
    TANDEM_ASSERT(e->backoff_ms >= 1);
    if (e->failing) {
        tandem_log(TANDEM_LOG_INFO, "exporter recovered", "exporter", e->id, NULL);
    }
    e->failing = false;
    e->last_error[0] = '\0';
    e->backoff_ms = e->ex->opts.backoff_initial_ms;
}

/* Lock held. Opens the store; false when it failed (after the back-off). */
static bool ensure_open(exporter *e)
{
    if (e->opened) {
        return true;
    }
    tandem_diag diag;
    tandem_diag_clear(&diag);
    pthread_mutex_unlock(&e->ex->lock);
    int rc = e->vt->open(e->impl, &diag);
    pthread_mutex_lock(&e->ex->lock);
    if (rc != TANDEM_OK) {
        fail_and_back_off(e, "open", &diag);
        return false;
    }
    e->opened = true;
    e->positions_loaded = false;
    return true;
}

/* Lock held. Reads the stored positions (or writes initialize_from's);
 * false when it failed or was overtaken by an enable/disable. */
static bool ensure_positions(exporter *e)
{
    if (e->positions_loaded && !e->init_pending) {
        return true;
    }
    tandem_exporters *ex = e->ex;
    uint32_t n = ex->opts.partition_count;
    uint64_t gen = e->gen;
    bool init = e->init_pending;
    tandem_diag diag;
    tandem_diag_clear(&diag);
    int rc = TANDEM_OK;
    for (uint32_t p = 0; p < n && rc == TANDEM_OK; p++) {
        uint64_t pos = e->parts[p].init_position;
        uint32_t pid = ex->partition_ids[p];
        pthread_mutex_unlock(&ex->lock);
        if (init) {
            rc = e->vt->set_position(e->impl, pid, pos, &diag);
        } else {
            rc = e->vt->position(e->impl, pid, &pos, &diag);
        }
        pthread_mutex_lock(&ex->lock);
        if (gen != e->gen) {
            return false;
        }
        if (rc == TANDEM_OK) {
            e->parts[p].position = pos;
            e->parts[p].seek_position = init ? 0 : pos;
            gauges_update(e, p);
        }
    }
    if (rc != TANDEM_OK) {
        fail_and_back_off(e, init ? "set position" : "read position", &diag);
        return false;
    }
    e->init_pending = false;
    e->positions_loaded = true;
    e->wake_pending = !init; /* the next pump seeks to the positions */
    succeeded(e);
    return true;
}

/* Lock held. Takes up to batch_entries_max queued entries of the partition of
 * the head entry into held. */
static void take_batch(exporter *e)
{
    TANDEM_ASSERT(e->held_count == 0 && e->q_count > 0);
    uint32_t cap = e->ex->opts.queue_entries_max;
    uint32_t part = e->queue[e->q_head]->partition_index;
    while (e->q_count > 0 && e->held_count < e->ex->opts.batch_entries_max &&
           e->queue[e->q_head]->partition_index == part) {
        e->held[e->held_count++] = e->queue[e->q_head];
        e->queue[e->q_head] = NULL;
        e->q_head = (e->q_head + 1) % cap;
        e->q_count--;
    }
    TANDEM_ASSERT(e->held_count > 0);
}

static bool recs_reserve(exporter *e, size_t need)
{
    if (need <= e->recs_cap) {
        return true;
    }
    size_t cap = e->recs_cap * 2 > need ? e->recs_cap * 2 : need;
    tandem_record *recs = realloc(e->recs, cap * sizeof(*recs));
    if (recs == NULL) {
        return false;
    }
    e->recs = recs;
    const tandem_record **ptrs = realloc((void *)e->rec_ptrs, cap * sizeof(*ptrs));
    if (ptrs == NULL) {
        return false;
    }
    e->rec_ptrs = ptrs;
    e->recs_cap = cap;
    return true;
}

/* No lock. Decodes the held entries' records above `position` into recs. */
static int collect(exporter *e, uint64_t position, size_t *count, tandem_diag *diag)
{
    size_t n = 0;
    for (uint32_t i = 0; i < e->held_count; i++) {
        const exp_entry *en = e->held[i];
        if (en->kind != TANDEM_JOURNAL_DATA) {
            continue;
        }
        tandem_batch_reader br;
        tandem_diag inner;
        tandem_diag_clear(&inner);
        int rc = tandem_batch_open(&br, en->data, en->size_bytes, &inner);
        if (rc != TANDEM_OK) {
            return tandem_diag_set(diag, rc, "journal entry %llu: %s",
                                   (unsigned long long)en->index, tandem_diag_text(&inner));
        }
        if (!recs_reserve(e, n + br.count)) {
            return tandem_diag_set(diag, TANDEM_ENOMEM, "out of memory for %zu records",
                                   n + br.count);
        }
        tandem_record rec;
        while (tandem_batch_next(&br, &rec)) {
            if (rec.position <= position) {
                continue;
            }
            TANDEM_ASSERT(n < e->recs_cap);
            e->recs[n] = rec;
            n++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        e->rec_ptrs[i] = &e->recs[i];
        TANDEM_ASSERT(i == 0 || e->recs[i].position > e->recs[i - 1].position);
    }
    *count = n;
    return TANDEM_OK;
}

/* Lock held. True when this exporter has room and the journal has entries it
 * has not been given. */
static bool wants_entries(const exporter *e)
{
    const tandem_exporters *ex = e->ex;
    if (!e->enabled || e->q_count >= ex->opts.queue_entries_max) {
        return false;
    }
    for (uint32_t p = 0; p < ex->opts.partition_count; p++) {
        uint64_t next = e->parts[p].enq_next != 0 ? e->parts[p].enq_next : ex->first[p];
        if (ex->commit[p] != 0 && next <= ex->commit[p]) {
            return true;
        }
    }
    return false;
}

/* Lock held. Exports the held entries once; false on failure (after the
 * back-off) or when overtaken. */
static bool export_held(exporter *e)
{
    tandem_exporters *ex = e->ex;
    uint32_t p = e->held[0]->partition_index;
    TANDEM_ASSERT(p < ex->opts.partition_count);
    uint64_t position = e->parts[p].position;
    uint64_t gen = e->gen;
    uint32_t pid = ex->partition_ids[p];
    pthread_mutex_unlock(&ex->lock);
    tandem_diag diag;
    tandem_diag_clear(&diag);
    size_t count = 0;
    int rc = collect(e, position, &count, &diag);
    if (rc == TANDEM_OK && count > 0) {
        rc = e->vt->export_records(e->impl, pid, e->rec_ptrs, count, &diag);
    }
    pthread_mutex_lock(&ex->lock);
    if (gen != e->gen) {
        held_clear(e);
        return false;
    }
    if (rc != TANDEM_OK) {
        fail_and_back_off(e, "export", &diag);
        return false;
    }
    if (count > 0) {
        TANDEM_ASSERT(e->recs[count - 1].position > position);
        e->parts[p].position = e->recs[count - 1].position;
    }
    uint64_t last_index = e->held[e->held_count - 1]->index;
    /* a seek may have moved acked past entries still queued (all of them
     * at or below the position, so they were skipped) */
    if (last_index > e->parts[p].acked) {
        e->parts[p].acked = last_index;
    }
    e->exported_records += count;
    gauges_update(e, p);
    succeeded(e);
    held_clear(e);
    return true;
}

static void *exporter_main(void *arg)
{
    exporter *e = arg;
    tandem_exporters *ex = e->ex;
    pthread_mutex_lock(&ex->lock);
    while (!ex->stop) {
        if (!e->enabled) {
            held_clear(e);
            if (e->opened) {
                /* the store file is the operator's while disabled */
                e->opened = false;
                pthread_mutex_unlock(&ex->lock);
                e->vt->close(e->impl);
                pthread_mutex_lock(&ex->lock);
                continue;
            }
            pthread_cond_wait(&e->cond, &ex->lock);
            continue;
        }
        if (!ensure_open(e) || !ensure_positions(e)) {
            continue;
        }
        if (ex->stop || !e->enabled) {
            continue; /* changed while the lock was released for the store */
        }
        if (e->wake_pending) {
            e->wake_pending = false;
            if (ex->opts.wake != NULL) {
                pthread_mutex_unlock(&ex->lock);
                ex->opts.wake(ex->opts.wake_arg);
                pthread_mutex_lock(&ex->lock);
            }
            continue;
        }
        if (ex->paused || (e->held_count == 0 && e->q_count == 0)) {
            pthread_cond_wait(&e->cond, &ex->lock);
            continue;
        }
        if (e->held_count == 0) {
            take_batch(e);
            if (wants_entries(e) && ex->opts.wake != NULL) {
                pthread_mutex_unlock(&ex->lock);
                ex->opts.wake(ex->opts.wake_arg);
                pthread_mutex_lock(&ex->lock);
                continue; /* re-check stop, enable and pause */
            }
        }
        uint32_t taken = e->held_count;
        if (export_held(e) && taken < ex->opts.batch_entries_max && ex->opts.linger_ms > 0) {
            back_off_wait(e, ex->opts.linger_ms); /* the same cut-short rules */
        }
    }
    pthread_mutex_unlock(&ex->lock);
    return NULL;
}

int tandem_exporters_start(tandem_exporters *ex, tandem_diag *diag)
{
    TANDEM_ASSERT(ex != NULL && !ex->started);
    TANDEM_ASSERT(ex->count <= TANDEM_EXPORTERS_MAX);
    for (uint32_t i = 0; i < ex->count; i++) {
        exporter *e = &ex->exporters[i];
        int rc = pthread_create(&e->thread, NULL, exporter_main, e);
        if (rc != 0) {
            pthread_mutex_lock(&ex->lock);
            ex->stop = true;
            for (uint32_t k = 0; k < i; k++) {
                pthread_cond_broadcast(&ex->exporters[k].cond);
            }
            pthread_mutex_unlock(&ex->lock);
            for (uint32_t k = 0; k < i; k++) {
                pthread_join(ex->exporters[k].thread, NULL);
                ex->exporters[k].thread_started = false;
            }
            return tandem_diag_set(diag, TANDEM_ESYS, "exporter %s: pthread_create: %s", e->id,
                                   strerror(rc));
        }
        e->thread_started = true;
    }
    ex->started = true;
    return TANDEM_OK;
}

/* ---- pump ------------------------------------------------------------------- */

/* Lock held. Moves an exporter's indexes of partition p up to the journal's
 * first index: after a start, an enable, or a compaction while disabled. */
static void normalize(tandem_exporters *ex, exp_partition *ep, uint32_t p)
{
    TANDEM_ASSERT(p < ex->opts.partition_count);
    uint64_t first = ex->first[p];
    TANDEM_ASSERT(first >= 1);
    if (ep->enq_next < first) {
        ep->enq_next = first;
    }
    if (ep->acked + 1 < first) {
        ep->acked = first - 1;
    }
}

/* Lock held. The smallest index an exporter with room still needs, 0 when none. */
static uint64_t next_wanted(tandem_exporters *ex, uint32_t p)
{
    uint64_t want = 0;
    for (uint32_t i = 0; i < ex->count; i++) {
        exporter *e = &ex->exporters[i];
        if (!e->enabled || e->q_count >= ex->opts.queue_entries_max) {
            continue;
        }
        normalize(ex, &e->parts[p], p);
        uint64_t next = e->parts[p].enq_next;
        TANDEM_ASSERT(next >= ex->first[p]);
        if (next <= ex->commit[p] && (want == 0 || next < want)) {
            want = next;
        }
    }
    return want;
}

/* Lock held. Puts en on every queue with room that needs exactly it. */
static void offer(tandem_exporters *ex, uint32_t p, exp_entry *en)
{
    uint32_t cap = ex->opts.queue_entries_max;
    for (uint32_t i = 0; i < ex->count; i++) {
        exporter *e = &ex->exporters[i];
        if (!e->enabled || e->q_count >= cap || e->parts[p].enq_next != en->index) {
            continue;
        }
        atomic_fetch_add(&en->refs, 1);
        e->queue[(e->q_head + e->q_count) % cap] = en;
        e->q_count++;
        e->parts[p].enq_next++;
        TANDEM_ASSERT(e->q_count <= cap);
        pthread_cond_signal(&e->cond);
    }
}

/* No lock. The last record position of entry index, or 0 for an entry
 * without records (no-op, configuration). */
static int entry_last_position(tandem_exporter_read_fn read, void *read_arg, uint32_t p,
                               uint64_t index, tandem_buf *payload, uint64_t *out,
                               tandem_diag *diag)
{
    tandem_journal_entry je;
    int rc = read(read_arg, p, index, &je, payload, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    TANDEM_ASSERT(je.index == index);
    *out = 0;
    if (je.kind != TANDEM_JOURNAL_DATA) {
        return TANDEM_OK;
    }
    tandem_batch_reader br;
    tandem_diag inner;
    tandem_diag_clear(&inner);
    rc = tandem_batch_open(&br, payload->data, payload->len, &inner);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "journal entry %llu: %s", (unsigned long long)index,
                               tandem_diag_text(&inner));
    }
    *out = br.count == 0 ? 0 : br.first_position + br.count - 1;
    return TANDEM_OK;
}

/* Entries between steps of the search that may carry no records. */
#define SEEK_SKIP_MAX 8u

/* No lock. The first index in [lo, hi) whose entry holds a record above
 * position (hi when none): a binary search over the entries' last record
 * positions, which grow with the index. An entry without records counts as
 * the next entry with records (at most SEEK_SKIP_MAX ahead; further than that
 * the search ends early, at a smaller index, which only costs reading more). */
static int seek_index(tandem_exporter_read_fn read, void *read_arg, uint32_t p, uint64_t lo,
                      uint64_t hi, uint64_t position, uint64_t *out, tandem_diag *diag)
{
    TANDEM_ASSERT(lo <= hi && position > 0);
    tandem_buf payload = TANDEM_BUF_INIT;
    int rc = TANDEM_OK;
    while (lo < hi && rc == TANDEM_OK) {
        uint64_t mid = lo + (hi - lo) / 2;
        uint64_t d = mid;
        uint64_t last = 0;
        for (uint32_t k = 0; k <= SEEK_SKIP_MAX && d < hi && rc == TANDEM_OK; k++, d++) {
            rc = entry_last_position(read, read_arg, p, d, &payload, &last, diag);
            if (last != 0) {
                break;
            }
        }
        if (rc != TANDEM_OK) {
            break;
        }
        if (last == 0 || last > position) {
            hi = mid; /* the answer is at or before mid..d */
        } else {
            lo = d + 1; /* every record up to entry d is at or below position */
        }
    }
    tandem_buf_free(&payload);
    *out = lo;
    return rc;
}

/* No lock. Runs the pending seeks of partition p: each exporter that just
 * read its stored position starts at the first entry above it. */
static int run_seeks(tandem_exporters *ex, uint32_t p, tandem_exporter_read_fn read, void *read_arg,
                     tandem_diag *diag)
{
    for (uint32_t i = 0; i < ex->count; i++) {
        exporter *e = &ex->exporters[i];
        pthread_mutex_lock(&ex->lock);
        uint64_t position = e->parts[p].seek_position;
        uint64_t gen = e->gen;
        uint64_t lo = e->parts[p].enq_next;
        uint64_t hi = ex->commit[p] + 1;
        bool enabled = e->enabled;
        e->parts[p].seek_position = 0;
        pthread_mutex_unlock(&ex->lock);
        if (position == 0 || !enabled || lo >= hi) {
            continue;
        }
        uint64_t index = 0;
        int rc = seek_index(read, read_arg, p, lo, hi, position, &index, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
        pthread_mutex_lock(&ex->lock);
        exp_partition *ep = &e->parts[p];
        if (gen == e->gen && index > ep->enq_next) {
            /* entries before index hold nothing above the stored position */
            ep->enq_next = index;
            ep->acked = index - 1 > ep->acked ? index - 1 : ep->acked;
        }
        pthread_mutex_unlock(&ex->lock);
    }
    return TANDEM_OK;
}

int tandem_exporters_pump(tandem_exporters *ex, uint32_t partition_index, uint64_t first_index,
                          uint64_t commit_index, tandem_exporter_read_fn read, void *read_arg,
                          bool *more, tandem_diag *diag)
{
    TANDEM_ASSERT(ex != NULL && read != NULL && more != NULL);
    TANDEM_ASSERT(partition_index < ex->opts.partition_count && first_index >= 1);
    uint32_t p = partition_index;
    *more = false;
    pthread_mutex_lock(&ex->lock);
    ex->commit[p] = commit_index;
    ex->first[p] = first_index;
    for (uint32_t i = 0; i < ex->count; i++) {
        normalize(ex, &ex->exporters[i].parts[p], p);
    }
    pthread_mutex_unlock(&ex->lock);
    int seek_rc = run_seeks(ex, p, read, read_arg, diag);
    if (seek_rc != TANDEM_OK) {
        return seek_rc;
    }
    pthread_mutex_lock(&ex->lock);
    uint64_t want = next_wanted(ex, p);
    for (uint32_t i = 0; i < ex->count; i++) {
        gauges_update(&ex->exporters[i], p);
    }
    pthread_mutex_unlock(&ex->lock);

    tandem_buf payload = TANDEM_BUF_INIT;
    int rc = TANDEM_OK;
    for (uint32_t reads = 0; want != 0 && reads < TANDEM_EXPORTER_PUMP_ENTRIES_MAX; reads++) {
        tandem_journal_entry je;
        rc = read(read_arg, p, want, &je, &payload, diag);
        if (rc != TANDEM_OK) {
            break;
        }
        TANDEM_ASSERT(je.index == want);
        exp_entry *en = entry_new(p, &je, &payload);
        if (en == NULL) {
            rc = tandem_diag_set(diag, TANDEM_ENOMEM, "exporters: out of memory for an entry");
            break;
        }
        pthread_mutex_lock(&ex->lock);
        offer(ex, p, en);
        want = next_wanted(ex, p);
        pthread_mutex_unlock(&ex->lock);
        entry_unref(en);
    }
    tandem_buf_free(&payload);
    *more = want != 0;
    return rc;
}

bool tandem_exporters_pending(tandem_exporters *ex)
{
    TANDEM_ASSERT(ex != NULL);
    pthread_mutex_lock(&ex->lock);
    bool pending = false;
    for (uint32_t i = 0; i < ex->count && !pending; i++) {
        pending = wants_entries(&ex->exporters[i]);
    }
    pthread_mutex_unlock(&ex->lock);
    return pending;
}

/* ---- bounds ----------------------------------------------------------------- */

/* Lock held. Smallest acknowledged index of the enabled exporters, or
 * UINT64_MAX when none is enabled. */
static uint64_t min_acked(tandem_exporters *ex, uint32_t p)
{
    uint64_t lo = UINT64_MAX;
    for (uint32_t i = 0; i < ex->count; i++) {
        const exporter *e = &ex->exporters[i];
        if (e->enabled && e->parts[p].acked < lo) {
            lo = e->parts[p].acked;
        }
    }
    return lo;
}

uint64_t tandem_exporters_compact_bound(tandem_exporters *ex, uint32_t partition_index)
{
    TANDEM_ASSERT(ex != NULL);
    TANDEM_ASSERT(partition_index < ex->opts.partition_count);
    pthread_mutex_lock(&ex->lock);
    uint64_t lo = min_acked(ex, partition_index);
    pthread_mutex_unlock(&ex->lock);
    return lo == UINT64_MAX ? UINT64_MAX : lo + 1;
}

uint64_t tandem_exporters_compaction_index(tandem_exporters *ex, uint32_t partition_index,
                                           uint64_t applied_index)
{
    TANDEM_ASSERT(applied_index < UINT64_MAX);
    uint64_t bound = applied_index + 1;
    if (ex != NULL) {
        uint64_t eb = tandem_exporters_compact_bound(ex, partition_index);
        bound = eb < bound ? eb : bound;
    }
    TANDEM_ASSERT(bound <= applied_index + 1);
    return bound;
}

uint64_t tandem_exporters_retained(tandem_exporters *ex, uint32_t partition_index)
{
    TANDEM_ASSERT(ex != NULL);
    TANDEM_ASSERT(partition_index < ex->opts.partition_count);
    pthread_mutex_lock(&ex->lock);
    uint64_t lo = min_acked(ex, partition_index);
    uint64_t commit = ex->commit[partition_index];
    pthread_mutex_unlock(&ex->lock);
    return lo == UINT64_MAX || commit <= lo ? 0 : commit - lo;
}

bool tandem_exporters_over_bound(tandem_exporters *ex, uint32_t partition_index)
{
    TANDEM_ASSERT(ex != NULL);
    TANDEM_ASSERT(partition_index < ex->opts.partition_count);
    uint64_t bound = ex->opts.retained_entries_max;
    return bound != 0 && tandem_exporters_retained(ex, partition_index) > bound;
}

/* ---- management ------------------------------------------------------------- */

void tandem_exporters_info(tandem_exporters *ex, uint32_t i, tandem_exporter_info *info)
{
    TANDEM_ASSERT(ex != NULL && info != NULL && i < ex->count);
    TANDEM_ASSERT(info->partitions != NULL && info->partition_count == ex->opts.partition_count);
    pthread_mutex_lock(&ex->lock);
    const exporter *e = &ex->exporters[i];
    snprintf(info->id, sizeof(info->id), "%s", e->id);
    if (!e->enabled) {
        info->state = TANDEM_EXPORTER_DISABLED;
    } else if (e->failing) {
        info->state = TANDEM_EXPORTER_FAILING;
    } else if (ex->paused) {
        info->state = TANDEM_EXPORTER_PAUSED;
    } else {
        info->state = TANDEM_EXPORTER_ENABLED;
    }
    snprintf(info->last_error, sizeof(info->last_error), "%s", e->last_error);
    info->exported_records = e->exported_records;
    info->failures = e->failures;
    for (uint32_t p = 0; p < ex->opts.partition_count; p++) {
        tandem_exporter_partition_info *pi = &info->partitions[p];
        pi->partition_id = ex->partition_ids[p];
        pi->position = e->parts[p].position;
        pi->acked_index = e->parts[p].acked;
        pi->lag_entries = ex->commit[p] > e->parts[p].acked ? ex->commit[p] - e->parts[p].acked : 0;
    }
    pthread_mutex_unlock(&ex->lock);
}

int tandem_exporters_enable(tandem_exporters *ex, const char *id, const char *initialize_from,
                            tandem_diag *diag)
{
    TANDEM_ASSERT(ex != NULL && id != NULL);
    int i = tandem_exporters_find(ex, id);
    if (i < 0) {
        return tandem_diag_set(diag, TANDEM_ENOENT, "no exporter \"%.40s\"", id);
    }
    int from = -1;
    if (initialize_from != NULL) {
        from = tandem_exporters_find(ex, initialize_from);
        if (from < 0) {
            return tandem_diag_set(diag, TANDEM_ENOENT, "initializeFrom: no exporter \"%.40s\"",
                                   initialize_from);
        }
        if (from == i) {
            return tandem_diag_set(diag, TANDEM_EINVAL,
                                   "initializeFrom: exporter \"%s\" cannot start from itself", id);
        }
    }
    pthread_mutex_lock(&ex->lock);
    exporter *e = &ex->exporters[i];
    if (e->enabled && from < 0) {
        pthread_mutex_unlock(&ex->lock);
        return TANDEM_OK;
    }
    e->enabled = true;
    e->gen++;
    queue_clear(e);
    e->failing = false;
    e->last_error[0] = '\0';
    e->backoff_ms = ex->opts.backoff_initial_ms;
    for (uint32_t p = 0; p < ex->opts.partition_count; p++) {
        exp_partition *ep = &e->parts[p];
        ep->enq_next = 0;
        if (from >= 0) {
            const exp_partition *src = &ex->exporters[from].parts[p];
            ep->init_position = src->position;
            ep->position = src->position;
            ep->acked = src->acked;
            ep->enq_next = src->acked + 1;
        } else {
            ep->acked = 0;
        }
    }
    e->init_pending = from >= 0;
    e->positions_loaded = false;
    pthread_cond_signal(&e->cond);
    pthread_mutex_unlock(&ex->lock);
    tandem_log(TANDEM_LOG_INFO, "exporter enabled", "exporter", id, "initializeFrom",
               initialize_from != NULL ? initialize_from : "", NULL);
    return TANDEM_OK;
}

int tandem_exporters_disable(tandem_exporters *ex, const char *id, tandem_diag *diag)
{
    TANDEM_ASSERT(ex != NULL && id != NULL);
    int i = tandem_exporters_find(ex, id);
    if (i < 0) {
        return tandem_diag_set(diag, TANDEM_ENOENT, "no exporter \"%.40s\"", id);
    }
    pthread_mutex_lock(&ex->lock);
    exporter *e = &ex->exporters[i];
    if (e->enabled) {
        e->enabled = false;
        e->gen++;
        e->failing = false;
        queue_clear(e);
        pthread_cond_signal(&e->cond);
    }
    pthread_mutex_unlock(&ex->lock);
    tandem_log(TANDEM_LOG_INFO, "exporter disabled", "exporter", id, NULL);
    return TANDEM_OK;
}

static void set_paused(tandem_exporters *ex, bool paused)
{
    TANDEM_ASSERT(ex != NULL);
    pthread_mutex_lock(&ex->lock);
    ex->paused = paused;
    for (uint32_t i = 0; i < ex->count; i++) {
        pthread_cond_signal(&ex->exporters[i].cond);
    }
    pthread_mutex_unlock(&ex->lock);
    tandem_log(TANDEM_LOG_INFO, paused ? "exporting paused" : "exporting resumed", NULL);
}

void tandem_exporters_pause(tandem_exporters *ex)
{
    set_paused(ex, true);
}

void tandem_exporters_resume(tandem_exporters *ex)
{
    set_paused(ex, false);
}

bool tandem_exporters_paused(tandem_exporters *ex)
{
    TANDEM_ASSERT(ex != NULL);
    pthread_mutex_lock(&ex->lock);
    bool paused = ex->paused;
    pthread_mutex_unlock(&ex->lock);
    return paused;
}
