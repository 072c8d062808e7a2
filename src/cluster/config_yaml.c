/*
 * config_yaml.c — reads a configuration from YAML text and prints one back.
 *
 * Reading walks libyaml's event stream rather than its document tree: the
 * walk knows the schema, so it descends only into known sections (at most
 * CONFIG_DEPTH_MAX deep), stops at the first problem with the line and column
 * of the event, sees duplicate keys (which the document tree would keep
 * silently), and refuses aliases, which a configuration never needs and which
 * would let a small file stand for a large one.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "base/assert.h"
#include "cluster/config_int.h"

/* Known sections: cluster, network, network.internalApi, api, api.rest, ... */
#define SECTIONS_MAX 24

typedef struct yaml_walk {
    config_load *ld;
    yaml_parser_t parser;
    yaml_event_t event; /* the current event, valid when have_event */
    bool have_event;
    struct {
        char path[CONFIG_PATH_LEN_MAX + 1];
        uint64_t line, column;
    } sections[SECTIONS_MAX]; /* sections seen, for duplicates */
    size_t section_count;
} yaml_walk;

static int file_error(yaml_walk *w, yaml_mark_t mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int file_error(yaml_walk *w, yaml_mark_t mark, const char *fmt, ...)
{
    TANDEM_ASSERT(w != NULL && fmt != NULL);
    char text[CONFIG_ERR_LEN_MAX * 2];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    TANDEM_ASSERT(n >= 0);
    return tandem_diag_set(w->ld->diag, TANDEM_ECONFIG, "%s:%zu:%zu: %s", w->ld->name,
                           mark.line + 1, mark.column + 1, text);
}

/* libyaml's own description of what is wrong with the text. */
static int syntax_error(yaml_walk *w)
{
    TANDEM_ASSERT(w != NULL && w->ld != NULL);
    yaml_parser_t *p = &w->parser;
    TANDEM_ASSERT(p->error != YAML_NO_ERROR);
    const char *problem = p->problem != NULL ? p->problem : "syntax error";
    if (p->error == YAML_MEMORY_ERROR) {
        return tandem_diag_set(w->ld->diag, TANDEM_ENOMEM, "%s: out of memory reading YAML",
                               w->ld->name);
    }
    if (p->error == YAML_READER_ERROR) {
        /* Reader errors are about bytes (encoding), so they carry an offset. */
        char value[16] = "";
        if (p->problem_value >= 0) {
            snprintf(value, sizeof(value), " (0x%02x)", (unsigned)p->problem_value);
        }
        return tandem_diag_set(w->ld->diag, TANDEM_ECONFIG,
                               "%s: at byte offset %zu: malformed YAML: %s%s", w->ld->name,
                               p->problem_offset, problem, value);
    }
    if (p->context != NULL) {
        return file_error(w, p->problem_mark, "malformed YAML: %s (%s at %zu:%zu)", problem,
                          p->context, p->context_mark.line + 1, p->context_mark.column + 1);
    }
    return file_error(w, p->problem_mark, "malformed YAML: %s", problem);
}

static int next_event(yaml_walk *w)
{
    TANDEM_ASSERT(w != NULL);
    if (w->have_event) {
        yaml_event_delete(&w->event);
        w->have_event = false;
    }
    if (!yaml_parser_parse(&w->parser, &w->event)) {
        return syntax_error(w);
    }
    w->have_event = true;
    if (w->event.type == YAML_ALIAS_EVENT) {
        return file_error(w, w->event.start_mark, "aliases (*name) are not supported");
    }
    TANDEM_ASSERT(w->event.type != YAML_NO_EVENT);
    return TANDEM_OK;
}

static bool scalar_is_null(const yaml_event_t *ev)
{
    TANDEM_ASSERT(ev->type == YAML_SCALAR_EVENT);
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return false;
    }
    const char *v = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    TANDEM_ASSERT(v != NULL || n == 0);
    return n == 0 || (n == 1 && v[0] == '~') ||
           (n == 4 &&
            (memcmp(v, "null", 4) == 0 || memcmp(v, "Null", 4) == 0 || memcmp(v, "NULL", 4) == 0));
}

