/*
 * search_int.h — internals of the read API shared by its files:
 *
 *   entity.c   the fixed tables: per entity its SQL FROM clause and, per API
 *              field, the SQL expression, type and what it may be used for
 *   value.c    dates (RFC 3339 <-> epoch ms), keys, base64 cursors
 *   compile.c  {filter, sort, page} JSON -> a search_query (SQL + bound values)
 *   exec.c     running a search_query or a GET and writing the answer JSON
 *   service.c  the routes, the thread pool and the connection pool
 *
 * Only entity.c holds SQL identifiers; compile.c appends them and `?`
 * placeholders, never text from the request.
 */
#ifndef TANDEM_SEARCH_SEARCH_INT_H
#define TANDEM_SEARCH_SEARCH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "search/search.h"

#define SEARCH_SORT_MAX        8    /* sort entries in one request (the key is added) */
#define SEARCH_PARAMS_MAX      2048 /* bound values in one statement */
#define SEARCH_IN_MAX          1000 /* values of one $in / $notIn */
#define SEARCH_OR_MAX          32   /* branches of $or */
#define SEARCH_CURSOR_SIZE_MAX 4096 /* base64 bytes of one cursor */
#define SEARCH_DATE_SIZE       25   /* "YYYY-MM-DDTHH:MM:SS.mmmZ" with the NUL */

typedef enum search_type {
    SEARCH_KEY,       /* INTEGER; API: string of digits */
    SEARCH_STRING,    /* TEXT */
    SEARCH_ENUM,      /* TEXT from a fixed list */
    SEARCH_INT,       /* INTEGER; API: number */
    SEARCH_DATE,      /* INTEGER epoch ms; API: RFC 3339 string */
    SEARCH_BOOL,      /* INTEGER 0/1; API: true/false */
    SEARCH_OBJECT,    /* TEXT holding a JSON object, written as it is */
    SEARCH_VALUE,     /* TEXT holding JSON, written as a JSON string (variables) */
    SEARCH_VARIABLES, /* filter only: [{name, value}] over the variable table */
} search_type;

#define SEARCH_F_FILTER  1u /* may be filtered on */
#define SEARCH_F_SORT    2u /* may be sorted by */
#define SEARCH_F_OUT     4u /* written in items */
#define SEARCH_F_DEFAULT 8u /* NULL written as "" / false instead of left out */

typedef struct search_field {
    const char *name; /* the API's name */
    const char *expr; /* SQL over the entity's FROM clause */
    search_type type;
    unsigned flags;
    const char *const *values; /* SEARCH_ENUM: the allowed values, NULL-terminated */
    /* Filter only, on a related table: the fields of one filter object with
     * the same group hold for the same related row, inside one
     * "<group> AND <conditions>)" (an EXISTS over that table). */
    const char *group;
} search_field;

/* The groups in use, so compile.c can visit each once. */
extern const char *const search_groups[];

typedef struct search_entity {
    tandem_search_entity id;
    const char *title;      /* "Process instance", for 404 details */
    const char *table;      /* the main table, to tell "no schema yet" */
    const char *from;       /* FROM clause, joins included */
    const char *key_expr;   /* the unique key: tie-breaker and GET */
    const char *scope_expr; /* process instance key, for the scoped incident search */
    bool has_or;            /* filter accepts $or */
    const search_field *fields;
    size_t field_count;
} search_entity;

const search_entity *search_entity_get(tandem_search_entity id);
/* The field named `name` (NUL-terminated), or NULL. */
const search_field *search_field_find(const search_entity *e, const char *name);

/* A bound value. Text is owned (malloc) by the holder. */
typedef struct search_param {
    enum { SEARCH_P_INT, SEARCH_P_TEXT, SEARCH_P_NULL } kind;
    int64_t i;
    char *text;
} search_param;

typedef enum search_page_style {
    SEARCH_PAGE_OFFSET,
    SEARCH_PAGE_AFTER,
    SEARCH_PAGE_BEFORE,
} search_page_style;

/*
 * A compiled search. `where` is the condition text (always valid SQL,
 * "1" when there is no filter) with where_params placeholders; the cursor
 * condition follows with the remaining params. Owns the texts: free with
 * search_query_free.
 */
typedef struct search_query {
    const search_entity *entity;
    tandem_buf where;  /* NUL-terminated */
    tandem_buf cursor; /* condition of after/before; "" when none; NUL-terminated */
    search_param *params;
    size_t param_count;
    size_t where_params;
    const search_field *sort[SEARCH_SORT_MAX];
    bool desc[SEARCH_SORT_MAX]; /* as requested (not reversed for before) */
    size_t sort_count;
    search_page_style style;
    int64_t from;
    uint32_t limit;
    bool truncate_values;
} search_query;

/* The problem of a bad request: status 400, title INVALID_ARGUMENT. */
typedef struct search_problem {
    char detail[TANDEM_SEARCH_DETAIL_SIZE_MAX];
} search_problem;

/*
 * Compiles body[0..len) (NULL/empty = {}) for entity `e`. scope: when
 * has_scope, only rows whose scope_expr equals scope_key. On TANDEM_EINVAL
 * the problem says why and *q holds nothing; TANDEM_ENOMEM. On success free
 * *q with search_query_free.
 */
int search_compile(const search_entity *e, const char *body, size_t len, bool has_scope,
                   int64_t scope_key, search_query *q, search_problem *problem);
void search_query_free(search_query *q);

/* Builds the statements of q: the count (where params + the cap) and the
 * page (all params + limit + offset). NUL-terminated. TANDEM_ENOMEM. */
int search_sql_count(const search_query *q, tandem_buf *out);
int search_sql_page(const search_query *q, tandem_buf *out);

/* ---- values (value.c) ---- */

/* RFC 3339 date-time -> epoch ms. TANDEM_EINVAL when malformed. */
int search_date_parse(const char *text, int64_t *out_ms);
/* epoch ms -> "YYYY-MM-DDTHH:MM:SS.mmmZ" into out[SEARCH_DATE_SIZE]. */
void search_date_format(int64_t ms, char *out);
/* A key as the API writes it: ^-?[0-9]+$, 1..25 characters, within int64. */
int search_key_parse(const char *text, int64_t *out);
/* Standard base64 with padding; encode appends (NUL-terminated); decode
 * writes at most cap bytes. TANDEM_EINVAL for bad input, TANDEM_ENOMEM. */
int search_base64_encode(const uint8_t *data, size_t len, tandem_buf *out);
int search_base64_decode(const char *text, uint8_t *out, size_t cap, size_t *out_len);

#endif
