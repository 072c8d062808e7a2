/*
 * Simulation of the Raft core under faults: each case runs a scenario over
 * many seeds (TANDEM_TEST_SEED, TANDEM_TEST_SEED+1, ...; the count scales
 * with TANDEM_TEST_ITERATIONS), then the regression seeds, and requires every
 * fault class the scenario is about to have fired a stated minimum number of
 * times. A failing seed prints the command that replays it alone.
 */
#include "sim.h"
#include "raft/raft.h"
#include "test.h"

typedef struct scenario {
    const char *name;
    void (*setup)(sim_options *o);
    uint64_t seeds;                       /* per default run */
    uint64_t min_faults[SIM_FAULT_COUNT]; /* per default run */
} scenario;

/* Seeds that failed once, each a regression test of its scenario, run on
 * every default run (with 1, 2, 3 in every scenario, so a run with a fresh
 * TANDEM_TEST_SEED still covers known ground). */
typedef struct regression {
    const char *scenario;
    uint64_t seed;
    const char *what;
} regression;

static const regression regressions[] = {
    {"*", 1, "fixed"},
    {"*", 2, "fixed"},
    {"*", 3, "fixed"},
    /* soak: a replica whose uncommitted latest configuration demoted it held
     * the most up-to-date log, never campaigned, and refused the only
     * candidate: no leader again (fixed: voters of the committed
     * configuration may campaign) */
    {"membership", 20277304, "liveness after an uncommitted self-demotion"},
    /* soak on the replica host: a follower whose uncommitted configuration
     * was replaced by another at the same index kept the old one in force,
     * and no replica could be elected (fixed in raft_log_truncate) */
    {"membership", 20263800, "configuration replaced at the same index"},
    {"membership", 20263088,
     "a re-added learner campaigned as the voter it was before its removal"},
};

static void report(const char *name, const uint64_t *faults)
{
    fprintf(stderr, "%s faults:", name);
    for (int f = 0; f < SIM_FAULT_COUNT; f++) {
        fprintf(stderr, " %s=%llu", sim_fault_name(f), (unsigned long long)faults[f]);
    }
    fprintf(stderr, "\n");
}

static void run_one(const scenario *sc, uint64_t seed, uint64_t *totals, const char *case_name)
{
    sim_options o;
    sim_options_default(&o, seed);
    sc->setup(&o);
    sim_result res;
    CHECK_OK(sim_run(&o, &res));
    for (int f = 0; f < SIM_FAULT_COUNT; f++) {
        totals[f] += res.faults[f];
    }
    if (res.failed) {
        report(sc->name, res.faults);
        tandem_test_fail(__FILE__, __LINE__,
                         "seed %llu: %s\nreplay: TANDEM_TEST_SEED=%llu TANDEM_TEST_ITERATIONS=1 "
                         "./build/test_sim_raft %s",
                         (unsigned long long)seed, res.message, (unsigned long long)seed,
                         case_name);
    }
    CHECK(res.committed > 1);
}

static void run_scenario(const scenario *sc, const char *case_name)
{
    uint64_t base = test_seed();
    uint64_t n = test_iterations(sc->seeds);
    uint64_t totals[SIM_FAULT_COUNT] = {0};
    for (uint64_t i = 0; i < n; i++) {
        run_one(sc, base + i, totals, case_name);
    }
    if (n >= sc->seeds) {
        for (size_t i = 0; i < sizeof(regressions) / sizeof(regressions[0]); i++) {
            if (strcmp(regressions[i].scenario, "*") == 0 ||
                strcmp(regressions[i].scenario, sc->name) == 0) {
                run_one(sc, regressions[i].seed, totals, case_name);
            }
        }
    }
    report(sc->name, totals);
    for (int f = 0; f < SIM_FAULT_COUNT; f++) {
        uint64_t min = sc->min_faults[f] * n / sc->seeds;
        CHECK_MSG(totals[f] >= min, "%s: fault %s fired %llu times, at least %llu expected",
                  sc->name, sim_fault_name(f), (unsigned long long)totals[f],
                  (unsigned long long)min);
    }
}

