/*
 * Tests of the broker-to-broker transport: the frame and hello codecs; two
 * and three endpoints on 127.0.0.1 ephemeral ports exchanging frames in
 * order; a restarted peer reconnected to; a garbage or oversized frame
 * closing only its own connection; a broker of another cluster or protocol
 * version refused with a log line; a full send queue refusing the newest
 * frame and delivering the rest once the peer is up; the test delay; a clean
 * shutdown with traffic in flight (leaks are caught under ASan); a stream
 * arriving byte by byte; the bounded incoming connections and their hello
 * timeout; a node saying hello again replacing its older connections; a
 * seeded soak of bursts and restarts (TANDEM_TEST_ITERATIONS
 * lengthens it, TANDEM_TEST_SEED replays it) checking order and at-most-once
 * delivery on every connection and reconnection at the end.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/rand.h"
#include "net/frame.h"
#include "net/transport.h"
#include "test.h"

#define TYPE_DATA 16
#define GOT_MAX   20000
#define CLUSTER   "test-cluster"
#define WAIT_MS   5000

typedef struct endpoint {
    uint64_t id;
    tandem_transport *t;
    uint32_t n_got;
    uint64_t from[GOT_MAX];
    uint32_t seq[GOT_MAX];
    uint32_t size[GOT_MAX];
    uint64_t at_ns[GOT_MAX]; /* arrival */
} endpoint;

static uv_loop_t loop;

/* Payload: a 32-bit sequence number, then `seq % 300` bytes derived from it,
 * checked on arrival, so sizes vary and damage would be seen. */
static size_t make_payload(uint32_t seq, uint8_t *out)
{
    tandem_store_u32(out, seq);
    size_t n = 4 + seq % 300;
    for (size_t i = 4; i < n; i++) {
        out[i] = (uint8_t)(seq * 31u + i);
    }
    return n;
}

static void on_receive(void *ctx, uint64_t from, uint8_t type, const uint8_t *p, size_t size)
{
    endpoint *e = ctx;
    CHECK_EQ_U64(TYPE_DATA, type);
    CHECK(size >= 4);
    uint32_t seq = tandem_load_u32(p);
    CHECK_EQ_U64(4 + seq % 300, size);
    for (size_t i = 4; i < size; i++) {
        CHECK_EQ_U64((uint8_t)(seq * 31u + i), p[i]);
    }
    CHECK(e->n_got < GOT_MAX);
    e->from[e->n_got] = from;
    e->seq[e->n_got] = seq;
    e->size[e->n_got] = (uint32_t)size;
    e->at_ns[e->n_got] = uv_hrtime();
    e->n_got++;
}

static void options(tandem_transport_options *o, endpoint *e, const char *cluster, uint16_t port)
{
    tandem_transport_options_default(o);
    o->cluster_name = cluster;
    o->node_id = e->id;
    o->listen_host = "127.0.0.1";
    o->listen_port = port;
    o->reconnect_min_ms = 10;
    o->reconnect_max_ms = 40;
    o->frame_size_bytes_max = 4096;
    o->on_receive = on_receive;
    o->ctx = e;
}

static void start(endpoint *e, uint64_t id, uint16_t port)
{
    memset(e, 0, sizeof(*e));
    e->id = id;
    tandem_transport_options o;
    options(&o, e, CLUSTER, port);
    tandem_diag d;
    tandem_diag_clear(&d);
    int rc = tandem_transport_create(&loop, &o, &e->t, &d);
    CHECK_MSG(rc == 0, "create: %s", tandem_diag_text(&d));
}

/* Restarts on `port` as a broker restarts on its address. Between closing
 * and reopening, any program on the host may have taken the port: then the
 * endpoint takes a fresh one and says so (the caller updates the peers). */
static uint16_t start_again(endpoint *e, uint64_t id, uint16_t port)
{
    memset(e, 0, sizeof(*e));
    e->id = id;
    tandem_transport_options o;
    options(&o, e, CLUSTER, port);
    tandem_diag d;
    tandem_diag_clear(&d);
    int rc = tandem_transport_create(&loop, &o, &e->t, &d);
    if (rc == TANDEM_EEXIST) {
        printf("port %u taken meanwhile (%s); restarting on another\n", port, d.message);
        o.listen_port = 0;
        rc = tandem_transport_create(&loop, &o, &e->t, &d);
    }
    CHECK_MSG(rc == 0, "create: %s", tandem_diag_text(&d));
    return tandem_transport_port(e->t);
}

static void link_to(endpoint *from, const endpoint *to)
{
    CHECK_OK(tandem_transport_add_peer(from->t, to->id, "127.0.0.1", tandem_transport_port(to->t),
                                       NULL));
}

static void send_seq(endpoint *from, uint64_t to, uint32_t seq)
{
    uint8_t p[400];
    size_t n = make_payload(seq, p);
    CHECK_OK(tandem_transport_send(from->t, to, TYPE_DATA, p, n));
}

/* Runs the loop until *count reaches want or WAIT_MS pass. */
static void run_until(const uint32_t *count, uint32_t want)
{
    uint64_t deadline = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
    while (*count < want && uv_hrtime() < deadline) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    CHECK_MSG(*count >= want, "waited %d ms for %u, have %u", WAIT_MS, want, *count);
}

static void on_timer(uv_timer_t *timer)
{
    uv_timer_stop(timer);
}

static void run_for_ms(uint64_t ms)
{
    uv_timer_t timer;
    uv_timer_init(&loop, &timer);
    uv_timer_start(&timer, on_timer, ms, 0);
    while (uv_is_active((uv_handle_t *)&timer)) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
}

