/*
 * test_http_client.h — a tiny blocking HTTP/1.1 client for the tests of the
 * HTTP server and the management API, loopback only.
 *
 * A call connects from the calling thread (so the server has the
 * connection in its backlog before the call returns), then runs on its own
 * thread (the test thread runs the libuv loop that owns the server): it
 * writes the raw request bytes, reads until the server closes, and splits
 * status, headers and body. Requests should
 * carry "Connection: close" so the read ends.
 */
#ifndef TANDEM_TEST_HTTP_CLIENT_H
#define TANDEM_TEST_HTTP_CLIENT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "test.h"

#define HTTP_CALL_REQUEST_SIZE_MAX 65536
#define HTTP_CALL_REPLY_SIZE_MAX   (1024 * 1024)

typedef struct http_call {
    uint16_t port;
    char request[HTTP_CALL_REQUEST_SIZE_MAX];
    size_t request_len;
    bool leave; /* close right after writing, without reading (a client that goes away) */
    /* results */
    int status; /* -1 when no status line arrived */
    char *raw;  /* whole reply, NUL-terminated; freed by http_call_free */
    size_t raw_len;
    const char *body; /* into raw */
    size_t body_len;
    double elapsed_ms;
    int fd;
    double start_ms;
    pthread_t thread;
    atomic_bool finished;
} http_call;

static inline double http_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static inline int http_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct timeval tv = {20, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_MSG(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0, "connect: %s",
              strerror(errno));
    return fd;
}

static inline void http_send_all(int fd, const char *data, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);
        if (n <= 0) {
            return; /* the server may close early (413); the reply tells */
        }
        off += (size_t)n;
    }
}

/* Reads until EOF (or error / timeout) into a fresh NUL-terminated buffer. */
static inline char *http_read_all(int fd, size_t *len_out)
{
    char *buf = malloc(HTTP_CALL_REPLY_SIZE_MAX + 1);
    CHECK(buf != NULL);
    size_t len = 0;
    while (len < HTTP_CALL_REPLY_SIZE_MAX) {
        ssize_t n = recv(fd, buf + len, HTTP_CALL_REPLY_SIZE_MAX - len, 0);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
    }
    buf[len] = '\0';
    *len_out = len;
    return buf;
}

static inline void http_parse_reply(http_call *c)
{
    c->status = -1;
    c->body = c->raw + c->raw_len;
    c->body_len = 0;
    if (strncmp(c->raw, "HTTP/1.", 7) == 0 && c->raw_len >= 12) {
        c->status = atoi(c->raw + 9);
    }
    const char *end = strstr(c->raw, "\r\n\r\n");
    if (end != NULL) {
        c->body = end + 4;
        c->body_len = c->raw_len - (size_t)(c->body - c->raw);
    }
}

static inline void http_call_run(http_call *c)
{
    int fd = c->fd;
    http_send_all(fd, c->request, c->request_len);
    if (c->leave) {
        c->raw = calloc(1, 1);
        CHECK(c->raw != NULL);
    } else {
        c->raw = http_read_all(fd, &c->raw_len);
    }
    close(fd);
    c->elapsed_ms = http_now_ms() - c->start_ms;
    http_parse_reply(c);
}

static inline void *http_call_main(void *arg)
{
    http_call *c = arg;
    http_call_run(c);
    atomic_store(&c->finished, true);
    return NULL;
}

/* Formats the raw request (use \r\n line ends) and starts the call's thread. */
static inline __attribute__((format(printf, 3, 4))) void
http_call_start(http_call *c, uint16_t port, const char *fmt, ...)
{
    memset(c, 0, sizeof(*c));
    c->port = port;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->request, sizeof(c->request), fmt, ap);
    va_end(ap);
    CHECK(n > 0 && (size_t)n < sizeof(c->request));
    c->request_len = (size_t)n;
    atomic_init(&c->finished, false);
    c->start_ms = http_now_ms();
    c->fd = http_connect(port);
    CHECK(pthread_create(&c->thread, NULL, http_call_main, c) == 0);
}

/* Starts a call with raw bytes (for bodies that are not text). */
static inline void http_call_start_raw(http_call *c, uint16_t port, const char *data, size_t len,
                                       bool leave)
{
    memset(c, 0, sizeof(*c));
    c->port = port;
    CHECK(len <= sizeof(c->request));
    memcpy(c->request, data, len);
    c->request_len = len;
    c->leave = leave;
    atomic_init(&c->finished, false);
    c->start_ms = http_now_ms();
    c->fd = http_connect(port);
    CHECK(pthread_create(&c->thread, NULL, http_call_main, c) == 0);
}

static inline void http_call_join(http_call *c)
{
    CHECK(pthread_join(c->thread, NULL) == 0);
}

static inline void http_call_free(http_call *c)
{
    free(c->raw);
    c->raw = NULL;
}

/* Runs the loop until every call has finished, then joins them. */
static inline void http_run_until_done(uv_loop_t *loop, http_call *calls, size_t n)
{
    double deadline = http_now_ms() + 30000;
    for (;;) {
        bool all = true;
        for (size_t i = 0; i < n; i++) {
            all = all && atomic_load(&calls[i].finished);
        }
        if (all) {
            break;
        }
        CHECK_MSG(http_now_ms() < deadline, "HTTP calls did not finish in 30 s");
        uv_run(loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    for (size_t i = 0; i < n; i++) {
        http_call_join(&calls[i]);
    }
}

/* Runs the loop until *flag is set (by a handler), with a deadline. */
static inline void http_run_until_flag(uv_loop_t *loop, const bool *flag)
{
    double deadline = http_now_ms() + 30000;
    while (!*flag) {
        CHECK_MSG(http_now_ms() < deadline, "the loop did not reach the expected state in 30 s");
        uv_run(loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
}

/* Copies the value of response header `name` (case-insensitive) into buf;
 * NULL when absent. */
static inline const char *http_reply_header(const http_call *c, const char *name, char *buf,
                                            size_t cap)
{
    size_t nlen = strlen(name);
    const char *p = strstr(c->raw, "\r\n");
    while (p != NULL && p < c->body) {
        p += 2;
        if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (*v == ' ') {
                v++;
            }
            const char *e = strstr(v, "\r\n");
            size_t len = e != NULL ? (size_t)(e - v) : strlen(v);
            if (len >= cap) {
                len = cap - 1;
            }
            memcpy(buf, v, len);
            buf[len] = '\0';
            return buf;
        }
        p = strstr(p, "\r\n");
    }
    return NULL;
}

/* The body as a NUL-terminated string (it is the tail of raw). */
static inline const char *http_body(const http_call *c)
{
    return c->body;
}

#endif