/* "a mapping", "a list" or the quoted scalar, for "got ..." in messages. */
static void describe_event(const yaml_event_t *ev, char *out, size_t out_size)
{
    TANDEM_ASSERT(ev != NULL);
    TANDEM_ASSERT(out != NULL && out_size >= 16);
    if (ev->type == YAML_SCALAR_EVENT) {
        config_quote((const char *)ev->data.scalar.value, ev->data.scalar.length, out, out_size);
    } else if (ev->type == YAML_MAPPING_START_EVENT) {
        snprintf(out, out_size, "a mapping");
    } else if (ev->type == YAML_SEQUENCE_START_EVENT) {
        snprintf(out, out_size, "a list");
    } else {
        snprintf(out, out_size, "nothing");
    }
}

static const char *expected_text(const config_key *key)
{
    TANDEM_ASSERT(key != NULL);
    switch (key->type) {
    case CONFIG_U32:
    case CONFIG_PORT:
        return "an integer";
    case CONFIG_SIZE:
        return "a size such as 128MB";
    case CONFIG_NAME:
    case CONFIG_HOST:
    case CONFIG_PATH:
        return "a string";
    case CONFIG_ADDRESSES:
        return "a list of \"host:port\" strings";
    case CONFIG_LOG_LEVEL:
        return "one of debug, info, warn, error";
    case CONFIG_BOOL:
        return "true or false";
    }
    TANDEM_UNREACHABLE();
}

/* The value of a list key: a sequence of scalars, a null, or one
 * comma-separated scalar (as in the environment). */
static int read_list(yaml_walk *w, const config_key *key)
{
    TANDEM_ASSERT(key->type == CONFIG_ADDRESSES && w->have_event);
    char err[CONFIG_ERR_LEN_MAX];
    char got[CONFIG_ERR_LEN_MAX / 2];
    tandem_config *cfg = w->ld->cfg;
    if (w->event.type == YAML_SCALAR_EVENT) {
        if (scalar_is_null(&w->event)) {
            config_list_clear(key, cfg);
            return TANDEM_OK;
        }
        if (config_value_parse(key, (const char *)w->event.data.scalar.value,
                               w->event.data.scalar.length, cfg, err, sizeof(err)) != TANDEM_OK) {
            return file_error(w, w->event.start_mark, "%s: %s", key->path, err);
        }
        return TANDEM_OK;
    }
    if (w->event.type != YAML_SEQUENCE_START_EVENT) {
        describe_event(&w->event, got, sizeof(got));
        return file_error(w, w->event.start_mark, "%s: expected %s, got %s", key->path,
                          expected_text(key), got);
    }
    config_list_clear(key, cfg);
    /* Bounded: config_list_append fails once the list is full. */
    for (uint64_t n = 0;; n++) {
        TANDEM_ASSERT(n <= key->max);
        int rc = next_event(w);
        if (rc != TANDEM_OK) {
            return rc;
        }
        if (w->event.type == YAML_SEQUENCE_END_EVENT) {
            return TANDEM_OK;
        }
        if (w->event.type != YAML_SCALAR_EVENT) {
            describe_event(&w->event, got, sizeof(got));
            return file_error(w, w->event.start_mark,
                              "%s: entry %" PRIu64 ": expected a \"host:port\" string, got %s",
                              key->path, n, got);
        }
        if (config_list_append(key, (const char *)w->event.data.scalar.value,
                               w->event.data.scalar.length, cfg, err, sizeof(err)) != TANDEM_OK) {
            return file_error(w, w->event.start_mark, "%s: %s", key->path, err);
        }
    }
}

