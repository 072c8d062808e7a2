/*
 * clock.h — time as an interface, so pure cores and tests never read the
 * machine's clock directly.
 *
 * `wall_ms` is the calendar time (ms since the Unix epoch) used for record
 * timestamps; it may jump. `mono_ns` only moves forward and is used for
 * timeouts and intervals. The real clock reads CLOCK_REALTIME/CLOCK_MONOTONIC;
 * the fake clock returns what the test sets.
 */
#ifndef TANDEM_BASE_CLOCK_H
#define TANDEM_BASE_CLOCK_H

#include <stdint.h>

typedef struct tandem_clock tandem_clock;
struct tandem_clock {
    uint64_t (*wall_ms)(tandem_clock *c);
    uint64_t (*mono_ns)(tandem_clock *c);
};

/* The process-wide real clock; static storage, never freed. */
tandem_clock *tandem_clock_real(void);

typedef struct tandem_fake_clock {
    tandem_clock base; /* public: pass &fake.base where a tandem_clock * is wanted */
    uint64_t wall;     /* public: current wall time in ms */
    uint64_t mono;     /* public: current monotonic time in ns */
} tandem_fake_clock;

void tandem_fake_clock_init(tandem_fake_clock *c, uint64_t wall_ms, uint64_t mono_ns);
/* Advances both readings by ms milliseconds. */
void tandem_fake_clock_advance_ms(tandem_fake_clock *c, uint64_t ms);

static inline uint64_t tandem_clock_wall_ms(tandem_clock *c)
{
    return c->wall_ms(c);
}
static inline uint64_t tandem_clock_mono_ns(tandem_clock *c)
{
    return c->mono_ns(c);
}

#endif
