/*
 * Snapshots of the state store (see kv.h; the file layout is in
 * docs/STATE_FORMAT.md).
 *
 * One backend-neutral format for both backends: the snapshot is written from
 * a read transaction through the public cursor API, so it is consistent while
 * writers commit, compact (no free pages) and readable by either backend. A
 * CRC32C over the whole file is checked before a single entry is believed,
 * and the structure is checked again while loading, inside one write
 * transaction, so a bad file never changes the state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/buf.h"
#include "base/crc32c.h"
#include "state/kv_int.h"

#define SNAP_MAGIC         "TNDMSNAP"
#define SNAP_MAGIC_BYTES   8
#define SNAP_VERSION       1
#define SNAP_HEADER_BYTES  24 /* magic, u32 version, u32 table count, u64 applied position */
#define SNAP_TRAILER_BYTES 13 /* 'Z', u64 entry count, u32 crc32c */
#define SNAP_TAG_TABLE     'T'
#define SNAP_TAG_ENTRY     'E'
#define SNAP_TAG_END       'Z'
#define SNAP_IO_BYTES      (64u * 1024u)

_Static_assert(SNAP_HEADER_BYTES == SNAP_MAGIC_BYTES + 4 + 4 + 8, "header layout");
_Static_assert(SNAP_TRAILER_BYTES == 1 + 8 + 4, "trailer layout");

/* --- buffered writing with a running checksum --- */

typedef struct snap_writer {
    tandem_fileops *ops;
    int fd;
    const char *path;
    uint64_t off; /* file offset of buf[0] */
    uint32_t crc;
    size_t len;
    uint8_t buf[SNAP_IO_BYTES];
} snap_writer;

static int writer_flush(snap_writer *w, tandem_diag *diag)
{
    TANDEM_ASSERT(w != NULL && w->len <= sizeof(w->buf));
    TANDEM_ASSERT(w->fd >= 0 && w->ops != NULL);
    if (w->len == 0) {
        return TANDEM_OK;
    }
    int rc = w->ops->pwrite(w->ops, w->fd, w->buf, w->len, w->off);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "write snapshot %s at offset %llu: %s", w->path,
                               (unsigned long long)w->off, tandem_strerror(rc));
    }
    w->off += w->len;
    w->len = 0;
    return TANDEM_OK;
}

