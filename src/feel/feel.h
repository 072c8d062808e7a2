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
 * nesting depth when compiling (tandem_feel_limits); exceeding a limit is an
 * error with a message, never a crash or a hang.
 *
 * The module is a pure core: no clock, file or socket calls. Time comes in
 * through the caller.
 */
#ifndef TANDEM_FEEL_FEEL_H
#define TANDEM_FEEL_FEEL_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

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

#endif
