/*
 * fuzz_datadir.c — arbitrary bytes as the IDENTITY or FORMAT file of a data
 * directory.
 *
 * Byte 0 is a flag: bit 1 set puts the rest into FORMAT (with a valid
 * IDENTITY), else into IDENTITY (with a valid FORMAT); bit 0 set appends
 * the correct "crc32c" line to an IDENTITY, so the fuzzer reaches the field
 * parser and the owner checks behind the checksum. Opening must answer every
 * input with success or a refusal (TANDEM_ECORRUPT, TANDEM_EFORMAT,
 * TANDEM_ECLUSTER) whose message names the folder or file, never crash or
 * leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "base/error.h"
#include "base/faultfs.h"
#include "base/rand.h"
#include "state/datadir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int ok)
{
    if (!ok) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096) {
        return 0;
    }
    uint8_t flags = data[0];
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, 2);
    tandem_faultfs *fs = NULL;
    must(tandem_faultfs_new(&r.base, &fs) == TANDEM_OK);
    tandem_fileops *ops = tandem_faultfs_ops(fs);
    tandem_datadir_config cfg = {"data", "c", 1, 1};
    tandem_datadir *dd = NULL;
    must(tandem_datadir_open(ops, &r.base, &cfg, &dd, NULL) == TANDEM_OK);
    tandem_datadir_close(dd);

    const char *target = (flags & 2) ? "data/partition-1/FORMAT" : "data/partition-1/IDENTITY";
    size_t len = size - 1;
    char *content = malloc(len + 32);
    must(content != NULL);
    memcpy(content, data + 1, len);
    if (!(flags & 2) && (flags & 1)) {
        uint32_t crc = tandem_crc32c(0, content, len);
        len += (size_t)snprintf(content + len, 32, "crc32c %08x\n", crc);
    }
    must(tandem_file_write_atomic(ops, target, content, len) == TANDEM_OK);
    free(content);

    tandem_diag d = {0, ""};
    dd = NULL;
    int rc = tandem_datadir_open(ops, &r.base, &cfg, &dd, &d);
    if (rc == TANDEM_OK) {
        must(dd != NULL && strlen(tandem_datadir_incarnation_hex(dd)) == 32);
        tandem_datadir_close(dd);
    } else {
        must(dd == NULL);
        must(rc == TANDEM_ECORRUPT || rc == TANDEM_EFORMAT || rc == TANDEM_ECLUSTER);
        must(d.code == rc && strstr(d.message, "data/partition-1") != NULL);
    }
    tandem_faultfs_free(fs);
    return 0;
}
