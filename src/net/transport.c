/*
 * transport.c — TCP connections, hellos, bounded send queues and back-off
 * (contract in transport.h, wire format in docs/NETWORK.md).
 *
 * Life of an outgoing connection, per peer:
 *   IDLE --send--> CONNECTING --hello answered--> READY
 *   CONNECTING/READY --failure--> BACKOFF --timer--> CONNECTING (frames wait)
 *                                                or IDLE (nothing to send)
 * One timer per peer serves the state it is in: the connect timeout while
 * CONNECTING, the back-off while BACKOFF, the test delay while READY.
 *
 * Every libuv handle counts in `handles_open`; the transport is freed by the
 * close callback that brings it to zero after tandem_transport_close.
 */
#include "net/transport.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/log.h"

#define WRITE_BATCH_FRAMES 64 /* frames per uv_write: one syscall carries many */
#define READ_CHUNK_BYTES   65536
#define LISTEN_BACKLOG     128
/* Idle seconds before TCP keepalive probes start: a peer that vanished
 * without a FIN (power loss, a cut link) is found out and its connection
 * closed instead of holding a slot for ever. */
#define KEEPALIVE_DELAY_S 30

enum peer_state { PEER_IDLE = 1, PEER_CONNECTING, PEER_READY, PEER_BACKOFF };

/* A queued frame: header and payload, encoded once at send time. */
typedef struct qframe {
    struct qframe *next;
    uint64_t due_ms; /* loop time at which it may be written (test delay) */
    size_t size_bytes;
    uint8_t data[];
} qframe;

typedef struct peer peer;

typedef struct conn {
    uv_tcp_t tcp; /* tcp.data = this */
    tandem_transport *t;
    peer *peer;           /* outgoing: the peer dialled; incoming: NULL */
    uint32_t slot;        /* incoming: index in t->inbound */
    uint64_t remote_node; /* from its hello */
    uint64_t accepted_ms; /* incoming: loop time of accept, for the hello timeout */
    bool hello_done;
    bool closing;
    uint8_t *rbuf; /* bytes read and not yet decoded */
    size_t rlen, rcap;
    uv_connect_t creq;
    uv_write_t hello_req;
    tandem_buf hello; /* our hello, alive until hello_req completes */
    uv_write_t wreq;
    bool writing;
    qframe *inflight; /* frames of the uv_write in progress */
    uv_buf_t bufs[WRITE_BATCH_FRAMES];
} conn;

struct peer {
    tandem_transport *t;
    bool used;
    uint64_t id;
    struct sockaddr_storage addr;
    char addr_text[64];
    enum peer_state state;
    conn *conn;
    uv_timer_t timer; /* timer.data = this */
    uint32_t backoff_ms;
    qframe *head, *tail;
    uint32_t n_queued;
    uint64_t bytes_queued;
    tandem_transport_peer_stats stats;
};

struct tandem_transport {
    uv_loop_t *loop;
    tandem_transport_options o;
    char cluster_name[TANDEM_NET_CLUSTER_NAME_BYTES_MAX + 1];
    char listen_host[64];
    uint16_t port;
    char node_text[24];
    uv_tcp_t listener;
    uv_timer_t sweep; /* closes incoming connections that never said hello */
    bool closing;
    uint32_t handles_open;
    peer peers[TANDEM_TRANSPORT_PEERS_MAX];
    conn *inbound[TANDEM_TRANSPORT_INBOUND_MAX];
    tandem_transport_stats stats;
};

static void conn_close(conn *c);
static void peer_flush(peer *p);
static void peer_connect(tandem_transport *t, peer *p);
static void on_peer_timer(uv_timer_t *timer);

void tandem_transport_options_default(tandem_transport_options *o)
{
    TANDEM_ASSERT(o != NULL);
    memset(o, 0, sizeof(*o));
    o->frame_size_bytes_max = 16u << 20;
    o->queue_frames_max = 4096;
    o->queue_bytes_max = 64u << 20;
    o->reconnect_min_ms = 50;
    o->reconnect_max_ms = 2000;
    o->connect_timeout_ms = 3000;
    TANDEM_ASSERT(o->reconnect_min_ms <= o->reconnect_max_ms);
}

/* ---- logging ---------------------------------------------------------- */

