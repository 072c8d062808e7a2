/*
 * bpmn_int.h — internals shared by the files of the BPMN module: the arena
 * that owns a parsed resource, the builder that carries the diagnostic
 * through the parse, and the element rule table.
 *
 * Files: parse.c (libxml2 set-up, definitions, processes, duplicate ids),
 * elements.c (the rule table; flow node children and zeebe extensions),
 * graph.c (sequence flow resolution, incoming/outgoing lists, structural
 * rules), model.c (lookups and free), digest.c (SHA-256), arena.c.
 */
#ifndef TANDEM_BPMN_BPMN_INT_H
#define TANDEM_BPMN_BPMN_INT_H

#include <libxml/tree.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpmn/bpmn.h"

#define BPMN_NS_MODEL "http://www.omg.org/spec/BPMN/20100524/MODEL"
#define BPMN_NS_ZEEBE "http://camunda.org/schema/zeebe/1.0"

/* ---- arena (arena.c) ----------------------------------------------------- */

/* Bump allocator over a list of malloc'd chunks; everything is freed at once.
 * Bounded by the input: a resource is at most 4 MiB and the model it builds
 * is a small multiple of that. */
tandem_bpmn_arena *bpmn_arena_new(void);
void bpmn_arena_free(tandem_bpmn_arena *arena);
/* Zeroed, 8-byte aligned memory valid until bpmn_arena_free; NULL when out
 * of memory or when count * size overflows. */
void *bpmn_arena_alloc(tandem_bpmn_arena *arena, size_t count, size_t size);
/* A NUL-terminated copy of len bytes; NULL when out of memory. */
char *bpmn_arena_strndup(tandem_bpmn_arena *arena, const char *s, size_t len);
/* Bytes handed out so far (for tests of the bound). */
size_t bpmn_arena_used_bytes(const tandem_bpmn_arena *arena);
/* Test hook for out-of-memory paths: after `count` more successful arena
 * calls (new or alloc) every call fails; a negative count (the default) never
 * fails. Process-wide and not thread-safe: only tests call it. */
void bpmn_arena_fail_after(long count);

/* ---- builder (parse.c) --------------------------------------------------- */

typedef struct bpmn_builder {
    const char *name;         /* resource name for messages; not owned */
    tandem_diag *diag;        /* may be NULL */
    tandem_bpmn_arena *arena; /* owns the model being built */
} bpmn_builder;

/* Sets TANDEM_EINVAL with "<name>:<line of node>: <message>" (no line when
 * node is NULL or has none) and returns TANDEM_EINVAL. */
int bpmn_fail(bpmn_builder *b, const xmlNode *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with a line number (0: none). */
int bpmn_fail_at(bpmn_builder *b, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets TANDEM_ENOMEM and returns it. */
int bpmn_oom(bpmn_builder *b);

/* True when node is an element of namespace `ns` with local name `local`
 * (local NULL matches any name). */
bool bpmn_is(const xmlNode *node, const char *ns, const char *local);
/* Line of a node for messages and the model; 0 when unknown. */
uint32_t bpmn_line(const xmlNode *node);
/* Attribute without namespace copied into the arena; *out NULL when absent.
 * Fails only when out of memory. */
int bpmn_attr(bpmn_builder *b, const xmlNode *node, const char *attr, const char **out);
/* Attribute that must be an id: present, non-empty, at most
 * TANDEM_BPMN_ID_LEN_MAX bytes. `what` names the element in messages. */
int bpmn_attr_id(bpmn_builder *b, const xmlNode *node, const char *what, const char **out);

/* ---- element rules (elements.c) ------------------------------------------ */

/* What a BPMN element that is a direct child of a process is to the parser. */
enum bpmn_kind {
    BPMN_KIND_NODE = 1, /* an executed flow node of `type` */
    BPMN_KIND_FLOW,     /* a sequence flow */
    BPMN_KIND_IGNORED,  /* modelling only, skipped */
    BPMN_KIND_REFUSED,  /* affects execution, not supported yet */
};

typedef struct bpmn_rule {
    const char *local_name; /* BPMN local name, e.g. "exclusiveGateway" */
    enum bpmn_kind kind;
    enum tandem_bpmn_type type; /* BPMN_KIND_NODE only */
} bpmn_rule;

/* The rule of a process child; an element that the table does not name is
 * refused (kind BPMN_KIND_REFUSED) so new BPMN never slips through. */
bpmn_rule bpmn_rule_of(const char *local_name);

/* Checks the children of an executed flow node (event definitions, loop
 * markers, extension elements) and fills the element's task when it is a
 * service task. `element` has id, type and line set. */
int bpmn_element_children(bpmn_builder *b, const xmlNode *node, tandem_bpmn_element *element);

/* Checks the extension elements of a process (refuses those that would change
 * execution, such as execution listeners). */
int bpmn_process_extensions(bpmn_builder *b, const xmlNode *process_node, const char *process_id);

/* ---- graph (graph.c) ----------------------------------------------------- */

/* A process while it is built: the model arrays are writable and flows still
 * refer to elements by id. */
typedef struct bpmn_process_build {
    tandem_bpmn_process *process;
    tandem_bpmn_element *elements;
    tandem_bpmn_flow *flows;
    const char **source_refs; /* per flow: sourceRef as written, NULL when absent */
    const char **target_refs;
    uint32_t line; /* of the process element */
} bpmn_process_build;

/* Sorts the element index, resolves flow references, builds incoming and
 * outgoing lists, finds the start event and checks the structural rules. Ids
 * must already be unique. */
int bpmn_graph_build(bpmn_builder *b, bpmn_process_build *pb);

/* ---- digest (digest.c) --------------------------------------------------- */

/* SHA-256 (FIPS 180-4) of len bytes. */
void bpmn_sha256(const void *data, size_t len, uint8_t out[32]);

#endif