static void close_all(endpoint **es, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (es[i]->t != NULL) {
            tandem_transport_close(es[i]->t);
            es[i]->t = NULL;
        }
    }
    CHECK_EQ_U64(0, uv_run(&loop, UV_RUN_DEFAULT));
    CHECK_EQ_U64(0, (uint64_t)uv_loop_close(&loop));
}

static FILE *log_sink;

static void capture_logs(void)
{
    log_sink = tmpfile();
    CHECK(log_sink != NULL);
    tandem_log_set_sink(log_sink);
}

static char *logs(void)
{
    static char text[1 << 20];
    fflush(log_sink);
    long len = ftell(log_sink);
    CHECK(len >= 0);
    rewind(log_sink);
    size_t n = fread(text, 1, sizeof(text) - 1, log_sink);
    text[n] = '\0';
    fseek(log_sink, 0, SEEK_END);
    return text;
}

/* A raw client: a blocking socket connected to the port. */
static int raw_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    return fd;
}

static void raw_send(int fd, const void *p, size_t n)
{
    CHECK_EQ_U64(n, (uint64_t)write(fd, p, n));
}

/* True once the peer closed the socket (reads everything it sent first;
 * false after a second without news). */
static bool raw_closed(int fd)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    uint8_t b[4096];
    while (poll(&pfd, 1, 1000) == 1) {
        ssize_t n = read(fd, b, sizeof(b));
        if (n <= 0) {
            return true;
        }
    }
    return false;
}

/* ---- codec -------------------------------------------------------------- */

static void test_frame_codec(void)
{
    tandem_buf b = TANDEM_BUF_INIT;
    uint8_t p[400];
    size_t n = make_payload(77, p);
    CHECK_OK(tandem_net_frame_encode(TYPE_DATA, p, n, &b));
    CHECK_OK(tandem_net_frame_encode(TYPE_DATA + 1, NULL, 0, &b));
    CHECK_EQ_U64(2 * TANDEM_NET_FRAME_HEADER_BYTES + n, b.len);
    tandem_net_frame f;
    size_t used = 0;
    tandem_diag d;
    CHECK_OK(tandem_net_frame_decode(b.data, b.len, 4096, &f, &used, &d));
    CHECK_EQ_U64(TANDEM_NET_FRAME_HEADER_BYTES + n, used);
    CHECK_EQ_U64(TYPE_DATA, f.type);
    CHECK_EQ_U64(n, f.payload_size_bytes);
    CHECK(memcmp(f.payload, p, n) == 0);
    CHECK_OK(tandem_net_frame_decode(b.data + used, b.len - used, 4096, &f, &used, &d));
    CHECK_EQ_U64(TYPE_DATA + 1, f.type);
    CHECK(f.payload == NULL && f.payload_size_bytes == 0);
    /* Every prefix is incomplete, never wrong. */
    for (size_t k = 0; k < TANDEM_NET_FRAME_HEADER_BYTES + n; k++) {
        CHECK_RC(TANDEM_EINCOMPLETE, tandem_net_frame_decode(b.data, k, 4096, &f, &used, &d));
    }
    /* Too long for the limit: refused from the header alone. */
    CHECK_RC(TANDEM_ETOOBIG, tandem_net_frame_decode(b.data, 12, 50, &f, &used, &d));
    CHECK_CONTAINS(d.message, "frame payload of 81 bytes exceeds the limit of 50 bytes");
    /* A flipped payload bit, a flipped type, non-zero reserved bytes. */
    b.data[20] ^= 1;
    CHECK_RC(TANDEM_ECORRUPT, tandem_net_frame_decode(b.data, b.len, 4096, &f, &used, &d));
    CHECK_CONTAINS(d.message, "checksum mismatch");
    b.data[20] ^= 1;
    b.data[8] ^= 1;
    CHECK_RC(TANDEM_ECORRUPT, tandem_net_frame_decode(b.data, b.len, 4096, &f, &used, &d));
    b.data[8] ^= 1;
    b.data[10] = 1;
    CHECK_RC(TANDEM_ECORRUPT, tandem_net_frame_decode(b.data, b.len, 4096, &f, &used, &d));
    CHECK_CONTAINS(d.message, "reserved");
    CHECK_RC(TANDEM_ETOOBIG, tandem_net_frame_encode(
                                 TYPE_DATA, p, (size_t)TANDEM_NET_FRAME_PAYLOAD_BYTES_MAX + 1, &b));
    tandem_buf_free(&b);
}

