/*
 * Fuzzes the transport's frame and hello decoders as the transport uses
 * them: the input is the byte stream of one connection, decoded frame after
 * frame with a 4 KiB payload limit, the first frame as a hello. Every frame
 * that decodes must re-encode to the same bytes and report a length inside
 * the input; a hello that decodes must re-encode to the same payload. Then
 * the input is decoded again with each frame's length and checksum rewritten
 * (so mutations reach the hello's fields). Any crash, sanitizer report or
 * abort() below is a bug: bad bytes must only ever give an error code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "net/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LIMIT_BYTES 4096

static void require(int ok)
{
    if (!ok) {
        abort();
    }
}

static void check_hello(const tandem_net_frame *f, tandem_buf *re)
{
    tandem_net_hello h;
    tandem_diag d;
    int rc = tandem_net_hello_decode(f->payload, f->payload_size_bytes, &h, &d);
    require(rc == 0 || rc == TANDEM_ECORRUPT || rc == TANDEM_EFORMAT);
    require(rc == 0 || d.message[0] != '\0');
    if (rc != 0) {
        return;
    }
    tandem_buf_reset(re);
    require(tandem_net_hello_encode(h.node_id, h.cluster_name, re) == 0);
    require(re->len == TANDEM_NET_FRAME_HEADER_BYTES + f->payload_size_bytes);
    require(memcmp(re->data + TANDEM_NET_FRAME_HEADER_BYTES, f->payload, f->payload_size_bytes) ==
            0);
}

/* Decodes the stream; returns how many frames decoded. */
static size_t decode_stream(const uint8_t *data, size_t size, tandem_buf *re)
{
    size_t off = 0, frames = 0;
    while (off < size) {
        tandem_net_frame f;
        size_t used = 0;
        tandem_diag d;
        int rc = tandem_net_frame_decode(data + off, size - off, LIMIT_BYTES, &f, &used, &d);
        if (rc != 0) {
            require(rc == TANDEM_EINCOMPLETE || rc == TANDEM_ECORRUPT || rc == TANDEM_ETOOBIG);
            require(d.message[0] != '\0');
            break;
        }
        require(used >= TANDEM_NET_FRAME_HEADER_BYTES && used <= size - off);
        require(f.payload_size_bytes <= LIMIT_BYTES);
        tandem_buf_reset(re);
        require(tandem_net_frame_encode(f.type, f.payload, f.payload_size_bytes, re) == 0);
        require(re->len == used && memcmp(re->data, data + off, used) == 0);
        if (frames == 0) {
            check_hello(&f, re);
        }
        off += used;
        frames++;
    }
    return frames;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tandem_buf re = TANDEM_BUF_INIT;
    (void)decode_stream(data, size, &re);
    /* Rewrite each frame's length (bounded by what is left) and checksum. */
    uint8_t *copy = malloc(size + 1);
    require(copy != NULL);
    memcpy(copy, data, size);
    size_t off = 0;
    while (size - off >= TANDEM_NET_FRAME_HEADER_BYTES) {
        size_t left = size - off - TANDEM_NET_FRAME_HEADER_BYTES;
        size_t len = tandem_load_u32(copy + off) % (LIMIT_BYTES + 1);
        len = len > left ? left : len;
        uint8_t type = copy[off + 8];
        tandem_net_frame_write(copy + off, type, copy + off + TANDEM_NET_FRAME_HEADER_BYTES, len);
        off += TANDEM_NET_FRAME_HEADER_BYTES + len;
    }
    size_t frames = decode_stream(copy, off, &re);
    require(off == 0 || frames > 0);
    free(copy);
    tandem_buf_free(&re);
    return 0;
}
