/*
 * graph.c — a process as a graph: the id index, sequence flows resolved to
 * element indices, incoming and outgoing lists, and the structural rules
 * (one none start event; no flow into a start event or out of an end event).
 *
 * Reachability is not checked, as in Zeebe: an element that no flow reaches is
 * deployed and simply never activated, and an activity without outgoing flows
 * ends its path (implicit end). Refusing either would reject files that
 * Camunda accepts.
 */
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "bpmn/bpmn_int.h"

/* qsort has no context argument; the comparison gets it through this
 * thread-local so concurrent parses stay independent. */
static _Thread_local const tandem_bpmn_element *sort_elements;

static int by_id_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;
    TANDEM_ASSERT(sort_elements != NULL);
    /* x == y is possible: some qsort implementations compare the pivot with itself */
    TANDEM_ASSERT(sort_elements[x].id != NULL && sort_elements[y].id != NULL);
    return strcmp(sort_elements[x].id, sort_elements[y].id);
}

static int index_build(bpmn_builder *b, bpmn_process_build *pb)
{
    tandem_bpmn_process *process = pb->process;
    TANDEM_ASSERT(process->element_count <= TANDEM_BPMN_ELEMENTS_MAX);
    uint32_t *by_id = bpmn_arena_alloc(b->arena, process->element_count, sizeof(*by_id));
    if (by_id == NULL) {
        return bpmn_oom(b);
    }
    for (uint32_t i = 0; i < process->element_count; i++) {
        by_id[i] = i;
    }
    sort_elements = pb->elements;
    qsort(by_id, process->element_count, sizeof(*by_id), by_id_cmp);
    sort_elements = NULL;
    process->elements = pb->elements;
    process->by_id_ = by_id;
    TANDEM_ASSERT(process->element_count == 0 || by_id[0] < process->element_count);
    return TANDEM_OK;
}

static int flow_resolve(bpmn_builder *b, bpmn_process_build *pb, uint32_t f)
{
    TANDEM_ASSERT(f < pb->process->flow_count);
    TANDEM_ASSERT(pb->process->by_id_ != NULL);
    tandem_bpmn_flow *flow = &pb->flows[f];
    const char *refs[2] = {pb->source_refs[f], pb->target_refs[f]};
    const char *attrs[2] = {"sourceRef", "targetRef"};
    const char *roles[2] = {"source", "target"};
    uint32_t *ends[2] = {&flow->source, &flow->target};
    for (int i = 0; i < 2; i++) {
        if (refs[i] == NULL || refs[i][0] == '\0') {
            return bpmn_fail_at(b, flow->line, "sequence flow '%s' has no %s", flow->id, attrs[i]);
        }
        *ends[i] = tandem_bpmn_element_find(pb->process, refs[i]);
        if (*ends[i] == TANDEM_BPMN_NONE) {
            return bpmn_fail_at(b, flow->line, "sequence flow '%s' references unknown %s '%s'",
                                flow->id, roles[i], refs[i]);
        }
    }
    TANDEM_ASSERT(flow->source < pb->process->element_count);
    TANDEM_ASSERT(flow->target < pb->process->element_count);
    return TANDEM_OK;
}

/* Incoming and outgoing lists in one array: per element its outgoing flows,
 * then its incoming flows, each in document order. */
static int lists_build(bpmn_builder *b, bpmn_process_build *pb)
{
    tandem_bpmn_process *process = pb->process;
    TANDEM_ASSERT(process->flow_count <= TANDEM_BPMN_ELEMENTS_MAX);
    uint32_t *refs = bpmn_arena_alloc(b->arena, 2u * (size_t)process->flow_count, sizeof(*refs));
    if (refs == NULL) {
        return bpmn_oom(b);
    }
    for (uint32_t f = 0; f < process->flow_count; f++) {
        pb->elements[pb->flows[f].source].outgoing_count++;
        pb->elements[pb->flows[f].target].incoming_count++;
    }
    uint32_t next = 0;
    for (uint32_t e = 0; e < process->element_count; e++) {
        tandem_bpmn_element *element = &pb->elements[e];
        element->outgoing_first = next;
        next += element->outgoing_count;
        element->incoming_first = next;
        next += element->incoming_count;
        /* reused as fill cursors below, restored by the fill */
        element->outgoing_count = 0;
        element->incoming_count = 0;
    }
    TANDEM_ASSERT(next == 2u * process->flow_count);
    for (uint32_t f = 0; f < process->flow_count; f++) {
        TANDEM_ASSERT(pb->flows[f].source < process->element_count);
        tandem_bpmn_element *source = &pb->elements[pb->flows[f].source];
        tandem_bpmn_element *target = &pb->elements[pb->flows[f].target];
        refs[source->outgoing_first + source->outgoing_count++] = f;
        refs[target->incoming_first + target->incoming_count++] = f;
    }
    process->flows = pb->flows;
    process->flow_refs = refs;
    return TANDEM_OK;
}

static int rules_check(bpmn_builder *b, bpmn_process_build *pb)
{
    tandem_bpmn_process *process = pb->process;
    TANDEM_ASSERT(process->flow_refs != NULL);
    uint32_t start = TANDEM_BPMN_NONE;
    for (uint32_t e = 0; e < process->element_count; e++) {
        const tandem_bpmn_element *element = &pb->elements[e];
        if (element->type == TANDEM_BPMN_START_EVENT) {
            if (start != TANDEM_BPMN_NONE) {
                return bpmn_fail_at(b, element->line,
                                    "process '%s' has more than one none start event ('%s' and "
                                    "'%s')",
                                    process->id, pb->elements[start].id, element->id);
            }
            start = e;
            if (element->incoming_count > 0) {
                const tandem_bpmn_flow *in =
                    &pb->flows[process->flow_refs[element->incoming_first]];
                return bpmn_fail_at(b, in->line,
                                    "start event '%s' has an incoming sequence flow '%s'; start "
                                    "events cannot have incoming flows",
                                    element->id, in->id);
            }
        }
        if (element->type == TANDEM_BPMN_END_EVENT && element->outgoing_count > 0) {
            const tandem_bpmn_flow *out = &pb->flows[process->flow_refs[element->outgoing_first]];
            return bpmn_fail_at(b, out->line,
                                "end event '%s' has an outgoing sequence flow '%s'; end events "
                                "cannot have outgoing flows",
                                element->id, out->id);
        }
    }
    if (start == TANDEM_BPMN_NONE) {
        return bpmn_fail_at(b, pb->line, "process '%s' has no none start event", process->id);
    }
    process->start = start;
    TANDEM_ASSERT(pb->elements[start].type == TANDEM_BPMN_START_EVENT);
    return TANDEM_OK;
}

int bpmn_graph_build(bpmn_builder *b, bpmn_process_build *pb)
{
    TANDEM_ASSERT(b != NULL && pb != NULL && pb->process != NULL);
    TANDEM_ASSERT(pb->process->element_count <= TANDEM_BPMN_ELEMENTS_MAX);
    int rc = index_build(b, pb);
    for (uint32_t f = 0; f < pb->process->flow_count && rc == TANDEM_OK; f++) {
        rc = flow_resolve(b, pb, f);
    }
    if (rc == TANDEM_OK) {
        rc = lists_build(b, pb);
    }
    if (rc == TANDEM_OK) {
        rc = rules_check(b, pb);
    }
    return rc;
}