static void test_hello_codec(void)
{
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_net_hello_encode(42, "prod-eu", &b));
    tandem_net_frame f;
    size_t used = 0;
    tandem_diag d;
    CHECK_OK(tandem_net_frame_decode(b.data, b.len, 4096, &f, &used, &d));
    CHECK_EQ_U64(TANDEM_NET_FRAME_HELLO, f.type);
    tandem_net_hello h;
    CHECK_OK(tandem_net_hello_decode(f.payload, f.payload_size_bytes, &h, &d));
    CHECK_EQ_U64(42, h.node_id);
    CHECK_EQ_U64(TANDEM_NET_HELLO_VERSION, h.version);
    CHECK_STREQ("prod-eu", h.cluster_name);
    uint8_t q[128];
    memcpy(q, f.payload, f.payload_size_bytes);
    size_t qn = f.payload_size_bytes;
    for (size_t k = 0; k < qn; k++) {
        CHECK(tandem_net_hello_decode(q, k, &h, &d) == TANDEM_ECORRUPT);
    }
    q[4] = 2; /* version 2 */
    CHECK_RC(TANDEM_EFORMAT, tandem_net_hello_decode(q, qn, &h, &d));
    CHECK_CONTAINS(d.message, "protocol version 2");
    q[4] = 1;
    q[0] ^= 0xff;
    CHECK_RC(TANDEM_ECORRUPT, tandem_net_hello_decode(q, qn, &h, &d));
    CHECK_CONTAINS(d.message, "bad magic");
    q[0] ^= 0xff;
    q[qn] = 0;
    CHECK_RC(TANDEM_ECORRUPT, tandem_net_hello_decode(q, qn + 1, &h, &d));
    CHECK_CONTAINS(d.message, "trailing");
    q[16] = 0;
    CHECK_RC(TANDEM_ECORRUPT, tandem_net_hello_decode(q, qn, &h, &d));
    CHECK_CONTAINS(d.message, "NUL");
    tandem_buf_reset(&b);
    CHECK_RC(TANDEM_EINVAL, tandem_net_hello_encode(1, "", &b));
    char long_name[80];
    memset(long_name, 'x', sizeof(long_name) - 1);
    long_name[79] = '\0';
    CHECK_RC(TANDEM_EINVAL, tandem_net_hello_encode(1, long_name, &b));
    tandem_buf_free(&b);
}

/* ---- endpoints ----------------------------------------------------------- */

static void test_options_and_send_errors(void)
{
    uv_loop_init(&loop);
    static endpoint a, b;
    start(&a, 1, 0);
    tandem_transport_options o;
    memset(&b, 0, sizeof(b));
    b.id = 2;
    options(&o, &b, "", 0);
    tandem_diag d;
    CHECK_RC(TANDEM_EINVAL, tandem_transport_create(&loop, &o, &b.t, &d));
    CHECK_CONTAINS(d.message, "cluster name");
    options(&o, &b, CLUSTER, 0);
    o.queue_frames_max = 0;
    CHECK_RC(TANDEM_EINVAL, tandem_transport_create(&loop, &o, &b.t, &d));
    CHECK_CONTAINS(d.message, "queue_frames_max");
    options(&o, &b, CLUSTER, 0);
    o.listen_host = "not-an-address";
    CHECK_RC(TANDEM_EINVAL, tandem_transport_create(&loop, &o, &b.t, &d));
    CHECK_CONTAINS(d.message, "not-an-address");
    options(&o, &b, CLUSTER, tandem_transport_port(a.t));
    CHECK_RC(TANDEM_EEXIST, tandem_transport_create(&loop, &o, &b.t, &d));
    CHECK_CONTAINS(d.message, "cannot listen on 127.0.0.1");
    CHECK(b.t == NULL);
    CHECK_RC(TANDEM_EINVAL, tandem_transport_add_peer(a.t, 1, "127.0.0.1", 1000, &d));
    CHECK_CONTAINS(d.message, "is this broker");
    CHECK_RC(TANDEM_EINVAL, tandem_transport_add_peer(a.t, 2, "nowhere", 1000, &d));
    uint8_t p[8] = {0};
    CHECK_RC(TANDEM_ENOENT, tandem_transport_send(a.t, 2, TYPE_DATA, p, 4));
    CHECK_OK(tandem_transport_add_peer(a.t, 2, "127.0.0.1", 9, NULL));
    CHECK_RC(TANDEM_EINVAL, tandem_transport_send(a.t, 2, TANDEM_NET_FRAME_HELLO, p, 4));
    static uint8_t big[5000];
    CHECK_RC(TANDEM_ETOOBIG, tandem_transport_send(a.t, 2, TYPE_DATA, big, sizeof(big)));
    endpoint *all[] = {&a};
    close_all(all, 1);
}

static void test_two_endpoints_in_order(void)
{
    uv_loop_init(&loop);
    static endpoint a, b;
    start(&a, 1, 0);
    start(&b, 2, 0);
    link_to(&a, &b);
    link_to(&b, &a);
    uint32_t n = (uint32_t)test_iterations(2000);
    n = n > 3000 ? 3000 : n; /* within the default queue of 4,096 frames */
    for (uint32_t i = 0; i < n; i++) {
        send_seq(&a, 2, i);
        send_seq(&b, 1, 100000 + i);
    }
    run_until(&b.n_got, n);
    run_until(&a.n_got, n);
    for (uint32_t i = 0; i < n; i++) {
        CHECK_EQ_U64(i, b.seq[i]);
        CHECK_EQ_U64(1, b.from[i]);
        CHECK_EQ_U64(100000 + i, a.seq[i]);
        CHECK_EQ_U64(2, a.from[i]);
    }
    tandem_transport_peer_stats s;
    tandem_transport_peer_stats_get(a.t, 2, &s);
    CHECK_EQ_U64(n, s.frames_sent);
    CHECK_EQ_U64(1, s.connects);
    CHECK(s.connected);
    CHECK_EQ_U64(0, s.frames_dropped);
    endpoint *all[] = {&a, &b};
    close_all(all, 2);
}

