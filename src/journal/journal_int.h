/*
 * journal_int.h — internals shared by the files of src/journal/.
 *
 * format.c    the byte layout: segment header, entry header, file names
 * index.c     the in-memory index: per segment the entry offsets, and the
 *             runs of equal terms
 * reader.c    a buffered, bounded reader over one file
 * scan.c      the read-only scan of a directory that open and inspect
 *             share: valid prefix, first damage, proof search, verdict
 * segment.c   creating, sealing and deleting segment files
 * journal.c   the public calls (open, append, flush, read, ...)
 * meta.c      the term/vote file
 * inspect.c   the human listing
 *
 * Layout constants are here so the fuzz target and the tests can build and
 * damage files byte by byte; docs/DISK_FORMAT.md is the prose version.
 */
#ifndef TANDEM_JOURNAL_JOURNAL_INT_H
#define TANDEM_JOURNAL_JOURNAL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/fileops.h"
#include "journal/journal.h"

/* ---- format (format.c) ---- */

#define JOURNAL_FORMAT_VERSION         1u
#define JOURNAL_SEGMENT_MAGIC          "TNDMJSEG" /* 8 bytes, no NUL on disk */
#define JOURNAL_SEGMENT_HEADER_BYTES   64u
#define JOURNAL_SEGMENT_HEADER_CRC_OFF 60u
#define JOURNAL_SEGMENT_FLAG_BASE      1u /* the log starts here; older segments are obsolete */

#define JOURNAL_ENTRY_MAGIC          0x4e45544au /* "JTEN" in file order */
#define JOURNAL_ENTRY_HEADER_BYTES   44u
#define JOURNAL_ENTRY_HEADER_CRC_OFF 36u
#define JOURNAL_ENTRY_CRC_OFF        40u
#define JOURNAL_ENTRY_ALIGN_BYTES    8u
#define JOURNAL_ENTRY_BYTES_MIN      48u /* empty payload, padded */

/* Largest payload a reader accepts on disk, whatever the options said when
 * it was written; also the largest segment file a reader accepts (offsets
 * are kept as u32). */
#define JOURNAL_PAYLOAD_BYTES_FORMAT_MAX TANDEM_JOURNAL_ENTRY_SIZE_BYTES_MAX
#define JOURNAL_SEGMENT_BYTES_FORMAT_MAX ((uint64_t)UINT32_MAX)
/* Indexes and segment numbers stay far below UINT64_MAX, so "+ 1" never
 * wraps, whatever a damaged file says: larger values are damage. */
#define JOURNAL_INDEX_MAX          ((uint64_t)1 << 62)
#define JOURNAL_SEGMENT_NUMBER_MAX ((uint64_t)1 << 62)
/* A directory with more segment files than this is refused. */
#define JOURNAL_SEGMENT_COUNT_MAX ((size_t)1 << 20)

#define JOURNAL_SEGMENT_PREFIX "journal-"
#define JOURNAL_SEGMENT_SUFFIX ".seg"
#define JOURNAL_TMP_SUFFIX     ".tmp"
#define JOURNAL_SEGMENT_DIGITS 20
#define JOURNAL_META_NAME      "raft-meta"
#define JOURNAL_PATH_BYTES     4096
#define JOURNAL_META_BYTES     36u
#define JOURNAL_META_MAGIC     "TNDMMETA"

_Static_assert(JOURNAL_ENTRY_HEADER_CRC_OFF + 4 == JOURNAL_ENTRY_CRC_OFF, "entry header layout");
_Static_assert(JOURNAL_ENTRY_CRC_OFF + 4 == JOURNAL_ENTRY_HEADER_BYTES, "entry header layout");
_Static_assert(JOURNAL_ENTRY_BYTES_MIN % JOURNAL_ENTRY_ALIGN_BYTES == 0, "aligned minimum");
_Static_assert(JOURNAL_ENTRY_BYTES_MIN >= JOURNAL_ENTRY_HEADER_BYTES, "minimum holds a header");
_Static_assert(JOURNAL_SEGMENT_HEADER_BYTES % JOURNAL_ENTRY_ALIGN_BYTES == 0, "aligned entries");
_Static_assert(TANDEM_JOURNAL_SEGMENT_SIZE_BYTES_MAX <= JOURNAL_SEGMENT_BYTES_FORMAT_MAX,
               "offsets fit in u32");
_Static_assert(TANDEM_JOURNAL_DIR_PATH_BYTES_MAX + 64 < JOURNAL_PATH_BYTES, "paths fit");

typedef struct journal_segment_header {
    uint32_t version;
    uint64_t number;      /* also in the file name */
    uint64_t first_index; /* index of the first entry the segment holds or will hold */
    uint64_t prev_term;   /* term of first_index - 1 (0 when none) */
    uint32_t flags;       /* JOURNAL_SEGMENT_FLAG_* */
} journal_segment_header;

