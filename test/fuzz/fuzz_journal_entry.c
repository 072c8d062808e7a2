/*
 * Fuzz target of the journal's decoders and recovery: arbitrary bytes are
 * decoded directly as entry and segment headers and as a term/vote file, then
 * written as segment files into an in-memory directory that the journal
 * opens (recovering or refusing), reads entry by entry, appends to, truncates
 * and inspects. Nothing may crash, abort or leak. The seed corpus holds real
 * segment files (written by test_journal's corpus case).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/faultfs.h"
#include "base/log.h"
#include "journal/journal.h"
#include "journal/journal_int.h"

static FILE *devnull;

static void decode_directly(const uint8_t *data, size_t size)
{
    for (size_t off = 0; off + JOURNAL_ENTRY_HEADER_BYTES <= size && off < 4096; off += 8) {
        journal_entry_header h;
        const char *why;
        if (journal_entry_header_decode(data + off, size - off, &h, &why) == TANDEM_OK) {
            uint64_t total = journal_entry_size_bytes(h.payload_size_bytes);
            if (total <= size - off) {
                (void)journal_entry_payload_ok(data + off, &h,
                                               data + off + JOURNAL_ENTRY_HEADER_BYTES);
            }
        }
    }
    journal_segment_header sh;
    const char *why;
    (void)journal_segment_header_decode(data, size, &sh, &why);
}

static void write_file(tandem_fileops *ops, const char *path, const uint8_t *data, size_t size)
{
    int fd;
    if (ops->open(ops, path, TANDEM_OPEN_WRITE | TANDEM_OPEN_CREATE, &fd) != TANDEM_OK) {
        return;
    }
    (void)ops->pwrite(ops, fd, data, size, 0);
    (void)ops->sync(ops, fd);
    (void)ops->close(ops, fd);
}

static void exercise(tandem_journal *j)
{
    uint64_t first = tandem_journal_first_index(j);
    uint64_t last = tandem_journal_last_index(j);
    tandem_buf b = TANDEM_BUF_INIT;
    for (uint64_t i = first; i <= last && i - first < 100000; i++) {
        tandem_journal_entry e;
        uint64_t term;
        (void)tandem_journal_read(j, i, &e, &b, NULL);
        (void)tandem_journal_term_at(j, i, &term);
    }
    uint64_t term = 0;
    (void)tandem_journal_term_at(j, last, &term);
    uint64_t index;
    (void)tandem_journal_append(j, term, TANDEM_JOURNAL_DATA, "fuzz", 4, &index, NULL);
    (void)tandem_journal_flush(j, NULL);
    (void)tandem_journal_truncate_from(j, first, NULL);
    (void)tandem_journal_compact_below(j, last, NULL);
    tandem_buf_free(&b);
}

/* The bytes as segment 1, or split into segments 1 and 2 at `split`. */
static void open_as_segments(const uint8_t *data, size_t size, size_t split)
{
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, size);
    tandem_faultfs *fs;
    if (tandem_faultfs_new(&r.base, &fs) != TANDEM_OK) {
        return;
    }
    tandem_fileops *ops = tandem_faultfs_ops(fs);
    (void)ops->mkdir(ops, "j");
    write_file(ops, "j/journal-00000000000000000001.seg", data, split);
    if (split < size) {
        write_file(ops, "j/journal-00000000000000000002.seg", data + split, size - split);
    }
    (void)tandem_journal_inspect(ops, "j", devnull, NULL, NULL, NULL);
    tandem_journal_options o;
    tandem_journal_options_default(&o);
    o.segment_size_bytes = 4096;
    o.entry_size_bytes_max = 1024;
    tandem_journal *j = NULL;
    if (tandem_journal_open(ops, "j", &o, &j, NULL) == TANDEM_OK) {
        exercise(j);
        tandem_journal_close(j);
    }
    tandem_faultfs_free(fs);
}

static void load_as_meta(const uint8_t *data, size_t size)
{
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, 1);
    tandem_faultfs *fs;
    if (tandem_faultfs_new(&r.base, &fs) != TANDEM_OK) {
        return;
    }
    tandem_fileops *ops = tandem_faultfs_ops(fs);
    write_file(ops, "raft-meta", data, size);
    tandem_journal_meta m;
    (void)tandem_journal_meta_load(ops, "raft-meta", &m, NULL);
    tandem_faultfs_free(fs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (devnull == NULL) {
        devnull = fopen("/dev/null", "w");
        tandem_log_set_sink(devnull);
    }
    if (size > (1u << 20)) {
        return 0;
    }
    decode_directly(data, size);
    if (size <= 64) {
        load_as_meta(data, size);
    }
    open_as_segments(data, size, size);
    if (size > 128) {
        open_as_segments(data, size, (size / 2) & ~(size_t)7);
    }
    return 0;
}