static void test_three_endpoints(void)
{
    uv_loop_init(&loop);
    static endpoint e[3];
    for (uint64_t i = 0; i < 3; i++) {
        start(&e[i], i + 1, 0);
    }
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            if (i != j) {
                link_to(&e[i], &e[j]);
            }
        }
    }
    const uint32_t n = 500;
    /* Interleaved, with the loop turning in between, so connections come up
     * while frames are being queued. */
    for (uint32_t k = 0; k < n; k++) {
        for (uint64_t i = 0; i < 3; i++) {
            for (uint64_t j = 0; j < 3; j++) {
                if (i != j) {
                    send_seq(&e[i], j + 1, (uint32_t)(i * 10000 + k));
                }
            }
        }
        if (k % 50 == 0) {
            uv_run(&loop, UV_RUN_NOWAIT);
        }
    }
    for (int i = 0; i < 3; i++) {
        run_until(&e[i].n_got, 2 * n);
    }
    for (int i = 0; i < 3; i++) {
        uint32_t next[4] = {0, 0, 0, 0};
        for (uint32_t g = 0; g < e[i].n_got; g++) {
            uint64_t from = e[i].from[g];
            CHECK(from >= 1 && from <= 3 && from != (uint64_t)i + 1);
            CHECK_EQ_U64((from - 1) * 10000 + next[from], e[i].seq[g]);
            next[from]++;
        }
    }
    endpoint *all[] = {&e[0], &e[1], &e[2]};
    close_all(all, 3);
}

static void test_peer_restart(void)
{
    uv_loop_init(&loop);
    capture_logs();
    static endpoint a, b, b2;
    start(&a, 1, 0);
    start(&b, 2, 0);
    uint16_t port = tandem_transport_port(b.t);
    link_to(&a, &b);
    for (uint32_t i = 0; i < 10; i++) {
        send_seq(&a, 2, i);
    }
    run_until(&b.n_got, 10);
    tandem_transport_close(b.t);
    b.t = NULL;
    run_for_ms(30);
    /* While b is down, frames wait (or are lost on the dead connection). */
    for (uint32_t i = 10; i < 20; i++) {
        send_seq(&a, 2, i);
    }
    tandem_transport_peer_stats s;
    uint64_t deadline = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
    do { /* the EOF, then refused connects */
        uv_run(&loop, UV_RUN_ONCE);
        tandem_transport_peer_stats_get(a.t, 2, &s);
    } while (s.connect_failures < 3 && uv_hrtime() < deadline);
    CHECK(s.connect_failures >= 3);
    CHECK(!s.connected);
    if (start_again(&b2, 2, port) != port) {
        link_to(&a, &b2);
    }
    uint32_t seq = 20;
    deadline = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
    while (b2.n_got == 0 || b2.seq[b2.n_got - 1] < 20) {
        CHECK_MSG(uv_hrtime() < deadline, "restarted peer never reached");
        send_seq(&a, 2, seq++);
        run_for_ms(5);
    }
    /* In order, with no frame twice. */
    for (uint32_t g = 1; g < b2.n_got; g++) {
        CHECK(b2.seq[g] > b2.seq[g - 1]);
    }
    tandem_transport_peer_stats_get(a.t, 2, &s);
    CHECK_EQ_U64(2, s.connects);
    CHECK(s.connected);
    CHECK_CONTAINS(logs(), "msg=\"connection to peer failed\"");
    endpoint *all[] = {&a, &b2};
    close_all(all, 2);
    tandem_log_set_sink(NULL);
}

/* A connection that says hello and then sends bad bytes is closed; the
 * transport and its other connections go on. */
static void bad_frame_case(const uint8_t *bad, size_t bad_len, const char *reason)
{
    uv_loop_init(&loop);
    capture_logs();
    static endpoint a, b;
    start(&a, 1, 0);
    start(&b, 2, 0);
    link_to(&a, &b);
    send_seq(&a, 2, 0);
    run_until(&b.n_got, 1);
    int fd = raw_connect(tandem_transport_port(b.t));
    tandem_buf h = TANDEM_BUF_INIT;
    CHECK_OK(tandem_net_hello_encode(9, CLUSTER, &h));
    raw_send(fd, h.data, h.len);
    raw_send(fd, bad, bad_len);
    tandem_transport_stats st;
    uint64_t deadline = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
    do {
        uv_run(&loop, UV_RUN_ONCE);
        tandem_transport_stats_get(b.t, &st);
    } while (st.inbound_closed_bad_frame == 0 && uv_hrtime() < deadline);
    CHECK_EQ_U64(1, st.inbound_closed_bad_frame);
    CHECK_CONTAINS(logs(), "closing connection after a bad frame");
    CHECK_CONTAINS(logs(), reason);
    run_for_ms(10);
    CHECK(raw_closed(fd));
    close(fd);
    /* The good connection still works. */
    send_seq(&a, 2, 1);
    run_until(&b.n_got, 2);
    CHECK_EQ_U64(1, b.seq[1]);
    tandem_transport_peer_stats s;
    tandem_transport_peer_stats_get(a.t, 2, &s);
    CHECK_EQ_U64(1, s.connects);
    tandem_buf_free(&h);
    endpoint *all[] = {&a, &b};
    close_all(all, 2);
    tandem_log_set_sink(NULL);
}

static void test_garbage_frame(void)
{
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof(junk); i++) {
        junk[i] = (uint8_t)(i * 7);
    }
    junk[0] = 20; /* a plausible length, so the checksum is what fails */
    junk[1] = junk[2] = junk[3] = 0;
    junk[9] = junk[10] = junk[11] = 0;
    bad_frame_case(junk, sizeof(junk), "checksum mismatch");
}

static void test_oversized_frame(void)
{
    uint8_t h[12] = {0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, TYPE_DATA, 0, 0, 0};
    bad_frame_case(h, sizeof(h), "exceeds the limit of 4096 bytes");
}

