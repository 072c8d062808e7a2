/*
 * fuzz_feel_json.c — arbitrary bytes as the JSON variables of an evaluation.
 *
 * Reading must succeed or fail with TANDEM_EINVAL / TANDEM_ETOOBIG and a
 * message; what loads must evaluate and print as JSON that loads again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/error.h"
#include "feel/feel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tandem_diag d;
    tandem_diag_clear(&d);
    tandem_feel_vars *vars = NULL;
    int rc = tandem_feel_vars_from_json((const char *)data, size, &vars, &d);
    if (rc != 0) {
        if ((rc != TANDEM_EINVAL && rc != TANDEM_ETOOBIG) || d.message[0] == '\0') {
            abort();
        }
        return 0;
    }
    static tandem_feel_expr *expr;
    const char src[] = "{all: get entries(context merge([{}, {x: 1}])), n: count(get entries("
                       "{a: 1})), s: string([1, \"a\"])}";
    if (expr == NULL && tandem_feel_compile(src, strlen(src), NULL, &expr, &d) != 0) {
        abort();
    }
    tandem_feel_result r;
    tandem_feel_result_init(&r);
    tandem_feel_eval_opts opts = {.vars = vars};
    tandem_buf out = TANDEM_BUF_INIT;
    if (tandem_feel_eval(expr, &opts, &r, &d) != 0 || tandem_feel_result_json(&r, &out) != 0) {
        abort();
    }
    tandem_feel_vars *back = NULL;
    if (tandem_feel_vars_from_json((const char *)out.data, out.len, &back, &d) != 0) {
        abort(); /* what we print, we read */
    }
    tandem_feel_vars_free(back);
    tandem_buf_free(&out);
    tandem_feel_result_free(&r);
    tandem_feel_vars_free(vars);
    return 0;
}
