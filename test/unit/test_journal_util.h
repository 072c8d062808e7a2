/*
 * test_journal_util.h — helpers shared by the journal tests: a faultfs
 * fixture and deterministic payloads, so that "byte-identical" can be checked
 * without keeping every payload in memory.
 */
#ifndef TANDEM_TEST_JOURNAL_UTIL_H
#define TANDEM_TEST_JOURNAL_UTIL_H

#include "base/faultfs.h"
#include "journal/journal.h"
#include "test.h"

#define JDIR "j"

typedef struct jfixture {
    tandem_seeded_rand rand;
    tandem_faultfs *fs;
    tandem_fileops *ops;
} jfixture;

static inline void jf_setup(jfixture *f, uint64_t seed)
{
    tandem_seeded_rand_init(&f->rand, seed);
    CHECK_OK(tandem_faultfs_new(&f->rand.base, &f->fs));
    f->ops = tandem_faultfs_ops(f->fs);
}

static inline void jf_teardown(jfixture *f)
{
    tandem_faultfs_free(f->fs);
}

/* Small segments so that a few hundred entries cross many of them. */
static inline tandem_journal_options jf_small_options(void)
{
    tandem_journal_options o;
    tandem_journal_options_default(&o);
    o.segment_size_bytes = 4096;
    o.entry_size_bytes_max = 1024;
    o.write_buffer_bytes = 700;
    return o;
}

/* The payload of version `gen` of an entry: size and bytes follow from the
 * pair, so a test only remembers (gen, size) per index. */
static inline void jf_payload(uint64_t gen, size_t size, uint8_t *out)
{
    uint64_t x = gen * 0x9e3779b97f4a7c15ull + size;
    for (size_t i = 0; i < size; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = (uint8_t)x;
    }
}

/* Appends version gen; returns the index. */
static inline uint64_t jf_append(tandem_journal *j, uint64_t term, uint64_t gen, size_t size)
{
    uint8_t buf[4096];
    CHECK(size <= sizeof(buf));
    jf_payload(gen, size, buf);
    uint64_t index = 0;
    tandem_diag d;
    tandem_diag_clear(&d);
    int rc = tandem_journal_append(j, term, TANDEM_JOURNAL_DATA, buf, size, &index, &d);
    CHECK_MSG(rc == TANDEM_OK, "append: %s", tandem_diag_text(&d));
    return index;
}

/* True when the entry at index has exactly version gen's payload. */
static inline bool jf_entry_is(tandem_journal *j, uint64_t index, uint64_t term, uint64_t gen,
                               size_t size)
{
    tandem_buf b = TANDEM_BUF_INIT;
    tandem_journal_entry e;
    tandem_diag d;
    tandem_diag_clear(&d);
    int rc = tandem_journal_read(j, index, &e, &b, &d);
    CHECK_MSG(rc == TANDEM_OK, "read %" PRIu64 ": %s", index, tandem_diag_text(&d));
    uint8_t want[4096];
    CHECK(size <= sizeof(want));
    jf_payload(gen, size, want);
    bool same = e.index == index && e.term == term && e.payload_size_bytes == size &&
                b.len == size && (size == 0 || memcmp(b.data, want, size) == 0);
    tandem_buf_free(&b);
    return same;
}

static inline tandem_journal *jf_open(jfixture *f, const tandem_journal_options *o)
{
    tandem_journal *j = NULL;
    tandem_diag d;
    tandem_diag_clear(&d);
    int rc = tandem_journal_open(f->ops, JDIR, o, &j, &d);
    CHECK_MSG(rc == TANDEM_OK, "open: %s", tandem_diag_text(&d));
    return j;
}

static inline void jf_segment_path(uint64_t number, char *out, size_t cap)
{
    snprintf(out, cap, JDIR "/journal-%020" PRIu64 ".seg", number);
}

#endif