static void test_wrong_cluster_refused(void)
{
    uv_loop_init(&loop);
    capture_logs();
    static endpoint a, c;
    start(&a, 1, 0);
    memset(&c, 0, sizeof(c));
    c.id = 3;
    tandem_transport_options o;
    options(&o, &c, "other-cluster", 0);
    CHECK_OK(tandem_transport_create(&loop, &o, &c.t, NULL));
    link_to(&c, &a);
    link_to(&a, &c);
    send_seq(&c, 1, 0);
    send_seq(&a, 3, 0);
    tandem_transport_stats st;
    uint64_t deadline = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
    do {
        uv_run(&loop, UV_RUN_ONCE);
        tandem_transport_stats_get(a.t, &st);
    } while (st.inbound_refused == 0 && uv_hrtime() < deadline);
    CHECK(st.inbound_refused >= 1);
    run_for_ms(50);
    CHECK_EQ_U64(0, a.n_got);
    CHECK_EQ_U64(0, c.n_got);
    tandem_transport_peer_stats s;
    tandem_transport_peer_stats_get(c.t, 1, &s);
    CHECK_EQ_U64(0, s.connects);
    CHECK(s.connect_failures >= 1);
    tandem_transport_peer_stats_get(a.t, 3, &s);
    CHECK_EQ_U64(0, s.connects);
    const char *text = logs();
    CHECK_CONTAINS(text, "msg=\"refusing connection\"");
    CHECK_CONTAINS(text, "peer of another cluster: it says cluster=other-cluster node=3");
    CHECK_CONTAINS(text, "peer of another cluster: it says cluster=test-cluster node=1");
    /* Another protocol version is refused too, naming the version. */
    int fd = raw_connect(tandem_transport_port(a.t));
    tandem_buf h = TANDEM_BUF_INIT;
    CHECK_OK(tandem_net_hello_encode(9, CLUSTER, &h));
    h.data[TANDEM_NET_FRAME_HEADER_BYTES + 4] = 7;
    tandem_buf f = TANDEM_BUF_INIT;
    CHECK_OK(tandem_net_frame_encode(TANDEM_NET_FRAME_HELLO, h.data + TANDEM_NET_FRAME_HEADER_BYTES,
                                     h.len - TANDEM_NET_FRAME_HEADER_BYTES, &f));
    raw_send(fd, f.data, f.len);
    deadline = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
    while (strstr(logs(), "protocol version 7") == NULL && uv_hrtime() < deadline) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    CHECK_CONTAINS(logs(), "reason=\"hello: protocol version 7, this broker speaks 1\"");
    run_for_ms(10);
    CHECK(raw_closed(fd));
    close(fd);
    tandem_buf_free(&h);
    tandem_buf_free(&f);
    endpoint *all[] = {&a, &c};
    close_all(all, 2);
    tandem_log_set_sink(NULL);
}

static void test_full_queue(void)
{
    uv_loop_init(&loop);
    static endpoint a, b;
    /* A port nobody listens on: bind one, note it, close it. */
    start(&b, 2, 0);
    uint16_t port = tandem_transport_port(b.t);
    tandem_transport_close(b.t);
    b.t = NULL;
    run_for_ms(10);
    memset(&a, 0, sizeof(a));
    a.id = 1;
    tandem_transport_options o;
    options(&o, &a, CLUSTER, 0);
    o.queue_frames_max = 4;
    tandem_transport *first = NULL;
    CHECK_OK(tandem_transport_create(&loop, &o, &first, NULL));
    a.t = first;
    CHECK_OK(tandem_transport_add_peer(a.t, 2, "127.0.0.1", port, NULL));
    for (uint32_t i = 0; i < 4; i++) {
        send_seq(&a, 2, i);
    }
    uint8_t p[8];
    size_t n = make_payload(4, p);
    CHECK_RC(TANDEM_EFULL, tandem_transport_send(a.t, 2, TYPE_DATA, p, n));
    tandem_transport_peer_stats s;
    uint64_t deadline = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
    do { /* a few refused connects */
        uv_run(&loop, UV_RUN_ONCE);
        tandem_transport_peer_stats_get(a.t, 2, &s);
    } while (s.connect_failures < 2 && uv_hrtime() < deadline);
    CHECK_RC(TANDEM_EFULL, tandem_transport_send(a.t, 2, TYPE_DATA, p, n));
    tandem_transport_peer_stats_get(a.t, 2, &s);
    CHECK_EQ_U64(2, s.frames_dropped);
    CHECK_EQ_U64(4, s.frames_queued);
    CHECK(s.connect_failures >= 1);
    /* The peer comes up: the four queued frames arrive, in order. */
    if (start_again(&b, 2, port) != port) {
        link_to(&a, &b);
    }
    run_until(&b.n_got, 4);
    run_for_ms(20);
    CHECK_EQ_U64(4, b.n_got);
    for (uint32_t i = 0; i < 4; i++) {
        CHECK_EQ_U64(i, b.seq[i]);
    }
    tandem_transport_peer_stats_get(a.t, 2, &s);
    CHECK_EQ_U64(0, s.frames_queued);
    CHECK_EQ_U64(4, s.frames_sent);
    endpoint *all[] = {&a, &b};
    close_all(all, 2);
}

static void test_delay(void)
{
    uv_loop_init(&loop);
    static endpoint a, b;
    memset(&a, 0, sizeof(a));
    a.id = 1;
    tandem_transport_options o;
    options(&o, &a, CLUSTER, 0);
    o.test_delay_ms = 40;
    CHECK_OK(tandem_transport_create(&loop, &o, &a.t, NULL));
    start(&b, 2, 0);
    link_to(&a, &b);
    send_seq(&a, 2, 0);
    run_until(&b.n_got, 1); /* connect first */
    uint64_t t0 = uv_hrtime();
    for (uint32_t i = 1; i <= 20; i++) {
        send_seq(&a, 2, i);
    }
    run_until(&b.n_got, 21);
    for (uint32_t i = 0; i <= 20; i++) {
        CHECK_EQ_U64(i, b.seq[i]);
    }
    for (uint32_t i = 1; i <= 20; i++) {
        uint64_t waited_ms = (b.at_ns[i] - t0) / 1000000u;
        CHECK_MSG(waited_ms >= 39, "frame %u delivered after %llu ms", i,
                  (unsigned long long)waited_ms);
    }
    endpoint *all[] = {&a, &b};
    close_all(all, 2);
}