static void log_conn(enum tandem_log_level level, const char *msg, const conn *c,
                     const char *reason)
{
    TANDEM_ASSERT(c != NULL && msg != NULL);
    char remote[24] = "unknown";
    if (c->peer != NULL) {
        snprintf(remote, sizeof(remote), "%" PRIu64, c->peer->id);
    } else if (c->hello_done) {
        snprintf(remote, sizeof(remote), "%" PRIu64, c->remote_node);
    }
    char addr[64] = "";
    struct sockaddr_storage ss;
    int len = (int)sizeof(ss);
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        char host[48] = "";
        int port = 0;
        if (ss.ss_family == AF_INET6) {
            uv_ip6_name((const struct sockaddr_in6 *)&ss, host, sizeof(host));
            port = ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port);
        } else {
            uv_ip4_name((const struct sockaddr_in *)&ss, host, sizeof(host));
            port = ntohs(((const struct sockaddr_in *)&ss)->sin_port);
        }
        snprintf(addr, sizeof(addr), "%s:%d", host, port);
    } else if (c->peer != NULL) {
        snprintf(addr, sizeof(addr), "%s", c->peer->addr_text);
    }
    TANDEM_ASSERT(c->t != NULL);
    tandem_log(level, msg, "cluster", c->t->cluster_name, "node", c->t->node_text, "peer", remote,
               "direction", c->peer != NULL ? "out" : "in", "address", addr, "reason",
               reason != NULL ? reason : "", NULL);
}

/* ---- handle accounting and teardown ----------------------------------- */

static void transport_free_if_done(tandem_transport *t)
{
    TANDEM_ASSERT(t != NULL);
    if (!t->closing || t->handles_open != 0) {
        return;
    }
    for (uint32_t i = 0; i < TANDEM_TRANSPORT_INBOUND_MAX; i++) {
        TANDEM_ASSERT(t->inbound[i] == NULL);
    }
    free(t);
}

static void on_handle_closed(uv_handle_t *h)
{
    tandem_transport *t = h->data;
    TANDEM_ASSERT(t != NULL && t->handles_open > 0);
    TANDEM_ASSERT(t->closing); /* only closed by close, or by a failed create */
    t->handles_open--;
    transport_free_if_done(t);
}

static void queue_free(qframe *f)
{
    for (uint32_t n = 0; f != NULL; n++) {
        /* Queues hold at most QUEUE_FRAMES_MAX waiting plus one write batch. */
        TANDEM_ASSERT(n <= TANDEM_TRANSPORT_QUEUE_FRAMES_MAX + WRITE_BATCH_FRAMES);
        TANDEM_ASSERT(f->size_bytes >= TANDEM_NET_FRAME_HEADER_BYTES);
        qframe *next = f->next;
        free(f);
        f = next;
    }
}

static void on_conn_closed(uv_handle_t *h)
{
    conn *c = h->data;
    tandem_transport *t = c->t;
    TANDEM_ASSERT(c->closing && !c->writing);
    TANDEM_ASSERT(t->handles_open > 0);
    queue_free(c->inflight);
    tandem_buf_free(&c->hello);
    free(c->rbuf);
    free(c);
    t->handles_open--;
    transport_free_if_done(t);
}

