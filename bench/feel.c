/*
 * feel — compiled FEEL evaluations per second for typical conditions and
 * mappings on small contexts.
 *
 *   build/bench/feel [--seconds N]
 *
 * Each expression is compiled once and evaluated in a loop into one reused
 * result (as the engine will: a deployment compiles, instances evaluate):
 *   condition  amount > 1000 and status = "approved"
 *   filter     items[price > 10].name
 *   mapping    {total: sum(items.price)}
 * The goal for the first is 2 million evaluations per second per core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "feel/feel.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const tandem_diag *d)
{
    fprintf(stderr, "feel bench: %s: %s\n", what, tandem_diag_text(d));
    exit(1);
}

static const char vars_json[] =
    "{\"amount\": 1500, \"status\": \"approved\", \"items\": ["
    "{\"name\": \"a\", \"price\": 5}, {\"name\": \"b\", \"price\": 12},"
    " {\"name\": \"c\", \"price\": 30}, {\"name\": \"d\", \"price\": 8}]}";

static void run(const char *label, const char *src, const tandem_feel_vars *vars, double seconds)
{
    tandem_diag d;
    tandem_diag_clear(&d);
    tandem_feel_expr *expr = NULL;
    if (tandem_feel_compile(src, strlen(src), NULL, &expr, &d) != 0) {
        die(src, &d);
    }
    tandem_feel_eval_opts opts = {.vars = vars};
    tandem_feel_result r;
    tandem_feel_result_init(&r);
    unsigned long long n = 0;
    double start = now_s(), elapsed = 0;
    while (elapsed < seconds) {
        for (int i = 0; i < 1000; i++) {
            if (tandem_feel_eval(expr, &opts, &r, &d) != 0) {
                die(src, &d);
            }
        }
        n += 1000;
        elapsed = now_s() - start;
    }
    tandem_buf out = TANDEM_BUF_INIT;
    if (tandem_feel_result_json(&r, &out) != 0) {
        die("json", &d);
    }
    printf("%-10s %-40s %10.0f evals/s  -> %.*s\n", label, src, (double)n / elapsed, (int)out.len,
           (const char *)out.data);
    tandem_buf_free(&out);
    tandem_feel_result_free(&r);
    tandem_feel_expr_free(expr);
}

int main(int argc, char **argv)
{
    double seconds = 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atof(argv[++i]);
        } else {
            fprintf(stderr, "usage: feel [--seconds N]\n");
            return 2;
        }
    }
    tandem_diag d;
    tandem_diag_clear(&d);
    tandem_feel_vars *vars = NULL;
    if (tandem_feel_vars_from_json(vars_json, strlen(vars_json), &vars, &d) != 0) {
        die("variables", &d);
    }
    run("condition", "amount > 1000 and status = \"approved\"", vars, seconds);
    run("filter", "items[price > 10].name", vars, seconds);
    run("mapping", "{total: sum(items.price)}", vars, seconds);
    tandem_feel_vars_free(vars);
    return 0;
}
