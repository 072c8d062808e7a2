/*
 * load — a load generator modelled on Camunda's benchmark starter and worker.
 *
 *   build/bench/load [--url http://127.0.0.1:8080] [--seconds 20] [--rate N]
 *                    [--creators 2] [--workers 4] [--jobs-per-poll 32]
 *
 * Deploys a one-task process, starts instances (as fast as possible, or at
 * --rate per second), completes their jobs with a pool of REST workers, then
 * VERIFIES that every started instance had its job completed, and prints
 * completed process instances per second and create->complete latency
 * (p50/p99/max). Plain HTTP/1.1 keep-alive over blocking sockets, one
 * connection per thread; JSON through jansson.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define INSTANCES_MAX (4u * 1024u * 1024u)

typedef struct conn {
    int fd;
    char host[64];
    int port;
    char buf[1 << 16];
    size_t len;
} conn;

typedef struct instance {
    int64_t key;
    uint64_t created_ns;
    uint64_t completed_ns; /* 0 until its job is completed */
} instance;

static struct {
    char host[64];
    int port;
    double seconds;
    double rate;
    int creators;
    int workers;
    int jobs_per_poll;
    atomic_bool stop_creating;
    atomic_bool stop_working;
    pthread_mutex_t lock;
    instance *instances; /* open addressing on key */
    size_t capacity;
    atomic_uint_fast64_t created;
    atomic_uint_fast64_t completed;
    atomic_uint_fast64_t errors;
} g;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *msg)
{
    fprintf(stderr, "load: %s\n", msg);
    exit(1);
}

static void conn_open(conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0) {
        die("socket");
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)c->port);
    if (inet_pton(AF_INET, c->host, &sa.sin_addr) != 1) {
        die("--url must name a numeric IPv4 address");
    }
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        die("cannot connect to the broker");
    }
    c->len = 0;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            die("write failed");
        }
        p += w;
        n -= (size_t)w;
    }
}

/* One request, one response (Content-Length bodies only, as tandem sends).
 * Returns the status; the body is copied into body (NUL-terminated). */
static int request(conn *c, const char *method, const char *path, const char *ctype,
                   const char *body, size_t body_len, char *out, size_t out_size)
{
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "%s %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     method, path, c->host, c->port, ctype, body_len);
    write_all(c->fd, head, (size_t)n);
    write_all(c->fd, body, body_len);
    for (;;) {
        c->buf[c->len] = '\0';
        char *end = strstr(c->buf, "\r\n\r\n");
        if (end != NULL) {
            int status = atoi(c->buf + 9);
            size_t clen = 0;
            char *cl = strcasestr(c->buf, "content-length:");
            if (cl != NULL && cl < end) {
                clen = strtoul(cl + 15, NULL, 10);
            }
            size_t header_len = (size_t)(end + 4 - c->buf);
            while (c->len < header_len + clen) {
                if (c->len >= sizeof(c->buf) - 1) {
                    die("response too large");
                }
                ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
                if (r <= 0) {
                    die("connection closed");
                }
                c->len += (size_t)r;
            }
            size_t copy = clen < out_size - 1 ? clen : out_size - 1;
            memcpy(out, c->buf + header_len, copy);
            out[copy] = '\0';
            memmove(c->buf, c->buf + header_len + clen, c->len - header_len - clen);
            c->len -= header_len + clen;
            return status;
        }
        if (c->len >= sizeof(c->buf) - 1) {
            die("response header too large");
        }
        ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
        if (r <= 0) {
            die("connection closed while reading");
        }
        c->len += (size_t)r;
    }
}

static instance *slot_for(int64_t key)
{
    uint64_t h = (uint64_t)key * 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < g.capacity; i++) {
        instance *in = &g.instances[(h + i) & (g.capacity - 1)];
        if (in->key == key || in->key == 0) {
            return in;
        }
    }
    die("instance table full");
    return NULL;
}