static int writer_put(snap_writer *w, const void *data, size_t len, tandem_diag *diag)
{
    TANDEM_ASSERT(w != NULL && (data != NULL || len == 0));
    w->crc = tandem_crc32c(w->crc, data, len);
    if (len > sizeof(w->buf) - w->len) {
        int rc = writer_flush(w, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
    }
    if (len >= sizeof(w->buf)) {
        /* Large values go straight to the file. */
        int rc = w->ops->pwrite(w->ops, w->fd, data, len, w->off);
        if (rc != TANDEM_OK) {
            return tandem_diag_set(diag, rc, "write snapshot %s at offset %llu: %s", w->path,
                                   (unsigned long long)w->off, tandem_strerror(rc));
        }
        w->off += len;
        return TANDEM_OK;
    }
    memcpy(w->buf + w->len, data, len);
    w->len += len;
    TANDEM_ASSERT(w->len <= sizeof(w->buf));
    return TANDEM_OK;
}

static int writer_u8(snap_writer *w, uint8_t v, tandem_diag *diag)
{
    TANDEM_ASSERT(w != NULL);
    uint64_t before = w->off + w->len;
    int rc = writer_put(w, &v, 1, diag);
    TANDEM_ASSERT(rc != TANDEM_OK || w->off + w->len == before + 1);
    return rc;
}

static int writer_u32(snap_writer *w, uint32_t v, tandem_diag *diag)
{
    TANDEM_ASSERT(w != NULL);
    uint8_t b[4];
    tandem_store_u32(b, v);
    TANDEM_ASSERT(tandem_load_u32(b) == v);
    return writer_put(w, b, sizeof(b), diag);
}

static int writer_u64(snap_writer *w, uint64_t v, tandem_diag *diag)
{
    TANDEM_ASSERT(w != NULL);
    uint8_t b[8];
    tandem_store_u64(b, v);
    TANDEM_ASSERT(tandem_load_u64(b) == v);
    return writer_put(w, b, sizeof(b), diag);
}

/* Writes the records of one table; adds its entries to *entries. */
static int write_table(snap_writer *w, tandem_kv_txn *txn, uint32_t table, uint64_t *entries,
                       tandem_diag *diag)
{
    TANDEM_ASSERT(w != NULL && txn != NULL && entries != NULL);
    const char *name = tandem_kv_table_name(txn->kv, table);
    size_t name_len = strlen(name);
    TANDEM_ASSERT(name_len >= 1 && name_len <= TANDEM_KV_TABLE_NAME_MAX_BYTES);
    int rc = writer_u8(w, SNAP_TAG_TABLE, diag);
    if (rc == TANDEM_OK) {
        rc = writer_u8(w, (uint8_t)name_len, diag);
    }
    if (rc == TANDEM_OK) {
        rc = writer_put(w, name, name_len, diag);
    }
    if (rc != TANDEM_OK) {
        return rc;
    }
    tandem_kv_cursor *c = NULL;
    rc = tandem_kv_cursor_open(txn, table, &c, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    tandem_kv_val k;
    tandem_kv_val v;
    while ((rc = tandem_kv_cursor_next(c, &k, &v, diag)) == TANDEM_OK) {
        rc = writer_u8(w, SNAP_TAG_ENTRY, diag);
        if (rc == TANDEM_OK) {
            rc = writer_u32(w, (uint32_t)k.len, diag);
        }
        if (rc == TANDEM_OK) {
            rc = writer_u32(w, (uint32_t)v.len, diag);
        }
        if (rc == TANDEM_OK) {
            rc = writer_put(w, k.data, k.len, diag);
        }
        if (rc == TANDEM_OK) {
            rc = writer_put(w, v.data, v.len, diag);
        }
        if (rc != TANDEM_OK) {
            break;
        }
        (*entries)++;
    }
    tandem_kv_cursor_close(c);
    return rc == TANDEM_ENOENT ? TANDEM_OK : rc;
}

/* Header, every table in name order, trailer with the checksum. */
static int write_content(snap_writer *w, tandem_kv_txn *txn, tandem_diag *diag)
{
    TANDEM_ASSERT(w != NULL && txn != NULL);
    TANDEM_ASSERT(w->off == 0 && w->len == 0 && w->crc == 0);
    tandem_kv *kv = txn->kv;
    int rc = writer_put(w, SNAP_MAGIC, SNAP_MAGIC_BYTES, diag);
    if (rc == TANDEM_OK) {
        rc = writer_u32(w, SNAP_VERSION, diag);
    }
    if (rc == TANDEM_OK) {
        rc = writer_u32(w, kv->table_count, diag);
    }
    if (rc == TANDEM_OK) {
        rc = writer_u64(w, txn->applied_position, diag);
    }
    TANDEM_ASSERT(rc != TANDEM_OK || w->off + w->len == SNAP_HEADER_BYTES);
    uint64_t entries = 0;
    for (uint32_t i = 0; rc == TANDEM_OK && i < kv->table_count; i++) {
        rc = write_table(w, txn, kv->table_order[i], &entries, diag);
    }
    if (rc == TANDEM_OK) {
        rc = writer_u8(w, SNAP_TAG_END, diag);
    }
    if (rc == TANDEM_OK) {
        rc = writer_u64(w, entries, diag);
    }
    if (rc == TANDEM_OK) {
        uint32_t crc = w->crc; /* over every byte before it */
        rc = writer_u32(w, crc, diag);
    }
    if (rc == TANDEM_OK) {
        rc = writer_flush(w, diag);
    }
    return rc;
}

/* Writes the whole file under its temp name and syncs it; the handle is
 * closed whatever happens. */
static int write_file(snap_writer *w, tandem_kv_txn *txn, tandem_diag *diag)
{
    TANDEM_ASSERT(w != NULL && w->path != NULL);
    TANDEM_ASSERT(txn != NULL && !txn->write);
    tandem_fileops *ops = w->ops;
    int rc = ops->open(ops, w->path, TANDEM_OPEN_WRITE | TANDEM_OPEN_CREATE, &w->fd);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "create snapshot %s: %s", w->path, tandem_strerror(rc));
    }
    rc = ops->truncate(ops, w->fd, 0);
    if (rc != TANDEM_OK) {
        tandem_diag_set(diag, rc, "truncate snapshot %s: %s", w->path, tandem_strerror(rc));
    } else {
        rc = write_content(w, txn, diag);
    }
    if (rc == TANDEM_OK) {
        rc = ops->sync(ops, w->fd);
        if (rc != TANDEM_OK) {
            tandem_diag_set(diag, rc, "sync snapshot %s: %s", w->path, tandem_strerror(rc));
        }
    }
    int close_rc = ops->close(ops, w->fd);
    if (rc == TANDEM_OK && close_rc != TANDEM_OK) {
        rc = tandem_diag_set(diag, close_rc, "close snapshot %s: %s", w->path,
                             tandem_strerror(close_rc));
    }
    TANDEM_ASSERT(rc != TANDEM_OK || w->len == 0); /* everything reached the file */
    return rc;
}

