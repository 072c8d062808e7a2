/*
 * elements.c — which BPMN elements and zeebe extensions the engine executes,
 * which are modelling only, and which are refused; and the reading of what the
 * executed ones carry (zeebe:taskDefinition, taskHeaders, ioMapping).
 *
 * The tables below are the one place to extend when the engine learns a new
 * element: move its row from "refused" to "node" and give it a type. A BPMN
 * element that no row names is refused too, so a construct nobody thought of
 * is never silently skipped. docs/BPMN.md mirrors these tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "bpmn/bpmn_int.h"

/* Direct children of a process. */
static const bpmn_rule process_child_rules[] = {
    /* executed */
    {"startEvent", BPMN_KIND_NODE, TANDEM_BPMN_START_EVENT},
    {"serviceTask", BPMN_KIND_NODE, TANDEM_BPMN_SERVICE_TASK},
    {"endEvent", BPMN_KIND_NODE, TANDEM_BPMN_END_EVENT},
    {"sequenceFlow", BPMN_KIND_FLOW, 0},
    /* modelling only */
    {"documentation", BPMN_KIND_IGNORED, 0},
    {"extensionElements", BPMN_KIND_IGNORED, 0}, /* checked by bpmn_process_extensions */
    {"laneSet", BPMN_KIND_IGNORED, 0},
    {"textAnnotation", BPMN_KIND_IGNORED, 0},
    {"association", BPMN_KIND_IGNORED, 0},
    {"group", BPMN_KIND_IGNORED, 0},
    {"dataObject", BPMN_KIND_IGNORED, 0},
    {"dataObjectReference", BPMN_KIND_IGNORED, 0},
    {"dataStoreReference", BPMN_KIND_IGNORED, 0},
    /* not executed yet (listed so the docs and the tests name them; anything
     * unlisted is refused the same way) */
    {"task", BPMN_KIND_REFUSED, 0},
    {"userTask", BPMN_KIND_REFUSED, 0},
    {"manualTask", BPMN_KIND_REFUSED, 0},
    {"receiveTask", BPMN_KIND_REFUSED, 0},
    {"sendTask", BPMN_KIND_REFUSED, 0},
    {"scriptTask", BPMN_KIND_REFUSED, 0},
    {"businessRuleTask", BPMN_KIND_REFUSED, 0},
    {"callActivity", BPMN_KIND_REFUSED, 0},
    {"subProcess", BPMN_KIND_REFUSED, 0},
    {"adHocSubProcess", BPMN_KIND_REFUSED, 0},
    {"transaction", BPMN_KIND_REFUSED, 0},
    {"exclusiveGateway", BPMN_KIND_REFUSED, 0},
    {"parallelGateway", BPMN_KIND_REFUSED, 0},
    {"inclusiveGateway", BPMN_KIND_REFUSED, 0},
    {"eventBasedGateway", BPMN_KIND_REFUSED, 0},
    {"complexGateway", BPMN_KIND_REFUSED, 0},
    {"intermediateCatchEvent", BPMN_KIND_REFUSED, 0},
    {"intermediateThrowEvent", BPMN_KIND_REFUSED, 0},
    {"boundaryEvent", BPMN_KIND_REFUSED, 0},
};

/* Children of an executed flow node that are modelling only. Event
 * definitions (which make a start or end event something other than "none")
 * and loop markers are refused because no row names them. */
static const char *const node_child_ignored[] = {
    "incoming",          /* redundant with sourceRef/targetRef, which rule */
    "outgoing",          /* likewise */
    "documentation",     /* text for people */
    "extensionElements", /* read by node_extensions */
    "dataInputAssociation" /* data associations do not move data in Zeebe */,
    "dataOutputAssociation",
    "property",
};

/* zeebe extension elements: where each is read or ignored. Elsewhere, and
 * for any zeebe element not listed, the element is refused (execution
 * listeners, user task forms on a service task, ...). */
enum ext_action { EXT_TASK_DEFINITION = 1, EXT_TASK_HEADERS, EXT_IO_MAPPING, EXT_IGNORED };

#define ON_PROCESS (1u << 0)
#define ON_TYPE(t) (1u << (unsigned)(t))
#define ON_ANY_NODE                                                                                \
    (ON_TYPE(TANDEM_BPMN_START_EVENT) | ON_TYPE(TANDEM_BPMN_SERVICE_TASK) |                        \
     ON_TYPE(TANDEM_BPMN_END_EVENT))

