/*
 * placement.h — which brokers hold which partitions, and which region a
 * broker is in.
 *
 * Placement is round-robin, as Camunda's default distribution: partition p
 * (1-based) has its replicas on brokers (p-1+i) mod clusterSize for i in
 * 0..replicationFactor-1, and replica i = 0 is the partition's preferred
 * leader. In dual-region mode broker b lives in region b mod 2; because
 * replicationFactor is 4 there and consecutive ids alternate regions, every
 * partition has exactly two replicas in each region, so a commit quorum of
 * three always reaches both regions (RPO 0 by construction).
 *
 * Pure arithmetic: no allocation, no I/O. Ids passed in must be in range
 * (partition 1..partitionCount, broker 0..clusterSize-1): callers validate ids
 * that come from outside before asking, and an id out of range is a bug that
 * the assertions catch.
 */
#ifndef TANDEM_CLUSTER_PLACEMENT_H
#define TANDEM_CLUSTER_PLACEMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster/config.h"

/* The shape of the cluster; a plain value, public and read-only after init. */
typedef struct tandem_placement {
    uint32_t cluster_size;
    uint32_t partition_count;
    uint32_t replication_factor;
    uint32_t regions; /* 1, or 2 for dual-region mode */
} tandem_placement;

/* Checks the shape (bounds of config.h, RF <= size, dual-region rules) and
 * fills *pl. TANDEM_EINVAL with a message in diag (may be NULL) otherwise. */
int tandem_placement_init(tandem_placement *pl, uint32_t cluster_size, uint32_t partition_count,
                          uint32_t replication_factor, uint32_t regions, tandem_diag *diag);

/* The shape of a loaded (hence valid) configuration. */
void tandem_placement_from_config(tandem_placement *pl, const tandem_config *cfg);

/* Region of a broker: id mod 2 in dual-region mode, else 0. */
uint32_t tandem_placement_region(const tandem_placement *pl, uint32_t broker_id);

/* Writes the replicas of partition_id into brokers_out in priority order
 * (first = preferred leader) and returns how many (= replication factor).
 * capacity must be >= the replication factor; TANDEM_REPLICATION_FACTOR_MAX
 * always is. */
uint32_t tandem_placement_replicas(const tandem_placement *pl, uint32_t partition_id,
                                   uint32_t *brokers_out, uint32_t capacity);

/* True when broker_id holds a replica of partition_id. */
bool tandem_placement_is_replica(const tandem_placement *pl, uint32_t partition_id,
                                 uint32_t broker_id);

/* Writes the partitions broker_id holds, ascending, into partitions_out (at
 * most capacity of them) and returns how many there are in total, which may
 * exceed capacity (then only the first capacity are written).
 * TANDEM_PARTITION_COUNT_MAX is always enough. */
uint32_t tandem_placement_partitions_of(const tandem_placement *pl, uint32_t broker_id,
                                        uint32_t *partitions_out, uint32_t capacity);

#endif
