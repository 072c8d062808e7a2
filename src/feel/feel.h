/*
 * feel.h — FEEL, the expression language of conditions, mappings,
 * correlation keys and timers.
 *
 * The engine evaluates every BPMN attribute that starts with `=` as FEEL, and
 * users copy those expressions from Camunda, so the results must be what
 * Camunda's engine (FEEL-Scala 1.17+) gives. An expression is compiled once
 * (a deployment compiles) into a tree that is evaluated many times (instances
 * evaluate); compiling checks the syntax and reports the first error with its
 * line and column.
 *
 * Everything that grows with the input is bounded: the expression length and
 * nesting depth when compiling (tandem_feel_limits), steps, iterations,
 * sizes, memory and call depth when evaluating (tandem_feel_eval_limits);
 * exceeding a limit is an error with a message, never a crash or a hang.
 *
 * The module is a pure core: no clock, randomness, file or socket calls.
 * The time of now(), the random source and the zone data come in through
 * the caller (tandem_feel_eval_opts). docs/FEEL.md describes the language
 * supported and how it is tested against Camunda's modelling tools.
 */
#ifndef TANDEM_FEEL_FEEL_H
#define TANDEM_FEEL_FEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/rand.h"

/* Bounds on compiling; zero fields take the defaults below. */
typedef struct tandem_feel_limits {
    size_t expr_bytes_max; /* source length */
    uint32_t depth_max;    /* nesting of the syntax tree */
} tandem_feel_limits;

#define TANDEM_FEEL_EXPR_BYTES_MAX_DEFAULT (64u * 1024u)
#define TANDEM_FEEL_DEPTH_MAX_DEFAULT      64u

/* A compiled expression. Immutable after compiling, so one may be evaluated
 * from several threads at once. */
typedef struct tandem_feel_expr tandem_feel_expr;

/*
 * Compiles `len` bytes of FEEL source (no leading `=`; the caller strips it).
 * On success *out owns a new expression, freed with tandem_feel_expr_free;
 * the source is copied, so it need not outlive the call. On failure *out is
 * NULL and the return is TANDEM_EINVAL (syntax; diag says "line:column:
 * what"), TANDEM_ETOOBIG (a limit; diag names it) or TANDEM_ENOMEM. limits
 * and diag may be NULL.
 */
int tandem_feel_compile(const char *src, size_t len, const tandem_feel_limits *limits,
                        tandem_feel_expr **out, tandem_diag *diag);

/* Frees an expression; NULL is accepted. */
void tandem_feel_expr_free(tandem_feel_expr *expr);

/*
 * Appends the syntax tree as an S-expression, e.g. `(and (> amount 1000)
 * (= status "approved"))`, for tests and `tandemctl feel --tree`. Returns 0
 * or TANDEM_ENOMEM.
 */
int tandem_feel_expr_dump(const tandem_feel_expr *expr, tandem_buf *out);

/* ---- Variables ----------------------------------------------------------- */

/* The variables of an evaluation: a context built once (from a JSON object)
 * and read by any number of evaluations. Immutable after building. */
typedef struct tandem_feel_vars tandem_feel_vars;

/*
 * Builds variables from a JSON object. Numbers enter through their decimal
 * text, so `0.1` stays exactly 0.1. On success *out owns the variables (free
 * with tandem_feel_vars_free); the text need not outlive the call. Errors:
 * TANDEM_EINVAL (not JSON, or not an object; diag says where), TANDEM_ETOOBIG
 * (nested deeper than TANDEM_FEEL_DEPTH_MAX_DEFAULT), TANDEM_ENOMEM.
 */
int tandem_feel_vars_from_json(const char *json, size_t len, tandem_feel_vars **out,
                               tandem_diag *diag);
void tandem_feel_vars_free(tandem_feel_vars *vars);

/* ---- Time zones ---------------------------------------------------------- */

/*
 * Zones by name (`@"2024-03-31T02:30:00@Europe/Berlin"`) need the rules of
 * the zone. The module reads them as TZif data (RFC 8536: the files of the
 * system's /usr/share/zoneinfo) through a loader the caller provides, so it
 * makes no file calls itself, and keeps what it parsed in a table.
 *
 * The loader appends the TZif bytes of `name` to *out and returns 0, or
 * TANDEM_ENOENT for an unknown zone (or another code). Names reaching it
 * are checked: letters, digits, '_', '+', '-' and '/' only, no "..", no
 * leading '/', at most 64 bytes.
 */
typedef int (*tandem_feel_zone_loader)(void *ctx, const char *name, tandem_buf *out);

typedef struct tandem_feel_zones tandem_feel_zones;

/* A table over `load` (ctx is passed to it; both must outlive the table).
 * The table is shared by evaluations on any thread (it locks). At most
 * TANDEM_FEEL_ZONES_MAX zones are kept; names beyond that give null. */
