#include "protocol/key.h"

#include "base/assert.h"

uint64_t tandem_key_encode(uint32_t partition_id, uint64_t counter)
{
    TANDEM_ASSERT(partition_id >= TANDEM_PARTITION_ID_MIN);
    TANDEM_ASSERT(partition_id <= TANDEM_PARTITION_ID_MAX);
    TANDEM_ASSERT(counter <= TANDEM_KEY_COUNTER_MAX);
    uint64_t key = ((uint64_t)partition_id << TANDEM_KEY_COUNTER_BITS) + counter;
    TANDEM_ASSERT(tandem_key_partition(key) == partition_id);
    return key;
}

uint32_t tandem_key_partition(uint64_t key)
{
    uint64_t partition = key >> TANDEM_KEY_COUNTER_BITS;
    TANDEM_ASSERT(partition <= TANDEM_PARTITION_ID_MAX);
    return (uint32_t)partition;
}

uint64_t tandem_key_counter(uint64_t key)
{
    uint64_t counter = key & TANDEM_KEY_COUNTER_MAX;
    TANDEM_ASSERT(counter <= TANDEM_KEY_COUNTER_MAX);
    return counter;
}
