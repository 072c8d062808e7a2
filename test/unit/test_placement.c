/* Tests of round-robin partition placement and of regions. */
#include <stdbool.h>
#include <string.h>

#include "base/error.h"
#include "cluster/config.h"
#include "cluster/placement.h"
#include "test.h"

static void test_single_broker(void)
{
    tandem_placement pl;
    CHECK_OK(tandem_placement_init(&pl, 1, 3, 1, 1, NULL));
    uint32_t replicas[TANDEM_REPLICATION_FACTOR_MAX];
    for (uint32_t p = 1; p <= 3; p++) {
        CHECK_EQ_U64(1, tandem_placement_replicas(&pl, p, replicas, TANDEM_REPLICATION_FACTOR_MAX));
        CHECK_EQ_U64(0, replicas[0]);
        CHECK(tandem_placement_is_replica(&pl, p, 0));
    }
    CHECK_EQ_U64(0, tandem_placement_region(&pl, 0));
    uint32_t parts[TANDEM_PARTITION_COUNT_MAX];
    CHECK_EQ_U64(3, tandem_placement_partitions_of(&pl, 0, parts, TANDEM_PARTITION_COUNT_MAX));
    CHECK_EQ_U64(1, parts[0]);
    CHECK_EQ_U64(3, parts[2]);
}

/* The formula of the design, spelled out for one shape. */
static void test_round_robin_formula(void)
{
    tandem_placement pl;
    CHECK_OK(tandem_placement_init(&pl, 5, 7, 3, 1, NULL));
    static const uint32_t expected[7][3] = {{0, 1, 2}, {1, 2, 3}, {2, 3, 4}, {3, 4, 0},
                                            {4, 0, 1}, {0, 1, 2}, {1, 2, 3}};
    for (uint32_t p = 1; p <= 7; p++) {
        uint32_t replicas[3];
        CHECK_EQ_U64(3, tandem_placement_replicas(&pl, p, replicas, 3));
        for (uint32_t i = 0; i < 3; i++) {
            CHECK_EQ_U64(expected[p - 1][i], replicas[i]);
        }
    }
    uint32_t parts[7];
    /* Broker 0: partitions 1, 4, 5, 6. */
    CHECK_EQ_U64(4, tandem_placement_partitions_of(&pl, 0, parts, 7));
    CHECK_EQ_U64(1, parts[0]);
    CHECK_EQ_U64(4, parts[1]);
    CHECK_EQ_U64(5, parts[2]);
    CHECK_EQ_U64(6, parts[3]);
    /* A short output array gets the first ones, the count stays the total. */
    CHECK_EQ_U64(4, tandem_placement_partitions_of(&pl, 0, parts, 2));
    CHECK_EQ_U64(4, tandem_placement_partitions_of(&pl, 0, NULL, 0));
    CHECK(!tandem_placement_is_replica(&pl, 2, 0));
    CHECK(tandem_placement_is_replica(&pl, 4, 0));
    CHECK_EQ_U64(0, tandem_placement_region(&pl, 3)); /* one region */
}

/* In dual-region mode every partition has exactly two replicas per region. */
static void test_dual_region_two_replicas_per_region(void)
{
    for (uint32_t size = 4; size <= 8; size += 2) {
        for (uint32_t count = 1; count <= 16; count++) {
            tandem_placement pl;
            CHECK_OK(tandem_placement_init(&pl, size, count, 4, 2, NULL));
            for (uint32_t p = 1; p <= count; p++) {
                uint32_t replicas[TANDEM_REPLICATION_FACTOR_MAX];
                uint32_t n =
                    tandem_placement_replicas(&pl, p, replicas, TANDEM_REPLICATION_FACTOR_MAX);
                CHECK_EQ_U64(4, n);
                uint32_t per_region[2] = {0, 0};
                for (uint32_t i = 0; i < n; i++) {
                    uint32_t region = tandem_placement_region(&pl, replicas[i]);
                    CHECK(region < 2);
                    CHECK_EQ_U64(replicas[i] % 2, region);
                    per_region[region]++;
                }
                CHECK_MSG(per_region[0] == 2 && per_region[1] == 2,
                          "size %u partitions %u partition %u: %u + %u replicas", (unsigned)size,
                          (unsigned)count, (unsigned)p, (unsigned)per_region[0],
                          (unsigned)per_region[1]);
            }
        }
    }
}

/* Replicas are distinct, is_replica and partitions_of agree with replicas,
 * and the load is even when it can be, for every shape up to a bound. */