static const struct zeebe_rule {
    const char *local_name;
    unsigned where; /* ON_* bits */
    enum ext_action action;
} zeebe_rules[] = {
    {"taskDefinition", ON_TYPE(TANDEM_BPMN_SERVICE_TASK), EXT_TASK_DEFINITION},
    {"taskHeaders", ON_TYPE(TANDEM_BPMN_SERVICE_TASK), EXT_TASK_HEADERS},
    {"ioMapping", ON_TYPE(TANDEM_BPMN_SERVICE_TASK), EXT_IO_MAPPING},
    {"properties", ON_PROCESS | ON_ANY_NODE, EXT_IGNORED},             /* key/values for tools */
    {"versionTag", ON_PROCESS, EXT_IGNORED},                           /* metadata */
    {"userTaskForm", ON_PROCESS, EXT_IGNORED},                         /* forms of user tasks */
    {"formDefinition", ON_TYPE(TANDEM_BPMN_START_EVENT), EXT_IGNORED}, /* start forms */
};

_Static_assert(TANDEM_BPMN_END_EVENT < 31, "types fit the ON_* mask");

bpmn_rule bpmn_rule_of(const char *local_name)
{
    TANDEM_ASSERT(local_name != NULL);
    size_t n = sizeof(process_child_rules) / sizeof(process_child_rules[0]);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(process_child_rules[i].local_name, local_name) == 0) {
            TANDEM_ASSERT(process_child_rules[i].kind != BPMN_KIND_NODE ||
                          process_child_rules[i].type != 0);
            return process_child_rules[i];
        }
    }
    return (bpmn_rule){local_name, BPMN_KIND_REFUSED, 0};
}

const char *tandem_bpmn_type_name(enum tandem_bpmn_type type)
{
    switch (type) {
    case TANDEM_BPMN_START_EVENT:
        return "startEvent";
    case TANDEM_BPMN_SERVICE_TASK:
        return "serviceTask";
    case TANDEM_BPMN_END_EVENT:
        return "endEvent";
    }
    return "unknown";
}

static const struct zeebe_rule *zeebe_rule_find(const char *local_name, unsigned where)
{
    TANDEM_ASSERT(local_name != NULL);
    TANDEM_ASSERT(where != 0);
    for (size_t i = 0; i < sizeof(zeebe_rules) / sizeof(zeebe_rules[0]); i++) {
        if ((zeebe_rules[i].where & where) != 0 &&
            strcmp(zeebe_rules[i].local_name, local_name) == 0) {
            return &zeebe_rules[i];
        }
    }
    return NULL;
}

/* ---- service task ------------------------------------------------------- */

/* What the extension elements of one service task gave, while read. */
typedef struct task_build {
    tandem_bpmn_task *task;
    const xmlNode *definition; /* the zeebe:taskDefinition, NULL when none yet */
    const xmlNode *headers;
    const xmlNode *io_mapping;
} task_build;

static bool is_blank(const char *s)
{
    TANDEM_ASSERT(s != NULL);
    for (; *s != '\0'; s++) {
        if (strchr(" \t\r\n", *s) == NULL) {
            return false;
        }
    }
    return true;
}

static int task_definition_read(bpmn_builder *b, const xmlNode *node, const char *id,
                                tandem_bpmn_task *task)
{
    TANDEM_ASSERT(node != NULL && task != NULL);
    int rc = bpmn_attr(b, node, "type", &task->type);
    if (rc == TANDEM_OK) {
        rc = bpmn_attr(b, node, "retries", &task->retries);
    }
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (task->type == NULL || is_blank(task->type)) {
        return bpmn_fail(b, node, "service task '%s' has a zeebe:taskDefinition without a type",
                         id);
    }
    if (task->type[0] == '=' && is_blank(task->type + 1)) {
        return bpmn_fail(b, node, "service task '%s' has an empty expression as job type", id);
    }
    if (task->retries == NULL || task->retries[0] == '\0') {
        task->retries = "3";
    }
    _Static_assert(TANDEM_BPMN_RETRIES_DEFAULT == 3, "default retries text matches the number");
    if (task->retries[0] == '=') {
        if (is_blank(task->retries + 1)) {
            return bpmn_fail(b, node, "service task '%s' has an empty expression as retries", id);
        }
        task->retries_is_expression = true;
        return TANDEM_OK;
    }
    uint64_t value = 0;
    for (const char *p = task->retries; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || value > INT32_MAX) {
            return bpmn_fail(b, node,
                             "service task '%s' has retries '%s'; expected a number from 0 to %d "
                             "or an expression starting with '='",
                             id, task->retries, INT32_MAX);
        }
        value = value * 10u + (uint64_t)(*p - '0');
    }
    if (value > INT32_MAX) {
        return bpmn_fail(b, node,
                         "service task '%s' has retries '%s'; expected a number from 0 to %d or "
                         "an expression starting with '='",
                         id, task->retries, INT32_MAX);
    }
    task->retries_count = (uint32_t)value;
    return TANDEM_OK;
}

