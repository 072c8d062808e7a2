/*
 * The `tandem broker` process (see broker.h): the loop side (management
 * routes, signals, shutdown) lives here, the I/O thread in broker_io.c, and
 * the state applier of the partitions in broker_apply.c.
 */
#include "app/broker.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "app/backend.h"
#include "app/broker_int.h"
#include "base/assert.h"
#include "base/log.h"
#include "cluster/placement.h"

/* --- management routes --- */

static partition_slot *slot_by_id(broker *b, uint32_t id)
{
    for (uint32_t i = 0; i < b->slot_count; i++) {
        if (b->slots[i].id == id) {
            return &b->slots[i];
        }
    }
    return NULL;
}

static void on_probe_cancel(tandem_http_request *req, void *data)
{
    work_item *w = data;
    TANDEM_ASSERT(w->ctx == req);
    w->ctx = NULL; /* the I/O thread still owns w; the loop frees it when it is done */
}

/* Loop: answers a finished probe and frees it. */
static void probe_done(broker *b, work_item *w)
{
    tandem_http_request *req = w->ctx;
    if (req != NULL) {
        tandem_item *it = &w->item;
        if (it->rc == TANDEM_OK) {
            char body[160];
            int n = snprintf(body, sizeof(body),
                             "{\"partitionId\":%u,\"index\":%" PRIu64 ",\"position\":%" PRIu64 "}",
                             b->slots[w->slot].id, it->index, it->position);
            TANDEM_ASSERT(n > 0 && (size_t)n < sizeof(body));
            tandem_http_respond(req, 200, "application/json", body, (size_t)n);
        } else {
            bool too_big = it->rc == TANDEM_ETOOBIG;
            tandem_http_respond_problem(req, too_big ? 413 : 503,
                                        too_big ? "INVALID_ARGUMENT" : "UNAVAILABLE",
                                        it->error[0] != '\0' ? it->error : tandem_strerror(it->rc));
        }
    }
    tandem_item_free(&w->item);
    free(w);
}

/* POST /actuator/journal/append?partition=N — appends the body as a probe
 * record and answers once it is durable (and so committed). */
static void handle_append(tandem_http_request *req, void *ctx)
{
    broker *b = ctx;
    uint32_t partition_id = 1;
    const char *value = NULL;
    if (tandem_http_query(req, "partition", &value) == TANDEM_OK && value != NULL) {
        char *end = NULL;
        unsigned long v = strtoul(value, &end, 10);
        if (*value == '\0' || *end != '\0' || v == 0 || v > UINT32_MAX) {
            tandem_http_respond_problem(req, 400, "INVALID_ARGUMENT",
                                        "query parameter partition must be a positive integer");
            return;
        }
        partition_id = (uint32_t)v;
    }
    partition_slot *slot = slot_by_id(b, partition_id);
    if (slot == NULL) {
        char detail[128];
        snprintf(detail, sizeof(detail), "partition %u has no replica on broker %u", partition_id,
                 b->cfg->node_id);
        tandem_http_respond_problem(req, 404, "NOT_FOUND", detail);
        return;
    }
    size_t len = 0;
    const uint8_t *body = tandem_http_body(req, &len);
    work_item *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        tandem_http_respond_problem(req, 503, "RESOURCE_EXHAUSTED", "out of memory");
        return;
    }
    tandem_item_init(&w->item, TANDEM_ITEM_PROBE);
    w->slot = (uint32_t)(slot - b->slots);
    w->done = probe_done;
    w->ctx = req;
    int rc = tandem_buf_append(&w->item.payload, body, len);
    if (rc == TANDEM_OK) {
        rc = broker_io_submit(b, w);
    }
    if (rc != TANDEM_OK) {
        tandem_item_free(&w->item);
        free(w);
        tandem_http_respond_problem(req, 503, "RESOURCE_EXHAUSTED",
                                    rc == TANDEM_EFULL ? "the journal queue of this broker is full"
                                                       : tandem_strerror(rc));
        return;
    }
    tandem_http_request_set_cancel(req, on_probe_cancel, w);
}

void broker_round_report(broker *b, round_report *r)
{
    broker_backend_report(b, r);
}