/* Closing with frames queued, writes in flight and connects pending leaves
 * nothing behind: uv_run returns, the loop closes, ASan sees no leak. */
static void test_shutdown_in_flight(void)
{
    uv_loop_init(&loop);
    static endpoint e[3];
    for (uint64_t i = 0; i < 3; i++) {
        start(&e[i], i + 1, 0);
    }
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            if (i != j) {
                link_to(&e[i], &e[j]);
            }
        }
    }
    CHECK_OK(tandem_transport_add_peer(e[0].t, 9, "127.0.0.1", 9, NULL)); /* never answers */
    for (uint32_t k = 0; k < 300; k++) {
        send_seq(&e[0], 2, k);
        send_seq(&e[1], 3, k);
        send_seq(&e[2], 1, k);
        send_seq(&e[0], 9, k);
        if (k == 150) {
            uv_run(&loop, UV_RUN_NOWAIT);
            uv_run(&loop, UV_RUN_NOWAIT);
        }
    }
    endpoint *all[] = {&e[0], &e[1], &e[2]};
    close_all(all, 3);
}

/* IPv6 loopback works like IPv4 (skipped where the host has no ::1). */
static void test_ipv6(void)
{
    uv_loop_init(&loop);
    static endpoint a, b;
    endpoint *es[] = {&a, &b};
    for (uint64_t i = 0; i < 2; i++) {
        memset(es[i], 0, sizeof(endpoint));
        es[i]->id = i + 1;
        tandem_transport_options o;
        options(&o, es[i], CLUSTER, 0);
        o.listen_host = "::1";
        tandem_diag d;
        int rc = tandem_transport_create(&loop, &o, &es[i]->t, &d);
        if (rc != 0) {
            CHECK_CONTAINS(d.message, "cannot listen on ::1");
            printf("no IPv6 loopback here: %s\n", d.message);
            close_all(es, 2);
            return;
        }
    }
    CHECK_OK(tandem_transport_add_peer(a.t, 2, "::1", tandem_transport_port(b.t), NULL));
    for (uint32_t i = 0; i < 10; i++) {
        send_seq(&a, 2, i);
    }
    run_until(&b.n_got, 10);
    CHECK_EQ_U64(9, b.seq[9]);
    CHECK_EQ_U64(1, b.from[9]);
    close_all(es, 2);
}

