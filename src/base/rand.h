/*
 * rand.h — randomness as an interface.
 *
 * The real source draws from the kernel (getrandom) and is used for things
 * that must be unique across machines, such as incarnation ids. The seeded
 * source (xoshiro256**, seeded through splitmix64) is deterministic and is what
 * tests and the simulator use: the same seed gives the same sequence.
 */
#ifndef TANDEM_BASE_RAND_H
#define TANDEM_BASE_RAND_H

#include <stdint.h>

typedef struct tandem_rand tandem_rand;
struct tandem_rand {
    uint64_t (*next)(tandem_rand *r);
};

/* Process-wide kernel randomness; static storage, thread-safe. */
tandem_rand *tandem_rand_real(void);

typedef struct tandem_seeded_rand {
    tandem_rand base; /* public */
    uint64_t s[4];    /* private */
} tandem_seeded_rand;

void tandem_seeded_rand_init(tandem_seeded_rand *r, uint64_t seed);

static inline uint64_t tandem_rand_u64(tandem_rand *r)
{
    return r->next(r);
}

/* Uniform in [0, n); n > 0. */
uint64_t tandem_rand_below(tandem_rand *r, uint64_t n);

/* True with probability num/den. */
int tandem_rand_chance(tandem_rand *r, uint64_t num, uint64_t den);

#endif