/* GET /actuator/partitions — what each local replica holds. */
static void handle_partitions(tandem_http_request *req, void *ctx)
{
    broker *b = ctx;
    tandem_buf out = TANDEM_BUF_INIT;
    int rc = tandem_buf_append(&out, "[", 1);
    for (uint32_t i = 0; i < b->slot_count && rc == TANDEM_OK; i++) {
        partition_view v;
        broker_io_view(b, i, &v);
        char item[512];
        int n =
            snprintf(item, sizeof(item),
                     "%s{\"partitionId\":%u,\"role\":\"leader\",\"health\":\"%s\","
                     "\"term\":%" PRIu64 ",\"firstIndex\":%" PRIu64 ",\"lastIndex\":%" PRIu64
                     ",\"commitIndex\":%" PRIu64 ",\"appliedIndex\":%" PRIu64
                     ",\"compactableBelowIndex\":%" PRIu64 ",\"replayedRecords\":%" PRIu64
                     ",\"incarnation\":\"%s\"}",
                     i == 0 ? "" : ",", b->slots[i].id, v.stopped ? "dead" : "healthy", v.term,
                     v.first, v.last, v.commit, v.applied, v.compact_below,
                     (uint64_t)atomic_load(&b->slots[i].replayed_records), b->slots[i].incarnation);
        TANDEM_ASSERT(n > 0 && (size_t)n < sizeof(item));
        rc = tandem_buf_append(&out, item, (size_t)n);
    }
    if (rc == TANDEM_OK) {
        rc = tandem_buf_append(&out, "]", 1);
    }
    if (rc != TANDEM_OK) {
        tandem_http_respond_problem(req, 503, "RESOURCE_EXHAUSTED", "out of memory");
    } else {
        tandem_http_respond(req, 200, "application/json", out.data, out.len);
    }
    tandem_buf_free(&out);
}

static tandem_health partitions_health(void *ctx, char *detail, size_t detail_size)
{
    broker *b = ctx;
    for (uint32_t i = 0; i < b->slot_count; i++) {
        partition_view v;
        broker_io_view(b, i, &v);
        if (v.stopped) {
            snprintf(detail, detail_size, "partition %u stopped after an I/O failure",
                     b->slots[i].id);
            return TANDEM_HEALTH_DOWN;
        }
    }
    return TANDEM_HEALTH_UP;
}

/* --- shutdown --- */

static void on_handle_closed(uv_handle_t *h)
{
    (void)h;
}

static void on_gateway_closed(void *data)
{
    broker *b = data;
    b->gateway = NULL;
    /* Only now: no request can reach the read routes any more. */
    if (b->search != NULL) {
        tandem_search_service_close(b->search, NULL, NULL);
        b->search = NULL;
    }
}

static void on_mgmt_closed(void *data)
{
    broker *b = data;
    b->mgmt = NULL;
    uv_close((uv_handle_t *)&b->sigterm, on_handle_closed);
    uv_close((uv_handle_t *)&b->sigint, on_handle_closed);
    broker_io_close_async(b, on_handle_closed);
}

/* Stops the broker in order: no new work, the I/O thread finishes what it
 * holds (its answers go out), partitions close, then the server and handles. */
void broker_shutdown(broker *b, int rc)
{
    if (b->stopping) {
        return;
    }
    b->stopping = true;
    b->exit_rc = rc;
    tandem_log(rc == TANDEM_OK ? TANDEM_LOG_INFO : TANDEM_LOG_ERROR, "broker stopping", "reason",
               rc == TANDEM_OK ? "signal" : tandem_errname(rc), NULL);
    if (b->mgmt != NULL) {
        tandem_mgmt_set_ready(b->mgmt, false);
    }
    broker_io_stop(b);       /* joins the thread and answers everything it finished */
    broker_export_close(b);  /* exports in progress finish; stores close */
    broker_backend_close(b); /* answers the awaitCompletion calls still parked */
    if (b->gateway != NULL) {
        tandem_gateway_close(b->gateway, on_gateway_closed, b);
    } else {
        on_gateway_closed(b);
    }
    for (uint32_t i = 0; i < b->slot_count; i++) {
        tandem_processor_destroy(b->slots[i].processor);
        b->slots[i].processor = NULL;
        tandem_partition_close(b->slots[i].p);
        b->slots[i].p = NULL;
        tandem_engine_destroy(b->slots[i].engine);
        b->slots[i].engine = NULL;
    }
    if (b->mgmt != NULL) {
        tandem_mgmt_close(b->mgmt, on_mgmt_closed, b);
    } else {
        on_mgmt_closed(b);
    }
}

