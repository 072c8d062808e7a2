/*
 * fuzz_config.c — arbitrary bytes as a configuration file.
 *
 * The loader must answer every input with success or TANDEM_ECONFIG and a
 * message, never crash or leak; whatever loads must print and load back equal.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/error.h"
#include "cluster/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tandem_config cfg;
    tandem_diag diag = {0};
    int rc = tandem_config_load_buffer(&cfg, "fuzz.yaml", data, size, NULL, &diag);
    if (rc != TANDEM_OK) {
        if (rc != TANDEM_ECONFIG || diag.code != rc || diag.message[0] == '\0') {
            abort();
        }
        return 0;
    }
    tandem_buf out = TANDEM_BUF_INIT;
    if (tandem_config_print(&cfg, &out) != TANDEM_OK) {
        abort();
    }
    tandem_config back;
    rc = tandem_config_load_buffer(&back, "printed.yaml", out.data, out.len, NULL, &diag);
    if (rc != TANDEM_OK || !tandem_config_equal(&cfg, &back)) {
        abort();
    }
    tandem_buf_free(&out);
    return 0;
}
