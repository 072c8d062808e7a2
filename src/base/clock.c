#include "base/clock.h"

#include <time.h>

#include "base/assert.h"

static uint64_t real_wall_ms(tandem_clock *c)
{
    (void)c;
    struct timespec ts;
    int rc = clock_gettime(CLOCK_REALTIME, &ts);
    TANDEM_ASSERT(rc == 0);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t real_mono_ns(tandem_clock *c)
{
    (void)c;
    struct timespec ts;
    int rc = clock_gettime(CLOCK_MONOTONIC, &ts);
    TANDEM_ASSERT(rc == 0);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static tandem_clock real_clock = {real_wall_ms, real_mono_ns};

tandem_clock *tandem_clock_real(void)
{
    return &real_clock;
}

static uint64_t fake_wall_ms(tandem_clock *c)
{
    return ((tandem_fake_clock *)c)->wall;
}

static uint64_t fake_mono_ns(tandem_clock *c)
{
    return ((tandem_fake_clock *)c)->mono;
}

void tandem_fake_clock_init(tandem_fake_clock *c, uint64_t wall_ms, uint64_t mono_ns)
{
    TANDEM_ASSERT(c != NULL);
    c->base.wall_ms = fake_wall_ms;
    c->base.mono_ns = fake_mono_ns;
    c->wall = wall_ms;
    c->mono = mono_ns;
}

void tandem_fake_clock_advance_ms(tandem_fake_clock *c, uint64_t ms)
{
    TANDEM_ASSERT(c != NULL);
    c->wall += ms;
    c->mono += ms * 1000000u;
}