static void conn_close(conn *c)
{
    TANDEM_ASSERT(c != NULL);
    if (c->closing) {
        return;
    }
    c->closing = true;
    if (c->peer != NULL) {
        if (c->peer->conn == c) {
            c->peer->conn = NULL;
            c->peer->stats.connected = false;
        }
    } else {
        TANDEM_ASSERT(c->t->inbound[c->slot] == c);
        c->t->inbound[c->slot] = NULL;
    }
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

/* An outgoing connection failed at any stage: close it, wait, then retry if
 * frames are waiting. The back-off doubles up to reconnect_max_ms and is
 * reset by a completed handshake. */
static void peer_fail(peer *p, const char *reason)
{
    TANDEM_ASSERT(p != NULL && p->used);
    tandem_transport *t = p->t;
    TANDEM_ASSERT(!t->closing);
    if (p->conn != NULL) {
        log_conn(p->state == PEER_READY ? TANDEM_LOG_WARN : TANDEM_LOG_DEBUG,
                 "connection to peer failed", p->conn, reason);
        conn_close(p->conn);
    }
    p->stats.connect_failures++;
    p->state = PEER_BACKOFF;
    uv_timer_stop(&p->timer);
    uv_timer_start(&p->timer, on_peer_timer, p->backoff_ms, 0);
    uint64_t next = (uint64_t)p->backoff_ms * 2;
    p->backoff_ms = next > t->o.reconnect_max_ms ? t->o.reconnect_max_ms : (uint32_t)next;
    TANDEM_ASSERT(p->conn == NULL);
}

static void on_peer_timer(uv_timer_t *timer)
{
    peer *p = timer->data;
    TANDEM_ASSERT(p != NULL && p->used);
    TANDEM_ASSERT(!p->t->closing);
    switch (p->state) {
    case PEER_BACKOFF:
        if (p->head != NULL) {
            peer_connect(p->t, p);
        } else {
            p->state = PEER_IDLE;
        }
        break;
    case PEER_CONNECTING:
        peer_fail(p, "connect or hello timed out");
        break;
    case PEER_READY:
        peer_flush(p);
        break;
    default:
        break;
    }
}

/* ---- reading ------------------------------------------------------------ */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn *c = h->data;
    (void)suggested;
    TANDEM_ASSERT(c != NULL && c->rlen <= c->rcap);
    /* Never more than one largest frame plus a read chunk: the decoder refuses
     * a longer length before the buffer would have to hold it. */
    size_t limit =
        TANDEM_NET_FRAME_HEADER_BYTES + (size_t)c->t->o.frame_size_bytes_max + READ_CHUNK_BYTES;
    if (c->rcap - c->rlen < READ_CHUNK_BYTES / 4 && c->rcap < limit) {
        size_t cap = c->rcap == 0 ? READ_CHUNK_BYTES : c->rcap * 2;
        cap = cap > limit ? limit : cap;
        uint8_t *nb = realloc(c->rbuf, cap);
        if (nb != NULL) {
            c->rbuf = nb;
            c->rcap = cap;
        }
    }
    TANDEM_ASSERT(c->rcap <= limit);
    *buf = uv_buf_init((char *)c->rbuf + c->rlen, (unsigned)(c->rcap - c->rlen));
}

static int send_hello(conn *c)
{
    TANDEM_ASSERT(c != NULL && !c->closing);
    TANDEM_ASSERT(c->hello.len == 0); /* one hello per connection */
    int rc = tandem_net_hello_encode(c->t->o.node_id, c->t->cluster_name, &c->hello);
    if (rc != 0) {
        return rc;
    }
    uv_buf_t b = uv_buf_init((char *)c->hello.data, (unsigned)c->hello.len);
    c->hello_req.data = c;
    return uv_write(&c->hello_req, (uv_stream_t *)&c->tcp, &b, 1, NULL) == 0 ? 0 : TANDEM_ESYS;
}

/* A broker sends on one connection per peer, so a new hello from a node
 * means it redialled: its older incoming connections are dead (restarted, or
 * gone without a FIN) and are closed, so that restarts never fill the slots. */
static void replace_inbound(conn *c)
{
    TANDEM_ASSERT(c != NULL && c->peer == NULL && c->hello_done);
    tandem_transport *t = c->t;
    TANDEM_ASSERT(c->slot < TANDEM_TRANSPORT_INBOUND_MAX && t->inbound[c->slot] == c);
    for (uint32_t i = 0; i < TANDEM_TRANSPORT_INBOUND_MAX; i++) {
        conn *old = t->inbound[i];
        if (old != NULL && old != c && !old->closing && old->hello_done &&
            old->remote_node == c->remote_node) {
            log_conn(TANDEM_LOG_INFO, "closing connection", old, "replaced by a new hello");
            t->stats.inbound_replaced++;
            conn_close(old);
        }
    }
}

/* The first frame of a connection. Returns false when the connection was
 * refused (and closed). */