static void on_signal(uv_signal_t *h, int signum)
{
    broker *b = h->data;
    char sig[16];
    snprintf(sig, sizeof(sig), "%d", signum);
    tandem_log(TANDEM_LOG_INFO, "signal received", "signal", sig, NULL);
    broker_shutdown(b, TANDEM_OK);
}

/* --- start-up --- */

static int register_metrics(broker *b, tandem_diag *diag)
{
    static const double flush_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                          0.01,   0.025,   0.05,   0.1,   0.25,   1.0};
    int rc = tandem_metrics_create(128 + (4 + 2 * BROKER_EXPORTERS_MAX) * (size_t)b->slot_count,
                                   &b->metrics);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "metrics registry: %s", tandem_strerror(rc));
    }
    rc = tandem_metrics_counter(b->metrics, "tandem_journal_appends_total",
                                "Entries appended to the journals of this broker", NULL, 0,
                                &b->c_appends, diag);
    if (rc == TANDEM_OK) {
        rc = tandem_metrics_counter(b->metrics, "tandem_journal_flushes_total",
                                    "Group commits (one fsync each) of the journals", NULL, 0,
                                    &b->c_flushes, diag);
    }
    if (rc == TANDEM_OK) {
        rc = tandem_metrics_histogram(
            b->metrics, "tandem_journal_flush_duration_seconds",
            "Duration of a journal group commit (write and fsync)", NULL, 0, flush_bounds,
            sizeof(flush_bounds) / sizeof(flush_bounds[0]), &b->h_flush, diag);
    }
    for (uint32_t i = 0; i < b->slot_count && rc == TANDEM_OK; i++) {
        char id[16];
        snprintf(id, sizeof(id), "%u", b->slots[i].id);
        tandem_metric_label label = {"partition", id};
        rc = tandem_metrics_gauge(b->metrics, "tandem_partition_commit_index",
                                  "Last committed journal index", &label, 1, &b->slots[i].g_commit,
                                  diag);
        if (rc == TANDEM_OK) {
            rc = tandem_metrics_gauge(b->metrics, "tandem_partition_applied_index",
                                      "Last journal index applied to the state", &label, 1,
                                      &b->slots[i].g_applied, diag);
        }
        if (rc == TANDEM_OK) {
            rc = tandem_metrics_gauge(b->metrics, "tandem_partition_replayed_records",
                                      "Records applied by replay since start (the journal "
                                      "after the state's applied position)",
                                      &label, 1, &b->slots[i].g_replayed, diag);
        }
    }
    if (rc == TANDEM_OK) {
        rc = broker_export_register_metrics(b, diag);
    }
    return rc;
}

/* Two brokers on one data directory would both append to the same journals:
 * an exclusive flock on <data.directory>/LOCK refuses the second. The lock
 * goes away with the process, however it ends. */
static int lock_data_directory(broker *b, tandem_diag *diag)
{
    char path[TANDEM_CONFIG_PATH_LEN_MAX + 16];
    snprintf(path, sizeof(path), "%s/LOCK", b->cfg->data_directory);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return tandem_diag_set(diag, tandem_from_errno(errno), "data.directory: cannot open %s: %s",
                               path, strerror(errno));
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char holder[32] = "";
        ssize_t n = pread(fd, holder, sizeof(holder) - 1, 0);
        holder[n > 0 ? n : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        close(fd);
        if (err == EWOULDBLOCK) {
            return tandem_diag_set(diag, TANDEM_ESTATE,
                                   "data.directory %s is in use by another tandem broker "
                                   "(pid %s)",
                                   b->cfg->data_directory, holder[0] != '\0' ? holder : "?");
        }
        return tandem_diag_set(diag, tandem_from_errno(err), "flock %s: %s", path, strerror(err));
    }
    char pid[32];
    int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        /* the pid is a hint for humans; the lock itself holds */
        tandem_log(TANDEM_LOG_WARN, "cannot write pid into the lock file", "path", path, NULL);
    }
    b->lock_fd = fd;
    return TANDEM_OK;
}

