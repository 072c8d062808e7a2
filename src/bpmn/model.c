/*
 * model.c — read-only lookups over a parsed resource, and its release.
 */
#include <string.h>

#include "base/assert.h"
#include "bpmn/bpmn_int.h"

void tandem_bpmn_free(tandem_bpmn_resource *resource)
{
    if (resource == NULL) {
        return;
    }
    TANDEM_ASSERT(resource->arena_ != NULL);
    TANDEM_ASSERT(resource->process_count >= 1);
    /* The resource itself lives in its arena. */
    bpmn_arena_free(resource->arena_);
}

const tandem_bpmn_process *tandem_bpmn_process_find(const tandem_bpmn_resource *resource,
                                                    const char *process_id)
{
    TANDEM_ASSERT(resource != NULL);
    TANDEM_ASSERT(process_id != NULL);
    for (uint32_t i = 0; i < resource->process_count; i++) {
        if (strcmp(resource->processes[i].id, process_id) == 0) {
            return &resource->processes[i];
        }
    }
    return NULL;
}

uint32_t tandem_bpmn_element_find(const tandem_bpmn_process *process, const char *element_id)
{
    TANDEM_ASSERT(process != NULL && process->by_id_ != NULL);
    TANDEM_ASSERT(element_id != NULL);
    uint32_t lo = 0;
    uint32_t hi = process->element_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t index = process->by_id_[mid];
        TANDEM_ASSERT(index < process->element_count);
        int c = strcmp(process->elements[index].id, element_id);
        if (c == 0) {
            return index;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return TANDEM_BPMN_NONE;
}

const tandem_bpmn_element *tandem_bpmn_start_event(const tandem_bpmn_process *process)
{
    TANDEM_ASSERT(process != NULL);
    TANDEM_ASSERT(process->start < process->element_count);
    const tandem_bpmn_element *start = &process->elements[process->start];
    TANDEM_ASSERT(start->type == TANDEM_BPMN_START_EVENT);
    return start;
}

const uint32_t *tandem_bpmn_outgoing(const tandem_bpmn_process *process, uint32_t index,
                                     uint32_t *count)
{
    TANDEM_ASSERT(process != NULL && count != NULL);
    TANDEM_ASSERT(index < process->element_count);
    const tandem_bpmn_element *element = &process->elements[index];
    TANDEM_ASSERT(element->outgoing_first + element->outgoing_count <= 2u * process->flow_count);
    *count = element->outgoing_count;
    return process->flow_refs + element->outgoing_first;
}

const uint32_t *tandem_bpmn_incoming(const tandem_bpmn_process *process, uint32_t index,
                                     uint32_t *count)
{
    TANDEM_ASSERT(process != NULL && count != NULL);
    TANDEM_ASSERT(index < process->element_count);
    const tandem_bpmn_element *element = &process->elements[index];
    TANDEM_ASSERT(element->incoming_first + element->incoming_count <= 2u * process->flow_count);
    *count = element->incoming_count;
    return process->flow_refs + element->incoming_first;
}

void tandem_bpmn_resource_digest(const void *data, size_t len, tandem_bpmn_digest *out)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(data != NULL || len == 0);
    bpmn_sha256(data, len, out->bytes);
}