static bool on_hello(conn *c, const tandem_net_frame *f)
{
    TANDEM_ASSERT(c != NULL && f != NULL);
    TANDEM_ASSERT(!c->hello_done && !c->closing);
    tandem_transport *t = c->t;
    tandem_diag d;
    tandem_diag_clear(&d);
    tandem_net_hello h;
    char why[600];
    if (f->type != TANDEM_NET_FRAME_HELLO) {
        snprintf(why, sizeof(why), "first frame has type %u, not a hello", f->type);
        goto refuse;
    }
    if (tandem_net_hello_decode(f->payload, f->payload_size_bytes, &h, &d) != 0) {
        snprintf(why, sizeof(why), "%s", tandem_diag_text(&d));
        goto refuse;
    }
    if (strcmp(h.cluster_name, t->cluster_name) != 0) {
        snprintf(why, sizeof(why), "peer of another cluster: it says cluster=%s node=%" PRIu64,
                 h.cluster_name, h.node_id);
        goto refuse;
    }
    if (c->peer != NULL && h.node_id != c->peer->id) {
        snprintf(why, sizeof(why), "dialled node %" PRIu64 " but node %" PRIu64 " answered",
                 c->peer->id, h.node_id);
        goto refuse;
    }
    if (h.node_id == t->o.node_id) {
        snprintf(why, sizeof(why), "peer claims this broker's own node id");
        goto refuse;
    }
    c->hello_done = true;
    c->remote_node = h.node_id;
    if (c->peer == NULL) {
        if (send_hello(c) != 0) {
            snprintf(why, sizeof(why), "cannot answer the hello");
            goto refuse;
        }
        replace_inbound(c);
        log_conn(TANDEM_LOG_DEBUG, "peer connected", c, "");
        return true;
    }
    peer *p = c->peer;
    TANDEM_ASSERT(p->conn == c && p->state == PEER_CONNECTING);
    uv_timer_stop(&p->timer);
    p->state = PEER_READY;
    p->backoff_ms = t->o.reconnect_min_ms;
    p->stats.connects++;
    p->stats.connected = true;
    log_conn(TANDEM_LOG_INFO, "connected to peer", c, "");
    return true;
refuse:
    log_conn(TANDEM_LOG_WARN, "refusing connection", c, why);
    if (c->peer != NULL) {
        peer_fail(c->peer, why);
    } else {
        t->stats.inbound_refused++;
        conn_close(c);
    }
    return false;
}

/* Closes a connection that sent bytes it should not have. */
static void conn_bad(conn *c, const char *why)
{
    TANDEM_ASSERT(c != NULL && !c->closing);
    TANDEM_ASSERT(why != NULL);
    if (c->peer != NULL) {
        peer_fail(c->peer, why);
    } else {
        log_conn(TANDEM_LOG_WARN, "closing connection after a bad frame", c, why);
        c->t->stats.inbound_closed_bad_frame++;
        conn_close(c);
    }
}

static void decode_frames(conn *c)
{
    TANDEM_ASSERT(c != NULL && !c->closing);
    TANDEM_ASSERT(c->rlen <= c->rcap);
    tandem_transport *t = c->t;
    size_t off = 0;
    while (!c->closing && !t->closing) {
        tandem_net_frame f;
        size_t used = 0;
        tandem_diag d;
        tandem_diag_clear(&d);
        int rc = tandem_net_frame_decode(c->rbuf + off, c->rlen - off, t->o.frame_size_bytes_max,
                                         &f, &used, &d);
        if (rc == TANDEM_EINCOMPLETE) {
            break;
        }
        if (rc != 0) {
            conn_bad(c, tandem_diag_text(&d));
            return;
        }
        TANDEM_ASSERT(used >= TANDEM_NET_FRAME_HEADER_BYTES && off + used <= c->rlen);
        off += used;
        if (!c->hello_done) {
            if (!on_hello(c, &f)) {
                return;
            }
            peer_flush(c->peer);
            continue;
        }
        if (f.type < TANDEM_NET_FRAME_USER_MIN) {
            char why[64];
            snprintf(why, sizeof(why), "unexpected transport frame of type %u", f.type);
            conn_bad(c, why);
            return;
        }
        t->stats.frames_received++;
        if (t->o.on_receive != NULL) {
            /* May send, or close the transport: the loop condition checks. */
            t->o.on_receive(t->o.ctx, c->remote_node, f.type, f.payload, f.payload_size_bytes);
        }
    }
    if (!c->closing && off > 0) {
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
    }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    conn *c = s->data;
    (void)buf;
    TANDEM_ASSERT(c != NULL);
    if (c->closing) {
        return;
    }
    if (n < 0) {
        const char *why = n == UV_EOF ? "closed by the peer" : uv_strerror((int)n);
        if (n == UV_ENOBUFS) {
            why = "no memory for the read buffer";
        }
        if (c->peer != NULL) {
            peer_fail(c->peer, why);
        } else {
            log_conn(TANDEM_LOG_DEBUG, "incoming connection closed", c, why);
            conn_close(c);
        }
        return;
    }
    TANDEM_ASSERT(c->rlen + (size_t)n <= c->rcap);
    c->rlen += (size_t)n;
    decode_frames(c);
}

/* ---- writing ------------------------------------------------------------ */