static int read_value(yaml_walk *w, const config_key *key)
{
    TANDEM_ASSERT(w->have_event && key != NULL);
    TANDEM_ASSERT(w->ld->origins[config_key_index(key)].kind == CONFIG_FROM_FILE);
    if (key->type == CONFIG_ADDRESSES) {
        return read_list(w, key);
    }
    if (w->event.type != YAML_SCALAR_EVENT) {
        char got[CONFIG_ERR_LEN_MAX / 2];
        describe_event(&w->event, got, sizeof(got));
        return file_error(w, w->event.start_mark, "%s: expected %s, got %s", key->path,
                          expected_text(key), got);
    }
    char err[CONFIG_ERR_LEN_MAX];
    if (config_value_parse(key, (const char *)w->event.data.scalar.value,
                           w->event.data.scalar.length, w->ld->cfg, err,
                           sizeof(err)) != TANDEM_OK) {
        return file_error(w, w->event.start_mark, "%s: %s", key->path, err);
    }
    return TANDEM_OK;
}

/* Records a key or section as seen; a second sighting is a duplicate. */
static int mark_seen(yaml_walk *w, const char *path, const config_key *key, yaml_mark_t mark)
{
    TANDEM_ASSERT(path != NULL && strlen(path) <= CONFIG_PATH_LEN_MAX);
    uint64_t line = mark.line + 1, column = mark.column + 1;
    if (key != NULL) {
        config_origin *o = &w->ld->origins[config_key_index(key)];
        if (o->kind == CONFIG_FROM_FILE) {
            return file_error(w, mark, "duplicate key \"%s\" (first at %" PRIu64 ":%" PRIu64 ")",
                              path, o->line, o->column);
        }
        o->kind = CONFIG_FROM_FILE;
        o->line = line;
        o->column = column;
        return TANDEM_OK;
    }
    for (size_t i = 0; i < w->section_count; i++) {
        if (strcmp(w->sections[i].path, path) == 0) {
            return file_error(w, mark, "duplicate key \"%s\" (first at %" PRIu64 ":%" PRIu64 ")",
                              path, w->sections[i].line, w->sections[i].column);
        }
    }
    /* Only known sections get here, each once. */
    TANDEM_ASSERT(w->section_count < SECTIONS_MAX);
    snprintf(w->sections[w->section_count].path, CONFIG_PATH_LEN_MAX + 1, "%s", path);
    w->sections[w->section_count].line = line;
    w->sections[w->section_count].column = column;
    w->section_count++;
    return TANDEM_OK;
}

static int unknown_key(yaml_walk *w, const char *prefix, const yaml_event_t *ev)
{
    TANDEM_ASSERT(w != NULL && prefix != NULL);
    TANDEM_ASSERT(ev->type == YAML_SCALAR_EVENT);
    char full[CONFIG_PATH_LEN_MAX * 4];
    int n = snprintf(full, sizeof(full), "%s%s%.*s", prefix, prefix[0] ? "." : "",
                     (int)(ev->data.scalar.length < 128 ? ev->data.scalar.length : 128),
                     (const char *)ev->data.scalar.value);
    TANDEM_ASSERT(n >= 0);
    size_t len = strlen(full); /* a NUL inside the key ends it here */
    char quoted[CONFIG_ERR_LEN_MAX / 2];
    config_quote(full, len, quoted, sizeof(quoted));
    char hint[CONFIG_PATH_LEN_MAX + 1];
    config_suggest(full, len, false, hint, sizeof(hint));
    if (hint[0] != '\0') {
        return file_error(w, ev->start_mark, "unknown key %s (did you mean \"%s\"?)", quoted, hint);
    }
    return file_error(w, ev->start_mark, "unknown key %s", quoted);
}

