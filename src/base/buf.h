/*
 * buf.h — growable byte buffers for encoding, and bounded readers for
 * decoding, with little-endian integer helpers.
 *
 * Every on-disk and on-wire format of tandem is little-endian and is written
 * through tandem_buf and read through tandem_reader, so byte order lives in one
 * place. A reader never reads past its end: a short read sets the sticky
 * `failed` flag and returns zeros, so a decoder can read a whole header and
 * check `failed` once.
 */
#ifndef TANDEM_BASE_BUF_H
#define TANDEM_BASE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tandem_buf {
    uint8_t *data; /* read-only: owned by the buffer, valid until the next append or free */
    size_t len;    /* read-only: bytes in use */
    size_t cap;    /* private */
} tandem_buf;

#define TANDEM_BUF_INIT                                                                            \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void tandem_buf_init(tandem_buf *b);
void tandem_buf_free(tandem_buf *b);
/* Keeps the allocation, forgets the content. */
void tandem_buf_reset(tandem_buf *b);
/* Forgets the bytes after the first `len` (len <= b->len, asserted); keeps the
 * allocation. Lets an encoder undo a partial append. */
void tandem_buf_truncate(tandem_buf *b, size_t len);
/* Ensures room for `extra` more bytes. TANDEM_ENOMEM on failure (buffer unchanged). */
int tandem_buf_reserve(tandem_buf *b, size_t extra);
int tandem_buf_append(tandem_buf *b, const void *data, size_t len);
int tandem_buf_put_u8(tandem_buf *b, uint8_t v);
int tandem_buf_put_u16(tandem_buf *b, uint16_t v);
int tandem_buf_put_u32(tandem_buf *b, uint32_t v);
int tandem_buf_put_u64(tandem_buf *b, uint64_t v);
/* Unsigned LEB128 varint (1..10 bytes). */
int tandem_buf_put_varint(tandem_buf *b, uint64_t v);
/* Appends `len` zero bytes and returns a pointer to them through *out (valid
 * until the next append), for fields filled in later (lengths, checksums). */
int tandem_buf_put_zeros(tandem_buf *b, size_t len, uint8_t **out);

/* Little-endian stores and loads on raw memory. */
void tandem_store_u16(uint8_t *p, uint16_t v);
void tandem_store_u32(uint8_t *p, uint32_t v);
void tandem_store_u64(uint8_t *p, uint64_t v);
uint16_t tandem_load_u16(const uint8_t *p);
uint32_t tandem_load_u32(const uint8_t *p);
uint64_t tandem_load_u64(const uint8_t *p);

typedef struct tandem_reader {
    const uint8_t *data; /* private: not owned */
    size_t len;          /* private */
    size_t off;          /* read-only: bytes consumed so far */
    bool failed;         /* read-only: sticky, set by any read past the end or bad varint */
} tandem_reader;

void tandem_reader_init(tandem_reader *r, const void *data, size_t len);
size_t tandem_reader_left(const tandem_reader *r);
uint8_t tandem_read_u8(tandem_reader *r);
uint16_t tandem_read_u16(tandem_reader *r);
uint32_t tandem_read_u32(tandem_reader *r);
uint64_t tandem_read_u64(tandem_reader *r);
uint64_t tandem_read_varint(tandem_reader *r);
/* Returns a pointer into the reader's memory (valid as long as that memory),
 * or NULL and sets `failed` when fewer than len bytes are left. */
const uint8_t *tandem_read_bytes(tandem_reader *r, size_t len);

#endif
