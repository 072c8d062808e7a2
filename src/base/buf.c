#include "base/buf.h"

#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/error.h"

void tandem_buf_init(tandem_buf *b)
{
    TANDEM_ASSERT(b != NULL);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void tandem_buf_free(tandem_buf *b)
{
    TANDEM_ASSERT(b != NULL);
    free(b->data);
    tandem_buf_init(b);
}

void tandem_buf_reset(tandem_buf *b)
{
    TANDEM_ASSERT(b != NULL);
    b->len = 0;
}

void tandem_buf_truncate(tandem_buf *b, size_t len)
{
    TANDEM_ASSERT(b != NULL);
    TANDEM_ASSERT(len <= b->len);
    b->len = len;
}

int tandem_buf_reserve(tandem_buf *b, size_t extra)
{
    TANDEM_ASSERT(b != NULL);
    TANDEM_ASSERT(b->len <= b->cap);
    if (extra > SIZE_MAX / 2 - b->len) {
        return TANDEM_ENOMEM;
    }
    size_t need = b->len + extra;
    if (need <= b->cap) {
        return TANDEM_OK;
    }
    size_t cap = b->cap < 64 ? 64 : b->cap;
    while (cap < need) {
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL) {
        return TANDEM_ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return TANDEM_OK;
}

int tandem_buf_append(tandem_buf *b, const void *data, size_t len)
{
    TANDEM_ASSERT(data != NULL || len == 0);
    int rc = tandem_buf_reserve(b, len);
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (len > 0) {
        memcpy(b->data + b->len, data, len);
    }
    b->len += len;
    return TANDEM_OK;
}

int tandem_buf_put_u8(tandem_buf *b, uint8_t v)
{
    return tandem_buf_append(b, &v, 1);
}

int tandem_buf_put_u16(tandem_buf *b, uint16_t v)
{
    uint8_t tmp[2];
    tandem_store_u16(tmp, v);
    return tandem_buf_append(b, tmp, sizeof(tmp));
}

int tandem_buf_put_u32(tandem_buf *b, uint32_t v)
{
    uint8_t tmp[4];
    tandem_store_u32(tmp, v);
    return tandem_buf_append(b, tmp, sizeof(tmp));
}

int tandem_buf_put_u64(tandem_buf *b, uint64_t v)
{
    uint8_t tmp[8];
    tandem_store_u64(tmp, v);
    return tandem_buf_append(b, tmp, sizeof(tmp));
}

int tandem_buf_put_varint(tandem_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        uint8_t byte = (uint8_t)(v & 0x7f);
        v >>= 7;
        tmp[n++] = (uint8_t)(byte | (v != 0 ? 0x80 : 0));
    } while (v != 0);
    TANDEM_ASSERT(n <= sizeof(tmp));
    return tandem_buf_append(b, tmp, n);
}

int tandem_buf_put_zeros(tandem_buf *b, size_t len, uint8_t **out)
{
    if (len == 0) {
        /* no arithmetic on a NULL data pointer (undefined even for + 0) */
        if (out != NULL) {
            *out = b->data != NULL ? b->data + b->len : NULL;
        }
        return TANDEM_OK;
    }
    int rc = tandem_buf_reserve(b, len);
    if (rc != TANDEM_OK) {
        return rc;
    }
    memset(b->data + b->len, 0, len);
    if (out != NULL) {
        *out = b->data + b->len;
    }
    b->len += len;
    return TANDEM_OK;
}

void tandem_store_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void tandem_store_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

void tandem_store_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

uint16_t tandem_load_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t tandem_load_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

uint64_t tandem_load_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

void tandem_reader_init(tandem_reader *r, const void *data, size_t len)
{
    TANDEM_ASSERT(r != NULL);
    TANDEM_ASSERT(data != NULL || len == 0);
    r->data = data;
    r->len = len;
    r->off = 0;
    r->failed = false;
}

size_t tandem_reader_left(const tandem_reader *r)
{
    TANDEM_ASSERT(r->off <= r->len);
    return r->len - r->off;
}

const uint8_t *tandem_read_bytes(tandem_reader *r, size_t len)
{
    if (r->failed || len > tandem_reader_left(r)) {
        r->failed = true;
        return NULL;
    }
    const uint8_t *p = r->data + r->off;
    r->off += len;
    return p;
}

uint8_t tandem_read_u8(tandem_reader *r)
{
    const uint8_t *p = tandem_read_bytes(r, 1);
    return p != NULL ? p[0] : 0;
}

uint16_t tandem_read_u16(tandem_reader *r)
{
    const uint8_t *p = tandem_read_bytes(r, 2);
    return p != NULL ? tandem_load_u16(p) : 0;
}

uint32_t tandem_read_u32(tandem_reader *r)
{
    const uint8_t *p = tandem_read_bytes(r, 4);
    return p != NULL ? tandem_load_u32(p) : 0;
}

uint64_t tandem_read_u64(tandem_reader *r)
{
    const uint8_t *p = tandem_read_bytes(r, 8);
    return p != NULL ? tandem_load_u64(p) : 0;
}

uint64_t tandem_read_varint(tandem_reader *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        const uint8_t *p = tandem_read_bytes(r, 1);
        if (p == NULL) {
            return 0;
        }
        if (shift == 63 && (*p & 0xfe) != 0) {
            break; /* more than 64 bits */
        }
        v |= (uint64_t)(*p & 0x7f) << shift;
        if ((*p & 0x80) == 0) {
            return v;
        }
    }
    r->failed = true;
    return 0;
}