/* Walks a mapping whose MAPPING_START is the current event. */
static int read_mapping(yaml_walk *w, const char *prefix, unsigned depth)
{
    TANDEM_ASSERT(depth < CONFIG_DEPTH_MAX);
    TANDEM_ASSERT(w->event.type == YAML_MAPPING_START_EVENT);
    char got[CONFIG_ERR_LEN_MAX / 2];
    /* Bounded: every round records a new known key or section, or fails. */
    for (size_t round = 0;; round++) {
        TANDEM_ASSERT(round <= config_key_count_get() + SECTIONS_MAX);
        int rc = next_event(w);
        if (rc != TANDEM_OK) {
            return rc;
        }
        if (w->event.type == YAML_MAPPING_END_EVENT) {
            return TANDEM_OK;
        }
        if (w->event.type != YAML_SCALAR_EVENT) {
            describe_event(&w->event, got, sizeof(got));
            return file_error(w, w->event.start_mark, "keys must be strings, got %s", got);
        }
        const char *name = (const char *)w->event.data.scalar.value;
        size_t name_len = w->event.data.scalar.length;
        size_t prefix_len = strlen(prefix);
        char path[CONFIG_PATH_LEN_MAX + 1];
        const config_key *key = NULL;
        bool section = false;
        if (prefix_len + 1 + name_len <= CONFIG_PATH_LEN_MAX && memchr(name, 0, name_len) == NULL) {
            snprintf(path, sizeof(path), "%s%s%.*s", prefix, prefix_len ? "." : "", (int)name_len,
                     name);
            key = config_key_find(path, strlen(path));
            section = key == NULL && config_is_section(path, strlen(path));
        }
        if (key == NULL && !section) {
            return unknown_key(w, prefix, &w->event);
        }
        rc = mark_seen(w, path, key, w->event.start_mark);
        if (rc != TANDEM_OK) {
            return rc;
        }
        rc = next_event(w);
        if (rc != TANDEM_OK) {
            return rc;
        }
        if (key != NULL) {
            rc = read_value(w, key);
        } else if (w->event.type == YAML_MAPPING_START_EVENT) {
            rc = read_mapping(w, path, depth + 1);
        } else if (w->event.type != YAML_SCALAR_EVENT || !scalar_is_null(&w->event)) {
            describe_event(&w->event, got, sizeof(got));
            rc = file_error(w, w->event.start_mark, "%s: expected a mapping of keys, got %s", path,
                            got);
        }
        if (rc != TANDEM_OK) {
            return rc;
        }
    }
}

/* stream-start, at most one document whose root is a mapping (or empty),
 * stream-end. */
static int read_stream(yaml_walk *w)
{
    TANDEM_ASSERT(w != NULL && !w->have_event);
    int rc = next_event(w);
    if (rc != TANDEM_OK) {
        return rc;
    }
    TANDEM_ASSERT(w->event.type == YAML_STREAM_START_EVENT);
    rc = next_event(w);
    if (rc != TANDEM_OK || w->event.type == YAML_STREAM_END_EVENT) {
        return rc; /* an empty file (or only comments): all defaults */
    }
    TANDEM_ASSERT(w->event.type == YAML_DOCUMENT_START_EVENT);
    rc = next_event(w);
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (w->event.type == YAML_MAPPING_START_EVENT) {
        rc = read_mapping(w, "", 0);
    } else if (w->event.type != YAML_SCALAR_EVENT || !scalar_is_null(&w->event)) {
        char got[CONFIG_ERR_LEN_MAX / 2];
        describe_event(&w->event, got, sizeof(got));
        rc = file_error(w, w->event.start_mark,
                        "the top level must be a mapping of keys (like \"cluster:\"), got %s", got);
    }
    if (rc != TANDEM_OK) {
        return rc;
    }
    rc = next_event(w);
    if (rc != TANDEM_OK) {
        return rc;
    }
    TANDEM_ASSERT(w->event.type == YAML_DOCUMENT_END_EVENT);
    rc = next_event(w);
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (w->event.type != YAML_STREAM_END_EVENT) {
        return file_error(w, w->event.start_mark, "only one YAML document is allowed");
    }
    return TANDEM_OK;
}

