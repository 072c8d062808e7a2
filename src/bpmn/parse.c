/*
 * parse.c — from bytes to a validated model: libxml2 set up so that hostile
 * documents stay harmless, then the definitions element, its executable
 * processes and the document-wide uniqueness of ids.
 *
 * Safety: no XML_PARSE_NOENT (entities are not substituted), no DTDLOAD or
 * DTDVALID (no external subset is fetched), XML_PARSE_NONET, no
 * XML_PARSE_HUGE (libxml2's depth and text-size limits stay on), and the
 * internal-subset SAX callback stops the parser at the DOCTYPE, before any
 * entity declaration is read. BPMN files never carry a DOCTYPE, so refusing
 * all of them costs nothing and removes the whole class of entity attacks.
 */
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "bpmn/bpmn_int.h"

/* Long enough for libxml2's messages, which we quote. */
#define PARSE_XML_MESSAGE_LEN_MAX 200u

/* What the SAX hooks saw, reachable through ctxt->_private. */
typedef struct parse_guard {
    bool doctype_seen;
    uint32_t doctype_line;
    bool error_seen; /* first error (not warning) kept: later ones are echoes */
    bool out_of_memory;
    uint32_t error_line;
    char error_message[PARSE_XML_MESSAGE_LEN_MAX];
} parse_guard;

static pthread_once_t parse_init_once = PTHREAD_ONCE_INIT;

static void parse_init(void)
{
    /* libxml2 wants one initialisation before threads parse concurrently. */
    xmlInitParser();
}