static void on_write(uv_write_t *req, int status)
{
    conn *c = req->data;
    TANDEM_ASSERT(c != NULL && c->writing);
    c->writing = false;
    uint64_t n = 0;
    for (qframe *f = c->inflight; f != NULL; f = f->next) {
        n++;
    }
    queue_free(c->inflight);
    c->inflight = NULL;
    if (c->closing) {
        return;
    }
    peer *p = c->peer;
    TANDEM_ASSERT(p != NULL && p->conn == c);
    if (status < 0) {
        peer_fail(p, uv_strerror(status));
        return;
    }
    p->stats.frames_sent += n;
    peer_flush(p);
}

/* Writes the frames that are due, up to a batch, in one uv_write. */
static void peer_flush(peer *p)
{
    if (p == NULL || p->state != PEER_READY || p->conn == NULL || p->conn->writing ||
        p->t->closing) {
        return;
    }
    conn *c = p->conn;
    TANDEM_ASSERT(c->peer == p && c->hello_done && c->inflight == NULL);
    uint64_t now = uv_now(p->t->loop);
    unsigned n = 0;
    qframe *first = p->head, *last = NULL;
    while (p->head != NULL && n < WRITE_BATCH_FRAMES && p->head->due_ms <= now) {
        qframe *f = p->head;
        c->bufs[n++] = uv_buf_init((char *)f->data, (unsigned)f->size_bytes);
        TANDEM_ASSERT(p->n_queued > 0 && p->bytes_queued >= f->size_bytes);
        p->n_queued--;
        p->bytes_queued -= f->size_bytes;
        last = f;
        p->head = f->next;
    }
    if (p->head == NULL) {
        p->tail = NULL;
    } else if (p->head->due_ms > now && n == 0) {
        uv_timer_start(&p->timer, on_peer_timer, p->head->due_ms - now, 0);
    }
    p->stats.frames_queued = p->n_queued;
    if (n == 0) {
        return;
    }
    TANDEM_ASSERT(n <= WRITE_BATCH_FRAMES && last != NULL);
    last->next = NULL;
    c->inflight = first;
    c->writing = true;
    c->wreq.data = c;
    int rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, c->bufs, n, on_write);
    if (rc != 0) {
        c->writing = false;
        queue_free(c->inflight);
        c->inflight = NULL;
        peer_fail(p, uv_strerror(rc));
    }
}

/* ---- connecting --------------------------------------------------------- */

static conn *conn_new(tandem_transport *t)
{
    TANDEM_ASSERT(t != NULL && !t->closing);
    conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->t = t;
    tandem_buf_init(&c->hello);
    int rc = uv_tcp_init(t->loop, &c->tcp);
    TANDEM_ASSERT(rc == 0); /* only fails for bad flags */
    c->tcp.data = c;
    t->handles_open++;
    TANDEM_ASSERT(!c->closing && c->peer == NULL);
    return c;
}

static void on_connect(uv_connect_t *req, int status)
{
    conn *c = req->data;
    TANDEM_ASSERT(c != NULL && c->peer != NULL);
    if (c->closing) {
        return; /* cancelled by a close */
    }
    TANDEM_ASSERT(c->peer->conn == c && c->peer->state == PEER_CONNECTING);
    if (status < 0) {
        peer_fail(c->peer, uv_strerror(status));
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_tcp_keepalive(&c->tcp, 1, KEEPALIVE_DELAY_S);
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc != 0 || send_hello(c) != 0) {
        peer_fail(c->peer, "cannot start the handshake");
    }
}

static void peer_connect(tandem_transport *t, peer *p)
{
    TANDEM_ASSERT(p->conn == NULL && !t->closing);
    TANDEM_ASSERT(p->state == PEER_IDLE || p->state == PEER_BACKOFF);
    conn *c = conn_new(t);
    if (c == NULL) {
        peer_fail(p, "out of memory");
        return;
    }
    c->peer = p;
    p->conn = c;
    p->state = PEER_CONNECTING;
    uv_timer_start(&p->timer, on_peer_timer, t->o.connect_timeout_ms, 0);
    c->creq.data = c;
    int rc = uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&p->addr, on_connect);
    if (rc != 0) {
        peer_fail(p, uv_strerror(rc));
    }
}

