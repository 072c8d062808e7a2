/*
 * fuzz_state_snapshot.c — arbitrary bytes as a state snapshot file.
 *
 * Byte 0 is a flag: when bit 0 is set, the driver rewrites the last four
 * bytes with the correct CRC-32C, so the fuzzer reaches the record parser
 * behind the checksum. Verify and restore must answer every input with
 * success, TANDEM_ECORRUPT or TANDEM_EFORMAT and a message, never crash or
 * leak; a refused restore leaves the state unchanged; whatever restores must
 * snapshot and restore again to the same digest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/crc32c.h"
#include "base/error.h"
#include "base/faultfs.h"
#include "base/rand.h"
#include "state/kv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const tables[] = {"alpha", "beta", "gamma"};

static void must(int ok)
{
    if (!ok) {
        abort();
    }
}

static tandem_kv *open_mem(void)
{
    tandem_kv_options o = {tables, 3, 64u << 20};
    tandem_kv *kv = NULL;
    must(tandem_kv_open_mem(&o, &kv, NULL) == TANDEM_OK);
    return kv;
}

static void write_file(tandem_fileops *ops, const char *path, const uint8_t *bytes, size_t len)
{
    int fd;
    must(ops->open(ops, path, TANDEM_OPEN_WRITE | TANDEM_OPEN_CREATE, &fd) == TANDEM_OK);
    must(ops->pwrite(ops, fd, bytes, len, 0) == TANDEM_OK);
    must(ops->close(ops, fd) == TANDEM_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    uint8_t flags = data[0];
    size_t len = size - 1;
    uint8_t *file = malloc(len + 1);
    must(file != NULL);
    memcpy(file, data + 1, len);
    if ((flags & 1) && len >= 4) {
        tandem_store_u32(file + len - 4, tandem_crc32c(0, file, len - 4));
    }
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, 1);
    tandem_faultfs *fs = NULL;
    must(tandem_faultfs_new(&r.base, &fs) == TANDEM_OK);
    tandem_fileops *ops = tandem_faultfs_ops(fs);
    write_file(ops, "in.snap", file, len);

    tandem_diag d = {0, ""};
    uint64_t pos = 0;
    int vrc = tandem_kv_snapshot_verify(ops, "in.snap", &pos, &d);
    must(vrc == TANDEM_OK || vrc == TANDEM_ECORRUPT || vrc == TANDEM_EFORMAT);
    must(vrc == TANDEM_OK || (d.code == vrc && strstr(d.message, "in.snap") != NULL));

    tandem_kv *kv = open_mem();
    uint64_t before[2];
    must(tandem_kv_digest(kv, before, NULL) == TANDEM_OK);
    int rc = tandem_kv_restore(kv, ops, "in.snap", &d);
    must(rc == TANDEM_OK || rc == TANDEM_ECORRUPT || rc == TANDEM_EFORMAT);
    if (vrc != TANDEM_OK) {
        must(rc == vrc);
    }
    if (rc != TANDEM_OK) {
        uint64_t after[2];
        must(tandem_kv_digest(kv, after, NULL) == TANDEM_OK);
        must(after[0] == before[0] && after[1] == before[1]);
    } else {
        must(tandem_kv_applied_position(kv) == pos);
        uint64_t first[2];
        uint64_t second[2];
        must(tandem_kv_digest(kv, first, NULL) == TANDEM_OK);
        must(tandem_kv_snapshot(kv, ops, "again.snap", NULL, NULL) == TANDEM_OK);
        tandem_kv *copy = open_mem();
        must(tandem_kv_restore(copy, ops, "again.snap", NULL) == TANDEM_OK);
        must(tandem_kv_digest(copy, second, NULL) == TANDEM_OK);
        must(first[0] == second[0] && first[1] == second[1]);
        tandem_kv_close(copy);
    }
    tandem_kv_close(kv);
    tandem_faultfs_free(fs);
    free(file);
    return 0;
}