static void setup_calm(sim_options *o)
{
    o->replicas = 3;
    o->voters = 3;
}

static void setup_network(sim_options *o)
{
    o->replicas = 5;
    o->voters = 5;
    o->drop_per_mille = 50;
    o->duplicate_per_mille = 30;
    o->delay_max_ms = 20;
    o->partition_every_ms = 300;
    o->slow_fsync_per_mille = 20;
    o->priorities = true;
}

static void setup_crashes(sim_options *o)
{
    o->replicas = 3;
    o->voters = 3;
    o->crash_every_ms = 150;
    o->crash_after_vote_per_mille = 50;
    o->crash_after_commit_per_mille = 20;
    o->drop_per_mille = 10;
}

static void setup_disk(sim_options *o)
{
    o->replicas = 3;
    o->voters = 3;
    o->eio_every_ms = 300;
    o->enospc_every_ms = 300;
    o->crash_every_ms = 600;
    o->snapshot_every_ms = 150;
}

static void setup_membership(sim_options *o)
{
    o->replicas = 5;
    o->voters = 3;
    o->membership_every_ms = 60;
    o->transfer_every_ms = 400;
    o->snapshot_every_ms = 100;
    o->crash_every_ms = 500;
    o->drop_per_mille = 20;
    o->partition_every_ms = 800;
}

/* Followers fall far behind (long outages) while every replica snapshots
 * and compacts often, so they are caught up by snapshots sent in chunks
 * over a lossy network. */
static void setup_snapshots(sim_options *o)
{
    o->replicas = 3;
    o->voters = 3;
    o->snapshot_every_ms = 40;
    o->crash_every_ms = 400;
    o->restart_min_ms = 100;
    o->restart_max_ms = 900;
    o->partition_every_ms = 500;
    o->drop_per_mille = 30;
    o->duplicate_per_mille = 20;
    o->chunk_size_bytes = 48; /* many chunks: crashes fall inside transfers */
}

static const scenario calm = {"calm", setup_calm, 20, {[SIM_ELECTION] = 20}};
static const scenario network = {"network",
                                 setup_network,
                                 120,
                                 {[SIM_DROP] = 1000,
                                  [SIM_DUPLICATE] = 500,
                                  [SIM_REORDER] = 1000,
                                  [SIM_PARTITION] = 100,
                                  [SIM_ONE_WAY] = 100,
                                  [SIM_ELECTION] = 120,
                                  [SIM_SLOW_FSYNC] = 100}};
static const scenario crashes = {
    "crashes",
    setup_crashes,
    150,
    {[SIM_CRASH] = 1000, [SIM_TORN_WRITE] = 50, [SIM_LOST_WRITE] = 200, [SIM_ELECTION] = 300}};
static const scenario disk = {
    "disk", setup_disk, 100, {[SIM_EIO] = 200, [SIM_ENOSPC] = 200, [SIM_CRASH] = 500}};
static const scenario members = {
    "membership",
    setup_membership,
    120,
    {[SIM_CONF_CHANGE] = 500, [SIM_TRANSFER] = 100, [SIM_CRASH] = 300, [SIM_ELECTION] = 200}};

static const scenario snapshots = {"snapshots",
                                   setup_snapshots,
                                   100,
                                   {[SIM_SNAPSHOT] = 1000,
                                    [SIM_CHUNK] = 1000,
                                    [SIM_INSTALL] = 100,
                                    [SIM_CRASH] = 300,
                                    [SIM_RESUME] = 15}};

static void test_snapshots(void)
{
    run_scenario(&snapshots, "snapshots");
}

static void test_calm(void)
{
    run_scenario(&calm, "calm");
}

static void test_network(void)
{
    run_scenario(&network, "network");
}

static void test_crashes(void)
{
    run_scenario(&crashes, "crashes");
}

static void test_disk(void)
{
    run_scenario(&disk, "disk");
}

static void test_membership(void)
{
    run_scenario(&members, "membership");
}

static const tandem_test cases[] = {
    {"calm", test_calm}, {"network", test_network},       {"crashes", test_crashes},
    {"disk", test_disk}, {"membership", test_membership}, {"snapshots", test_snapshots},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
