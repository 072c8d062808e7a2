/*
 * fuzz_feel_zone.c — arbitrary bytes as the TZif data of a zone, used by
 * date-times in that zone (offsets, gaps, arithmetic, comparison).
 *
 * Damaged data must make the zone unknown (null and a warning), never a
 * crash, a leak or a hang.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/error.h"
#include "feel/feel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct blob {
    const uint8_t *data;
    size_t size;
} blob;

static int load(void *ctx, const char *name, tandem_buf *out)
{
    const blob *b = ctx;
    (void)name;
    return tandem_buf_append(out, b->data, b->size);
}

static const char *const exprs[] = {
    "@\"2024-03-31T02:30:00@Fuzz/Zone\"",
    "@\"1901-01-01T00:00:00@Fuzz/Zone\".time offset",
    "@\"2300-10-27T02:30:00@Fuzz/Zone\" + @\"PT24H\"",
    "@\"2024-01-31T12:00:00@Fuzz/Zone\" + @\"P1M\" > @\"2024-02-01T00:00:00Z\"",
    "@\"2024-07-01T00:00:00@Fuzz/Zone\" - @\"2024-01-01T00:00:00@Fuzz/Zone\"",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    blob b = {data, size};
    tandem_feel_zones *zones = NULL;
    if (tandem_feel_zones_new(load, &b, &zones) != 0) {
        abort();
    }
    for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
        tandem_diag d;
        tandem_feel_expr *e = NULL;
        if (tandem_feel_compile(exprs[i], strlen(exprs[i]), NULL, &e, &d) != 0) {
            abort();
        }
        tandem_feel_eval_opts opts = {.zones = zones};
        tandem_feel_result r;
        tandem_feel_result_init(&r);
        tandem_buf out = TANDEM_BUF_INIT;
        if (tandem_feel_eval(e, &opts, &r, &d) != 0 || tandem_feel_result_json(&r, &out) != 0) {
            abort();
        }
        tandem_buf_free(&out);
        tandem_feel_result_free(&r);
        tandem_feel_expr_free(e);
    }
    tandem_feel_zones_free(zones);
    return 0;
}
