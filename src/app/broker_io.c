/*
 * The broker's I/O thread (see broker.h): it owns the partitions while it
 * runs. It takes every queued work item, and for each partition that has work
 * (or time-driven work that fell due) runs one processor round: the items are
 * processed in order, their records appended, the journal made durable with
 * one fsync and the state committed (stream/processor.h). Finished items and
 * the rounds' reports go back to the loop through uv_async. A journal or
 * state failure is fatal: the thread fails what it holds and tells the loop,
 * which stops the broker.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/broker_int.h"
#include "base/assert.h"
#include "base/clock.h"
#include "base/log.h"
#include "journal/journal.h"

/* Items taken in one round of one partition. */
#define IO_ROUND_ITEMS_MAX 1024u

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
        .compact_below = broker_export_compaction_index(b, (uint32_t)(slot - b->slots)),
    };
    pthread_mutex_lock(&b->io.lock);
    v.stopped = v.stopped || b->io.fatal_rc != TANDEM_OK;
    slot->view = v;
    pthread_mutex_unlock(&b->io.lock);
    tandem_gauge_set(slot->g_commit, (double)v.commit);
    tandem_gauge_set(slot->g_applied, (double)v.applied);
    tandem_gauge_set(slot->g_replayed, (double)atomic_load(&slot->replayed_records));
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

static void fail_item(work_item *w, int rc, const char *msg)
{
    w->item.rc = rc;
    snprintf(w->item.error, sizeof(w->item.error), "%s", msg);
}

static void send_done(broker *b, work_item *w)
{
    (void)b;
    TANDEM_ASSERT(w != NULL && w->ctx == NULL);
    if (w->item.rc != TANDEM_OK) {
        /* the sender repeats it after its retry interval */
        tandem_log(TANDEM_LOG_WARN, "a command for a partition was not processed", "detail",
                   w->item.error, NULL);
    }
    tandem_item_free(&w->item);
    free(w);
}

int broker_io_send_local(broker *b, uint32_t partition_id, const tandem_record *command)
{
    TANDEM_ASSERT(b != NULL && command != NULL);
    TANDEM_ASSERT(command->record_type == TANDEM_RECORD_COMMAND);
    uint32_t slot = UINT32_MAX;
    for (uint32_t i = 0; i < b->slot_count; i++) {
        if (b->slots[i].id == partition_id) {
            slot = i;
        }
    }
    if (slot == UINT32_MAX) {
        return TANDEM_ENOENT;
    }
    work_item *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return TANDEM_ENOMEM;
    }
    tandem_item_init(&w->item, TANDEM_ITEM_COMMAND);
    int rc = tandem_buf_append(&w->item.payload, command->value, command->value_len);
    w->item.command = *command;
    w->item.command.value = NULL; /* the processor takes the value from payload */
    w->item.command.ext = NULL;
    w->item.command.ext_len = 0;
    w->slot = slot;
    w->done = send_done;
    w->ctx = NULL;
    if (rc == TANDEM_OK) {
        rc = broker_io_submit(b, w);
    }
    if (rc != TANDEM_OK) {
        tandem_item_free(&w->item);
        free(w);
    }
    return rc;
}

/* Hands a committed round's sends to the broker's transport. */
static void deliver_sends(broker *b, partition_slot *slot, const tandem_round_output *out)
{
    TANDEM_ASSERT(b != NULL && out != NULL);
    TANDEM_ASSERT(b->send != NULL);
    for (uint32_t i = 0; i < out->send_count; i++) {
        int rc = b->send(b, out->sends[i].partition_id, &out->sends[i].command);
        if (rc != TANDEM_OK) {
            char detail[128];
            snprintf(detail, sizeof(detail), "partition %u to partition %u: %s", slot->id,
                     out->sends[i].partition_id, tandem_errname(rc));
            tandem_log(TANDEM_LOG_WARN, "a send was dropped; it is repeated later", "detail",
                       detail, NULL);
        }
    }
}