typedef struct journal_entry_header {
    uint32_t payload_size_bytes;
    uint64_t index;
    uint64_t term;
    uint64_t synced_index; /* journal's durable index when the entry was written */
    uint8_t kind;
    uint32_t entry_crc; /* crc32c of header bytes [0, 40) and the payload */
} journal_entry_header;

void journal_segment_header_encode(const journal_segment_header *h,
                                   uint8_t out[JOURNAL_SEGMENT_HEADER_BYTES]);
/* TANDEM_OK; TANDEM_EINCOMPLETE when len < header size; TANDEM_EFORMAT for
 * another version (magic right); TANDEM_ECORRUPT otherwise. *reason is a
 * static phrase for messages on any failure. */
int journal_segment_header_decode(const uint8_t *p, size_t len, journal_segment_header *h,
                                  const char **reason);

/* Encodes the 44 header bytes for an entry with this payload (computing
 * both checksums; h->entry_crc is ignored and set). */
void journal_entry_header_encode(journal_entry_header *h, const void *payload,
                                 uint8_t out[JOURNAL_ENTRY_HEADER_BYTES]);
/* Decodes and checks what the header alone can prove: magic, header
 * checksum, reserved bytes, kind, synced_index < index, payload size <=
 * the format maximum. Does not check the payload checksum (see
 * journal_entry_payload_ok). TANDEM_EINCOMPLETE when len is short,
 * TANDEM_ECORRUPT with *reason otherwise. */
int journal_entry_header_decode(const uint8_t *p, size_t len, journal_entry_header *h,
                                const char **reason);
/* True when the payload matches the entry checksum of a decoded header
 * (header_bytes: the 44 raw bytes). */
bool journal_entry_payload_ok(const uint8_t *header_bytes, const journal_entry_header *h,
                              const uint8_t *payload);
/* Bytes an entry with this payload occupies on disk, padding included. */
uint64_t journal_entry_size_bytes(uint64_t payload_size_bytes);
const char *journal_kind_name(uint8_t kind);

/* "<dir>/journal-<20 digits>.seg" (or with .tmp appended). TANDEM_ETOOBIG
 * when it does not fit in out. */
int journal_segment_path(const char *dir, uint64_t number, bool tmp, char *out, size_t out_size);
/* Copies dir without trailing slashes (paths are built as "<dir>/<name>"
 * and must be spelled the same way every time). TANDEM_EINVAL when it is
 * empty or longer than TANDEM_JOURNAL_DIR_PATH_BYTES_MAX. */
int journal_dir_normalise(const char *dir, char *out, size_t out_size, tandem_diag *diag);
/* Parses a segment file name: 1 for a segment, 2 for a segment's temporary
 * file, 0 for anything else. */
int journal_segment_name_parse(const char *name, uint64_t *number);

/* ---- in-memory index (index.c) ---- */

typedef struct journal_segment {
    uint64_t number;
    uint64_t first_index;
    uint64_t prev_term;
    uint32_t flags;
    uint64_t count;       /* entries held */
    uint32_t *offsets;    /* [count] byte offset of each entry; owned */
    uint64_t offsets_cap; /* allocated slots */
    uint64_t end_bytes;   /* offset just after the last entry */
} journal_segment;

typedef struct journal_term_run {
    uint64_t first_index; /* the run covers [first_index, next run's first_index) */
    uint64_t term;
} journal_term_run;

typedef struct journal_index {
    journal_segment *segs; /* owned; ascending numbers, contiguous indexes */
    size_t seg_count;
    size_t seg_cap;
    journal_term_run *runs; /* owned; ascending */
    size_t run_count;
    size_t run_cap;
} journal_index;

void journal_index_init(journal_index *x);
void journal_index_free(journal_index *x);
/* Adds an empty segment at the end. TANDEM_ENOMEM, TANDEM_ERANGE (too many). */
int journal_index_push_segment(journal_index *x, const journal_segment_header *h);
/* Records the next entry of the last segment at offset with its term.
 * Growth is bounded by max_entries for the segment (TANDEM_ERANGE). */
int journal_index_add_entry(journal_index *x, uint32_t offset, uint64_t term, uint64_t size_bytes,
                            uint64_t max_entries);
/* Makes room for one more entry in the last segment without adding it, so
 * a caller can fail with ENOMEM before it changes anything else. */
int journal_index_reserve_entry(journal_index *x, uint64_t max_entries);
/* Drops every entry >= index and every segment that then starts after
 * index - 1 except the first one. */
