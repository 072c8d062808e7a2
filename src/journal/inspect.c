/* The human listing of a journal directory (tandemctl journal inspect):
 * the scan that open runs, strictly read-only, narrated line by line. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "journal/journal_int.h"

typedef struct inspect_ctx {
    FILE *out;
    tandem_journal_payload_printer printer;
    void *printer_arg;
    uint64_t entries;    /* valid entries printed */
    uint64_t candidates; /* valid headers found after the damage */
} inspect_ctx;

static void on_segment(void *arg, const char *path, uint64_t number,
                       const journal_segment_header *h, uint64_t size_bytes, const char *problem)
{
    inspect_ctx *c = arg;
    TANDEM_ASSERT(c != NULL && path != NULL);
    if (h == NULL) {
        TANDEM_ASSERT(problem != NULL);
        fprintf(c->out, "segment %s: number %" PRIu64 ", %" PRIu64 " bytes: %s\n", path, number,
                size_bytes, problem);
        return;
    }
    fprintf(c->out,
            "segment %s: number %" PRIu64 ", format %" PRIu32 ", first index %" PRIu64
            ", prev term %" PRIu64 ", flags %s, %" PRIu64 " bytes\n",
            path, h->number, h->version, h->first_index, h->prev_term,
            (h->flags & JOURNAL_SEGMENT_FLAG_BASE) ? "base" : "-", size_bytes);
}

static void on_entry(void *arg, uint64_t offset, const journal_entry_header *h,
                     const uint8_t *payload)
{
    inspect_ctx *c = arg;
    TANDEM_ASSERT(c != NULL && h != NULL);
    TANDEM_ASSERT(payload != NULL || h->payload_size_bytes == 0);
    c->entries++;
    fprintf(c->out,
            "  entry %" PRIu64 " term %" PRIu64 " kind %s size %" PRIu32 " synced %" PRIu64
            " offset %" PRIu64 " crc ok",
            h->index, h->term, journal_kind_name(h->kind), h->payload_size_bytes, h->synced_index,
            offset);
    if (c->printer != NULL) {
        tandem_journal_entry e = {.index = h->index,
                                  .term = h->term,
                                  .kind = h->kind,
                                  .payload_size_bytes = h->payload_size_bytes};
        fputs(" ", c->out);
        c->printer(c->printer_arg, c->out, &e, payload);
    }
    fputs("\n", c->out);
}

static void on_damage(void *arg, const char *path, const journal_damage *d)
{
    inspect_ctx *c = arg;
    TANDEM_ASSERT(c != NULL && path != NULL && d != NULL);
    fprintf(c->out, "  DAMAGE in %s at byte offset %" PRIu64 " (entry %" PRIu64 "): %s\n", path,
            d->offset, d->index, d->reason);
}

static void on_candidate(void *arg, const char *path, uint64_t offset,
                         const journal_entry_header *h)
{
    inspect_ctx *c = arg;
    TANDEM_ASSERT(c != NULL && path != NULL && h != NULL);
    c->candidates++;
    fprintf(c->out,
            "  after the damage: %s byte offset %" PRIu64 ": valid header of entry %" PRIu64
            " term %" PRIu64 " synced %" PRIu64 "\n",
            path, offset, h->index, h->term, h->synced_index);
}

static void print_meta(tandem_fileops *ops, const char *dir, FILE *out)
{
    char path[JOURNAL_PATH_BYTES];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, JOURNAL_META_NAME);
    TANDEM_ASSERT(n > 0 && (size_t)n < sizeof(path));
    tandem_journal_meta m;
    tandem_diag d;
    tandem_diag_clear(&d);
    int rc = tandem_journal_meta_load(ops, path, &m, &d);
    if (rc == TANDEM_ENOENT) {
        fprintf(out, "term/vote %s: absent (term 0, no vote)\n", path);
    } else if (rc != TANDEM_OK) {
        fprintf(out, "term/vote %s: %s\n", path, tandem_diag_text(&d));
    } else if (m.voted_for == TANDEM_JOURNAL_NO_VOTE) {
        fprintf(out, "term/vote %s: term %" PRIu64 ", no vote\n", path, m.term);
    } else {
        fprintf(out, "term/vote %s: term %" PRIu64 ", voted for %" PRIu64 "\n", path, m.term,
                m.voted_for);
    }
}

static void print_verdict(const journal_plan *plan, FILE *out)
{
    TANDEM_ASSERT(plan != NULL && out != NULL);
    if (plan->number_count == 0) {
        fprintf(out, "verdict: no segment files; open would start an empty journal\n");
        return;
    }
    if (plan->verdict == JOURNAL_CORRUPT) {
        fprintf(out, "verdict: CORRUPT: open refuses: %s\n", plan->message);
        return;
    }
    if (plan->index.seg_count > 0) {
        uint64_t first = journal_index_first(&plan->index);
        uint64_t last = journal_index_last(&plan->index);
        fprintf(out, "valid entries: %" PRIu64 " (indexes %" PRIu64 "..%" PRIu64 ")\n",
                last + 1 - first, first, last);
    }
    if (plan->verdict == JOURNAL_TORN) {
        const journal_damage *d = &plan->damage;
        size_t keep = d->header ? d->seg_pos : d->seg_pos + 1;
        fprintf(out,
                "verdict: %s; open would truncate there and delete %zu later segment file(s)\n",
                plan->message, plan->number_count - keep);
        return;
    }
    fprintf(out, "verdict: clean\n");
}

int tandem_journal_inspect(tandem_fileops *ops, const char *dir, FILE *out,
                           tandem_journal_payload_printer printer, void *printer_arg,
                           tandem_diag *diag)
{
    TANDEM_ASSERT(ops != NULL && dir != NULL && out != NULL);
    tandem_diag local;
    diag = diag != NULL ? diag : &local;
    tandem_diag_clear(diag);
    inspect_ctx c = {.out = out, .printer = printer, .printer_arg = printer_arg};
    journal_scan_visitor v = {.arg = &c,
                              .segment = on_segment,
                              .entry = on_entry,
                              .damage = on_damage,
                              .candidate = on_candidate};
    char norm[TANDEM_JOURNAL_DIR_PATH_BYTES_MAX + 1];
    int rc = journal_dir_normalise(dir, norm, sizeof(norm), diag);
    if (rc != TANDEM_OK) {
        fprintf(out, "journal %s: %s\n", dir, tandem_diag_text(diag));
        return rc;
    }
    dir = norm;
    fprintf(out, "journal %s\n", dir);
    print_meta(ops, dir, out);
    journal_plan plan;
    rc = journal_scan(ops, dir, &v, &plan, diag);
    if (rc != TANDEM_OK) {
        fprintf(out, "verdict: cannot read: %s\n", tandem_diag_text(diag));
        goto cleanup;
    }
    for (size_t i = 0; i < plan.tmp_count; i++) {
        char path[JOURNAL_PATH_BYTES];
        int prc = journal_segment_path(dir, plan.tmp_numbers[i], true, path, sizeof(path));
        TANDEM_ASSERT(prc == TANDEM_OK);
        fprintf(out,
                "leftover temporary file %s (an interrupted segment creation; open deletes it)\n",
                path);
    }
    print_verdict(&plan, out);
    if (plan.verdict == JOURNAL_CORRUPT) {
        rc = tandem_diag_set(diag, TANDEM_ECORRUPT, "%s", plan.message);
    }
cleanup:
    journal_plan_free(&plan);
    fflush(out);
    return rc;
}