/* ---- accepting ---------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status)
{
    tandem_transport *t = server->data;
    TANDEM_ASSERT(t != NULL && !t->closing);
    if (status < 0) {
        tandem_log(TANDEM_LOG_WARN, "accepting a connection failed", "node", t->node_text, "error",
                   uv_strerror(status), NULL);
        return;
    }
    conn *c = conn_new(t);
    if (c == NULL) {
        /* Out of memory: libuv pauses the listener until this connection is
         * accepted, so nothing more can be done for it here. */
        tandem_log(TANDEM_LOG_ERROR, "accepting a connection failed", "node", t->node_text, "error",
                   "out of memory", NULL);
        return;
    }
    uint32_t slot = TANDEM_TRANSPORT_INBOUND_MAX;
    for (uint32_t i = 0; i < TANDEM_TRANSPORT_INBOUND_MAX; i++) {
        if (t->inbound[i] == NULL) {
            slot = i;
            break;
        }
    }
    int rc = uv_accept(server, (uv_stream_t *)&c->tcp);
    if (rc != 0 || slot == TANDEM_TRANSPORT_INBOUND_MAX) {
        if (slot == TANDEM_TRANSPORT_INBOUND_MAX) {
            tandem_log(TANDEM_LOG_WARN, "refusing connection: too many incoming connections",
                       "node", t->node_text, NULL);
            t->stats.inbound_refused++;
        }
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return;
    }
    TANDEM_ASSERT(slot < TANDEM_TRANSPORT_INBOUND_MAX && t->inbound[slot] == NULL);
    c->slot = slot;
    c->accepted_ms = uv_now(t->loop);
    t->inbound[slot] = c;
    t->stats.inbound_accepted++;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_tcp_keepalive(&c->tcp, 1, KEEPALIVE_DELAY_S);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        conn_close(c);
    }
}

/* An accepted connection holds one of the bounded slots: one that has not
 * said hello within connect_timeout_ms is closed, so silent connections
 * cannot starve real brokers. */
static void on_sweep(uv_timer_t *timer)
{
    tandem_transport *t = timer->data;
    TANDEM_ASSERT(t != NULL && !t->closing);
    uint64_t now = uv_now(t->loop);
    for (uint32_t i = 0; i < TANDEM_TRANSPORT_INBOUND_MAX; i++) {
        conn *c = t->inbound[i];
        if (c != NULL && !c->hello_done && now - c->accepted_ms >= t->o.connect_timeout_ms) {
            log_conn(TANDEM_LOG_WARN, "refusing connection", c, "no hello in time");
            t->stats.inbound_refused++;
            conn_close(c);
        }
    }
    TANDEM_ASSERT(uv_is_active((uv_handle_t *)timer));
}

/* ---- public ------------------------------------------------------------- */

static int parse_addr(const char *host, uint16_t port, struct sockaddr_storage *out)
{
    TANDEM_ASSERT(out != NULL);
    memset(out, 0, sizeof(*out));
    if (host == NULL) {
        return TANDEM_EINVAL;
    }
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)out) == 0) {
        return 0;
    }
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)out) == 0) {
        TANDEM_ASSERT(out->ss_family == AF_INET6);
        return 0;
    }
    return TANDEM_EINVAL;
}

static int check_options(const tandem_transport_options *o, tandem_diag *diag)
{
    TANDEM_ASSERT(o != NULL);
    size_t name_len = o->cluster_name == NULL ? 0 : strlen(o->cluster_name);
    if (name_len == 0 || name_len > TANDEM_NET_CLUSTER_NAME_BYTES_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "transport: cluster name must be 1..%d bytes",
                               TANDEM_NET_CLUSTER_NAME_BYTES_MAX);
    }
    if (o->listen_host == NULL || strlen(o->listen_host) >= 64) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "transport: listen host missing or too long");
    }
    if (o->frame_size_bytes_max == 0 ||
        o->frame_size_bytes_max > TANDEM_NET_FRAME_PAYLOAD_BYTES_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "transport: frame_size_bytes_max must be 1..%u",
                               TANDEM_NET_FRAME_PAYLOAD_BYTES_MAX);
    }
    if (o->queue_frames_max == 0 || o->queue_frames_max > TANDEM_TRANSPORT_QUEUE_FRAMES_MAX ||
        o->queue_bytes_max == 0) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "transport: queue_frames_max must be 1..%d and queue_bytes_max > 0",
                               TANDEM_TRANSPORT_QUEUE_FRAMES_MAX);
    }
    if (o->reconnect_min_ms == 0 || o->reconnect_min_ms > o->reconnect_max_ms ||
        o->connect_timeout_ms == 0) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "transport: need 0 < reconnect_min_ms <= reconnect_max_ms and a "
                               "connect timeout");
    }
    return 0;
}