void journal_index_truncate(journal_index *x, uint64_t index);
/* Drops the first n segments. */
void journal_index_drop_front(journal_index *x, size_t n);
uint64_t journal_index_first(const journal_index *x);
uint64_t journal_index_last(const journal_index *x);
/* Term of index in [first - 1, last]; false outside. */
bool journal_index_term_at(const journal_index *x, uint64_t index, uint64_t *term);
/* Position of the segment holding index (which must be in [first, last]). */
size_t journal_index_find(const journal_index *x, uint64_t index);

/* ---- buffered reader (reader.c) ---- */

typedef struct journal_reader {
    tandem_fileops *ops; /* not owned */
    int fd;              /* not owned */
    uint64_t file_size_bytes;
    uint8_t *buf; /* owned */
    size_t cap;
    uint64_t buf_off;
    size_t buf_len;
} journal_reader;

/* fd must stay open while the reader is used. */
void journal_reader_init(journal_reader *r, tandem_fileops *ops, int fd, uint64_t size_bytes);
void journal_reader_free(journal_reader *r);
/* Points *p at len bytes of the file at off (valid until the next call).
 * TANDEM_EINCOMPLETE when the file ends first; I/O errors as returned. */
int journal_reader_peek(journal_reader *r, uint64_t off, size_t len, const uint8_t **p);

/* ---- directory scan (scan.c) ---- */

enum journal_verdict {
    JOURNAL_CLEAN = 0,   /* every file valid to its end */
    JOURNAL_TORN = 1,    /* damage nobody proves durable: truncate there */
    JOURNAL_CORRUPT = 2, /* damage in entries proven durable: refuse */
};

typedef struct journal_damage {
    size_t seg_pos;        /* position in journal_plan.numbers of the damaged file */
    bool header;           /* the segment header itself is damaged */
    uint64_t offset;       /* byte offset of the damage in that file */
    uint64_t index;        /* index expected there */
    char reason[160];      /* what is wrong, for messages */
    bool proven;           /* a later entry proves `index` durable */
    uint64_t proof_number; /* that entry's segment, offset, index, synced_index */
    uint64_t proof_offset;
    uint64_t proof_index;
    uint64_t proof_synced_index;
} journal_damage;

typedef struct journal_plan {
    uint64_t *numbers; /* owned; every segment file number, ascending */
    size_t number_count;
    size_t start;          /* numbers[0, start) are obsolete (before the last reset) */
    uint64_t *tmp_numbers; /* owned; leftover temporary segment files */
    size_t tmp_count;
    journal_index index;   /* the valid prefix from numbers[start]; segment i is numbers[start+i] */
    int verdict;           /* enum journal_verdict */
    journal_damage damage; /* when verdict != JOURNAL_CLEAN */
    char message[400];     /* human summary of the verdict */
} journal_plan;

/* Called by the scan for what inspect prints; every member may be NULL. */
typedef struct journal_scan_visitor {
    void *arg;
    /* A segment is about to be scanned; h NULL when its header is damaged
     * (problem says why) or when it is obsolete (problem says so). */
    void (*segment)(void *arg, const char *path, uint64_t number, const journal_segment_header *h,
                    uint64_t size_bytes, const char *problem);
    /* A valid entry of the prefix, payload included. */
    void (*entry)(void *arg, uint64_t offset, const journal_entry_header *h,
                  const uint8_t *payload);
    /* The first damage. */
    void (*damage)(void *arg, const char *path, const journal_damage *d);
    /* A valid entry header found after the damage by resynchronisation. */
    void (*candidate)(void *arg, const char *path, uint64_t offset, const journal_entry_header *h);
} journal_scan_visitor;

/* Scans dir (normalised) read-only and fills plan (journal_plan_free releases it, also
 * after a failure). Returns 0 when a verdict was reached (even CORRUPT),
 * TANDEM_EFORMAT for a newer segment format, I/O errors, TANDEM_ENOMEM. */
int journal_scan(tandem_fileops *ops, const char *dir, const journal_scan_visitor *v,
                 journal_plan *plan, tandem_diag *diag);
void journal_plan_free(journal_plan *plan);

/* ---- segment files (segment.c) ---- */

/* Creates the segment file durably: temporary name, header, fsync, rename,
 * directory fsync. Afterwards the file exists under its name with a
 * durable header. */
int journal_segment_create(tandem_fileops *ops, const char *dir, const journal_segment_header *h,
                           tandem_diag *diag);
/* Unlinks a segment file (no directory sync). */
int journal_segment_unlink(tandem_fileops *ops, const char *dir, uint64_t number, bool tmp,
                           tandem_diag *diag);
/* Opens a segment file for reading and writing. */
int journal_segment_open(tandem_fileops *ops, const char *dir, uint64_t number, bool write, int *fd,
                         tandem_diag *diag);

#endif