/* Number of zeebe children named `local` of a node, bounded. */
static int count_zeebe_children(bpmn_builder *b, const xmlNode *node, const char *local,
                                const char *id, uint32_t *count)
{
    TANDEM_ASSERT(node != NULL && count != NULL);
    *count = 0;
    for (const xmlNode *child = node->children; child != NULL; child = child->next) {
        if (!bpmn_is(child, BPMN_NS_ZEEBE, local)) {
            continue;
        }
        if (*count >= TANDEM_BPMN_TASK_ENTRIES_MAX) {
            return bpmn_fail(b, child, "service task '%s' has more than %u zeebe:%s entries", id,
                             TANDEM_BPMN_TASK_ENTRIES_MAX, local);
        }
        (*count)++;
    }
    TANDEM_ASSERT(*count <= TANDEM_BPMN_TASK_ENTRIES_MAX);
    return TANDEM_OK;
}

static int task_headers_read(bpmn_builder *b, const xmlNode *node, const char *id,
                             tandem_bpmn_task *task)
{
    uint32_t count = 0;
    int rc = count_zeebe_children(b, node, "header", id, &count);
    if (rc != TANDEM_OK) {
        return rc;
    }
    tandem_bpmn_header *headers = bpmn_arena_alloc(b->arena, count, sizeof(*headers));
    if (headers == NULL) {
        return bpmn_oom(b);
    }
    uint32_t i = 0;
    for (const xmlNode *child = node->children; child != NULL; child = child->next) {
        if (!bpmn_is(child, BPMN_NS_ZEEBE, "header")) {
            continue;
        }
        tandem_bpmn_header *h = &headers[i++];
        rc = bpmn_attr(b, child, "key", &h->key);
        if (rc == TANDEM_OK) {
            rc = bpmn_attr(b, child, "value", &h->value);
        }
        if (rc != TANDEM_OK) {
            return rc;
        }
        if (h->key == NULL || h->key[0] == '\0') {
            return bpmn_fail(b, child, "service task '%s' has a zeebe:header without a key", id);
        }
        h->value = h->value != NULL ? h->value : "";
    }
    TANDEM_ASSERT(i == count);
    task->headers = headers;
    task->header_count = count;
    return TANDEM_OK;
}

static int mappings_read(bpmn_builder *b, const xmlNode *node, const char *id, const char *local,
                         const tandem_bpmn_mapping **out, uint32_t *out_count)
{
    uint32_t count = 0;
    int rc = count_zeebe_children(b, node, local, id, &count);
    if (rc != TANDEM_OK) {
        return rc;
    }
    tandem_bpmn_mapping *mappings = bpmn_arena_alloc(b->arena, count, sizeof(*mappings));
    if (mappings == NULL) {
        return bpmn_oom(b);
    }
    uint32_t i = 0;
    for (const xmlNode *child = node->children; child != NULL; child = child->next) {
        if (!bpmn_is(child, BPMN_NS_ZEEBE, local)) {
            continue;
        }
        tandem_bpmn_mapping *m = &mappings[i++];
        rc = bpmn_attr(b, child, "source", &m->source);
        if (rc == TANDEM_OK) {
            rc = bpmn_attr(b, child, "target", &m->target);
        }
        if (rc != TANDEM_OK) {
            return rc;
        }
        if (m->target == NULL || m->target[0] == '\0') {
            return bpmn_fail(b, child, "service task '%s' has a zeebe:%s without a target", id,
                             local);
        }
        m->source = m->source != NULL ? m->source : "";
    }
    TANDEM_ASSERT(i == count);
    *out = mappings;
    *out_count = count;
    return TANDEM_OK;
}

/* Remembers one extension element of a service task; at most one of each. */
static int task_extension_note(bpmn_builder *b, const xmlNode *ext, enum ext_action action,
                               const char *id, task_build *tb)
{
    const xmlNode **slot = NULL;
    switch (action) {
    case EXT_TASK_DEFINITION:
        slot = &tb->definition;
        break;
    case EXT_TASK_HEADERS:
        slot = &tb->headers;
        break;
    case EXT_IO_MAPPING:
        slot = &tb->io_mapping;
        break;
    case EXT_IGNORED:
        return TANDEM_OK;
    }
    TANDEM_ASSERT(slot != NULL);
    if (*slot != NULL) {
        return bpmn_fail(b, ext, "service task '%s' has more than one zeebe:%s", id,
                         (const char *)ext->name);
    }
    *slot = ext;
    return TANDEM_OK;
}