int bpmn_fail_at(bpmn_builder *b, uint32_t line, const char *fmt, ...)
{
    TANDEM_ASSERT(b != NULL);
    TANDEM_ASSERT(fmt != NULL);
    char text[sizeof(b->diag->message)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (line > 0) {
        return tandem_diag_set(b->diag, TANDEM_EINVAL, "%s:%u: %s", b->name, line, text);
    }
    return tandem_diag_set(b->diag, TANDEM_EINVAL, "%s: %s", b->name, text);
}

int bpmn_fail(bpmn_builder *b, const xmlNode *node, const char *fmt, ...)
{
    TANDEM_ASSERT(b != NULL);
    TANDEM_ASSERT(fmt != NULL);
    char text[sizeof(b->diag->message)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return bpmn_fail_at(b, node != NULL ? bpmn_line(node) : 0, "%s", text);
}

int bpmn_oom(bpmn_builder *b)
{
    TANDEM_ASSERT(b != NULL);
    TANDEM_ASSERT(b->name != NULL);
    return tandem_diag_set(b->diag, TANDEM_ENOMEM, "%s: out of memory while parsing", b->name);
}

bool bpmn_is(const xmlNode *node, const char *ns, const char *local)
{
    TANDEM_ASSERT(node != NULL);
    TANDEM_ASSERT(ns != NULL);
    if (node->type != XML_ELEMENT_NODE || node->ns == NULL || node->ns->href == NULL) {
        return false;
    }
    if (strcmp((const char *)node->ns->href, ns) != 0) {
        return false;
    }
    return local == NULL || strcmp((const char *)node->name, local) == 0;
}

uint32_t bpmn_line(const xmlNode *node)
{
    TANDEM_ASSERT(node != NULL);
    long line = xmlGetLineNo(node);
    TANDEM_ASSERT(line >= -1);
    return (line > 0 && line <= (long)UINT32_MAX) ? (uint32_t)line : 0;
}

int bpmn_attr(bpmn_builder *b, const xmlNode *node, const char *attr, const char **out)
{
    TANDEM_ASSERT(node != NULL && attr != NULL);
    TANDEM_ASSERT(out != NULL);
    *out = NULL;
    if (xmlHasNsProp(node, (const xmlChar *)attr, NULL) == NULL) {
        return TANDEM_OK; /* absent */
    }
    /* present, so NULL here means libxml2 could not allocate the copy */
    xmlChar *value = xmlGetNoNsProp(node, (const xmlChar *)attr);
    if (value == NULL) {
        return bpmn_oom(b);
    }
    char *copy = bpmn_arena_strndup(b->arena, (const char *)value, strlen((const char *)value));
    xmlFree(value);
    if (copy == NULL) {
        return bpmn_oom(b);
    }
    *out = copy;
    return TANDEM_OK;
}

int bpmn_attr_id(bpmn_builder *b, const xmlNode *node, const char *what, const char **out)
{
    TANDEM_ASSERT(what != NULL);
    int rc = bpmn_attr(b, node, "id", out);
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (*out == NULL || (*out)[0] == '\0') {
        return bpmn_fail(b, node, "%s has no id", what);
    }
    if (strlen(*out) > TANDEM_BPMN_ID_LEN_MAX) {
        return bpmn_fail(b, node, "%s has an id longer than %u bytes", what,
                         TANDEM_BPMN_ID_LEN_MAX);
    }
    TANDEM_ASSERT(*out != NULL);
    return TANDEM_OK;
}

/* ---- libxml2 hooks ------------------------------------------------------ */

static void guard_internal_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
                                  const xmlChar *system_id)
{
    (void)name;
    (void)external_id;
    (void)system_id;
    xmlParserCtxtPtr ctxt = ctx;
    TANDEM_ASSERT(ctxt != NULL && ctxt->_private != NULL);
    parse_guard *guard = ctxt->_private;
    guard->doctype_seen = true;
    guard->doctype_line =
        (ctxt->input != NULL && ctxt->input->line > 0) ? (uint32_t)ctxt->input->line : 0;
    xmlStopParser(ctxt);
}

static void guard_error(void *ctx, xmlErrorPtr error)
{
    xmlParserCtxtPtr ctxt = ctx;
    TANDEM_ASSERT(ctxt != NULL && ctxt->_private != NULL);
    TANDEM_ASSERT(error != NULL);
    parse_guard *guard = ctxt->_private;
    if (error->level < XML_ERR_ERROR || guard->error_seen) {
        return;
    }
    guard->error_seen = true;
    /* a message that could not be formatted means an allocation failed */
    guard->out_of_memory = error->code == XML_ERR_NO_MEMORY || error->message == NULL;
    guard->error_line = error->line > 0 ? (uint32_t)error->line : 0;
    snprintf(guard->error_message, sizeof(guard->error_message), "%s",
             error->message != NULL ? error->message : "unknown error");
    /* libxml2's messages end in a newline and some span two lines. */
    size_t len = strlen(guard->error_message);
    while (len > 0 &&
           (guard->error_message[len - 1] == '\n' || guard->error_message[len - 1] == ' ')) {
        guard->error_message[--len] = '\0';
    }
    for (size_t i = 0; i < len; i++) {
        if (guard->error_message[i] == '\n') {
            guard->error_message[i] = ' ';
        }
    }
}

/* ---- definitions and processes ------------------------------------------ */

/* Whether a process element says isExecutable="true" (xsd:boolean, so "1"
 * too). Fails only when out of memory. */
static int process_is_executable(bpmn_builder *b, const xmlNode *node, bool *executable)
{
    TANDEM_ASSERT(node != NULL && executable != NULL);
    const char *value = NULL;
    int rc = bpmn_attr(b, node, "isExecutable", &value);
    *executable =
        rc == TANDEM_OK && value != NULL && (strcmp(value, "true") == 0 || strcmp(value, "1") == 0);
    TANDEM_ASSERT(rc == TANDEM_OK || !*executable);
    return rc;
}

/* Trimmed text content of a node into the arena. */
static int node_text(bpmn_builder *b, const xmlNode *node, const char **out)
{
    TANDEM_ASSERT(node != NULL && out != NULL);
    xmlChar *content = xmlNodeGetContent(node);
    if (content == NULL) {
        return bpmn_oom(b);
    }
    const char *s = (const char *)content;
    size_t len = strlen(s);
    while (len > 0 && strchr(" \t\r\n", s[len - 1]) != NULL) {
        len--;
    }
    size_t start = 0;
    while (start < len && strchr(" \t\r\n", s[start]) != NULL) {
        start++;
    }
    char *copy = bpmn_arena_strndup(b->arena, s + start, len - start);
    xmlFree(content);
    if (copy == NULL) {
        return bpmn_oom(b);
    }
    *out = copy;
    return TANDEM_OK;
}

static int flow_collect(bpmn_builder *b, const xmlNode *node, bpmn_process_build *pb,
                        uint32_t index)
{
    TANDEM_ASSERT(index < pb->process->flow_count);
    tandem_bpmn_flow *flow = &pb->flows[index];
    int rc = bpmn_attr_id(b, node, "sequenceFlow", &flow->id);
    if (rc == TANDEM_OK) {
        rc = bpmn_attr(b, node, "name", &flow->name);
    }
    if (rc == TANDEM_OK) {
        rc = bpmn_attr(b, node, "sourceRef", &pb->source_refs[index]);
    }
    if (rc == TANDEM_OK) {
        rc = bpmn_attr(b, node, "targetRef", &pb->target_refs[index]);
    }
    if (rc != TANDEM_OK) {
        return rc;
    }
    flow->name = flow->name != NULL ? flow->name : "";
    flow->line = bpmn_line(node);
    flow->source = TANDEM_BPMN_NONE;
    flow->target = TANDEM_BPMN_NONE;
    for (const xmlNode *child = node->children; child != NULL; child = child->next) {
        if (!bpmn_is(child, BPMN_NS_MODEL, "conditionExpression")) {
            continue;
        }
        if (flow->condition != NULL) {
            return bpmn_fail(b, child, "sequence flow '%s' has more than one conditionExpression",
                             flow->id);
        }
        rc = node_text(b, child, &flow->condition);
        if (rc != TANDEM_OK) {
            return rc;
        }
    }
    return TANDEM_OK;
}

static int node_collect(bpmn_builder *b, const xmlNode *node, enum tandem_bpmn_type type,
                        tandem_bpmn_element *element)
{
    TANDEM_ASSERT(node != NULL && element != NULL);
    int rc = bpmn_attr_id(b, node, tandem_bpmn_type_name(type), &element->id);
    if (rc == TANDEM_OK) {
        rc = bpmn_attr(b, node, "name", &element->name);
    }
    if (rc != TANDEM_OK) {
        return rc;
    }
    element->name = element->name != NULL ? element->name : "";
    element->type = type;
    element->line = bpmn_line(node);
    TANDEM_ASSERT(element->id != NULL);
    return bpmn_element_children(b, node, element);
}

/* Pass 1 over a process: counts flow nodes and flows, refuses what is not
 * supported. */
static int process_count(bpmn_builder *b, const xmlNode *pnode, uint32_t *element_count,
                         uint32_t *flow_count)
{
    *element_count = 0;
    *flow_count = 0;
    for (const xmlNode *child = pnode->children; child != NULL; child = child->next) {
        if (!bpmn_is(child, BPMN_NS_MODEL, NULL)) {
            continue; /* text, comments, foreign elements */
        }
        bpmn_rule rule = bpmn_rule_of((const char *)child->name);
        uint32_t *counter = NULL;
        if (rule.kind == BPMN_KIND_NODE) {
            counter = element_count;
        } else if (rule.kind == BPMN_KIND_FLOW) {
            counter = flow_count;
        } else if (rule.kind == BPMN_KIND_REFUSED) {
            xmlChar *id = xmlGetNoNsProp(child, (const xmlChar *)"id");
            int rc = id != NULL
                         ? bpmn_fail(b, child, "element '%s' of type '%s' is not supported yet",
                                     (const char *)id, (const char *)child->name)
                         : bpmn_fail(b, child, "element of type '%s' is not supported yet",
                                     (const char *)child->name);
            xmlFree(id);
            return rc;
        } else {
            TANDEM_ASSERT(rule.kind == BPMN_KIND_IGNORED);
            continue;
        }
        if (*counter >= TANDEM_BPMN_ELEMENTS_MAX) {
            return bpmn_fail(b, child, "process has more than %u %s", TANDEM_BPMN_ELEMENTS_MAX,
                             counter == flow_count ? "sequence flows" : "flow nodes");
        }
        (*counter)++;
    }
    return TANDEM_OK;
}

static int process_collect(bpmn_builder *b, const xmlNode *pnode, bpmn_process_build *pb)
{
    tandem_bpmn_process *process = pb->process;
    int rc = bpmn_attr_id(b, pnode, "process", &process->id);
    if (rc == TANDEM_OK) {
        rc = bpmn_attr(b, pnode, "name", &process->name);
    }
    if (rc == TANDEM_OK) {
        rc = bpmn_process_extensions(b, pnode, process->id);
    }
    uint32_t element_count = 0;
    uint32_t flow_count = 0;
    if (rc == TANDEM_OK) {
        rc = process_count(b, pnode, &element_count, &flow_count);
    }
    if (rc != TANDEM_OK) {
        return rc;
    }
    process->name = process->name != NULL ? process->name : "";
    pb->line = bpmn_line(pnode);
    pb->elements = bpmn_arena_alloc(b->arena, element_count, sizeof(*pb->elements));
    pb->flows = bpmn_arena_alloc(b->arena, flow_count, sizeof(*pb->flows));
    pb->source_refs = bpmn_arena_alloc(b->arena, flow_count, sizeof(*pb->source_refs));
    pb->target_refs = bpmn_arena_alloc(b->arena, flow_count, sizeof(*pb->target_refs));
    if (pb->elements == NULL || pb->flows == NULL || pb->source_refs == NULL ||
        pb->target_refs == NULL) {
        return bpmn_oom(b);
    }
    process->element_count = element_count;
    process->flow_count = flow_count;
    uint32_t e = 0;
    uint32_t f = 0;
    for (const xmlNode *child = pnode->children; child != NULL; child = child->next) {
        if (!bpmn_is(child, BPMN_NS_MODEL, NULL)) {
            continue;
        }
        bpmn_rule rule = bpmn_rule_of((const char *)child->name);
        if (rule.kind == BPMN_KIND_NODE) {
            rc = node_collect(b, child, rule.type, &pb->elements[e++]);
        } else if (rule.kind == BPMN_KIND_FLOW) {
            rc = flow_collect(b, child, pb, f++);
        }
        if (rc != TANDEM_OK) {
            return rc;
        }
    }
    TANDEM_ASSERT(e == element_count && f == flow_count);
    return TANDEM_OK;
}

typedef struct id_entry {
    const char *id;
    uint32_t line;
} id_entry;

static int id_entry_cmp(const void *a, const void *b)
{
    const id_entry *x = a;
    const id_entry *y = b;
    int c = strcmp(x->id, y->id);
    if (c != 0) {
        return c;
    }
    return (x->line > y->line) - (x->line < y->line);
}

/* Ids are unique in the whole document (they are xsd:ID), across processes. */
static int check_unique_ids(bpmn_builder *b, const bpmn_process_build *builds, uint32_t count)
{
    size_t total = 0;
    for (uint32_t i = 0; i < count; i++) {
        total += 1u + builds[i].process->element_count + builds[i].process->flow_count;
    }
    /* in the arena, like every allocation of a parse: bounded by the input */
    id_entry *entries = bpmn_arena_alloc(b->arena, total, sizeof(*entries));
    if (entries == NULL) {
        return bpmn_oom(b);
    }
    size_t n = 0;
    for (uint32_t i = 0; i < count; i++) {
        const bpmn_process_build *pb = &builds[i];
        entries[n++] = (id_entry){pb->process->id, 0};
        for (uint32_t e = 0; e < pb->process->element_count; e++) {
            entries[n++] = (id_entry){pb->elements[e].id, pb->elements[e].line};
        }
        for (uint32_t f = 0; f < pb->process->flow_count; f++) {
            entries[n++] = (id_entry){pb->flows[f].id, pb->flows[f].line};
        }
    }
    TANDEM_ASSERT(n == total);
    qsort(entries, n, sizeof(*entries), id_entry_cmp);
    int rc = TANDEM_OK;
    for (size_t i = 1; i < n && rc == TANDEM_OK; i++) {
        if (strcmp(entries[i - 1].id, entries[i].id) == 0) {
            rc = entries[i - 1].line > 0
                     ? bpmn_fail_at(b, entries[i].line, "duplicate id '%s' (also on line %u)",
                                    entries[i].id, entries[i - 1].line)
                     : bpmn_fail_at(b, entries[i].line, "duplicate id '%s'", entries[i].id);
        }
    }
    return rc;
}

static int definitions_parse(bpmn_builder *b, const xmlNode *root, tandem_bpmn_resource *resource)
{
    TANDEM_ASSERT(root != NULL && resource != NULL);
    if (!bpmn_is(root, BPMN_NS_MODEL, "definitions")) {
        const char *ns = root->ns != NULL ? (const char *)root->ns->href : "";
        return bpmn_fail(b, root,
                         "root element is '%s' of namespace '%s'; expected 'definitions' of "
                         "namespace '" BPMN_NS_MODEL "'",
                         (const char *)root->name, ns);
    }
    /* The executable processes are picked once: reading an attribute twice
     * could disagree when an allocation fails in between. */
    const xmlNode *nodes[TANDEM_BPMN_PROCESSES_MAX];
    uint32_t count = 0;
    for (const xmlNode *child = root->children; child != NULL; child = child->next) {
        bool executable = false;
        if (bpmn_is(child, BPMN_NS_MODEL, "process")) {
            int rc = process_is_executable(b, child, &executable);
            if (rc != TANDEM_OK) {
                return rc;
            }
        }
        if (!executable) {
            continue;
        }
        if (count >= TANDEM_BPMN_PROCESSES_MAX) {
            return bpmn_fail(b, child, "more than %u executable processes in one resource",
                             TANDEM_BPMN_PROCESSES_MAX);
        }
        nodes[count++] = child;
    }
    if (count == 0) {
        return bpmn_fail(b, NULL, "no executable process (a process with isExecutable=\"true\")");
    }
    tandem_bpmn_process *processes = bpmn_arena_alloc(b->arena, count, sizeof(*processes));
    bpmn_process_build *builds = bpmn_arena_alloc(b->arena, count, sizeof(*builds));
    if (processes == NULL || builds == NULL) {
        return bpmn_oom(b);
    }
    int rc = TANDEM_OK;
    uint32_t i = 0;
    for (; i < count && rc == TANDEM_OK; i++) {
        builds[i].process = &processes[i];
        rc = process_collect(b, nodes[i], &builds[i]);
    }
    if (rc == TANDEM_OK) {
        TANDEM_ASSERT(i == count);
        rc = check_unique_ids(b, builds, count);
    }
    for (i = 0; i < count && rc == TANDEM_OK; i++) {
        rc = bpmn_graph_build(b, &builds[i]);
    }
    if (rc == TANDEM_OK) {
        resource->processes = processes;
        resource->process_count = count;
    }
    return rc;
}

/* ---- entry point -------------------------------------------------------- */

/* libxml2 reports a few failures (out of memory before a parser context
 * exists) through its per-thread generic handler, which prints to stderr by
 * default; the diag carries our error instead. */
static void xml_silent(void *ctx, const char *fmt, ...)
{
    (void)ctx;
    (void)fmt;
}

static int xml_read(bpmn_builder *b, const void *data, size_t len, tandem_bpmn_resource *resource)
{
    xmlSetGenericErrorFunc(NULL, xml_silent);
    parse_guard guard;
    memset(&guard, 0, sizeof(guard));
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (ctxt == NULL || ctxt->sax == NULL) {
        xmlFreeParserCtxt(ctxt);
        return bpmn_oom(b);
    }
    ctxt->_private = &guard;
    ctxt->sax->internalSubset = guard_internal_subset;
    ctxt->sax->serror = guard_error;
    const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                        XML_PARSE_BIG_LINES | XML_PARSE_NOCDATA;
    TANDEM_ASSERT(len <= TANDEM_BPMN_RESOURCE_SIZE_BYTES_MAX);
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, data, (int)len, NULL, NULL, options);
    int rc = TANDEM_OK;
    if (guard.doctype_seen) {
        rc = bpmn_fail_at(b, guard.doctype_line,
                          "DOCTYPE declarations are not allowed (BPMN resources carry no DTD and "
                          "no entities)");
    } else if (guard.out_of_memory || ctxt->errNo == XML_ERR_NO_MEMORY ||
               (!guard.error_seen && (doc == NULL || !ctxt->wellFormed))) {
        /* libxml2 fails without a reported error only when an allocation
         * failed (creating the input, or the error message itself) */
        rc = bpmn_oom(b);
    } else if (guard.error_seen || doc == NULL || !ctxt->wellFormed) {
        rc = bpmn_fail_at(b, guard.error_line, "not well-formed XML: %s", guard.error_message);
    } else {
        const xmlNode *root = xmlDocGetRootElement(doc);
        rc = root != NULL ? definitions_parse(b, root, resource)
                          : bpmn_fail(b, NULL, "not well-formed XML: no root element");
    }
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return rc;
}