int tandem_feel_zones_new(tandem_feel_zone_loader load, void *ctx, tandem_feel_zones **out);
void tandem_feel_zones_free(tandem_feel_zones *zones);

#define TANDEM_FEEL_ZONES_MAX 256

/* ---- Evaluation ---------------------------------------------------------- */

/* Bounds on one evaluation; zero fields take the defaults. Exceeding one ends
 * the evaluation with TANDEM_ETOOBIG and a message naming the limit. */
typedef struct tandem_feel_eval_limits {
    uint64_t steps_max;      /* nodes evaluated */
    uint64_t iterations_max; /* items produced by for/some/every/filters together */
    size_t string_bytes_max; /* length of any one string */
    size_t list_items_max;   /* items of any one list or entries of a context */
    size_t memory_bytes_max; /* everything allocated by the evaluation */
    uint32_t call_depth_max; /* nested calls of user-defined functions */
} tandem_feel_eval_limits;

#define TANDEM_FEEL_STEPS_MAX_DEFAULT        1000000u
#define TANDEM_FEEL_ITERATIONS_MAX_DEFAULT   1000000u
#define TANDEM_FEEL_STRING_BYTES_MAX_DEFAULT (1024u * 1024u)
#define TANDEM_FEEL_LIST_ITEMS_MAX_DEFAULT   100000u
#define TANDEM_FEEL_MEMORY_BYTES_MAX_DEFAULT (64u * 1024u * 1024u)
#define TANDEM_FEEL_CALL_DEPTH_MAX_DEFAULT   64u

typedef struct tandem_feel_eval_opts {
    const tandem_feel_vars *vars;   /* NULL: no variables */
    int64_t now_ms;                 /* what now() and today() read: ms since the epoch, UTC */
    tandem_feel_zones *zones;       /* zone rules; NULL: zone names are kept, not computed */
    tandem_rand *rand;              /* what random number() and uuid() draw from (the engine
                                       passes a source seeded from the record, so a replay
                                       draws the same); NULL: they give null and a warning */
    tandem_feel_eval_limits limits; /* zero fields: defaults */
} tandem_feel_eval_opts;

/* Kind of a result value. */
typedef enum tandem_feel_type {
    TANDEM_FEEL_NULL = 0,
    TANDEM_FEEL_BOOLEAN,
    TANDEM_FEEL_NUMBER,
    TANDEM_FEEL_STRING,
    TANDEM_FEEL_LIST,
    TANDEM_FEEL_CONTEXT,
    TANDEM_FEEL_RANGE,
    TANDEM_FEEL_FUNCTION,
    TANDEM_FEEL_DATE,
    TANDEM_FEEL_TIME,
    TANDEM_FEEL_DATE_TIME,
    TANDEM_FEEL_DAYS_TIME_DURATION,
    TANDEM_FEEL_YEARS_MONTHS_DURATION,
} tandem_feel_type;

#define TANDEM_FEEL_WARNINGS_MAX 8

/*
 * The outcome of an evaluation: a value and the warnings that explain a null
 * ("no variable found with name 'x'"). The caller owns the struct (usually
 * on the stack or reused in a loop: re-evaluating into the same result
 * reuses its memory); everything it points to is valid until the next
 * evaluation into it or tandem_feel_result_free — and, because a result may
 * be a value of the variables itself (`= order`), only while the
 * tandem_feel_vars it was evaluated over are alive.
 */
typedef struct tandem_feel_result {
    tandem_feel_type type;                          /* read-only */
    uint32_t warning_count;                         /* read-only: warnings kept */
    const char *warnings[TANDEM_FEEL_WARNINGS_MAX]; /* read-only: first warnings */
    void *priv_;                                    /* private */
} tandem_feel_result;

void tandem_feel_result_init(tandem_feel_result *r);
void tandem_feel_result_free(tandem_feel_result *r);

/*
 * Evaluates a compiled expression into *result. Returns 0 when a value was
 * produced (null and a warning for a missing variable or a type mismatch, as
 * FEEL-Scala does), TANDEM_ETOOBIG when a limit stopped the evaluation,
 * TANDEM_ENOMEM; diag then says which. opts may be NULL.
 */
int tandem_feel_eval(const tandem_feel_expr *expr, const tandem_feel_eval_opts *opts,
                     tandem_feel_result *result, tandem_diag *diag);

/* The result's boolean: true only for the boolean true (a condition holds). */
bool tandem_feel_result_is_true(const tandem_feel_result *result);

/* Appends the result as JSON: numbers as decimal text, temporal values as
 * ISO 8601 strings, ranges and functions as null. 0 or TANDEM_ENOMEM. */
int tandem_feel_result_json(const tandem_feel_result *result, tandem_buf *out);

#endif