/* One round of one partition over its items (possibly none: due work). */
static void run_slot_round(broker *b, uint32_t slot_index, tandem_item **items, size_t count)
{
    partition_slot *slot = &b->slots[slot_index];
    round_report *report = calloc(1, sizeof(*report));
    if (report == NULL) {
        set_fatal(b, TANDEM_ENOMEM, "out of memory for a round report");
        return;
    }
    report->slot = slot_index;
    tandem_round_output_init(&report->out);
    tandem_diag diag;
    tandem_diag_clear(&diag);
    uint64_t start_ns = tandem_clock_mono_ns(tandem_clock_real());
    uint64_t last_before = tandem_journal_last_index(tandem_partition_journal(slot->p));
    int rc = tandem_processor_round(slot->processor, items, count,
                                    tandem_clock_wall_ms(tandem_clock_real()), &report->out, &diag);
    if (rc != TANDEM_OK) {
        char msg[600];
        snprintf(msg, sizeof(msg), "partition %u: %s", slot->id, tandem_diag_text(&diag));
        set_fatal(b, rc, msg);
        for (size_t i = 0; i < count; i++) {
            if (items[i]->rc == TANDEM_OK) {
                items[i]->rc = TANDEM_ESTOPPED;
                snprintf(items[i]->error, sizeof(items[i]->error), "%.200s", msg);
            }
        }
    } else if (tandem_journal_last_index(tandem_partition_journal(slot->p)) != last_before) {
        uint64_t took_ns = tandem_clock_mono_ns(tandem_clock_real()) - start_ns;
        tandem_histogram_observe(b->h_flush, (double)took_ns / 1e9);
        tandem_counter_inc(b->c_flushes);
        tandem_counter_add(b->c_appends,
                           tandem_journal_last_index(tandem_partition_journal(slot->p)) -
                               last_before);
    }
    slot->next_due_ms = report->out.next_due_ms;
    if (rc == TANDEM_OK) {
        deliver_sends(b, slot, &report->out);
    }
    publish_view(b, slot);
    if (rc != TANDEM_OK || (report->out.type_count == 0 && report->out.result_count == 0)) {
        tandem_round_output_free(&report->out);
        free(report);
        return;
    }
    pthread_mutex_lock(&b->io.lock);
    report->next = b->io.reports;
    b->io.reports = report;
    pthread_mutex_unlock(&b->io.lock);
}

static void run_rounds(broker *b, work_item *list)
{
    tandem_item **items = malloc(IO_ROUND_ITEMS_MAX * sizeof(*items));
    if (items == NULL) {
        set_fatal(b, TANDEM_ENOMEM, "out of memory for a round");
    }
    uint64_t now = tandem_clock_wall_ms(tandem_clock_real());
    for (uint32_t s = 0; s < b->slot_count; s++) {
        size_t count = 0;
        for (work_item *w = list; w != NULL; w = w->next) {
            if (w->slot != s) {
                continue;
            }
            if (items == NULL || is_fatal(b)) {
                fail_item(w, TANDEM_ESTOPPED, "the broker stopped after an I/O failure");
                continue;
            }
            TANDEM_ASSERT(count < IO_ROUND_ITEMS_MAX);
            items[count++] = &w->item;
        }
        bool due = b->slots[s].next_due_ms != INT64_MAX && (uint64_t)b->slots[s].next_due_ms <= now;
        if (items != NULL && !is_fatal(b) && (count > 0 || due)) {
            run_slot_round(b, s, items, count);
        }
    }
    free(items);
}

/* Hands every partition's newly committed entries to the exporters (and
 * catch-up reads to those that fell behind). A committed entry that cannot
 * be read is damage: fatal, as the journal refuses to serve it. */
static void pump_exporters(broker *b)
{
    if (b->exporters == NULL || is_fatal(b)) {
        return;
    }
    for (uint32_t s = 0; s < b->slot_count; s++) {
        tandem_diag diag;
        tandem_diag_clear(&diag);
        int rc = broker_export_pump(b, s, &diag);
        if (rc != TANDEM_OK) {
            char msg[600];
            snprintf(msg, sizeof(msg), "partition %u: exporting: %s", b->slots[s].id,
                     tandem_diag_text(&diag));
            set_fatal(b, rc, msg);
            return;
        }
        publish_view(b, &b->slots[s]); /* the compaction bound moves with the exporters */
    }
}

/* When the thread must wake up for time-driven work, as an absolute
 * CLOCK_REALTIME deadline for pthread_cond_timedwait; false when none. */
static bool next_wakeup(broker *b, struct timespec *ts)
{
    int64_t due = INT64_MAX;
    for (uint32_t s = 0; s < b->slot_count; s++) {
        if (b->slots[s].next_due_ms < due) {
            due = b->slots[s].next_due_ms;
        }
    }
    if (due == INT64_MAX) {
        return false;
    }
    ts->tv_sec = (time_t)(due / 1000);
    ts->tv_nsec = (long)(due % 1000) * 1000000L;
    return true;
}