static int task_build_finish(bpmn_builder *b, const xmlNode *node, tandem_bpmn_element *element,
                             task_build *tb)
{
    TANDEM_ASSERT(element->type == TANDEM_BPMN_SERVICE_TASK);
    if (tb->definition == NULL) {
        return bpmn_fail(b, node, "service task '%s' has no zeebe:taskDefinition", element->id);
    }
    int rc = task_definition_read(b, tb->definition, element->id, tb->task);
    if (rc == TANDEM_OK && tb->headers != NULL) {
        rc = task_headers_read(b, tb->headers, element->id, tb->task);
    }
    if (rc == TANDEM_OK && tb->io_mapping != NULL) {
        rc = mappings_read(b, tb->io_mapping, element->id, "input", &tb->task->inputs,
                           &tb->task->input_count);
    }
    if (rc == TANDEM_OK && tb->io_mapping != NULL) {
        rc = mappings_read(b, tb->io_mapping, element->id, "output", &tb->task->outputs,
                           &tb->task->output_count);
    }
    if (rc == TANDEM_OK) {
        element->task = tb->task;
    }
    return rc;
}

/* ---- flow nodes and processes ------------------------------------------- */

static int refuse_child(bpmn_builder *b, const xmlNode *child, const char *id, const char *type,
                        const char *prefix)
{
    TANDEM_ASSERT(child != NULL && id != NULL);
    return bpmn_fail(b, child, "element '%s' of type '%s' with '%s%s' is not supported yet", id,
                     type, prefix, (const char *)child->name);
}

/* Walks one extensionElements: zeebe elements must have a row for `where`;
 * other namespaces are ignored. Calls back for the ones to read. */
static int extensions_walk(bpmn_builder *b, const xmlNode *ext_node, unsigned where, const char *id,
                           const char *type, task_build *tb)
{
    TANDEM_ASSERT(ext_node != NULL && id != NULL);
    for (const xmlNode *ext = ext_node->children; ext != NULL; ext = ext->next) {
        if (!bpmn_is(ext, BPMN_NS_ZEEBE, NULL)) {
            continue; /* other vendors' extensions do not affect Zeebe semantics */
        }
        const struct zeebe_rule *rule = zeebe_rule_find((const char *)ext->name, where);
        if (rule == NULL) {
            return refuse_child(b, ext, id, type, "zeebe:");
        }
        if (tb != NULL) {
            int rc = task_extension_note(b, ext, rule->action, id, tb);
            if (rc != TANDEM_OK) {
                return rc;
            }
        } else {
            TANDEM_ASSERT(rule->action == EXT_IGNORED);
        }
    }
    return TANDEM_OK;
}

static bool node_child_is_ignored(const char *local_name)
{
    size_t n = sizeof(node_child_ignored) / sizeof(node_child_ignored[0]);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(node_child_ignored[i], local_name) == 0) {
            return true;
        }
    }
    return false;
}

int bpmn_element_children(bpmn_builder *b, const xmlNode *node, tandem_bpmn_element *element)
{
    TANDEM_ASSERT(node != NULL && element != NULL);
    TANDEM_ASSERT(element->id != NULL);
    const char *type = tandem_bpmn_type_name(element->type);
    task_build tb = {0};
    if (element->type == TANDEM_BPMN_SERVICE_TASK) {
        tb.task = bpmn_arena_alloc(b->arena, 1, sizeof(*tb.task));
        if (tb.task == NULL) {
            return bpmn_oom(b);
        }
    }
    for (const xmlNode *child = node->children; child != NULL; child = child->next) {
        if (!bpmn_is(child, BPMN_NS_MODEL, NULL)) {
            continue;
        }
        const char *local = (const char *)child->name;
        if (!node_child_is_ignored(local)) {
            return refuse_child(b, child, element->id, type, "");
        }
        if (strcmp(local, "extensionElements") == 0) {
            int rc = extensions_walk(b, child, ON_TYPE(element->type), element->id, type,
                                     tb.task != NULL ? &tb : NULL);
            if (rc != TANDEM_OK) {
                return rc;
            }
        }
    }
    if (element->type == TANDEM_BPMN_SERVICE_TASK) {
        return task_build_finish(b, node, element, &tb);
    }
    return TANDEM_OK;
}