/* Renames the synced temp file over the destination and syncs the
 * directory, which makes the new name durable. */
static int publish(tandem_fileops *ops, const char *tmp, const char *dest_path, tandem_diag *diag)
{
    TANDEM_ASSERT(ops != NULL && tmp != NULL && dest_path != NULL);
    char parent[KV_PATH_MAX_BYTES];
    int rc = tandem_path_parent(dest_path, parent, sizeof(parent));
    TANDEM_ASSERT(rc == TANDEM_OK); /* the caller checked the length */
    rc = ops->rename(ops, tmp, dest_path);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "rename snapshot %s to %s: %s", tmp, dest_path,
                               tandem_strerror(rc));
    }
    rc = ops->sync_dir(ops, parent);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "sync directory %s of snapshot %s: %s", parent, dest_path,
                               tandem_strerror(rc));
    }
    return TANDEM_OK;
}

int tandem_kv_snapshot(tandem_kv *kv, tandem_fileops *ops, const char *dest_path,
                       uint64_t *applied_position_out, tandem_diag *diag)
{
    TANDEM_ASSERT(kv != NULL && ops != NULL && dest_path != NULL);
    char tmp[KV_PATH_MAX_BYTES];
    if (strlen(dest_path) + sizeof(".tmp") > sizeof(tmp)) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "snapshot path %s is too long", dest_path);
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp", dest_path);
    snap_writer *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "snapshot %s: no memory", dest_path);
    }
    w->ops = ops;
    w->path = tmp;
    tandem_kv_txn *txn = NULL;
    int rc = tandem_kv_begin_read(kv, &txn, diag);
    if (rc != TANDEM_OK) {
        goto out_free;
    }
    rc = write_file(w, txn, diag);
    if (rc == TANDEM_OK) {
        rc = publish(ops, tmp, dest_path, diag);
    }
    if (rc != TANDEM_OK) {
        (void)ops->unlink(ops, tmp); /* best effort: a leftover temp file is only overwritten */
    } else if (applied_position_out != NULL) {
        *applied_position_out = txn->applied_position;
    }
    tandem_kv_abort(txn);
out_free:
    free(w);
    return rc;
}

/* --- reading --- */

typedef struct snap_reader {
    tandem_fileops *ops;
    int fd;
    const char *path;
    uint64_t size;
    uint64_t off; /* next byte to hand out */
    uint64_t buf_off;
    size_t buf_len;
    uint8_t buf[SNAP_IO_BYTES];
} snap_reader;

static int reader_fill(snap_reader *r, tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL && r->fd >= 0);
    TANDEM_ASSERT(r->off < r->size);
    uint64_t left = r->size - r->off;
    size_t want = left < sizeof(r->buf) ? (size_t)left : sizeof(r->buf);
    size_t got = 0;
    int rc = r->ops->pread(r->ops, r->fd, r->buf, want, r->off, &got);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "read snapshot %s at offset %llu: %s", r->path,
                               (unsigned long long)r->off, tandem_strerror(rc));
    }
    if (got != want) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "snapshot %s is damaged: it shrank while read (offset %llu)",
                               r->path, (unsigned long long)r->off);
    }
    r->buf_off = r->off;
    r->buf_len = got;
    TANDEM_ASSERT(r->buf_len > 0 && r->buf_len <= sizeof(r->buf));
    return TANDEM_OK;
}

