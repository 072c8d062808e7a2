/*
 * The hash behind tandem_kv_digest (see kv_int.h; the byte stream it hashes
 * is in docs/STATE_FORMAT.md).
 *
 * Two 64-bit lanes consume the stream as little-endian 8-byte words. Each
 * lane step is a bijection of the lane for a fixed word and of the word for a
 * fixed lane (xor, rotate, multiply by an odd constant), so two streams of
 * the same length that differ in one word always give different lanes; the
 * final mix is a bijection of the two lanes. That is the property the tests
 * and replica comparisons need. It is not a cryptographic hash: someone who
 * wants a collision can build one.
 */
#include <string.h>

#include "base/assert.h"
#include "base/buf.h"
#include "state/kv_int.h"

/* Odd 64-bit constants (golden-ratio and commonly used mixing primes). */
#define K0 0x9e3779b97f4a7c15ull
#define K1 0xc2b2ae3d27d4eb4full
#define K2 0x165667b19e3779f9ull
#define K3 0x27d4eb2f165667c5ull

static uint64_t rotl64(uint64_t x, unsigned r)
{
    TANDEM_ASSERT(r > 0 && r < 64);
    uint64_t y = (x << r) | (x >> (64 - r));
    TANDEM_ASSERT(((y >> r) | (y << (64 - r))) == x); /* a rotation loses nothing */
    return y;
}

/* A bijective 64-bit finalizer (xorshift-multiply rounds). */
static uint64_t fmix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

_Static_assert((K0 & 1) && (K1 & 1) && (K2 & 1), "odd multipliers are bijections");

static void mix_word(kv_hasher *h, uint64_t w)
{
    TANDEM_ASSERT(h != NULL);
    TANDEM_ASSERT(h->tail_len < 8);
    h->h0 = (h->h0 ^ w) * K0;
    h->h1 = rotl64(h->h1 ^ (w * K1), 29) * K2;
}

void kv_hasher_init(kv_hasher *h)
{
    TANDEM_ASSERT(h != NULL);
    memset(h, 0, sizeof(*h));
    h->h0 = K3;
    h->h1 = K1;
    TANDEM_ASSERT(h->tail_len == 0 && h->total_bytes == 0);
}

void kv_hasher_update(kv_hasher *h, const void *data, size_t len)
{
    TANDEM_ASSERT(h != NULL && h->tail_len < 8);
    TANDEM_ASSERT(data != NULL || len == 0);
    const uint8_t *p = data;
    uint64_t total_after = h->total_bytes + len;
    h->total_bytes = total_after;
    if (h->tail_len > 0) {
        size_t take = 8 - h->tail_len;
        if (take > len) {
            take = len;
        }
        memcpy(h->tail + h->tail_len, p, take);
        h->tail_len += take;
        p += take;
        len -= take;
        if (h->tail_len < 8) {
            return;
        }
        h->tail_len = 0;
        mix_word(h, tandem_load_u64(h->tail));
    }
    while (len >= 8) {
        mix_word(h, tandem_load_u64(p));
        p += 8;
        len -= 8;
    }
    if (len > 0) {
        memcpy(h->tail, p, len);
        h->tail_len = len;
    }
    TANDEM_ASSERT(h->tail_len < 8);
    TANDEM_ASSERT(h->tail_len == total_after % 8);
}

void kv_hasher_u32(kv_hasher *h, uint32_t v)
{
    TANDEM_ASSERT(h != NULL);
    uint8_t b[4];
    tandem_store_u32(b, v);
    TANDEM_ASSERT(tandem_load_u32(b) == v);
    kv_hasher_update(h, b, sizeof(b));
}

void kv_hasher_u64(kv_hasher *h, uint64_t v)
{
    TANDEM_ASSERT(h != NULL);
    uint8_t b[8];
    tandem_store_u64(b, v);
    TANDEM_ASSERT(tandem_load_u64(b) == v);
    kv_hasher_update(h, b, sizeof(b));
}

void kv_hasher_final(const kv_hasher *h, uint64_t out[2])
{
    TANDEM_ASSERT(h != NULL && out != NULL);
    TANDEM_ASSERT(h->tail_len < 8);
    kv_hasher t = *h;
    if (t.tail_len > 0) {
        uint8_t last[8] = {0};
        memcpy(last, t.tail, t.tail_len);
        mix_word(&t, tandem_load_u64(last));
    }
    /* The length tells streams apart whose zero padding would look alike. */
    mix_word(&t, t.total_bytes);
    out[0] = fmix64(t.h0 + t.h1);
    out[1] = fmix64(t.h1 + out[0]);
}
