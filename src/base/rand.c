#include "base/rand.h"

#include <errno.h>
#include <stddef.h>
#include <sys/random.h>

#include "base/assert.h"

static uint64_t real_next(tandem_rand *r)
{
    (void)r;
    uint64_t v = 0;
    for (;;) {
        ssize_t n = getrandom(&v, sizeof(v), 0);
        if (n == (ssize_t)sizeof(v)) {
            return v;
        }
        /* getrandom on a booted kernel only fails with EINTR for requests
         * this small; anything else means the platform is unusable. */
        TANDEM_ASSERT(n < 0 && errno == EINTR);
    }
}

static tandem_rand real_rand = {real_next};

tandem_rand *tandem_rand_real(void)
{
    return &real_rand;
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t seeded_next(tandem_rand *base)
{
    tandem_seeded_rand *r = (tandem_seeded_rand *)base;
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

void tandem_seeded_rand_init(tandem_seeded_rand *r, uint64_t seed)
{
    TANDEM_ASSERT(r != NULL);
    r->base.next = seeded_next;
    for (int i = 0; i < 4; i++) {
        /* splitmix64 expands one seed into a well-mixed non-zero state */
        seed += 0x9e3779b97f4a7c15u;
        uint64_t z = seed;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        r->s[i] = z ^ (z >> 31);
    }
}

uint64_t tandem_rand_below(tandem_rand *r, uint64_t n)
{
    TANDEM_ASSERT(n > 0);
    /* rejection sampling removes the modulo bias */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
    for (;;) {
        uint64_t v = tandem_rand_u64(r);
        if (v < limit) {
            return v % n;
        }
    }
}

int tandem_rand_chance(tandem_rand *r, uint64_t num, uint64_t den)
{
    TANDEM_ASSERT(den > 0 && num <= den);
    return tandem_rand_below(r, den) < num;
}