/* Copies exactly len bytes at the current offset; reading past the end is
 * damage (the trailer says where the end is). */
static int reader_get(snap_reader *r, void *dst, size_t len, tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL && (dst != NULL || len == 0));
    if (len > r->size - r->off) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "snapshot %s is damaged: a record at offset %llu runs past the end",
                               r->path, (unsigned long long)r->off);
    }
    uint8_t *p = dst;
    while (len > 0) {
        if (r->off < r->buf_off || r->off >= r->buf_off + r->buf_len) {
            int rc = reader_fill(r, diag);
            if (rc != TANDEM_OK) {
                return rc;
            }
        }
        size_t at = (size_t)(r->off - r->buf_off);
        size_t n = r->buf_len - at < len ? r->buf_len - at : len;
        memcpy(p, r->buf + at, n);
        p += n;
        len -= n;
        r->off += n;
    }
    TANDEM_ASSERT(r->off <= r->size);
    return TANDEM_OK;
}

typedef struct snap_header {
    uint32_t version;
    uint32_t table_count;
    uint64_t applied_position;
} snap_header;

/* Checks the size, the header and the checksum of the whole file. */
static int verify_file(snap_reader *r, snap_header *h, tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL && h != NULL);
    int rc = r->ops->size(r->ops, r->fd, &r->size);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "size of snapshot %s: %s", r->path, tandem_strerror(rc));
    }
    if (r->size < SNAP_HEADER_BYTES + SNAP_TRAILER_BYTES) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "snapshot %s is damaged: %llu bytes is too short", r->path,
                               (unsigned long long)r->size);
    }
    uint8_t head[SNAP_HEADER_BYTES];
    rc = reader_get(r, head, sizeof(head), diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (memcmp(head, SNAP_MAGIC, SNAP_MAGIC_BYTES) != 0) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "snapshot %s is damaged or not a snapshot: bad magic", r->path);
    }
    h->version = tandem_load_u32(head + 8);
    h->table_count = tandem_load_u32(head + 12);
    h->applied_position = tandem_load_u64(head + 16);
    if (h->version > SNAP_VERSION) {
        return tandem_diag_set(diag, TANDEM_EFORMAT,
                               "snapshot %s has format version %u, this build reads up to %d",
                               r->path, h->version, SNAP_VERSION);
    }
    if (h->version == 0 || h->table_count > TANDEM_KV_TABLES_MAX) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "snapshot %s is damaged: version %u, %u tables", r->path, h->version,
                               h->table_count);
    }
    /* Checksum pass over everything before the stored checksum. */
    uint32_t crc = tandem_crc32c(0, head, sizeof(head));
    uint64_t crc_end = r->size - 4;
    while (r->off < crc_end) {
        uint8_t chunk[4096];
        size_t n = crc_end - r->off < sizeof(chunk) ? (size_t)(crc_end - r->off) : sizeof(chunk);
        rc = reader_get(r, chunk, n, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
        crc = tandem_crc32c(crc, chunk, n);
    }
    uint8_t stored[4];
    rc = reader_get(r, stored, sizeof(stored), diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (tandem_load_u32(stored) != crc) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "snapshot %s is damaged: checksum 0x%08x, stored 0x%08x", r->path,
                               crc, tandem_load_u32(stored));
    }
    TANDEM_ASSERT(r->off == r->size);
    return TANDEM_OK;
}

/* Where parsed records go: NULL callbacks only check the structure. */
typedef struct snap_sink {
    tandem_kv_txn *txn; /* NULL when only verifying */
    int table;          /* kv index of the current table, -1 before the first */
} snap_sink;

static int sink_table(snap_reader *r, snap_sink *s, const char *name, tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL && s != NULL);
    TANDEM_ASSERT(kv_table_name_valid(name, strlen(name)));
    if (s->txn == NULL) {
        return TANDEM_OK;
    }
    tandem_kv *kv = s->txn->kv;
    for (uint32_t i = 0; i < kv->table_count; i++) {
        if (strcmp(kv->table_names[i], name) == 0) {
            s->table = (int)i;
            return TANDEM_OK;
        }
    }
    return tandem_diag_set(diag, TANDEM_EFORMAT,
                           "snapshot %s has table \"%s\" that state %s does not have", r->path,
                           name, kv->path);
}

