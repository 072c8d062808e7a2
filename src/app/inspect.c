#include "app/inspect.h"

#include <stdio.h>

#include "base/assert.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/fileops.h"
#include "journal/journal.h"
#include "protocol/batch.h"
#include "protocol/print.h"
#include "protocol/record.h"

static void print_payload(void *arg, FILE *out, const tandem_journal_entry *entry,
                          const uint8_t *payload)
{
    (void)arg;
    TANDEM_ASSERT(out != NULL && entry != NULL);
    if (entry->kind != TANDEM_JOURNAL_DATA) {
        return;
    }
    tandem_batch_reader br;
    tandem_diag diag;
    tandem_diag_clear(&diag);
    if (tandem_batch_open(&br, payload, entry->payload_size_bytes, &diag) != TANDEM_OK) {
        fprintf(out, "batch unreadable: %s", tandem_diag_text(&diag));
        return;
    }
    fprintf(out, "records %u", br.count);
    tandem_record rec;
    while (tandem_batch_next(&br, &rec)) {
        fputs("\n    ", out);
        tandem_record_print(&rec, out);
    }
}

int tandem_inspect_journal(const char *dir, FILE *out, FILE *err)
{
    TANDEM_ASSERT(dir != NULL && out != NULL && err != NULL);
    tandem_fileops *ops = tandem_fileops_posix();
    char journal_dir[4096];
    bool is_dir = false;
    int n = snprintf(journal_dir, sizeof(journal_dir), "%s/journal", dir);
    if (n < 0 || (size_t)n >= sizeof(journal_dir) ||
        ops->stat(ops, journal_dir, &is_dir) != TANDEM_OK || !is_dir) {
        snprintf(journal_dir, sizeof(journal_dir), "%s", dir);
    }
    tandem_diag diag;
    tandem_diag_clear(&diag);
    int rc = tandem_journal_inspect(ops, journal_dir, out, print_payload, NULL, &diag);
    fflush(out);
    if (rc != TANDEM_OK) {
        fprintf(err, "tandemctl: %s: %s\n", journal_dir, tandem_diag_text(&diag));
        return 1;
    }
    return 0;
}