static bool something_due(broker *b)
{
    uint64_t now = tandem_clock_wall_ms(tandem_clock_real());
    for (uint32_t s = 0; s < b->slot_count; s++) {
        if (b->slots[s].next_due_ms != INT64_MAX && (uint64_t)b->slots[s].next_due_ms <= now) {
            return true;
        }
    }
    return false;
}

static void *io_main(void *arg)
{
    broker *b = arg;
    for (;;) {
        pthread_mutex_lock(&b->io.lock);
        while (b->io.submit_head == NULL && !b->io.stop &&
               !(b->io.fatal_rc == TANDEM_OK && broker_export_pending(b))) {
            struct timespec ts;
            if (!next_wakeup(b, &ts)) {
                pthread_cond_wait(&b->io.cond, &b->io.lock);
                continue;
            }
            if (something_due(b)) {
                break;
            }
            pthread_cond_timedwait(&b->io.cond, &b->io.lock, &ts);
        }
        if (b->io.submit_head == NULL && b->io.stop) {
            pthread_mutex_unlock(&b->io.lock);
            break;
        }
        /* take at most one round's worth, oldest first */
        work_item *list = b->io.submit_head;
        work_item *last = list;
        uint32_t taken = list != NULL ? 1 : 0;
        while (last != NULL && last->next != NULL && taken < IO_ROUND_ITEMS_MAX) {
            last = last->next;
            taken++;
        }
        if (last != NULL) {
            b->io.submit_head = last->next;
            if (b->io.submit_head == NULL) {
                b->io.submit_tail = NULL;
            }
            last->next = NULL;
        }
        TANDEM_ASSERT(b->io.submit_count >= taken);
        b->io.submit_count -= taken;
        pthread_mutex_unlock(&b->io.lock);

        run_rounds(b, list);
        pump_exporters(b);
        if (!is_fatal(b)) {
            broker_export_record_positions(b);
        }

        pthread_mutex_lock(&b->io.lock);
        if (list != NULL) {
            if (b->io.done_tail != NULL) {
                b->io.done_tail->next = list;
            } else {
                b->io.done_head = list;
            }
            b->io.done_tail = last;
        }
        pthread_mutex_unlock(&b->io.lock);
        uv_async_send(&b->io.async);
    }
    uv_async_send(&b->io.async);
    return NULL;
}

/* Loop side: answer everything finished, deliver the reports, and stop the
 * broker on a fatal error. */
static void drain_done(broker *b)
{
    pthread_mutex_lock(&b->io.lock);
    work_item *list = b->io.done_head;
    b->io.done_head = NULL;
    b->io.done_tail = NULL;
    round_report *reports = b->io.reports;
    b->io.reports = NULL;
    int fatal_rc = b->io.fatal_rc;
    pthread_mutex_unlock(&b->io.lock);
    while (list != NULL) {
        work_item *next = list->next;
        list->done(b, list);
        list = next;
    }
    while (reports != NULL) {
        round_report *next = reports->next;
        broker_round_report(b, reports);
        tandem_round_output_free(&reports->out);
        free(reports);
        reports = next;
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
        /* a round at start finds job time-outs that fell due while stopped */
        b->slots[i].next_due_ms = 0;
        publish_view(b, &b->slots[i]);
    }
    /* started before the thread runs: its first round may already queue
     * work of its own (exporter position records) */
    b->io.started = true;
    rc = pthread_create(&b->io.thread, NULL, io_main, b);
    if (rc != 0) {
        b->io.started = false;
        return tandem_diag_set(diag, TANDEM_ESYS, "pthread_create: %s", strerror(rc));
    }
    return TANDEM_OK;
}

int broker_io_submit(broker *b, work_item *w)
{
    TANDEM_ASSERT(b->io.started && w != NULL);
    TANDEM_ASSERT(w->slot < b->slot_count && w->done != NULL);
    pthread_mutex_lock(&b->io.lock);
    int rc = TANDEM_OK;
    if (b->io.stop) {
        rc = TANDEM_ECLOSED;
    } else if (b->io.submit_count >= BROKER_IO_QUEUE_CAPACITY) {
        rc = TANDEM_EFULL;
    } else {
        w->next = NULL;
        if (b->io.submit_tail != NULL) {
            b->io.submit_tail->next = w;
        } else {
            b->io.submit_head = w;
        }
        b->io.submit_tail = w;
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

void broker_io_wake(broker *b)
{
    TANDEM_ASSERT(b != NULL);
    pthread_mutex_lock(&b->io.lock);
    pthread_cond_signal(&b->io.cond);
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
