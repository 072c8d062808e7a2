/*
 * raft_message.c — the wire codec of Raft messages (docs/RAFT.md, "Message
 * frame"): a 12-byte header (magic, version, type, body length, CRC32C of the
 * body) and a body of fixed fields, the entries (APPEND, SNAPSHOT) and the
 * snapshot chunk (SNAPSHOT). Version 2 added the sender's incarnation and
 * the forced-reconfiguration messages (FORCE, FORCE_VOTE and FORCE_WON carry
 * the forced configuration as their one entry).
 * Decoding checks the checksum before it trusts a length, bounds every count
 * by the bytes present, and never reads past the frame.
 */
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/crc32c.h"
#include "journal/journal.h"
#include "raft/raft_int.h"

#define MSG_MAGIC              0x5254u /* "TR" little-endian */
#define MSG_HEADER_BYTES       12
#define MSG_FIXED_BODY_BYTES   77
#define MSG_ENTRY_HEADER_BYTES 13
#define MSG_ENTRIES_MAX        65536u

_Static_assert(MSG_FIXED_BODY_BYTES == 1 + 9 * 8 + 4, "fixed body layout");
_Static_assert(MSG_ENTRY_HEADER_BYTES == 8 + 1 + 4, "entry header layout");

int tandem_raft_message_encode(const tandem_raft_message *m, tandem_buf *b)
{
    TANDEM_ASSERT(m != NULL && b != NULL);
    TANDEM_ASSERT(m->n_entries == 0 || m->entries != NULL);
    TANDEM_ASSERT(m->chunk_size_bytes == 0 || m->chunk != NULL);
    if (m->n_entries > MSG_ENTRIES_MAX || m->chunk_size_bytes > TANDEM_RAFT_CHUNK_SIZE_BYTES_MAX) {
        return TANDEM_ETOOBIG;
    }
    size_t start = b->len;
    uint8_t *header = NULL;
    int rc = tandem_buf_put_zeros(b, MSG_HEADER_BYTES, &header);
    rc = rc ? rc : tandem_buf_put_u8(b, m->flags);
    const uint64_t fixed[9] = {m->from,  m->to,       m->term,   m->epoch, m->incarnation,
                               m->index, m->log_term, m->commit, m->hint};
    for (int i = 0; i < 9 && rc == 0; i++) {
        rc = tandem_buf_put_u64(b, fixed[i]);
    }
    rc = rc ? rc : tandem_buf_put_u32(b, m->n_entries);
    for (uint32_t i = 0; i < m->n_entries && rc == 0; i++) {
        const tandem_raft_entry *e = &m->entries[i];
        rc = tandem_buf_put_u64(b, e->term);
        rc = rc ? rc : tandem_buf_put_u8(b, e->kind);
        rc = rc ? rc : tandem_buf_put_u32(b, e->size_bytes);
        rc = rc ? rc : tandem_buf_append(b, e->payload, e->size_bytes);
    }
    rc = rc ? rc : tandem_buf_put_u32(b, m->chunk_size_bytes);
    rc = rc ? rc : tandem_buf_append(b, m->chunk, m->chunk_size_bytes);
    if (rc == 0 && b->len - start - MSG_HEADER_BYTES > UINT32_MAX) {
        rc = TANDEM_ETOOBIG;
    }
    if (rc != 0) {
        tandem_buf_truncate(b, start);
        return rc;
    }
    header = b->data + start; /* the buffer may have moved */
    size_t body = b->len - start - MSG_HEADER_BYTES;
    tandem_store_u16(header, MSG_MAGIC);
    header[2] = TANDEM_RAFT_MSG_VERSION;
    header[3] = m->type;
    tandem_store_u32(header + 4, (uint32_t)body);
    tandem_store_u32(header + 8, tandem_crc32c(0, header + MSG_HEADER_BYTES, body));
    TANDEM_ASSERT(b->len >= start + MSG_HEADER_BYTES + MSG_FIXED_BODY_BYTES);
    return TANDEM_OK;
}

static int grow_entries(tandem_raft_entry **storage, size_t *capacity, uint32_t n)
{
    if (*capacity >= n) {
        return TANDEM_OK;
    }
    tandem_raft_entry *e = realloc(*storage, (size_t)n * sizeof(*e));
    if (e == NULL) {
        return TANDEM_ENOMEM;
    }
    *storage = e;
    *capacity = n;
    return TANDEM_OK;
}