static int parse_table(snap_reader *r, snap_sink *s, char *prev_name, tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL && s != NULL && prev_name != NULL);
    TANDEM_ASSERT(r->off > SNAP_HEADER_BYTES); /* just past the tag */
    uint64_t at = r->off - 1;
    uint8_t len = 0;
    char name[TANDEM_KV_TABLE_NAME_MAX_BYTES + 1];
    int rc = reader_get(r, &len, 1, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (len == 0 || len > TANDEM_KV_TABLE_NAME_MAX_BYTES) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "snapshot %s is damaged: table name of %u bytes at offset %llu",
                               r->path, len, (unsigned long long)at);
    }
    rc = reader_get(r, name, len, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    name[len] = '\0';
    if (!kv_table_name_valid(name, len) || strcmp(prev_name, name) >= 0) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "snapshot %s is damaged: bad or out-of-order table name at offset "
                               "%llu",
                               r->path, (unsigned long long)at);
    }
    memcpy(prev_name, name, (size_t)len + 1);
    return sink_table(r, s, name, diag);
}

static int parse_entry(snap_reader *r, snap_sink *s, tandem_buf *prev_key, tandem_buf *entry,
                       tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL && s != NULL && prev_key != NULL && entry != NULL);
    TANDEM_ASSERT(r->off > SNAP_HEADER_BYTES);
    uint64_t at = r->off - 1;
    uint8_t lens[8];
    int rc = reader_get(r, lens, sizeof(lens), diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    uint32_t key_len = tandem_load_u32(lens);
    uint32_t val_len = tandem_load_u32(lens + 4);
    if (key_len == 0 || key_len > TANDEM_KV_KEY_MAX_BYTES || val_len > TANDEM_KV_VALUE_MAX_BYTES) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "snapshot %s is damaged: entry at offset %llu has a %u-byte key "
                               "and a %u-byte value",
                               r->path, (unsigned long long)at, key_len, val_len);
    }
    if ((uint64_t)key_len + val_len > r->size - r->off) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "snapshot %s is damaged: entry at offset %llu runs past the end",
                               r->path, (unsigned long long)at);
    }
    tandem_buf_reset(entry);
    if (tandem_buf_reserve(entry, (size_t)key_len + val_len) != TANDEM_OK) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "snapshot %s: no memory for an entry", r->path);
    }
    rc = reader_get(r, entry->data, (size_t)key_len + val_len, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    const uint8_t *key = entry->data;
    if (prev_key->len > 0 && kv_key_compare(prev_key->data, prev_key->len, key, key_len) >= 0) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "snapshot %s is damaged: keys out of order at offset %llu", r->path,
                               (unsigned long long)at);
    }
    tandem_buf_reset(prev_key);
    if (tandem_buf_append(prev_key, key, key_len) != TANDEM_OK) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "snapshot %s: no memory", r->path);
    }
    if (s->txn == NULL) {
        return TANDEM_OK;
    }
    TANDEM_ASSERT(s->table >= 0);
    return kv_put_append(s->txn, (uint32_t)s->table, key, key_len, key + key_len, val_len, diag);
}