int config_yaml_read(config_load *ld, const void *data, size_t len)
{
    TANDEM_ASSERT(ld != NULL && ld->cfg != NULL && ld->origins != NULL);
    TANDEM_ASSERT(data != NULL || len == 0);
    yaml_walk *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return tandem_diag_set(ld->diag, TANDEM_ENOMEM, "%s: out of memory", ld->name);
    }
    w->ld = ld;
    int rc;
    if (!yaml_parser_initialize(&w->parser)) {
        rc = tandem_diag_set(ld->diag, TANDEM_ENOMEM, "%s: out of memory", ld->name);
        goto out_walk;
    }
    yaml_parser_set_input_string(&w->parser, len > 0 ? data : (const void *)"", len);
    rc = read_stream(w);
    if (w->have_event) {
        yaml_event_delete(&w->event);
    }
    yaml_parser_delete(&w->parser);
out_walk:
    free(w);
    return rc;
}

/* --- printing ------------------------------------------------------------ */

static int write_to_buf(void *data, unsigned char *bytes, size_t size)
{
    TANDEM_ASSERT(data != NULL);
    TANDEM_ASSERT(bytes != NULL || size == 0);
    return tandem_buf_append(data, bytes, size) == TANDEM_OK;
}

static int emit(yaml_emitter_t *e, yaml_event_t *ev, int init_ok)
{
    TANDEM_ASSERT(e != NULL && ev != NULL);
    if (!init_ok) {
        return TANDEM_ENOMEM;
    }
    /* yaml_emitter_emit owns ev from here on, success or not. */
    TANDEM_ASSERT(ev->type != YAML_NO_EVENT);
    if (!yaml_emitter_emit(e, ev)) {
        return e->error == YAML_MEMORY_ERROR || e->error == YAML_WRITER_ERROR ? TANDEM_ENOMEM
                                                                              : TANDEM_EINVAL;
    }
    return TANDEM_OK;
}

static int emit_scalar(yaml_emitter_t *e, const char *text)
{
    TANDEM_ASSERT(e != NULL && text != NULL);
    TANDEM_ASSERT(strlen(text) <= TANDEM_CONFIG_PATH_LEN_MAX);
    yaml_event_t ev;
    int ok = yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)(uintptr_t)text,
                                          (int)strlen(text), 1, 1, YAML_ANY_SCALAR_STYLE);
    return emit(e, &ev, ok);
}

static int emit_mapping_start(yaml_emitter_t *e)
{
    TANDEM_ASSERT(e != NULL);
    yaml_event_t ev;
    int ok = yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    return emit(e, &ev, ok);
}

static int emit_mapping_end(yaml_emitter_t *e)
{
    TANDEM_ASSERT(e != NULL);
    yaml_event_t ev;
    int ok = yaml_mapping_end_event_initialize(&ev);
    return emit(e, &ev, ok);
}

static int emit_value(yaml_emitter_t *e, const config_key *key, const tandem_config *cfg)
{
    TANDEM_ASSERT(e != NULL && key != NULL);
    if (key->type != CONFIG_ADDRESSES) {
        char text[TANDEM_CONFIG_PATH_LEN_MAX + 1];
        config_value_format(key, cfg, text, sizeof(text));
        return emit_scalar(e, text);
    }
    const tandem_config_addresses *list = config_addresses_of(key, cfg);
    TANDEM_ASSERT(list->count <= TANDEM_CLUSTER_SIZE_MAX);
    yaml_event_t ev;
    int ok = yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                  list->count == 0 ? YAML_FLOW_SEQUENCE_STYLE
                                                                   : YAML_BLOCK_SEQUENCE_STYLE);
    int rc = emit(e, &ev, ok);
    for (uint32_t i = 0; i < list->count && rc == TANDEM_OK; i++) {
        rc = emit_scalar(e, list->items[i]);
    }
    if (rc == TANDEM_OK) {
        ok = yaml_sequence_end_event_initialize(&ev);
        rc = emit(e, &ev, ok);
    }
    return rc;
}