static int open_partitions(broker *b, tandem_diag *diag)
{
    const tandem_config *cfg = b->cfg;
    tandem_placement pl;
    tandem_placement_from_config(&pl, cfg);
    uint32_t ids[TANDEM_PARTITION_COUNT_MAX];
    uint32_t count =
        tandem_placement_partitions_of(&pl, cfg->node_id, ids, TANDEM_PARTITION_COUNT_MAX);
    TANDEM_ASSERT(count <= TANDEM_PARTITION_COUNT_MAX);
    b->slots = calloc(count == 0 ? 1 : count, sizeof(*b->slots));
    if (b->slots == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "out of memory");
    }
    int rc = tandem_mkdir_durable(tandem_fileops_posix(), cfg->data_directory);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "data.directory %s: cannot create: %s",
                               cfg->data_directory, tandem_strerror(rc));
    }
    rc = lock_data_directory(b, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    for (uint32_t i = 0; i < count; i++) {
        tandem_partition_options opts;
        tandem_partition_options_default(&opts);
        opts.data_root = cfg->data_directory;
        opts.cluster_name = cfg->cluster_name;
        opts.node_id = cfg->node_id;
        opts.partition_id = ids[i];
        opts.journal.segment_size_bytes = cfg->log_segment_size_bytes;
        opts.journal.entry_size_bytes_max = (uint32_t)cfg->entry_size_bytes_max;
        opts.state_map_size_bytes = cfg->state_map_size_bytes;
        partition_slot *slot = &b->slots[i];
        slot->id = ids[i];
        slot->next_due_ms = INT64_MAX;
        b->slot_count++; /* from here on shutdown releases what the slot holds */
        tandem_engine_config ecfg = {.partition_id = ids[i],
                                     .table_base = broker_engine_table_base(),
                                     .partition_count = b->cfg->partition_count};
        rc = tandem_engine_create(&ecfg, &slot->engine, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
        broker_apply_options(&opts, slot);
        rc = tandem_partition_open(&opts, &slot->p, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
        snprintf(slot->incarnation, sizeof(slot->incarnation), "%s",
                 tandem_partition_incarnation_hex(slot->p));
        uint64_t next_position = 0;
        rc = broker_apply_next_position(slot->p, &next_position, diag);
        if (rc == TANDEM_OK) {
            rc = tandem_processor_create(slot->p, slot->engine, (uint32_t)cfg->entry_size_bytes_max,
                                         next_position, &slot->processor);
            if (rc != TANDEM_OK) {
                tandem_diag_set(diag, rc, "partition %u: processor: %s", ids[i],
                                tandem_strerror(rc));
            }
        }
        if (rc != TANDEM_OK) {
            return rc;
        }
    }
    return TANDEM_OK;
}

static int start_mgmt(broker *b, tandem_diag *diag)
{
    const tandem_config *cfg = b->cfg;
    tandem_mgmt_config mcfg;
    memset(&mcfg, 0, sizeof(mcfg));
    mcfg.http.name = "management";
    mcfg.http.host = cfg->management_host;
    mcfg.http.port = cfg->management_port;
    mcfg.http.metrics = b->metrics;
    mcfg.metrics = b->metrics;
    int rc = tandem_mgmt_create(&b->loop, &mcfg, &b->mgmt, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    rc = tandem_mgmt_add_health(b->mgmt, "partitions", partitions_health, b, diag);
    if (rc == TANDEM_OK) {
        rc = tandem_mgmt_route(b->mgmt, "GET", "/actuator/partitions", handle_partitions, b, diag);
    }
    if (rc == TANDEM_OK) {
        rc = broker_export_routes(b, diag);
    }
    if (rc == TANDEM_OK && cfg->management_journal_probe) {
        rc = tandem_mgmt_route(b->mgmt, "POST", "/actuator/journal/append", handle_append, b, diag);
    }
    if (rc == TANDEM_OK) {
        rc = tandem_mgmt_start(b->mgmt, diag);
    }
    return rc;
}

static int start_gateway(broker *b, tandem_diag *diag)
{
    const tandem_config *cfg = b->cfg;
    tandem_gateway_backend backend;
    broker_backend_init(b, &backend);
    tandem_gateway_config gcfg;
    memset(&gcfg, 0, sizeof(gcfg));
    gcfg.http.name = "rest";
    gcfg.http.host = cfg->host;
    gcfg.http.port = cfg->rest_port;
    gcfg.http.metrics = b->metrics;
    gcfg.http.queue_capacity = 1024;
    gcfg.http.body_size_bytes_max = cfg->entry_size_bytes_max;
    int rc = tandem_gateway_create(&b->loop, &gcfg, &backend, &b->gateway, diag);
    /* The read API reads the store of the `sqlite` exporter (this region's),
     * with the exporters' rule: relative to data.directory. */
    char store[TANDEM_CONFIG_PATH_LEN_MAX * 2 + 2];
    const char *sp = cfg->exporter_sqlite_path;
    int n = sp[0] == '/' ? snprintf(store, sizeof(store), "%s", sp)
                         : snprintf(store, sizeof(store), "%s/%s", cfg->data_directory, sp);
    TANDEM_ASSERT(n > 0 && (size_t)n < sizeof(store)); /* both below the config's path limit */
    if (rc == TANDEM_OK) {
        rc = tandem_search_service_create(&b->loop, store, 0, &b->search, diag);
    }
    if (rc == TANDEM_OK) {
        rc = tandem_search_service_routes(b->search, tandem_gateway_http(b->gateway), diag);
    }
    if (rc == TANDEM_OK) {
        rc = tandem_gateway_start(b->gateway, diag);
    }
    return rc;
}

static void log_started(broker *b)
{
    char node[16];
    char port[16];
    char parts[16];
    snprintf(node, sizeof(node), "%u", b->cfg->node_id);
    snprintf(port, sizeof(port), "%u", tandem_mgmt_port(b->mgmt));
    snprintf(parts, sizeof(parts), "%u", b->slot_count);
    char rest[16];
    snprintf(rest, sizeof(rest), "%u", tandem_gateway_port(b->gateway));
    tandem_log(TANDEM_LOG_INFO, "broker ready", "node", node, "cluster", b->cfg->cluster_name,
               "partitions", parts, "rest_port", rest, "management_port", port, "version",
               TANDEM_VERSION, NULL);
}

int tandem_broker_run(const tandem_config *cfg, tandem_diag *diag)
{
    TANDEM_ASSERT(cfg != NULL);
    broker *b = calloc(1, sizeof(*b));
    if (b == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "out of memory");
    }
    b->cfg = cfg;
    b->lock_fd = -1;
    b->send = broker_io_send_local;
    tandem_log_set_level(cfg->log_level);
    int rc = uv_loop_init(&b->loop);
    if (rc != 0) {
        free(b);
        return tandem_diag_set(diag, TANDEM_ESYS, "uv_loop_init: %s", uv_strerror(rc));
    }
    rc = open_partitions(b, diag);
    if (rc == TANDEM_OK) {
        rc = broker_export_open(b, diag);
    }
    if (rc == TANDEM_OK) {
        rc = register_metrics(b, diag);
    }
    if (rc == TANDEM_OK) {
        rc = broker_export_start(b, diag);
    }
    if (rc == TANDEM_OK) {
        rc = broker_io_start(b, diag);
    }
    if (rc == TANDEM_OK) {
        rc = start_mgmt(b, diag);
    }
    if (rc == TANDEM_OK) {
        rc = start_gateway(b, diag);
    }
    uv_signal_init(&b->loop, &b->sigterm);
    uv_signal_init(&b->loop, &b->sigint);
    b->sigterm.data = b;
    b->sigint.data = b;
    if (rc == TANDEM_OK) {
        uv_signal_start(&b->sigterm, on_signal, SIGTERM);
        uv_signal_start(&b->sigint, on_signal, SIGINT);
        tandem_mgmt_set_ready(b->mgmt, true);
        log_started(b);
    } else {
        /* shut down what did start; the error of start-up is the result */
        tandem_diag saved = diag != NULL ? *diag : (tandem_diag){rc, ""};
        broker_shutdown(b, rc);
        if (diag != NULL) {
            *diag = saved;
        }
    }
    uv_run(&b->loop, UV_RUN_DEFAULT);
    int close_rc = uv_loop_close(&b->loop);
    TANDEM_ASSERT(close_rc == 0);
    if (rc == TANDEM_OK && b->exit_rc != TANDEM_OK) {
        rc = tandem_diag_set(diag, b->exit_rc, "%s", b->exit_diag.message);
    }
    for (uint32_t i = 0; i < b->slot_count; i++) {
        TANDEM_ASSERT(b->slots[i].p == NULL);
    }
    TANDEM_ASSERT(b->exporters == NULL);
    free(b->slots);
    free(b->g_export_position);
    free(b->g_export_lag);
    tandem_metrics_destroy(b->metrics);
    if (b->lock_fd >= 0) {
        close(b->lock_fd); /* releases the flock */
    }
    free(b);
    return rc;
}