static void test_consistency_all_shapes(void)
{
    for (uint32_t size = 1; size <= 12; size++) {
        for (uint32_t rf = 1; rf <= size && rf <= TANDEM_REPLICATION_FACTOR_MAX; rf++) {
            for (uint32_t count = 1; count <= 20; count++) {
                tandem_placement pl;
                CHECK_OK(tandem_placement_init(&pl, size, count, rf, 1, NULL));
                uint32_t held[TANDEM_CLUSTER_SIZE_MAX] = {0};
                for (uint32_t p = 1; p <= count; p++) {
                    uint32_t replicas[TANDEM_REPLICATION_FACTOR_MAX];
                    uint32_t n = tandem_placement_replicas(&pl, p, replicas, rf);
                    CHECK_EQ_U64(rf, n);
                    bool seen[TANDEM_CLUSTER_SIZE_MAX] = {false};
                    for (uint32_t i = 0; i < n; i++) {
                        CHECK(replicas[i] < size);
                        CHECK(!seen[replicas[i]]);
                        seen[replicas[i]] = true;
                        held[replicas[i]]++;
                    }
                    for (uint32_t b = 0; b < size; b++) {
                        CHECK_EQ_U64(seen[b], tandem_placement_is_replica(&pl, p, b));
                    }
                }
                /* Every broker holds the same number when the partitions
                 * go round the ring a whole number of times. */
                uint64_t sum = 0;
                for (uint32_t b = 0; b < size; b++) {
                    uint32_t parts[20];
                    uint32_t total = tandem_placement_partitions_of(&pl, b, parts, 20);
                    CHECK_EQ_U64(held[b], total);
                    for (uint32_t i = 0; i < total; i++) {
                        CHECK(tandem_placement_is_replica(&pl, parts[i], b));
                        CHECK(i == 0 || parts[i] > parts[i - 1]);
                    }
                    CHECK(count % size != 0 || total == (uint64_t)count * rf / size);
                    sum += total;
                }
                CHECK_EQ_U64((uint64_t)count * rf, sum);
            }
        }
    }
}

static void test_init_rejects_bad_shapes(void)
{
    tandem_placement pl;
    tandem_diag d = {0};
    CHECK_RC(TANDEM_EINVAL, tandem_placement_init(&pl, 0, 1, 1, 1, &d));
    CHECK_CONTAINS(d.message, "cluster size must be 1..64, got 0");
    CHECK_RC(TANDEM_EINVAL, tandem_placement_init(&pl, 65, 1, 1, 1, &d));
    CHECK_RC(TANDEM_EINVAL, tandem_placement_init(&pl, 3, 0, 1, 1, &d));
    CHECK_CONTAINS(d.message, "partition count must be 1..1024, got 0");
    CHECK_RC(TANDEM_EINVAL, tandem_placement_init(&pl, 3, 1025, 1, 1, &d));
    CHECK_RC(TANDEM_EINVAL, tandem_placement_init(&pl, 3, 1, 4, 1, &d));
    CHECK_CONTAINS(d.message, "replication factor must be 1..9 and <= cluster size 3, got 4");
    CHECK_RC(TANDEM_EINVAL, tandem_placement_init(&pl, 20, 1, 10, 1, &d));
    CHECK_RC(TANDEM_EINVAL, tandem_placement_init(&pl, 3, 1, 1, 0, &d));
    CHECK_CONTAINS(d.message, "regions must be 1 or 2, got 0");
    CHECK_RC(TANDEM_EINVAL, tandem_placement_init(&pl, 6, 1, 3, 2, &d));
    CHECK_CONTAINS(d.message, "dual-region mode needs an even cluster size >= 4 and replication "
                              "factor 4, got 6 and 3");
    CHECK_RC(TANDEM_EINVAL, tandem_placement_init(&pl, 5, 1, 4, 2, &d));
    CHECK_RC(TANDEM_EINVAL, tandem_placement_init(&pl, 2, 1, 2, 2, &d));
    CHECK_OK(tandem_placement_init(&pl, 64, 1024, 9, 1, &d));
}

static void test_from_config(void)
{
    static const char yaml[] = "cluster:\n  clusterSize: 6\n  partitionCount: 9\n"
                               "  replicationFactor: 4\n  regions: 2\n"
                               "  initialContactPoints: [a:1]\n";
    tandem_config cfg;
    tandem_diag d = {0};
    CHECK_OK(tandem_config_load_buffer(&cfg, "c.yaml", yaml, strlen(yaml), NULL, &d));
    tandem_placement pl;
    tandem_placement_from_config(&pl, &cfg);
    CHECK_EQ_U64(6, pl.cluster_size);
    CHECK_EQ_U64(9, pl.partition_count);
    CHECK_EQ_U64(4, pl.replication_factor);
    CHECK_EQ_U64(2, pl.regions);
    CHECK_EQ_U64(1, tandem_placement_region(&pl, 5));
    CHECK_EQ_U64(0, tandem_placement_region(&pl, 4));
    uint32_t replicas[4];
    tandem_placement_replicas(&pl, 6, replicas, 4);
    CHECK_EQ_U64(5, replicas[0]);
    CHECK_EQ_U64(0, replicas[1]);
    CHECK_EQ_U64(1, replicas[2]);
    CHECK_EQ_U64(2, replicas[3]);
}

static const tandem_test cases[] = {
    {"single_broker", test_single_broker},
    {"round_robin_formula", test_round_robin_formula},
    {"dual_region_two_replicas_per_region", test_dual_region_two_replicas_per_region},
    {"consistency_all_shapes", test_consistency_all_shapes},
    {"init_rejects_bad_shapes", test_init_rejects_bad_shapes},
    {"from_config", test_from_config},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
