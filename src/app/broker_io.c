/*
 * The broker's I/O thread (see broker.h): it owns the partitions while it
 * runs. Each round takes every queued append, appends them all, makes each
 * touched journal durable with one fsync (group commit), applies what is now
 * committed to the state, and hands the finished appends back to the loop.
 * An fsync or state failure is fatal: the thread stops taking work, fails
 * what it holds, and tells the loop, which stops the broker.
 */
#include <stdio.h>
#include <string.h>

#include "app/broker_int.h"
#include "base/assert.h"
#include "base/clock.h"
#include "base/log.h"
#include "journal/journal.h"

/* Appends taken in one round (one fsync per touched partition). */
#define IO_ROUND_REQUESTS_MAX 1024u

static void publish_view(broker *b, partition_slot *slot)
{
    tandem_journal *j = tandem_partition_journal(slot->p);
    partition_view v = {
        .term = tandem_partition_term(slot->p),
        .first = tandem_journal_first_index(j),
        .last = tandem_journal_last_index(j),
        .commit = tandem_partition_commit_index(slot->p),
        .applied = tandem_partition_applied_index(slot->p),
        .stopped = tandem_journal_stopped(j),
    };
    pthread_mutex_lock(&b->io.lock);
    v.stopped = v.stopped || b->io.fatal_rc != TANDEM_OK;
    slot->view = v;
    pthread_mutex_unlock(&b->io.lock);
    tandem_gauge_set(slot->g_commit, (double)v.commit);
    tandem_gauge_set(slot->g_applied, (double)v.applied);
}

static void set_fatal(broker *b, int rc, const char *msg)
{
    pthread_mutex_lock(&b->io.lock);
    if (b->io.fatal_rc == TANDEM_OK) {
        b->io.fatal_rc = rc;
        snprintf(b->io.fatal_msg, sizeof(b->io.fatal_msg), "%s", msg);
    }
    pthread_mutex_unlock(&b->io.lock);
    tandem_log(TANDEM_LOG_ERROR, "I/O failure, broker stops", "error", tandem_errname(rc), "detail",
               msg, NULL);
}

static bool is_fatal(broker *b)
{
    pthread_mutex_lock(&b->io.lock);
    bool fatal = b->io.fatal_rc != TANDEM_OK;
    pthread_mutex_unlock(&b->io.lock);
    return fatal;
}

static void append_one(broker *b, append_req *r, tandem_buf *batch)
{
    partition_slot *slot = &b->slots[r->slot];
    tandem_diag diag;
    tandem_diag_clear(&diag);
    /* timestamps never go backwards, whatever the wall clock does */
    uint64_t now = tandem_clock_wall_ms(tandem_clock_real());
    uint64_t ts = now > slot->last_timestamp_ms ? now : slot->last_timestamp_ms;
    tandem_buf_reset(batch);
    r->rc = broker_probe_batch(batch, slot->id, slot->next_position, ts, r->payload, r->len, &diag);
    if (r->rc == TANDEM_OK) {
        r->rc = tandem_partition_append(slot->p, TANDEM_JOURNAL_DATA, batch->data, batch->len,
                                        &r->index, &diag);
    }
    if (r->rc != TANDEM_OK) {
        snprintf(r->error, sizeof(r->error), "%s", tandem_diag_text(&diag));
        if (tandem_journal_stopped(tandem_partition_journal(slot->p))) {
            set_fatal(b, r->rc, r->error);
        }
        return;
    }
    r->position = slot->next_position++;
    slot->last_timestamp_ms = ts;
    tandem_counter_inc(b->c_appends);
}

/* Makes the partition's appends durable (one fsync) and applies them. */
static int commit_slot(broker *b, partition_slot *slot, char *err, size_t err_size)
{
    tandem_diag diag;
    tandem_diag_clear(&diag);
    uint64_t start_ns = tandem_clock_mono_ns(tandem_clock_real());
    int rc = tandem_partition_flush(slot->p, &diag);
    if (rc == TANDEM_OK) {
        uint64_t took_ns = tandem_clock_mono_ns(tandem_clock_real()) - start_ns;
        tandem_histogram_observe(b->h_flush, (double)took_ns / 1e9);
        tandem_counter_inc(b->c_flushes);
        rc = tandem_partition_apply(slot->p, &diag);
    }
    if (rc != TANDEM_OK) {
        snprintf(err, err_size, "partition %u: %s", slot->id, tandem_diag_text(&diag));
        set_fatal(b, rc, err);
    }
    publish_view(b, slot);
    return rc;
}

static void run_round(broker *b, append_req *list, tandem_buf *batch)
{
    bool touched[b->slot_count > 0 ? b->slot_count : 1];
    memset(touched, 0, sizeof(touched));
    for (append_req *r = list; r != NULL; r = r->next) {
        if (is_fatal(b)) {
            r->rc = TANDEM_ESTOPPED;
            snprintf(r->error, sizeof(r->error), "the broker stopped after an I/O failure");
            continue;
        }
        append_one(b, r, batch);
        touched[r->slot] = touched[r->slot] || r->rc == TANDEM_OK;
    }
    for (uint32_t i = 0; i < b->slot_count; i++) {
        if (!touched[i]) {
            continue;
        }
        char err[256] = "";
        int rc = is_fatal(b) ? TANDEM_ESTOPPED : commit_slot(b, &b->slots[i], err, sizeof(err));
        if (rc == TANDEM_OK) {
            continue;
        }
        /* nothing of this round is durable for sure: fail every append of it */
        for (append_req *r = list; r != NULL; r = r->next) {
            if (r->slot == i && r->rc == TANDEM_OK) {
                r->rc = rc;
                snprintf(r->error, sizeof(r->error), "%s",
                         err[0] != '\0' ? err : "the broker stopped after an I/O failure");
            }
        }
    }
}