/* Second pass: the records, in order, each checked, handed to the sink. */
static int parse_records(snap_reader *r, const snap_header *h, snap_sink *s, tandem_diag *diag)
{
    TANDEM_ASSERT(r != NULL && h != NULL && s != NULL);
    tandem_buf prev_key = TANDEM_BUF_INIT;
    tandem_buf entry = TANDEM_BUF_INIT;
    char prev_name[TANDEM_KV_TABLE_NAME_MAX_BYTES + 1] = "";
    uint64_t end = r->size - SNAP_TRAILER_BYTES;
    uint32_t tables = 0;
    uint64_t entries = 0;
    int rc = TANDEM_OK;
    r->off = SNAP_HEADER_BYTES;
    while (rc == TANDEM_OK && r->off < end) {
        uint8_t tag = 0;
        uint64_t at = r->off;
        rc = reader_get(r, &tag, 1, diag);
        if (rc != TANDEM_OK) {
            break;
        }
        if (tag == SNAP_TAG_TABLE && tables < h->table_count) {
            tables++;
            tandem_buf_reset(&prev_key);
            rc = parse_table(r, s, prev_name, diag);
        } else if (tag == SNAP_TAG_ENTRY && tables > 0) {
            entries++;
            rc = parse_entry(r, s, &prev_key, &entry, diag);
        } else {
            rc = tandem_diag_set(diag, TANDEM_ECORRUPT,
                                 "snapshot %s is damaged: unexpected record 0x%02x at offset %llu",
                                 r->path, tag, (unsigned long long)at);
        }
    }
    if (rc == TANDEM_OK) {
        uint8_t trailer[SNAP_TRAILER_BYTES];
        rc = r->off == end ? reader_get(r, trailer, sizeof(trailer), diag) : TANDEM_ECORRUPT;
        if (rc == TANDEM_OK && (trailer[0] != SNAP_TAG_END || tables != h->table_count ||
                                tandem_load_u64(trailer + 1) != entries)) {
            rc = TANDEM_ECORRUPT;
        }
        if (rc == TANDEM_ECORRUPT) {
            tandem_diag_set(diag, rc,
                            "snapshot %s is damaged: trailer does not match %u tables and %llu "
                            "entries",
                            r->path, tables, (unsigned long long)entries);
        }
    }
    tandem_buf_free(&prev_key);
    tandem_buf_free(&entry);
    return rc;
}

/* Opens, verifies and (with a sink) loads a snapshot. */
static int read_snapshot(tandem_fileops *ops, const char *path, snap_sink *s, snap_header *h,
                         tandem_diag *diag)
{
    TANDEM_ASSERT(ops != NULL && path != NULL && h != NULL);
    snap_reader *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "snapshot %s: no memory", path);
    }
    r->ops = ops;
    r->path = path;
    int rc = ops->open(ops, path, TANDEM_OPEN_READ, &r->fd);
    if (rc != TANDEM_OK) {
        tandem_diag_set(diag, rc, "open snapshot %s: %s", path, tandem_strerror(rc));
        free(r);
        return rc;
    }
    rc = verify_file(r, h, diag);
    if (rc == TANDEM_OK) {
        rc = parse_records(r, h, s, diag);
    }
    TANDEM_ASSERT(rc != TANDEM_OK || r->off == r->size); /* every byte was accounted for */
    ops->close(ops, r->fd);
    free(r);
    return rc;
}

int tandem_kv_snapshot_verify(tandem_fileops *ops, const char *path, uint64_t *applied_position_out,
                              tandem_diag *diag)
{
    TANDEM_ASSERT(ops != NULL && path != NULL);
    snap_sink sink = {NULL, -1};
    snap_header h;
    int rc = read_snapshot(ops, path, &sink, &h, diag);
    TANDEM_ASSERT(rc != TANDEM_OK || (h.version >= 1 && h.version <= SNAP_VERSION));
    if (rc == TANDEM_OK && applied_position_out != NULL) {
        *applied_position_out = h.applied_position;
    }
    return rc;
}

int tandem_kv_restore(tandem_kv *kv, tandem_fileops *ops, const char *path, tandem_diag *diag)
{
    TANDEM_ASSERT(kv != NULL && ops != NULL && path != NULL);
    /* Checksum and structure first, so damage is reported as damage (not
     * as whatever the loading trips over first) and costs no transaction. */
    int rc = tandem_kv_snapshot_verify(ops, path, NULL, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    tandem_kv_txn *txn = NULL;
    rc = tandem_kv_begin_write(kv, &txn, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    txn->allow_position_back = true;
    for (uint32_t i = 0; rc == TANDEM_OK && i < kv->table_count; i++) {
        rc = tandem_kv_clear(txn, i, diag);
    }
    /* Read again with the checksum checked again: the file may have
     * changed since. Any error aborts the transaction, so a bad file
     * leaves the state as it was. */
    snap_sink sink = {txn, -1};
    snap_header h;
    if (rc == TANDEM_OK) {
        rc = read_snapshot(ops, path, &sink, &h, diag);
    }
    if (rc != TANDEM_OK) {
        tandem_kv_abort(txn);
        return rc;
    }
    TANDEM_ASSERT(h.version >= 1 && h.version <= SNAP_VERSION);
    return tandem_kv_commit(txn, h.applied_position, diag);
}
