/*
 * frame.c — frame and hello codecs (layout in docs/NETWORK.md).
 */
#include "net/frame.h"

#include <string.h>

#include "base/assert.h"
#include "base/crc32c.h"

_Static_assert(TANDEM_NET_FRAME_HEADER_BYTES == 12, "the header layout is documented as 12 bytes");
_Static_assert(TANDEM_NET_FRAME_PAYLOAD_BYTES_MAX < UINT32_MAX - TANDEM_NET_FRAME_HEADER_BYTES,
               "a whole frame's length must fit in 32 bits");

/* The checksum covers the type, the reserved bytes and the payload, so a
 * flipped type is caught like a flipped payload byte. */
static uint32_t frame_crc(const uint8_t *type_and_reserved, const uint8_t *payload, size_t size)
{
    uint32_t crc = tandem_crc32c(0, type_and_reserved, 4);
    return size == 0 ? crc : tandem_crc32c(crc, payload, size);
}

void tandem_net_frame_write(uint8_t *dst, uint8_t type, const void *payload, size_t size_bytes)
{
    TANDEM_ASSERT(dst != NULL);
    TANDEM_ASSERT(size_bytes <= TANDEM_NET_FRAME_PAYLOAD_BYTES_MAX);
    TANDEM_ASSERT(size_bytes == 0 || payload != NULL);
    dst[8] = type;
    dst[9] = dst[10] = dst[11] = 0;
    if (size_bytes > 0) {
        memmove(dst + TANDEM_NET_FRAME_HEADER_BYTES, payload, size_bytes); /* may be in place */
    }
    tandem_store_u32(dst, (uint32_t)size_bytes);
    tandem_store_u32(dst + 4, frame_crc(dst + 8, payload, size_bytes));
}

int tandem_net_frame_encode(uint8_t type, const void *payload, size_t size_bytes, tandem_buf *b)
{
    TANDEM_ASSERT(b != NULL);
    TANDEM_ASSERT(size_bytes == 0 || payload != NULL);
    if (size_bytes > TANDEM_NET_FRAME_PAYLOAD_BYTES_MAX) {
        return TANDEM_ETOOBIG;
    }
    size_t start = b->len;
    uint8_t *dst = NULL;
    int rc = tandem_buf_put_zeros(b, TANDEM_NET_FRAME_HEADER_BYTES + size_bytes, &dst);
    if (rc != 0) {
        return rc;
    }
    tandem_net_frame_write(dst, type, payload, size_bytes);
    TANDEM_ASSERT(b->len == start + TANDEM_NET_FRAME_HEADER_BYTES + size_bytes);
    return 0;
}

int tandem_net_frame_decode(const uint8_t *data, size_t size, uint32_t payload_size_bytes_max,
                            tandem_net_frame *out, size_t *consumed_bytes, tandem_diag *diag)
{
    TANDEM_ASSERT(out != NULL && consumed_bytes != NULL);
    TANDEM_ASSERT(size == 0 || data != NULL);
    *consumed_bytes = 0;
    if (size < TANDEM_NET_FRAME_HEADER_BYTES) {
        return tandem_diag_set(diag, TANDEM_EINCOMPLETE, "frame header: %zu of %d bytes", size,
                               TANDEM_NET_FRAME_HEADER_BYTES);
    }
    uint32_t len = tandem_load_u32(data);
    uint32_t limit = payload_size_bytes_max < TANDEM_NET_FRAME_PAYLOAD_BYTES_MAX
                         ? payload_size_bytes_max
                         : TANDEM_NET_FRAME_PAYLOAD_BYTES_MAX;
    /* The length is checked against the limit before anything waits for it,
     * so a garbage length cannot make the reader buffer gigabytes. */
    if (len > limit) {
        return tandem_diag_set(diag, TANDEM_ETOOBIG,
                               "frame payload of %u bytes exceeds the limit of %u bytes", len,
                               limit);
    }
    if (data[9] != 0 || data[10] != 0 || data[11] != 0) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "frame reserved bytes are not zero");
    }
    if (size - TANDEM_NET_FRAME_HEADER_BYTES < len) {
        return tandem_diag_set(diag, TANDEM_EINCOMPLETE, "frame payload: %zu of %u bytes",
                               size - TANDEM_NET_FRAME_HEADER_BYTES, len);
    }
    const uint8_t *payload = data + TANDEM_NET_FRAME_HEADER_BYTES;
    uint32_t want = tandem_load_u32(data + 4);
    uint32_t got = frame_crc(data + 8, payload, len);
    if (want != got) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "frame checksum mismatch: header says %08x, bytes give %08x", want,
                               got);
    }
    out->type = data[8];
    out->payload_size_bytes = len;
    out->payload = len > 0 ? payload : NULL;
    *consumed_bytes = TANDEM_NET_FRAME_HEADER_BYTES + (size_t)len;
    TANDEM_ASSERT(*consumed_bytes <= size);
    return 0;
}

int tandem_net_hello_encode(uint64_t node_id, const char *cluster_name, tandem_buf *b)
{
    TANDEM_ASSERT(b != NULL);
    TANDEM_ASSERT(cluster_name != NULL);
    size_t name_len = strlen(cluster_name);
    if (name_len == 0 || name_len > TANDEM_NET_CLUSTER_NAME_BYTES_MAX) {
        return TANDEM_EINVAL;
    }
    uint8_t p[4 + 2 + 8 + 1 + TANDEM_NET_CLUSTER_NAME_BYTES_MAX];
    tandem_store_u32(p, TANDEM_NET_HELLO_MAGIC);
    tandem_store_u16(p + 4, TANDEM_NET_HELLO_VERSION);
    tandem_store_u64(p + 6, node_id);
    p[14] = (uint8_t)name_len;
    memcpy(p + 15, cluster_name, name_len);
    return tandem_net_frame_encode(TANDEM_NET_FRAME_HELLO, p, 15 + name_len, b);
}

int tandem_net_hello_decode(const uint8_t *payload, size_t size, tandem_net_hello *out,
                            tandem_diag *diag)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(size == 0 || payload != NULL);
    memset(out, 0, sizeof(*out));
    tandem_reader rd;
    tandem_reader_init(&rd, payload, size);
    uint32_t magic = tandem_read_u32(&rd);
    out->version = tandem_read_u16(&rd);
    if (rd.failed || magic != TANDEM_NET_HELLO_MAGIC) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "hello: bad magic (not a tandem broker)");
    }
    /* Checked before the rest: another version may lay the rest out otherwise. */
    if (out->version != TANDEM_NET_HELLO_VERSION) {
        return tandem_diag_set(diag, TANDEM_EFORMAT,
                               "hello: protocol version %u, this broker speaks %d", out->version,
                               TANDEM_NET_HELLO_VERSION);
    }
    out->node_id = tandem_read_u64(&rd);
    uint8_t name_len = tandem_read_u8(&rd);
    const uint8_t *name = tandem_read_bytes(&rd, name_len);
    if (rd.failed) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "hello: truncated (%zu bytes)", size);
    }
    if (name_len == 0 || name_len > TANDEM_NET_CLUSTER_NAME_BYTES_MAX) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "hello: cluster name of %u bytes", name_len);
    }
    if (memchr(name, 0, name_len) != NULL) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "hello: NUL byte in the cluster name");
    }
    if (tandem_reader_left(&rd) != 0) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "hello: %zu trailing bytes",
                               tandem_reader_left(&rd));
    }
    memcpy(out->cluster_name, name, name_len);
    out->cluster_name[name_len] = '\0';
    return 0;
}