int tandem_bpmn_parse(const void *data, size_t len, const char *name, tandem_bpmn_resource **out,
                      tandem_diag *diag)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(data != NULL || len == 0);
    *out = NULL;
    tandem_diag_clear(diag);
    bpmn_builder b = {name != NULL ? name : "resource", diag, NULL};
    if (len > TANDEM_BPMN_RESOURCE_SIZE_BYTES_MAX) {
        return tandem_diag_set(diag, TANDEM_ETOOBIG,
                               "%s: resource is %zu bytes, more than the limit of %u bytes", b.name,
                               len, TANDEM_BPMN_RESOURCE_SIZE_BYTES_MAX);
    }
    if (len == 0) {
        return bpmn_fail(&b, NULL, "resource is empty");
    }
    pthread_once(&parse_init_once, parse_init);
    b.arena = bpmn_arena_new();
    if (b.arena == NULL) {
        return bpmn_oom(&b);
    }
    tandem_bpmn_resource *resource = bpmn_arena_alloc(b.arena, 1, sizeof(*resource));
    if (resource == NULL) {
        bpmn_arena_free(b.arena);
        return bpmn_oom(&b);
    }
    int rc = xml_read(&b, data, len, resource);
    if (rc != TANDEM_OK) {
        bpmn_arena_free(b.arena);
        return rc;
    }
    resource->size_bytes = len;
    tandem_bpmn_resource_digest(data, len, &resource->digest);
    resource->arena_ = b.arena;
    TANDEM_ASSERT(resource->process_count >= 1);
    *out = resource;
    return TANDEM_OK;
}