/* A stream that arrives one byte at a time is reassembled into whole frames. */
static void test_byte_by_byte(void)
{
    uv_loop_init(&loop);
    static endpoint b;
    start(&b, 2, 0);
    int fd = raw_connect(tandem_transport_port(b.t));
    tandem_buf s = TANDEM_BUF_INIT;
    CHECK_OK(tandem_net_hello_encode(9, CLUSTER, &s));
    uint8_t p[400];
    for (uint32_t seq = 0; seq < 3; seq++) {
        size_t n = make_payload(seq * 100 + 7, p);
        CHECK_OK(tandem_net_frame_encode(TYPE_DATA, p, n, &s));
    }
    for (size_t i = 0; i < s.len; i++) {
        raw_send(fd, s.data + i, 1);
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    run_until(&b.n_got, 3);
    for (uint32_t seq = 0; seq < 3; seq++) {
        CHECK_EQ_U64(9, b.from[seq]);
        CHECK_EQ_U64(seq * 100 + 7, b.seq[seq]);
    }
    /* It got our hello's answer: a hello frame from node 2. */
    uint8_t in[256];
    ssize_t got = read(fd, in, sizeof(in));
    CHECK(got >= TANDEM_NET_FRAME_HEADER_BYTES);
    tandem_net_frame f;
    size_t used = 0;
    CHECK_OK(tandem_net_frame_decode(in, (size_t)got, 4096, &f, &used, NULL));
    tandem_net_hello h;
    CHECK_OK(tandem_net_hello_decode(f.payload, f.payload_size_bytes, &h, NULL));
    CHECK_EQ_U64(2, h.node_id);
    CHECK_STREQ(CLUSTER, h.cluster_name);
    close(fd);
    tandem_buf_free(&s);
    endpoint *all[] = {&b};
    close_all(all, 1);
}

/* The address of peer 2 answers as node 3: refused, nothing delivered. */
static void test_wrong_node_refused(void)
{
    uv_loop_init(&loop);
    capture_logs();
    static endpoint a, c;
    start(&a, 1, 0);
    start(&c, 3, 0);
    CHECK_OK(tandem_transport_add_peer(a.t, 2, "127.0.0.1", tandem_transport_port(c.t), NULL));
    send_seq(&a, 2, 0);
    uint64_t deadline = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
    while (strstr(logs(), "dialled node 2 but node 3 answered") == NULL && uv_hrtime() < deadline) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    CHECK_CONTAINS(logs(), "dialled node 2 but node 3 answered");
    run_for_ms(20);
    CHECK_EQ_U64(0, c.n_got);
    tandem_transport_peer_stats s;
    tandem_transport_peer_stats_get(a.t, 2, &s);
    CHECK_EQ_U64(0, s.connects);
    CHECK(s.connect_failures >= 1);
    CHECK_EQ_U64(1, s.frames_queued); /* still waiting for the right node */
    endpoint *all[] = {&a, &c};
    close_all(all, 2);
    tandem_log_set_sink(NULL);
}

/* Accepted connections are bounded, and one that never says hello is closed
 * after the connect timeout, freeing its slot. */
static void test_inbound_limit_and_hello_timeout(void)
{
    uv_loop_init(&loop);
    capture_logs();
    static endpoint a, b;
    memset(&b, 0, sizeof(b));
    b.id = 2;
    tandem_transport_options o;
    options(&o, &b, CLUSTER, 0);
    o.connect_timeout_ms = 300;
    CHECK_OK(tandem_transport_create(&loop, &o, &b.t, NULL));
    static int fds[TANDEM_TRANSPORT_INBOUND_MAX + 1];
    tandem_transport_stats st;
    uint64_t t0 = uv_hrtime(); /* before any accept */
    for (int i = 0; i <= TANDEM_TRANSPORT_INBOUND_MAX; i++) {
        fds[i] = raw_connect(tandem_transport_port(b.t));
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    uint64_t deadline = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
    do {
        uv_run(&loop, UV_RUN_ONCE);
        tandem_transport_stats_get(b.t, &st);
    } while (st.inbound_refused == 0 && uv_hrtime() < deadline);
    CHECK_EQ_U64(TANDEM_TRANSPORT_INBOUND_MAX, st.inbound_accepted);
    CHECK_EQ_U64(1, st.inbound_refused);
    CHECK_CONTAINS(logs(), "too many incoming connections");
    deadline = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
    do {
        uv_run(&loop, UV_RUN_ONCE);
        tandem_transport_stats_get(b.t, &st);
    } while (st.inbound_refused < TANDEM_TRANSPORT_INBOUND_MAX + 1 && uv_hrtime() < deadline);
    CHECK_EQ_U64(TANDEM_TRANSPORT_INBOUND_MAX + 1, st.inbound_refused);
    CHECK((uv_hrtime() - t0) / 1000000u >= 250); /* not before the timeout */
    CHECK_CONTAINS(logs(), "reason=\"no hello in time\"");
    for (int i = 0; i <= TANDEM_TRANSPORT_INBOUND_MAX; i++) {
        CHECK(raw_closed(fds[i]));
        close(fds[i]);
    }
    /* The slots are free again: a real peer gets through. */
    start(&a, 1, 0);
    link_to(&a, &b);
    send_seq(&a, 2, 5);
    run_until(&b.n_got, 1);
    CHECK_EQ_U64(5, b.seq[0]);
    endpoint *all[] = {&a, &b};
    close_all(all, 2);
    tandem_log_set_sink(NULL);
}

/* A node that redials again and again (restarts, or a link cut without a
 * FIN) never fills the incoming slots: each new hello replaces the node's
 * older connections. */
static void test_rehello_replaces(void)
{
    enum { HELLOS = 140 };
    _Static_assert(HELLOS > TANDEM_TRANSPORT_INBOUND_MAX, "more hellos than slots");
    uv_loop_init(&loop);
    capture_logs();
    static endpoint a, b;
    start(&b, 2, 0);
    static int fds[HELLOS];
    tandem_buf h = TANDEM_BUF_INIT;
    CHECK_OK(tandem_net_hello_encode(9, CLUSTER, &h));
    tandem_transport_stats st;
    for (int i = 0; i < HELLOS; i++) {
        fds[i] = raw_connect(tandem_transport_port(b.t));
        raw_send(fds[i], h.data, h.len);
        /* wait for the answer: the hello was taken */
        struct pollfd pfd = {fds[i], POLLIN, 0};
        uint64_t deadline = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
        do {
            uv_run(&loop, UV_RUN_NOWAIT);
        } while (poll(&pfd, 1, 1) == 0 && uv_hrtime() < deadline);
        CHECK_MSG(pfd.revents & POLLIN, "hello %d not answered", i);
        tandem_transport_stats_get(b.t, &st);
        CHECK_EQ_U64(0, st.inbound_refused);
        CHECK_EQ_U64((uint64_t)i, st.inbound_replaced);
    }
    CHECK_EQ_U64(HELLOS, st.inbound_accepted);
    CHECK_CONTAINS(logs(), "reason=\"replaced by a new hello\"");
    /* The replaced connections are closed; the newest one works. */
    run_for_ms(10);
    for (int i = 0; i < HELLOS - 1; i++) {
        CHECK_MSG(raw_closed(fds[i]), "connection %d still open", i);
        close(fds[i]);
    }
    tandem_buf_reset(&h);
    uint8_t p[400];
    CHECK_OK(tandem_net_frame_encode(TYPE_DATA, p, make_payload(77, p), &h));
    raw_send(fds[HELLOS - 1], h.data, h.len);
    run_until(&b.n_got, 1);
    CHECK_EQ_U64(9, b.from[0]);
    CHECK_EQ_U64(77, b.seq[0]);
    close(fds[HELLOS - 1]);
    /* Another broker still gets a slot. */
    start(&a, 1, 0);
    link_to(&a, &b);
    send_seq(&a, 2, 5);
    run_until(&b.n_got, 2);
    CHECK_EQ_U64(1, b.from[1]);
    tandem_buf_free(&h);
    endpoint *all[] = {&a, &b};
    close_all(all, 2);
    tandem_log_set_sink(NULL);
}

/* Checks that what e received from each sender is strictly increasing (in
 * order, never twice), then forgets it. */
static uint64_t soak_delivered;

static void check_order_and_forget(endpoint *e)
{
    soak_delivered += e->n_got;
    uint32_t last[4];
    bool seen[4] = {false, false, false, false};
    for (uint32_t g = 0; g < e->n_got; g++) {
        uint64_t from = e->from[g];
        CHECK(from >= 1 && from <= 3 && from != e->id);
        CHECK_MSG(!seen[from] || e->seq[g] > last[from], "node %llu got %u from %llu after %u",
                  (unsigned long long)e->id, e->seq[g], (unsigned long long)from, last[from]);
        seen[from] = true;
        last[from] = e->seq[g];
    }
    e->n_got = 0;
}

/* Random bursts among three endpoints with random restarts (same port):
 * every connection delivers in order and at most once, and after the last
 * restart every endpoint reaches every other again. */
static void test_soak_restarts(void)
{
    uv_loop_init(&loop);
    tandem_log_set_level(TANDEM_LOG_ERROR);
    tandem_seeded_rand rnd;
    tandem_seeded_rand_init(&rnd, test_seed());
    static endpoint e[3];
    uint16_t port[3];
    for (uint64_t i = 0; i < 3; i++) {
        start(&e[i], i + 1, 0);
        port[i] = tandem_transport_port(e[i].t);
    }
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            if (i != j) {
                link_to(&e[i], &e[j]);
            }
        }
    }
    uint32_t next_seq[3][3];
    memset(next_seq, 0, sizeof(next_seq));
    uint64_t steps = test_iterations(3000), restarts = 0;
    for (uint64_t step = 0; step < steps; step++) {
        uint32_t i = (uint32_t)tandem_rand_below(&rnd.base, 3);
        uint32_t j = (i + 1 + (uint32_t)tandem_rand_below(&rnd.base, 2)) % 3;
        uint32_t burst = 1 + (uint32_t)tandem_rand_below(&rnd.base, 40);
        for (uint32_t k = 0; k < burst; k++) {
            uint8_t p[400];
            size_t n = make_payload(next_seq[i][j]++, p);
            int rc = tandem_transport_send(e[i].t, j + 1, TYPE_DATA, p, n);
            CHECK(rc == 0 || rc == TANDEM_EFULL);
        }
        for (int turns = (int)tandem_rand_below(&rnd.base, 4); turns >= 0; turns--) {
            uv_run(&loop, UV_RUN_NOWAIT);
        }
        for (int r = 0; r < 3; r++) {
            if (e[r].n_got > GOT_MAX / 2) {
                check_order_and_forget(&e[r]);
            }
        }
        if (tandem_rand_chance(&rnd.base, 1, 40)) {
            uint32_t r = (uint32_t)tandem_rand_below(&rnd.base, 3);
            check_order_and_forget(&e[r]);
            tandem_transport_close(e[r].t);
            run_for_ms(1 + tandem_rand_below(&rnd.base, 20));
            uint16_t now_port = start_again(&e[r], r + 1, port[r]);
            for (uint32_t j2 = 0; j2 < 3; j2++) {
                if (j2 != r) {
                    link_to(&e[r], &e[j2]);
                    if (now_port != port[r]) {
                        link_to(&e[j2], &e[r]);
                    }
                }
            }
            port[r] = now_port;
            restarts++;
        }
    }
    for (int r = 0; r < 3; r++) {
        check_order_and_forget(&e[r]);
    }
    /* Healed: one more frame on every pair must arrive. */
    for (uint32_t i = 0; i < 3; i++) {
        for (uint32_t j = 0; j < 3; j++) {
            if (i != j) {
                uint32_t first = next_seq[i][j];
                uint64_t deadline = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
                bool arrived = false;
                while (!arrived) {
                    CHECK_MSG(uv_hrtime() < deadline, "%u never reached %u after %llu restarts",
                              i + 1, j + 1, (unsigned long long)restarts);
                    uint8_t p[400];
                    size_t n = make_payload(next_seq[i][j]++, p);
                    (void)tandem_transport_send(e[i].t, j + 1, TYPE_DATA, p, n);
                    run_for_ms(5);
                    for (uint32_t g = 0; g < e[j].n_got; g++) {
                        arrived = arrived || (e[j].from[g] == i + 1 && e[j].seq[g] >= first);
                    }
                }
                check_order_and_forget(&e[j]);
            }
        }
    }
    printf("soak: %llu steps, %llu restarts, %llu frames delivered in order\n",
           (unsigned long long)steps, (unsigned long long)restarts,
           (unsigned long long)soak_delivered);
    CHECK(restarts > 0 && soak_delivered > steps);
    endpoint *all[] = {&e[0], &e[1], &e[2]};
    close_all(all, 3);
}

static const tandem_test cases[] = {
    {"frame_codec", test_frame_codec},
    {"hello_codec", test_hello_codec},
    {"options_and_send_errors", test_options_and_send_errors},
    {"two_endpoints_in_order", test_two_endpoints_in_order},
    {"three_endpoints", test_three_endpoints},
    {"peer_restart", test_peer_restart},
    {"garbage_frame", test_garbage_frame},
    {"oversized_frame", test_oversized_frame},
    {"wrong_cluster_refused", test_wrong_cluster_refused},
    {"full_queue", test_full_queue},
    {"delay", test_delay},
    {"shutdown_in_flight", test_shutdown_in_flight},
    {"ipv6", test_ipv6},
    {"byte_by_byte", test_byte_by_byte},
    {"wrong_node_refused", test_wrong_node_refused},
    {"inbound_limit_and_hello_timeout", test_inbound_limit_and_hello_timeout},
    {"rehello_replaces", test_rehello_replaces},
    {"soak_restarts", test_soak_restarts},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