int tandem_transport_create(uv_loop_t *loop, const tandem_transport_options *o,
                            tandem_transport **out, tandem_diag *diag)
{
    TANDEM_ASSERT(loop != NULL && o != NULL && out != NULL);
    *out = NULL;
    int rc = check_options(o, diag);
    if (rc != 0) {
        return rc;
    }
    struct sockaddr_storage addr;
    if (parse_addr(o->listen_host, o->listen_port, &addr) != 0) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "transport: listen host %s is not an address",
                               o->listen_host);
    }
    tandem_transport *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "transport: out of memory");
    }
    t->loop = loop;
    t->o = *o;
    snprintf(t->cluster_name, sizeof(t->cluster_name), "%s", o->cluster_name);
    snprintf(t->listen_host, sizeof(t->listen_host), "%s", o->listen_host);
    t->o.cluster_name = t->cluster_name;
    t->o.listen_host = t->listen_host;
    snprintf(t->node_text, sizeof(t->node_text), "%" PRIu64, o->node_id);
    uv_tcp_init(loop, &t->listener);
    t->listener.data = t;
    t->handles_open = 1;
    int uv_rc = uv_tcp_bind(&t->listener, (const struct sockaddr *)&addr, 0);
    if (uv_rc == 0) {
        uv_rc = uv_listen((uv_stream_t *)&t->listener, LISTEN_BACKLOG, on_connection);
    }
    if (uv_rc != 0) {
        rc = tandem_diag_set(diag, uv_rc == UV_EADDRINUSE ? TANDEM_EEXIST : TANDEM_ESYS,
                             "transport: cannot listen on %s port %u: %s", o->listen_host,
                             o->listen_port, uv_strerror(uv_rc));
        goto fail_listener;
    }
    uv_timer_init(loop, &t->sweep);
    t->sweep.data = t;
    t->handles_open++;
    uint64_t sweep_ms = t->o.connect_timeout_ms / 4 + 1;
    uv_timer_start(&t->sweep, on_sweep, sweep_ms, sweep_ms);
    struct sockaddr_storage bound;
    int len = (int)sizeof(bound);
    uv_tcp_getsockname(&t->listener, (struct sockaddr *)&bound, &len);
    t->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    TANDEM_ASSERT(t->port != 0);
    tandem_logf(TANDEM_LOG_INFO, "transport listening", "node=%" PRIu64 " port=%u", o->node_id,
                t->port);
    *out = t;
    return 0;
fail_listener:
    /* The handle must be closed through the loop; the transport frees
     * itself in the close callback. */
    t->closing = true;
    uv_close((uv_handle_t *)&t->listener, on_handle_closed);
    return rc;
}

uint16_t tandem_transport_port(const tandem_transport *t)
{
    TANDEM_ASSERT(t != NULL);
    TANDEM_ASSERT(t->port != 0);
    return t->port;
}

static peer *find_peer(const tandem_transport *t, uint64_t id)
{
    TANDEM_ASSERT(t != NULL);
    for (uint32_t i = 0; i < TANDEM_TRANSPORT_PEERS_MAX; i++) {
        if (t->peers[i].used && t->peers[i].id == id) {
            return (peer *)&t->peers[i];
        }
    }
    return NULL;
}

int tandem_transport_add_peer(tandem_transport *t, uint64_t node_id, const char *host,
                              uint16_t port, tandem_diag *diag)
{
    TANDEM_ASSERT(t != NULL && !t->closing);
    struct sockaddr_storage addr;
    if (node_id == t->o.node_id) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "transport: peer %" PRIu64 " is this broker",
                               node_id);
    }
    if (parse_addr(host, port, &addr) != 0 || port == 0) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "transport: peer %" PRIu64 " address %s port %u is not valid",
                               node_id, host != NULL ? host : "(none)", port);
    }
    peer *p = find_peer(t, node_id);
    if (p == NULL) {
        for (uint32_t i = 0; i < TANDEM_TRANSPORT_PEERS_MAX && p == NULL; i++) {
            if (!t->peers[i].used) {
                p = &t->peers[i];
            }
        }
        if (p == NULL) {
            return tandem_diag_set(diag, TANDEM_EFULL, "transport: more than %d peers",
                                   TANDEM_TRANSPORT_PEERS_MAX);
        }
        memset(p, 0, sizeof(*p));
        p->t = t;
        p->used = true;
        p->id = node_id;
        p->state = PEER_IDLE;
        p->backoff_ms = t->o.reconnect_min_ms;
        uv_timer_init(t->loop, &p->timer);
        p->timer.data = p;
        t->handles_open++;
    }
    p->addr = addr;
    snprintf(p->addr_text, sizeof(p->addr_text), "%s:%u", host, port);
    TANDEM_ASSERT(find_peer(t, node_id) == p);
    return 0;
}