static int decode_entries(tandem_reader *rd, tandem_raft_message *m, tandem_raft_entry **storage,
                          size_t *capacity, tandem_diag *diag)
{
    if (m->n_entries > MSG_ENTRIES_MAX ||
        (size_t)m->n_entries * MSG_ENTRY_HEADER_BYTES > tandem_reader_left(rd)) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "raft message: %u entries cannot fit",
                               m->n_entries);
    }
    if (m->n_entries == 0) {
        return TANDEM_OK;
    }
    if (m->type != TANDEM_RAFT_MSG_APPEND && m->type != TANDEM_RAFT_MSG_SNAPSHOT &&
        m->type != TANDEM_RAFT_MSG_FORCE && m->type != TANDEM_RAFT_MSG_FORCE_VOTE &&
        m->type != TANDEM_RAFT_MSG_FORCE_WON) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "raft message: entries in a type %u",
                               m->type);
    }
    if (grow_entries(storage, capacity, m->n_entries) != 0) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "raft message: out of memory");
    }
    tandem_raft_entry *es = *storage;
    for (uint32_t i = 0; i < m->n_entries; i++) {
        es[i].term = tandem_read_u64(rd);
        es[i].kind = tandem_read_u8(rd);
        es[i].size_bytes = tandem_read_u32(rd);
        es[i].payload = es[i].size_bytes > 0 ? tandem_read_bytes(rd, es[i].size_bytes) : NULL;
        if (rd->failed) {
            return tandem_diag_set(diag, TANDEM_ECORRUPT,
                                   "raft message: entry %u overruns the frame", i);
        }
        if (es[i].kind < TANDEM_JOURNAL_DATA || es[i].kind > TANDEM_JOURNAL_NOOP) {
            return tandem_diag_set(diag, TANDEM_ECORRUPT, "raft message: entry %u has kind %u", i,
                                   es[i].kind);
        }
    }
    m->entries = es;
    return TANDEM_OK;
}

int tandem_raft_message_decode(const uint8_t *data, size_t size, tandem_raft_message *m,
                               tandem_raft_entry **entries_storage, size_t *entries_capacity,
                               tandem_diag *diag)
{
    TANDEM_ASSERT(m != NULL && entries_storage != NULL && entries_capacity != NULL);
    TANDEM_ASSERT(data != NULL || size == 0);
    memset(m, 0, sizeof(*m));
    if (size < MSG_HEADER_BYTES) {
        return tandem_diag_set(diag, TANDEM_EINCOMPLETE, "raft message: %zu of %d header bytes",
                               size, MSG_HEADER_BYTES);
    }
    if (tandem_load_u16(data) != MSG_MAGIC) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "raft message: bad magic 0x%04x",
                               tandem_load_u16(data));
    }
    if (data[2] != TANDEM_RAFT_MSG_VERSION) {
        return tandem_diag_set(diag, TANDEM_EFORMAT, "raft message: version %u unsupported",
                               data[2]);
    }
    uint32_t body = tandem_load_u32(data + 4);
    if ((uint64_t)body + MSG_HEADER_BYTES > size) {
        return tandem_diag_set(diag, TANDEM_EINCOMPLETE,
                               "raft message: frame of %u body bytes, %zu present", body,
                               size - MSG_HEADER_BYTES);
    }
    if ((uint64_t)body + MSG_HEADER_BYTES != size) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "raft message: %zu bytes after the frame",
                               size - MSG_HEADER_BYTES - body);
    }
    if (tandem_crc32c(0, data + MSG_HEADER_BYTES, body) != tandem_load_u32(data + 8)) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "raft message: checksum mismatch");
    }
    m->type = data[3];
    if (m->type < TANDEM_RAFT_MSG_APPEND || m->type > TANDEM_RAFT_MSG_FORCE_WON) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "raft message: unknown type %u", m->type);
    }
    tandem_reader rd;
    tandem_reader_init(&rd, data + MSG_HEADER_BYTES, body);
    m->flags = tandem_read_u8(&rd);
    uint64_t *fixed[9] = {&m->from,  &m->to,       &m->term,   &m->epoch, &m->incarnation,
                          &m->index, &m->log_term, &m->commit, &m->hint};
    for (int i = 0; i < 9; i++) {
        *fixed[i] = tandem_read_u64(&rd);
    }
    m->n_entries = tandem_read_u32(&rd);
    if (rd.failed) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "raft message: body of %u bytes too short",
                               body);
    }
    int rc = decode_entries(&rd, m, entries_storage, entries_capacity, diag);
    if (rc != 0) {
        m->n_entries = 0;
        m->entries = NULL;
        return rc;
    }
    m->chunk_size_bytes = tandem_read_u32(&rd);
    if (m->chunk_size_bytes > 0) {
        m->chunk = tandem_read_bytes(&rd, m->chunk_size_bytes);
    }
    const char *why = NULL;
    if (rd.failed) {
        why = "chunk overruns the frame";
    } else if (m->chunk_size_bytes > 0 && m->type != TANDEM_RAFT_MSG_SNAPSHOT) {
        why = "chunk in a message that is not a snapshot";
    } else if (m->chunk_size_bytes > TANDEM_RAFT_CHUNK_SIZE_BYTES_MAX) {
        why = "chunk larger than the limit";
    } else if (tandem_reader_left(&rd) != 0) {
        why = "trailing bytes";
    }
    if (why != NULL) {
        m->n_entries = 0;
        m->entries = NULL;
        m->chunk_size_bytes = 0;
        m->chunk = NULL;
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "raft message: %s", why);
    }
    TANDEM_ASSERT(rd.off == body);
    return TANDEM_OK;
}