int bpmn_process_extensions(bpmn_builder *b, const xmlNode *process_node, const char *process_id)
{
    TANDEM_ASSERT(process_node != NULL);
    TANDEM_ASSERT(process_id != NULL);
    for (const xmlNode *child = process_node->children; child != NULL; child = child->next) {
        if (bpmn_is(child, BPMN_NS_MODEL, "extensionElements")) {
            int rc = extensions_walk(b, child, ON_PROCESS, process_id, "process", NULL);
            if (rc != TANDEM_OK) {
                return rc;
            }
        }
    }
    return TANDEM_OK;
}

/* ---- documentation ------------------------------------------------------ */

static int doc_line(tandem_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int doc_line(tandem_buf *out, const char *fmt, ...)
{
    TANDEM_ASSERT(out != NULL && fmt != NULL);
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    TANDEM_ASSERT(n > 0 && (size_t)n < sizeof(line));
    return tandem_buf_append(out, line, (size_t)n);
}

static const char *doc_kind(enum bpmn_kind kind)
{
    switch (kind) {
    case BPMN_KIND_NODE:
        return "executed";
    case BPMN_KIND_FLOW:
        return "executed (sequence flow)";
    case BPMN_KIND_IGNORED:
        return "ignored (modelling only)";
    case BPMN_KIND_REFUSED:
        return "refused: not supported yet";
    }
    TANDEM_UNREACHABLE();
}

static int doc_where(tandem_buf *out, unsigned where)
{
    const char *sep = "";
    int rc = TANDEM_OK;
    if ((where & ON_PROCESS) != 0) {
        rc = doc_line(out, "process");
        sep = ", ";
    }
    for (unsigned t = TANDEM_BPMN_START_EVENT; t <= TANDEM_BPMN_END_EVENT && rc == TANDEM_OK; t++) {
        if ((where & ON_TYPE(t)) != 0) {
            rc = doc_line(out, "%s%s", sep, tandem_bpmn_type_name((enum tandem_bpmn_type)t));
            sep = ", ";
        }
    }
    return rc;
}

int tandem_bpmn_doc_table(tandem_buf *out)
{
    TANDEM_ASSERT(out != NULL);
    size_t start_len = out->len;
    int rc = doc_line(out, "| element (child of a process) | treatment |\n|---|---|\n");
    size_t n = sizeof(process_child_rules) / sizeof(process_child_rules[0]);
    for (size_t i = 0; i < n && rc == TANDEM_OK; i++) {
        const bpmn_rule *rule = &process_child_rules[i];
        bool none_event = rule->kind == BPMN_KIND_NODE && rule->type != TANDEM_BPMN_SERVICE_TASK;
        const char *kind = strcmp(rule->local_name, "extensionElements") == 0
                               ? "read for zeebe elements (table below)"
                               : doc_kind(rule->kind);
        rc = doc_line(out, "| `%s` | %s%s |\n", rule->local_name, kind,
                      none_event ? " as a none event (with an event definition: refused)" : "");
    }
    if (rc == TANDEM_OK) {
        rc = doc_line(out, "| any other element | refused: not supported yet |\n\n"
                           "| zeebe extension element | allowed on | treatment |\n|---|---|---|\n");
    }
    for (size_t i = 0; i < sizeof(zeebe_rules) / sizeof(zeebe_rules[0]) && rc == TANDEM_OK; i++) {
        rc = doc_line(out, "| `zeebe:%s` | ", zeebe_rules[i].local_name);
        if (rc == TANDEM_OK) {
            rc = doc_where(out, zeebe_rules[i].where);
        }
        if (rc == TANDEM_OK) {
            rc = doc_line(out, " | %s |\n",
                          zeebe_rules[i].action == EXT_IGNORED ? "ignored" : "read");
        }
    }
    if (rc == TANDEM_OK) {
        rc = doc_line(out, "| any other zeebe element, or one elsewhere | any | refused: not "
                           "supported yet |\n\n"
                           "| child of an executed flow node | treatment |\n|---|---|\n");
    }
    size_t ignored = sizeof(node_child_ignored) / sizeof(node_child_ignored[0]);
    for (size_t i = 0; i < ignored && rc == TANDEM_OK; i++) {
        rc = doc_line(out, "| `%s` | %s |\n", node_child_ignored[i],
                      strcmp(node_child_ignored[i], "extensionElements") == 0
                          ? "read for zeebe elements (table above)"
                          : "ignored (modelling only)");
    }
    if (rc == TANDEM_OK) {
        rc = doc_line(out, "| any other (event definitions, loop characteristics, ...) | "
                           "refused: not supported yet |\n");
    }
    if (rc != TANDEM_OK) {
        tandem_buf_truncate(out, start_len);
    }
    TANDEM_ASSERT(rc != TANDEM_OK || out->len > start_len);
    return rc;
}
