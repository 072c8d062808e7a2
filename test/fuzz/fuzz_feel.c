/*
 * fuzz_feel.c — arbitrary bytes as a FEEL expression, compiled and evaluated
 * with small limits over a fixed set of variables.
 *
 * Compiling must succeed or fail with TANDEM_EINVAL / TANDEM_ETOOBIG and a
 * "line:column: ..." message; evaluating must give a value (possibly null
 * with warnings) or stop at a limit (TANDEM_ETOOBIG, or TANDEM_EINVAL from a
 * failed assert()) with a message; never a crash, a leak or a hang. The
 * result must print as JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/error.h"
#include "feel/feel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char vars_json[] =
    "{\"amount\": 1500, \"status\": \"approved\", \"s\": \"abc\", \"n\": null,"
    " \"items\": [{\"name\": \"a\", \"price\": 5}, {\"name\": \"b\", \"price\": 20.5}],"
    " \"xs\": [1, 2, 3], \"c\": {\"d\": {\"e\": true}}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tandem_feel_vars *vars;
    tandem_diag d;
    tandem_diag_clear(&d);
    if (vars == NULL && tandem_feel_vars_from_json(vars_json, strlen(vars_json), &vars, &d) != 0) {
        abort();
    }
    tandem_feel_limits lim = {.expr_bytes_max = 4096, .depth_max = 48};
    tandem_feel_expr *expr = NULL;
    int rc = tandem_feel_compile((const char *)data, size, &lim, &expr, &d);
    if (rc != 0) {
        if ((rc != TANDEM_EINVAL && rc != TANDEM_ETOOBIG) || d.code != rc || d.message[0] == '\0') {
            abort();
        }
        return 0;
    }
    tandem_buf out = TANDEM_BUF_INIT;
    if (tandem_feel_expr_dump(expr, &out) != 0) {
        abort();
    }
    tandem_feel_eval_opts opts = {.vars = vars,
                                  .now_ms = 1700000000000,
                                  .limits = {.steps_max = 20000,
                                             .iterations_max = 20000,
                                             .string_bytes_max = 4096,
                                             .list_items_max = 1000,
                                             .memory_bytes_max = 4u << 20,
                                             .call_depth_max = 16}};
    tandem_feel_result r;
    tandem_feel_result_init(&r);
    rc = tandem_feel_eval(expr, &opts, &r, &d);
    if (rc == 0) {
        tandem_buf_reset(&out);
        if (tandem_feel_result_json(&r, &out) != 0 || out.len == 0) {
            abort();
        }
    } else if ((rc != TANDEM_ETOOBIG && rc != TANDEM_EINVAL) || d.message[0] == '\0') {
        abort();
    }
    tandem_buf_free(&out);
    tandem_feel_result_free(&r);
    tandem_feel_expr_free(expr);
    return 0;
}
