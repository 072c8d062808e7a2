/* placement.c — round-robin partition placement (see placement.h). */
#include "cluster/placement.h"

#include <inttypes.h>

#include "base/assert.h"

int tandem_placement_init(tandem_placement *pl, uint32_t cluster_size, uint32_t partition_count,
                          uint32_t replication_factor, uint32_t regions, tandem_diag *diag)
{
    TANDEM_ASSERT(pl != NULL);
    if (cluster_size < 1 || cluster_size > TANDEM_CLUSTER_SIZE_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "cluster size must be 1..%d, got %" PRIu32,
                               TANDEM_CLUSTER_SIZE_MAX, cluster_size);
    }
    if (partition_count < 1 || partition_count > TANDEM_PARTITION_COUNT_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "partition count must be 1..%d, got %" PRIu32,
                               TANDEM_PARTITION_COUNT_MAX, partition_count);
    }
    if (replication_factor < 1 || replication_factor > TANDEM_REPLICATION_FACTOR_MAX ||
        replication_factor > cluster_size) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "replication factor must be 1..%d and <= cluster size %" PRIu32
                               ", got %" PRIu32,
                               TANDEM_REPLICATION_FACTOR_MAX, cluster_size, replication_factor);
    }
    if (regions != 1 && regions != 2) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "regions must be 1 or 2, got %" PRIu32,
                               regions);
    }
    if (regions == 2 && (cluster_size % 2 != 0 || cluster_size < 4 || replication_factor != 4)) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "dual-region mode needs an even cluster size >= 4 and replication "
                               "factor 4, got %" PRIu32 " and %" PRIu32,
                               cluster_size, replication_factor);
    }
    pl->cluster_size = cluster_size;
    pl->partition_count = partition_count;
    pl->replication_factor = replication_factor;
    pl->regions = regions;
    TANDEM_ASSERT(pl->replication_factor <= pl->cluster_size);
    return TANDEM_OK;
}

void tandem_placement_from_config(tandem_placement *pl, const tandem_config *cfg)
{
    TANDEM_ASSERT(pl != NULL && cfg != NULL);
    int rc = tandem_placement_init(pl, cfg->cluster_size, cfg->partition_count,
                                   cfg->replication_factor, cfg->regions, NULL);
    /* A loaded configuration passed the same rules. */
    TANDEM_ASSERT(rc == TANDEM_OK);
}

uint32_t tandem_placement_region(const tandem_placement *pl, uint32_t broker_id)
{
    TANDEM_ASSERT(pl != NULL && pl->cluster_size >= 1);
    TANDEM_ASSERT(broker_id < pl->cluster_size);
    return pl->regions == 2 ? broker_id % 2 : 0;
}

uint32_t tandem_placement_replicas(const tandem_placement *pl, uint32_t partition_id,
                                   uint32_t *brokers_out, uint32_t capacity)
{
    TANDEM_ASSERT(pl != NULL && brokers_out != NULL);
    TANDEM_ASSERT(partition_id >= 1 && partition_id <= pl->partition_count);
    TANDEM_ASSERT(capacity >= pl->replication_factor);
    for (uint32_t i = 0; i < pl->replication_factor; i++) {
        brokers_out[i] = (partition_id - 1 + i) % pl->cluster_size;
    }
    return pl->replication_factor;
}

bool tandem_placement_is_replica(const tandem_placement *pl, uint32_t partition_id,
                                 uint32_t broker_id)
{
    TANDEM_ASSERT(pl != NULL);
    TANDEM_ASSERT(partition_id >= 1 && partition_id <= pl->partition_count);
    TANDEM_ASSERT(broker_id < pl->cluster_size);
    /* Replica index of broker_id in partition_id's list, modulo the ring. */
    uint32_t first = (partition_id - 1) % pl->cluster_size;
    uint32_t offset = (broker_id + pl->cluster_size - first) % pl->cluster_size;
    return offset < pl->replication_factor;
}

uint32_t tandem_placement_partitions_of(const tandem_placement *pl, uint32_t broker_id,
                                        uint32_t *partitions_out, uint32_t capacity)
{
    TANDEM_ASSERT(pl != NULL && (partitions_out != NULL || capacity == 0));
    TANDEM_ASSERT(broker_id < pl->cluster_size);
    uint32_t total = 0;
    for (uint32_t p = 1; p <= pl->partition_count; p++) {
        if (tandem_placement_is_replica(pl, p, broker_id)) {
            if (total < capacity) {
                partitions_out[total] = p;
            }
            total++;
        }
    }
    TANDEM_ASSERT(total <= pl->partition_count);
    return total;
}
