/*
 * Fuzzes the replica host's snapshot meta decoder (snap-<index>.meta and
 * recv.meta, docs/RAFT.md), on the input as it is and on a copy with its
 * trailing checksum rewritten (so mutations reach the fields). Bad bytes must
 * give an error naming the problem, never a crash; a meta that decodes must
 * encode back to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/crc32c.h"
#include "raft/raft_host_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *data, size_t size)
{
    host_meta m;
    tandem_diag d;
    tandem_diag_clear(&d);
    if (host_meta_decode(data, size, &m, &d) != 0) {
        if (d.message[0] == '\0') {
            abort(); /* every refusal says why */
        }
        return;
    }
    tandem_buf b = TANDEM_BUF_INIT;
    if (host_meta_encode(&m, &b) != 0 || b.len != size || memcmp(b.data, data, size) != 0) {
        abort();
    }
    tandem_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size);
    if (size < 4) {
        return 0;
    }
    uint8_t *copy = malloc(size);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data, size);
    tandem_store_u32(copy + size - 4, tandem_crc32c(0, copy, size - 4));
    one(copy, size);
    free(copy);
    return 0;
}