static void deploy(void)
{
    static const char xml[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "
        "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"d\" "
        "targetNamespace=\"http://bpmn.io/schema/bpmn\">"
        "<bpmn:process id=\"benchmark\" isExecutable=\"true\">"
        "<bpmn:startEvent id=\"start\"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>"
        "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"task\"/>"
        "<bpmn:serviceTask id=\"task\"><bpmn:extensionElements>"
        "<zeebe:taskDefinition type=\"benchmark-task\"/></bpmn:extensionElements>"
        "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>"
        "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"task\" targetRef=\"end\"/>"
        "<bpmn:endEvent id=\"end\"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>"
        "</bpmn:process></bpmn:definitions>\n";
    char body[8192];
    int n = snprintf(body, sizeof(body),
                     "--XbenchX\r\nContent-Disposition: form-data; name=\"resources\"; "
                     "filename=\"benchmark.bpmn\"\r\nContent-Type: application/xml\r\n\r\n%s"
                     "\r\n--XbenchX--\r\n",
                     xml);
    conn c = {.port = g.port};
    snprintf(c.host, sizeof(c.host), "%s", g.host);
    conn_open(&c);
    char out[8192];
    int status = request(&c, "POST", "/v2/deployments", "multipart/form-data; boundary=XbenchX",
                         body, (size_t)n, out, sizeof(out));
    close(c.fd);
    if (status != 200) {
        fprintf(stderr, "load: deployment failed with %d: %s\n", status, out);
        exit(1);
    }
}

static void *creator(void *arg)
{
    (void)arg;
    conn c = {.port = g.port};
    snprintf(c.host, sizeof(c.host), "%s", g.host);
    conn_open(&c);
    static const char body[] = "{\"processDefinitionId\":\"benchmark\",\"variables\":{\"n\":1}}";
    char out[4096];
    double per_thread = g.rate > 0 ? g.rate / g.creators : 0;
    uint64_t start = now_ns();
    uint64_t sent = 0;
    while (!atomic_load(&g.stop_creating)) {
        if (per_thread > 0) {
            uint64_t due = start + (uint64_t)((double)sent * 1e9 / per_thread);
            uint64_t t = now_ns();
            if (t < due) {
                struct timespec ts = {(time_t)((due - t) / 1000000000u),
                                      (long)((due - t) % 1000000000u)};
                nanosleep(&ts, NULL);
            }
        }
        uint64_t t0 = now_ns();
        int status = request(&c, "POST", "/v2/process-instances", "application/json", body,
                             sizeof(body) - 1, out, sizeof(out));
        sent++;
        if (status != 200) {
            atomic_fetch_add(&g.errors, 1);
            continue;
        }
        json_error_t err;
        json_t *doc = json_loads(out, 0, &err);
        const char *key = json_string_value(json_object_get(doc, "processInstanceKey"));
        if (key != NULL) {
            int64_t k = strtoll(key, NULL, 10);
            pthread_mutex_lock(&g.lock);
            instance *in = slot_for(k);
            in->key = k;
            if (in->created_ns == 0) {
                in->created_ns = t0; /* the worker may have completed it already */
            }
            pthread_mutex_unlock(&g.lock);
            atomic_fetch_add(&g.created, 1);
        }
        json_decref(doc);
    }
    close(c.fd);
    return NULL;
}

static void *worker(void *arg)
{
    (void)arg;
    conn c = {.port = g.port};
    snprintf(c.host, sizeof(c.host), "%s", g.host);
    conn_open(&c);
    char req[256];
    int n = snprintf(req, sizeof(req),
                     "{\"type\":\"benchmark-task\",\"worker\":\"load\",\"timeout\":60000,"
                     "\"maxJobsToActivate\":%d,\"requestTimeout\":500}",
                     g.jobs_per_poll);
    char *out = malloc(1 << 20);
    while (!atomic_load(&g.stop_working)) {
        int status = request(&c, "POST", "/v2/jobs/activation", "application/json", req, (size_t)n,
                             out, 1 << 20);
        if (status != 200) {
            atomic_fetch_add(&g.errors, 1);
            continue;
        }
        json_error_t err;
        json_t *doc = json_loads(out, 0, &err);
        json_t *jobs = json_object_get(doc, "jobs");
        size_t i;
        json_t *job;
        json_array_foreach(jobs, i, job)
        {
            const char *jk = json_string_value(json_object_get(job, "jobKey"));
            const char *pk = json_string_value(json_object_get(job, "processInstanceKey"));
            if (jk == NULL || pk == NULL) {
                continue;
            }
            char path[96];
            snprintf(path, sizeof(path), "/v2/jobs/%s/completion", jk);
            char small[1024];
            int st = request(&c, "POST", path, "application/json", "{\"variables\":{}}", 16, small,
                             sizeof(small));
            if (st != 204) {
                atomic_fetch_add(&g.errors, 1);
                continue;
            }
            uint64_t t = now_ns();
            int64_t k = strtoll(pk, NULL, 10);
            pthread_mutex_lock(&g.lock);
            instance *in = slot_for(k);
            if (in->key == 0) {
                in->key = k; /* completed before its creator recorded it */
            }
            in->completed_ns = t;
            pthread_mutex_unlock(&g.lock);
            atomic_fetch_add(&g.completed, 1);
        }
        json_decref(doc);
    }
    free(out);
    close(c.fd);
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    snprintf(g.host, sizeof(g.host), "127.0.0.1");
    g.port = 8080;
    g.seconds = 20;
    g.creators = 2;
    g.workers = 4;
    g.jobs_per_poll = 32;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--url") == 0 && i + 1 < argc) {
            if (sscanf(argv[++i], "http://%63[^:]:%d", g.host, &g.port) != 2) {
                die("--url must look like http://127.0.0.1:8080");
            }
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            g.seconds = atof(argv[++i]);
        } else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc) {
            g.rate = atof(argv[++i]);
        } else if (strcmp(argv[i], "--creators") == 0 && i + 1 < argc) {
            g.creators = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
            g.workers = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--jobs-per-poll") == 0 && i + 1 < argc) {
            g.jobs_per_poll = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: load [--url URL] [--seconds S] [--rate N] [--creators N] "
                            "[--workers N] [--jobs-per-poll N]\n");
            return 2;
        }
    }
    if (g.creators < 1 || g.workers < 1 || g.seconds <= 0 || g.jobs_per_poll < 1) {
        die("creators, workers, seconds and jobs-per-poll must be positive");
    }
    g.capacity = INSTANCES_MAX;
    g.instances = calloc(g.capacity, sizeof(*g.instances));
    if (g.instances == NULL) {
        die("out of memory");
    }
    pthread_mutex_init(&g.lock, NULL);
    deploy();
    pthread_t threads[128];
    int nthreads = 0;
    for (int i = 0; i < g.workers && nthreads < 128; i++) {
        pthread_create(&threads[nthreads++], NULL, worker, NULL);
    }
    int first_creator = nthreads;
    uint64_t start = now_ns();
    for (int i = 0; i < g.creators && nthreads < 128; i++) {
        pthread_create(&threads[nthreads++], NULL, creator, NULL);
    }
    struct timespec run = {(time_t)g.seconds,
                           (long)((g.seconds - (double)(time_t)g.seconds) * 1e9)};
    nanosleep(&run, NULL);
    atomic_store(&g.stop_creating, true);
    for (int i = first_creator; i < nthreads; i++) {
        pthread_join(threads[i], NULL);
    }
    uint64_t created_end = now_ns();
    /* let the workers drain what was started, then verify */
    uint64_t drain_deadline = now_ns() + 30000000000u;
    while (atomic_load(&g.completed) < atomic_load(&g.created) && now_ns() < drain_deadline) {
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    uint64_t end = now_ns();
    atomic_store(&g.stop_working, true);
    for (int i = 0; i < first_creator; i++) {
        pthread_join(threads[i], NULL);
    }
    uint64_t created = atomic_load(&g.created);
    uint64_t *lat = malloc((created + 1) * sizeof(*lat));
    size_t nlat = 0;
    uint64_t missing = 0;
    for (size_t i = 0; i < g.capacity; i++) {
        instance *in = &g.instances[i];
        if (in->key == 0 || in->created_ns == 0) {
            continue;
        }
        if (in->completed_ns == 0) {
            missing++;
        } else {
            lat[nlat++] = in->completed_ns - in->created_ns;
        }
    }
    qsort(lat, nlat, sizeof(*lat), cmp_u64);
    double secs = (double)(end - start) / 1e9;
    printf("created %" PRIu64 " instances in %.1f s, completed %" PRIu64
           " in %.1f s, errors %" PRIu64 "\n",
           created, (double)(created_end - start) / 1e9, (uint64_t)atomic_load(&g.completed), secs,
           (uint64_t)atomic_load(&g.errors));
    printf("completed PI/s %.0f\n", (double)atomic_load(&g.completed) / secs);
    if (nlat > 0) {
        printf("create->complete latency ms: p50 %.2f  p99 %.2f  max %.2f\n",
               (double)lat[nlat / 2] / 1e6, (double)lat[(nlat * 99) / 100] / 1e6,
               (double)lat[nlat - 1] / 1e6);
    }
    free(lat);
    free(g.instances);
    if (missing > 0) {
        printf("VERIFY FAILED: %" PRIu64 " started instances were never completed\n", missing);
        return 1;
    }
    printf("verified: every started instance completed\n");
    return 0;
}