/* Splits "a.b.c" into segments in place; returns how many. */
static size_t split_path(char *path, char *segments[CONFIG_DEPTH_MAX + 1])
{
    TANDEM_ASSERT(path != NULL && path[0] != '\0');
    size_t n = 0;
    segments[n++] = path;
    for (char *p = path; *p != '\0'; p++) {
        if (*p == '.') {
            TANDEM_ASSERT(n <= CONFIG_DEPTH_MAX);
            *p = '\0';
            segments[n++] = p + 1;
        }
    }
    return n;
}

/* Every key in schema order, opening and closing the nested sections as the
 * paths change (the schema keeps each section's keys together). */
static int emit_keys(yaml_emitter_t *e, const tandem_config *cfg)
{
    TANDEM_ASSERT(e != NULL && cfg != NULL);
    char open[CONFIG_DEPTH_MAX][CONFIG_PATH_LEN_MAX + 1];
    size_t open_count = 0;
    int rc = TANDEM_OK;
    for (size_t i = 0; i < config_key_count_get() && rc == TANDEM_OK; i++) {
        const config_key *key = config_key_at(i);
        char path[CONFIG_PATH_LEN_MAX + 1];
        snprintf(path, sizeof(path), "%s", key->path);
        char *seg[CONFIG_DEPTH_MAX + 1];
        size_t n = split_path(path, seg);
        TANDEM_ASSERT(n >= 2 && n - 1 <= CONFIG_DEPTH_MAX);
        size_t common = 0;
        while (common < open_count && common < n - 1 && strcmp(open[common], seg[common]) == 0) {
            common++;
        }
        for (; open_count > common && rc == TANDEM_OK; open_count--) {
            rc = emit_mapping_end(e);
        }
        for (; open_count < n - 1 && rc == TANDEM_OK; open_count++) {
            snprintf(open[open_count], sizeof(open[0]), "%s", seg[open_count]);
            rc = emit_scalar(e, seg[open_count]);
            if (rc == TANDEM_OK) {
                rc = emit_mapping_start(e);
            }
        }
        if (rc == TANDEM_OK) {
            rc = emit_scalar(e, seg[n - 1]);
        }
        if (rc == TANDEM_OK) {
            rc = emit_value(e, key, cfg);
        }
    }
    for (; open_count > 0 && rc == TANDEM_OK; open_count--) {
        rc = emit_mapping_end(e);
    }
    return rc;
}

int config_yaml_print(const tandem_config *cfg, tandem_buf *out)
{
    TANDEM_ASSERT(cfg != NULL && out != NULL);
    TANDEM_ASSERT(cfg->cluster_size >= 1);
    yaml_emitter_t e;
    if (!yaml_emitter_initialize(&e)) {
        return TANDEM_ENOMEM;
    }
    yaml_emitter_set_output(&e, write_to_buf, out);
    yaml_emitter_set_unicode(&e, 1);
    yaml_emitter_set_width(&e, -1); /* never fold long values */
    yaml_emitter_set_indent(&e, 2);
    yaml_event_t ev;
    int rc = emit(&e, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
    if (rc == TANDEM_OK) {
        rc = emit(&e, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
    }
    if (rc == TANDEM_OK) {
        rc = emit_mapping_start(&e);
    }
    if (rc == TANDEM_OK) {
        rc = emit_keys(&e, cfg);
    }
    if (rc == TANDEM_OK) {
        rc = emit_mapping_end(&e);
    }
    if (rc == TANDEM_OK) {
        rc = emit(&e, &ev, yaml_document_end_event_initialize(&ev, 1));
    }
    if (rc == TANDEM_OK) {
        rc = emit(&e, &ev, yaml_stream_end_event_initialize(&ev));
    }
    if (rc == TANDEM_OK && !yaml_emitter_flush(&e)) {
        rc = TANDEM_ENOMEM;
    }
    yaml_emitter_delete(&e);
    return rc;
}