int tandem_transport_send(tandem_transport *t, uint64_t node_id, uint8_t type, const void *payload,
                          size_t size_bytes)
{
    TANDEM_ASSERT(t != NULL);
    TANDEM_ASSERT(size_bytes == 0 || payload != NULL);
    if (t->closing) {
        return TANDEM_ECLOSED;
    }
    if (type < TANDEM_NET_FRAME_USER_MIN) {
        return TANDEM_EINVAL;
    }
    if (size_bytes > t->o.frame_size_bytes_max) {
        return TANDEM_ETOOBIG;
    }
    peer *p = find_peer(t, node_id);
    if (p == NULL) {
        return TANDEM_ENOENT;
    }
    size_t frame_bytes = TANDEM_NET_FRAME_HEADER_BYTES + size_bytes;
    if (p->n_queued >= t->o.queue_frames_max ||
        p->bytes_queued + frame_bytes > t->o.queue_bytes_max) {
        p->stats.frames_dropped++;
        return TANDEM_EFULL;
    }
    qframe *f = malloc(sizeof(*f) + frame_bytes);
    if (f == NULL) {
        p->stats.frames_dropped++;
        return TANDEM_ENOMEM;
    }
    tandem_net_frame_write(f->data, type, payload, size_bytes);
    f->next = NULL;
    f->size_bytes = frame_bytes;
    f->due_ms = uv_now(t->loop) + t->o.test_delay_ms;
    if (p->tail != NULL) {
        p->tail->next = f;
    } else {
        p->head = f;
    }
    p->tail = f;
    p->n_queued++;
    p->bytes_queued += frame_bytes;
    p->stats.frames_queued = p->n_queued;
    if (p->state == PEER_IDLE) {
        peer_connect(t, p);
    } else if (p->state == PEER_READY && !uv_is_active((uv_handle_t *)&p->timer)) {
        peer_flush(p);
    }
    return 0;
}

void tandem_transport_peer_stats_get(const tandem_transport *t, uint64_t node_id,
                                     tandem_transport_peer_stats *out)
{
    TANDEM_ASSERT(t != NULL && out != NULL);
    const peer *p = find_peer(t, node_id);
    memset(out, 0, sizeof(*out));
    if (p != NULL) {
        *out = p->stats;
        out->frames_queued = p->n_queued;
    }
}

void tandem_transport_stats_get(const tandem_transport *t, tandem_transport_stats *out)
{
    TANDEM_ASSERT(t != NULL && out != NULL);
    *out = t->stats;
}

static void on_timer_closed(uv_handle_t *h)
{
    peer *p = h->data;
    TANDEM_ASSERT(p != NULL && p->t->closing);
    tandem_transport *t = p->t;
    TANDEM_ASSERT(t->handles_open > 0);
    t->handles_open--;
    transport_free_if_done(t);
}

void tandem_transport_close(tandem_transport *t)
{
    TANDEM_ASSERT(t != NULL);
    TANDEM_ASSERT(!t->closing);
    t->closing = true;
    tandem_logf(TANDEM_LOG_INFO, "transport closing", "node=%" PRIu64 " port=%u", t->o.node_id,
                t->port);
    for (uint32_t i = 0; i < TANDEM_TRANSPORT_INBOUND_MAX; i++) {
        if (t->inbound[i] != NULL) {
            conn_close(t->inbound[i]);
        }
    }
    for (uint32_t i = 0; i < TANDEM_TRANSPORT_PEERS_MAX; i++) {
        peer *p = &t->peers[i];
        if (!p->used) {
            continue;
        }
        if (p->conn != NULL) {
            conn_close(p->conn);
        }
        queue_free(p->head);
        p->head = p->tail = NULL;
        p->n_queued = 0;
        uv_close((uv_handle_t *)&p->timer, on_timer_closed);
    }
    uv_close((uv_handle_t *)&t->sweep, on_handle_closed);
    uv_close((uv_handle_t *)&t->listener, on_handle_closed);
}
