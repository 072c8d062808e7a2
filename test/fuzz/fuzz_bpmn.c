/*
 * fuzz_bpmn.c — arbitrary bytes as a BPMN resource.
 *
 * The parser must answer every input with a model or TANDEM_EINVAL and a
 * message naming the resource, never crash, hang or leak; a model it returns
 * must hold its invariants: every index in range, every element found by its
 * id, incoming and outgoing lists that agree with the flows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "bpmn/bpmn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_process(const tandem_bpmn_process *p)
{
    if (p->start >= p->element_count || p->elements[p->start].type != TANDEM_BPMN_START_EVENT) {
        abort();
    }
    for (uint32_t e = 0; e < p->element_count; e++) {
        const tandem_bpmn_element *element = &p->elements[e];
        if (tandem_bpmn_element_find(p, element->id) != e) {
            abort();
        }
        if ((element->type == TANDEM_BPMN_SERVICE_TASK) != (element->task != NULL)) {
            abort();
        }
        uint32_t n = 0;
        const uint32_t *out = tandem_bpmn_outgoing(p, e, &n);
        for (uint32_t i = 0; i < n; i++) {
            if (out[i] >= p->flow_count || p->flows[out[i]].source != e) {
                abort();
            }
        }
        const uint32_t *in = tandem_bpmn_incoming(p, e, &n);
        for (uint32_t i = 0; i < n; i++) {
            if (in[i] >= p->flow_count || p->flows[in[i]].target != e) {
                abort();
            }
        }
    }
    for (uint32_t f = 0; f < p->flow_count; f++) {
        if (p->flows[f].source >= p->element_count || p->flows[f].target >= p->element_count) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tandem_bpmn_resource *resource = NULL;
    tandem_diag diag = {0};
    int rc = tandem_bpmn_parse(data, size, "fuzz.bpmn", &resource, &diag);
    if (rc != TANDEM_OK) {
        if (resource != NULL || diag.code != rc || strncmp(diag.message, "fuzz.bpmn", 9) != 0) {
            abort();
        }
        if (rc != TANDEM_EINVAL && rc != TANDEM_ETOOBIG && rc != TANDEM_ENOMEM) {
            abort();
        }
        return 0;
    }
    if (resource->process_count == 0 || resource->size_bytes != size) {
        abort();
    }
    for (uint32_t i = 0; i < resource->process_count; i++) {
        const tandem_bpmn_process *p = &resource->processes[i];
        if (tandem_bpmn_process_find(resource, p->id) != p) {
            abort();
        }
        check_process(p);
    }
    tandem_bpmn_free(resource);
    return 0;
}
