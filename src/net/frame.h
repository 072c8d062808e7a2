/*
 * frame.h — the wire format between brokers: frames and the hello.
 *
 * Everything one broker sends another over TCP is a frame: a 12-byte header
 * (payload length, CRC32C, type, three zero bytes) and the payload. The first
 * frame on every connection, in both directions, is a HELLO naming the
 * protocol version, the cluster and the sender's node id, so a broker of
 * another cluster (or an old binary) is refused before any message of it is
 * believed. docs/NETWORK.md has the layout byte by byte.
 *
 * This file is pure (no sockets): the transport uses it on its read buffer,
 * and the fuzz target drives it with arbitrary bytes. Decoders never trust a
 * length before checking it against the limit and the bytes present, and
 * distinguish "incomplete, read more" from "invalid, close the connection".
 */
#ifndef TANDEM_NET_FRAME_H
#define TANDEM_NET_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

#define TANDEM_NET_FRAME_HEADER_BYTES 12
/* Hard ceiling on a payload, whatever the configuration says (a Raft message
 * with a 1 MiB snapshot chunk and a batch of entries fits well below it). */
#define TANDEM_NET_FRAME_PAYLOAD_BYTES_MAX ((uint32_t)64 << 20)

/* Frame types 0..15 belong to the transport; 16..255 are the callers'. */
enum tandem_net_frame_type {
    TANDEM_NET_FRAME_HELLO = 1,
    TANDEM_NET_FRAME_USER_MIN = 16,
    TANDEM_NET_FRAME_RAFT = 16, /* a Raft message (raft.h wire codec) */
};

#define TANDEM_NET_HELLO_VERSION          1
#define TANDEM_NET_HELLO_MAGIC            0x444e4154u /* "TAND" little-endian */
#define TANDEM_NET_CLUSTER_NAME_BYTES_MAX 64

/* A decoded frame; `payload` points into the decoder's input. */
typedef struct tandem_net_frame {
    uint8_t type;
    uint32_t payload_size_bytes;
    const uint8_t *payload; /* NULL when the payload is empty */
} tandem_net_frame;

/* Appends a frame of `type` with `size_bytes` of payload to b. TANDEM_ETOOBIG
 * above TANDEM_NET_FRAME_PAYLOAD_BYTES_MAX, TANDEM_ENOMEM (b unchanged). */
int tandem_net_frame_encode(uint8_t type, const void *payload, size_t size_bytes, tandem_buf *b);

/* Writes a frame into dst, which has room for exactly
 * TANDEM_NET_FRAME_HEADER_BYTES + size_bytes (at most the payload maximum),
 * for callers that own the memory a frame lives in (the send queue). */
void tandem_net_frame_write(uint8_t *dst, uint8_t type, const void *payload, size_t size_bytes);

/*
 * Decodes the frame at the start of data[0..size). On 0, *out refers into
 * data and *consumed_bytes is the frame's length. TANDEM_EINCOMPLETE: the
 * frame is not all there yet (nothing is wrong). TANDEM_ETOOBIG: the header
 * claims more than payload_size_bytes_max. TANDEM_ECORRUPT: checksum mismatch
 * or non-zero reserved bytes. The reason is in diag; never a crash.
 */
int tandem_net_frame_decode(const uint8_t *data, size_t size, uint32_t payload_size_bytes_max,
                            tandem_net_frame *out, size_t *consumed_bytes, tandem_diag *diag);

/* The content of a HELLO frame. */
typedef struct tandem_net_hello {
    uint16_t version;
    uint64_t node_id;
    char cluster_name[TANDEM_NET_CLUSTER_NAME_BYTES_MAX + 1]; /* NUL-terminated */
} tandem_net_hello;

/* Appends a HELLO frame. TANDEM_EINVAL for a name empty or over the limit. */
int tandem_net_hello_encode(uint64_t node_id, const char *cluster_name, tandem_buf *b);

/* Decodes a HELLO payload. TANDEM_ECORRUPT (magic, lengths, a NUL in the
 * name, trailing bytes) or TANDEM_EFORMAT (another version; version is still
 * filled in so the caller can say which) with the reason in diag. */
int tandem_net_hello_decode(const uint8_t *payload, size_t size, tandem_net_hello *out,
                            tandem_diag *diag);

#endif