static void *io_main(void *arg)
{
    broker *b = arg;
    tandem_buf batch = TANDEM_BUF_INIT;
    for (;;) {
        pthread_mutex_lock(&b->io.lock);
        while (b->io.submit_head == NULL && !b->io.stop) {
            pthread_cond_wait(&b->io.cond, &b->io.lock);
        }
        if (b->io.submit_head == NULL && b->io.stop) {
            pthread_mutex_unlock(&b->io.lock);
            break;
        }
        /* take at most one round's worth, oldest first */
        append_req *list = b->io.submit_head;
        append_req *last = list;
        uint32_t taken = 1;
        while (last->next != NULL && taken < IO_ROUND_REQUESTS_MAX) {
            last = last->next;
            taken++;
        }
        b->io.submit_head = last->next;
        if (b->io.submit_head == NULL) {
            b->io.submit_tail = NULL;
        }
        last->next = NULL;
        TANDEM_ASSERT(b->io.submit_count >= taken);
        b->io.submit_count -= taken;
        pthread_mutex_unlock(&b->io.lock);

        run_round(b, list, &batch);

        pthread_mutex_lock(&b->io.lock);
        if (b->io.done_tail != NULL) {
            b->io.done_tail->next = list;
        } else {
            b->io.done_head = list;
        }
        b->io.done_tail = last;
        pthread_mutex_unlock(&b->io.lock);
        uv_async_send(&b->io.async);
    }
    tandem_buf_free(&batch);
    uv_async_send(&b->io.async);
    return NULL;
}

/* Loop side: answer everything finished; stop the broker on a fatal error. */
static void drain_done(broker *b)
{
    pthread_mutex_lock(&b->io.lock);
    append_req *list = b->io.done_head;
    b->io.done_head = NULL;
    b->io.done_tail = NULL;
    int fatal_rc = b->io.fatal_rc;
    pthread_mutex_unlock(&b->io.lock);
    while (list != NULL) {
        append_req *next = list->next;
        broker_append_done(b, list);
        list = next;
    }
    if (fatal_rc != TANDEM_OK && !b->stopping) {
        tandem_diag_set(&b->exit_diag, fatal_rc, "%s", b->io.fatal_msg);
        broker_shutdown(b, fatal_rc);
    }
}

static void on_async(uv_async_t *h)
{
    drain_done(h->data);
}

int broker_io_start(broker *b, tandem_diag *diag)
{
    TANDEM_ASSERT(!b->io.started);
    pthread_mutex_init(&b->io.lock, NULL);
    pthread_cond_init(&b->io.cond, NULL);
    int rc = uv_async_init(&b->loop, &b->io.async, on_async);
    if (rc != 0) {
        return tandem_diag_set(diag, TANDEM_ESYS, "uv_async_init: %s", uv_strerror(rc));
    }
    b->io.async.data = b;
    b->io.async_open = true;
    for (uint32_t i = 0; i < b->slot_count; i++) {
        publish_view(b, &b->slots[i]);
    }
    rc = pthread_create(&b->io.thread, NULL, io_main, b);
    if (rc != 0) {
        return tandem_diag_set(diag, TANDEM_ESYS, "pthread_create: %s", strerror(rc));
    }
    b->io.started = true;
    return TANDEM_OK;
}

int broker_io_submit(broker *b, append_req *r)
{
    TANDEM_ASSERT(b->io.started && r != NULL);
    pthread_mutex_lock(&b->io.lock);
    int rc = TANDEM_OK;
    if (b->io.stop) {
        rc = TANDEM_ECLOSED;
    } else if (b->io.submit_count >= BROKER_IO_QUEUE_CAPACITY) {
        rc = TANDEM_EFULL;
    } else {
        r->next = NULL;
        if (b->io.submit_tail != NULL) {
            b->io.submit_tail->next = r;
        } else {
            b->io.submit_head = r;
        }
        b->io.submit_tail = r;
        b->io.submit_count++;
        pthread_cond_signal(&b->io.cond);
    }
    pthread_mutex_unlock(&b->io.lock);
    return rc;
}

void broker_io_view(broker *b, uint32_t slot, partition_view *out)
{
    TANDEM_ASSERT(slot < b->slot_count);
    pthread_mutex_lock(&b->io.lock);
    *out = b->slots[slot].view;
    pthread_mutex_unlock(&b->io.lock);
}

void broker_io_stop(broker *b)
{
    if (!b->io.started) {
        return;
    }
    pthread_mutex_lock(&b->io.lock);
    b->io.stop = true;
    pthread_cond_signal(&b->io.cond);
    pthread_mutex_unlock(&b->io.lock);
    int rc = pthread_join(b->io.thread, NULL);
    TANDEM_ASSERT(rc == 0);
    b->io.started = false;
    drain_done(b);
    TANDEM_ASSERT(b->io.submit_head == NULL);
}

void broker_io_close_async(broker *b, uv_close_cb cb)
{
    if (b->io.async_open) {
        b->io.async_open = false;
        uv_close((uv_handle_t *)&b->io.async, cb);
    }
}
