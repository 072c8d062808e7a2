/*
 * transport.h — broker-to-broker messaging over TCP on a libuv loop.
 *
 * A transport listens on one address (one port per broker carries every
 * partition, DESIGN §3) and sends frames (net/frame.h) to peers named by node
 * id. Each direction of a pair of brokers has its own connection: a broker
 * sends on the connection it opened to the peer and receives on the ones it
 * accepted. Connections are opened lazily, on the first frame for a peer,
 * and after a failure reopened with capped exponential back-off while frames
 * wait. Both ends open with a HELLO (version, cluster name, node id); a peer
 * of another cluster, another version, or (outgoing) another node id than
 * the one dialled is refused with a log line and the connection closed.
 *
 * Queues are bounded: every peer has a send queue of at most
 * `queue_frames_max` frames and `queue_bytes_max` bytes. When a frame would
 * exceed either, tandem_transport_send refuses it with TANDEM_EFULL and the
 * queue keeps its older frames (the frame is counted as dropped). Raft
 * resends what is lost, so refusing the newest is safe, and it keeps the
 * order of what is delivered. Frames queued while the peer is unreachable
 * are sent once it is reachable again, if they still fit.
 *
 * A received frame goes to the receive callback on the loop thread, with the
 * sender's node id from its hello. An oversized or damaged frame, or a first
 * frame that is not a valid HELLO, closes that connection only, with a log
 * line naming the peer and the reason; it never stops the transport.
 *
 * Threads: every call, and every callback, is on the loop's thread.
 *
 * Ownership: the transport copies every option string and every payload it
 * is given. The payload passed to the receive callback belongs to the
 * transport and is valid only during the callback. tandem_transport_close
 * frees the transport once its handles are closed: the caller runs the loop
 * until then (uv_run returns when nothing else is active), and must not use
 * the pointer after close.
 */
#ifndef TANDEM_NET_TRANSPORT_H
#define TANDEM_NET_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "base/error.h"
#include "net/frame.h"

#define TANDEM_TRANSPORT_PEERS_MAX        64
#define TANDEM_TRANSPORT_INBOUND_MAX      128
#define TANDEM_TRANSPORT_QUEUE_FRAMES_MAX 65536

/* Called for each frame received; `payload` (size_bytes) is valid only
 * during the call. The callback may send and may close the transport. */
typedef void (*tandem_transport_receive_fn)(void *ctx, uint64_t from_node, uint8_t type,
                                            const uint8_t *payload, size_t size_bytes);

typedef struct tandem_transport_options {
    const char *cluster_name;      /* 1..64 bytes; copied */
    uint64_t node_id;              /* this broker */
    const char *listen_host;       /* IPv4 or IPv6 address to bind; copied */
    uint16_t listen_port;          /* 0: an ephemeral port (tandem_transport_port says which) */
    uint32_t frame_size_bytes_max; /* largest payload accepted and sent */
    uint32_t queue_frames_max;     /* per peer, 1..TANDEM_TRANSPORT_QUEUE_FRAMES_MAX */
    uint64_t queue_bytes_max;      /* per peer, payload plus headers */
    uint32_t reconnect_min_ms;     /* first back-off after a failure */
    uint32_t reconnect_max_ms;     /* the cap of the doubling */
    uint32_t connect_timeout_ms;   /* connect plus hello answer; an accepted
                                      connection's hello must come within it too */
    /* Tests and benchmarks only: every frame waits this long in the send
     * queue before it is written, emulating a one-way link latency (a timer,
     * never a sleep). 0 in production. */
    uint32_t test_delay_ms;
    tandem_transport_receive_fn on_receive;
    void *ctx; /* passed to on_receive */
} tandem_transport_options;

/* Defaults: no names, port 0, 16 MiB frames, 4,096 frames and 64 MiB per
 * peer, back-off 50 ms doubling to 2 s, 3 s connect timeout, no delay. */
void tandem_transport_options_default(tandem_transport_options *o);

typedef struct tandem_transport tandem_transport;

/* Binds and listens. TANDEM_EINVAL (diag says which option) for bad options;
 * TANDEM_ESYS / TANDEM_EEXIST with the address when binding fails. On error
 * nothing is left on the loop. */
int tandem_transport_create(uv_loop_t *loop, const tandem_transport_options *o,
                            tandem_transport **out, tandem_diag *diag);

/* Port actually bound (useful with listen_port 0). */
uint16_t tandem_transport_port(const tandem_transport *t);

/* Names a peer's address (replacing an earlier one: the current connection
 * is kept until it fails). TANDEM_EINVAL for its own id, a bad address;
 * TANDEM_EFULL past TANDEM_TRANSPORT_PEERS_MAX peers. Connects lazily. */
int tandem_transport_add_peer(tandem_transport *t, uint64_t node_id, const char *host,
                              uint16_t port, tandem_diag *diag);

/* Queues a frame for a peer (copied). TANDEM_ENOENT: unknown peer;
 * TANDEM_EINVAL: a type below TANDEM_NET_FRAME_USER_MIN; TANDEM_ETOOBIG:
 * above frame_size_bytes_max; TANDEM_EFULL: the peer's queue is full (the
 * frame is dropped, see above); TANDEM_ECLOSED: closing. */
int tandem_transport_send(tandem_transport *t, uint64_t node_id, uint8_t type, const void *payload,
                          size_t size_bytes);

/* Counters of one peer (zeros for an unknown one). */
typedef struct tandem_transport_peer_stats {
    uint64_t frames_sent;      /* written to the socket */
    uint64_t frames_dropped;   /* refused because the queue was full */
    uint64_t frames_queued;    /* waiting now */
    uint64_t connects;         /* handshakes completed */
    uint64_t connect_failures; /* connects, handshakes or writes that failed */
    bool connected;            /* handshake done on the current connection */
} tandem_transport_peer_stats;

void tandem_transport_peer_stats_get(const tandem_transport *t, uint64_t node_id,
                                     tandem_transport_peer_stats *out);

/* Transport-wide counters. */
typedef struct tandem_transport_stats {
    uint64_t frames_received;
    uint64_t inbound_accepted;
    uint64_t inbound_refused; /* bad hello, other cluster or version, over the limit */
    uint64_t inbound_closed_bad_frame;
    uint64_t inbound_replaced; /* closed because their node said hello again */
} tandem_transport_stats;

void tandem_transport_stats_get(const tandem_transport *t, tandem_transport_stats *out);

/* Stops listening, drops queued frames, closes every connection and frees
 * the transport when the last handle is closed (see the file comment). */
void tandem_transport_close(tandem_transport *t);

#endif
