/*
 * The broker's exporters (export/exporter.h): created from the exporters.*
 * keys, fed by the I/O thread (it owns the journals, so it reads the
 * committed entries the exporters have not been given after every round and
 * whenever an exporter has room again), a backpressure check for new
 * commands, the compaction bound, metrics, and the management routes
 * /actuator/exporters and /actuator/exporting.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/broker_int.h"
#include "base/assert.h"
#include "base/log.h"
#include "base/clock.h"
#include "export/exporter_record.h"
#include "export/exporter_sqlite.h"

/* About once a second, as DESIGN §5 asks of the positions record. */
#define POSITIONS_INTERVAL_NS 1000000000ull

static void exporters_wake(void *arg)
{
    TANDEM_ASSERT(arg != NULL);
    broker *b = arg;
    broker_io_wake(b);
}

/* A relative store path is relative to data.directory. */
static int store_path(const tandem_config *cfg, const char *path, char *out, size_t out_size,
                      tandem_diag *diag)
{
    TANDEM_ASSERT(cfg != NULL && out != NULL);
    TANDEM_ASSERT(path[0] != '\0' && out_size > 0);
    int n = path[0] == '/' ? snprintf(out, out_size, "%s", path)
                           : snprintf(out, out_size, "%s/%s", cfg->data_directory, path);
    if (n < 0 || (size_t)n >= out_size) {
        return tandem_diag_set(diag, TANDEM_ECONFIG, "exporter store path too long: %s/%s",
                               cfg->data_directory, path);
    }
    return TANDEM_OK;
}

static int add_sqlite(broker *b, const char *id, const char *path, bool enabled, tandem_diag *diag)
{
    TANDEM_ASSERT(b != NULL && b->exporters != NULL);
    TANDEM_ASSERT(tandem_exporters_count(b->exporters) < BROKER_EXPORTERS_MAX);
    char full[TANDEM_CONFIG_PATH_LEN_MAX * 2 + 2];
    int rc = store_path(b->cfg, path, full, sizeof(full), diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    void *impl = NULL;
    rc = tandem_exporter_sqlite_new(id, full, &impl, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    rc = tandem_exporters_add(b->exporters, id, tandem_exporter_sqlite_vtable(), impl, enabled,
                              diag);
    if (rc != TANDEM_OK) {
        tandem_exporter_sqlite_vtable()->destroy(impl);
        return rc;
    }
    uint32_t i = tandem_exporters_count(b->exporters) - 1;
    TANDEM_ASSERT(i < BROKER_EXPORTERS_MAX);
    snprintf(b->export_paths[i], sizeof(b->export_paths[i]), "%s", full);
    snprintf(b->export_ids[i], sizeof(b->export_ids[i]), "%s", id);
    return TANDEM_OK;
}

int broker_export_open(broker *b, tandem_diag *diag)
{
    TANDEM_ASSERT(b != NULL && b->exporters == NULL);
    const tandem_config *cfg = b->cfg;
    if (b->slot_count == 0) {
        return TANDEM_OK;
    }
    uint32_t ids[TANDEM_PARTITION_COUNT_MAX];
    TANDEM_ASSERT(b->slot_count <= TANDEM_PARTITION_COUNT_MAX);
    for (uint32_t i = 0; i < b->slot_count; i++) {
        ids[i] = b->slots[i].id;
    }
    tandem_exporters_options opts;
    tandem_exporters_options_default(&opts);
    opts.partition_count = b->slot_count;
    opts.partition_ids = ids;
    opts.retained_entries_max = cfg->exporters_retained_entries_max;
    opts.backoff_max_ms = 2000; /* a local file: a failure is usually short */
    /* SQLite syncs every transaction; fewer, larger ones leave the disk to
     * the journal's fsyncs (docs/BENCHMARKS.md) */
    opts.linger_ms = 100;
    opts.batch_entries_max = 512;
    opts.wake = exporters_wake;
    opts.wake_arg = b;
    int rc = tandem_exporters_create(&opts, &b->exporters, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    /* Both exporters always exist, so the management API can enable one
     * that the configuration left disabled. */
    rc = add_sqlite(b, "sqlite", cfg->exporter_sqlite_path, cfg->exporter_sqlite_enabled, diag);
    if (rc == TANDEM_OK) {
        rc = add_sqlite(b, "secondary", cfg->exporter_secondary_path,
                        cfg->exporter_secondary_enabled, diag);
    }
    return rc;
}

int broker_export_start(broker *b, tandem_diag *diag)
{
    TANDEM_ASSERT(b != NULL);
    if (b->exporters == NULL) {
        return TANDEM_OK;
    }
    TANDEM_ASSERT(tandem_exporters_count(b->exporters) <= BROKER_EXPORTERS_MAX);
    return tandem_exporters_start(b->exporters, diag);
}

void broker_export_close(broker *b)
{
    TANDEM_ASSERT(b != NULL);
    TANDEM_ASSERT(!b->io.started);
    tandem_exporters_destroy(b->exporters);
    b->exporters = NULL;
}

/* ---- the I/O thread ---------------------------------------------------------- */

static int read_committed(void *arg, uint32_t partition_index, uint64_t index,
                          tandem_journal_entry *entry, tandem_buf *payload, tandem_diag *diag)
{
    broker *b = arg;
    TANDEM_ASSERT(partition_index < b->slot_count);
    tandem_partition *p = b->slots[partition_index].p;
    TANDEM_ASSERT(index <= tandem_partition_commit_index(p));
    return tandem_journal_read(tandem_partition_journal(p), index, entry, payload, diag);
}

int broker_export_pump(broker *b, uint32_t slot, tandem_diag *diag)
{
    TANDEM_ASSERT(b != NULL && slot < b->slot_count);
    if (b->exporters == NULL) {
        return TANDEM_OK;
    }
    tandem_partition *p = b->slots[slot].p;
    tandem_journal *j = tandem_partition_journal(p);
    uint64_t commit = tandem_partition_commit_index(p);
    TANDEM_ASSERT(commit <= tandem_journal_last_index(j));
    bool more = false;
    return tandem_exporters_pump(b->exporters, slot, tandem_journal_first_index(j), commit,
                                 read_committed, b, &more, diag);
}

bool broker_export_pending(broker *b)
{
    TANDEM_ASSERT(b != NULL);
    return b->exporters != NULL && tandem_exporters_pending(b->exporters);
}

uint64_t broker_export_compaction_index(broker *b, uint32_t slot)
{
    TANDEM_ASSERT(b != NULL && slot < b->slot_count);
    uint64_t applied = tandem_partition_applied_index(b->slots[slot].p);
    return tandem_exporters_compaction_index(b->exporters, slot, applied);
}

static void position_done(broker *b, work_item *w)
{
    (void)b;
    TANDEM_ASSERT(w != NULL && w->ctx == NULL);
    if (w->item.rc != TANDEM_OK) {
        tandem_log(TANDEM_LOG_WARN, "an exporter position record was not written", "detail",
                   w->item.error, NULL);
    }
    tandem_item_free(&w->item);
    free(w);
}

static int queue_position(broker *b, uint32_t slot, const char *id, uint64_t position)
{
    TANDEM_ASSERT(b != NULL && slot < b->slot_count);
    TANDEM_ASSERT(id != NULL && position > 0);
    work_item *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return TANDEM_ENOMEM;
    }
    tandem_item_init(&w->item, TANDEM_ITEM_EXPORTER);
    w->slot = slot;
    w->done = position_done;
    int rc = tandem_exporter_record_encode(&w->item.payload, id, position, NULL);
    if (rc == TANDEM_OK) {
        rc = broker_io_submit(b, w);
    }
    if (rc != TANDEM_OK) {
        tandem_item_free(&w->item);
        free(w);
    }
    return rc;
}

void broker_export_record_positions(broker *b)
{
    TANDEM_ASSERT(b != NULL);
    if (b->exporters == NULL) {
        return;
    }
    uint64_t now_ns = tandem_clock_mono_ns(tandem_clock_real());
    if (now_ns < b->io.positions_due_ns) {
        return;
    }
    b->io.positions_due_ns = now_ns + POSITIONS_INTERVAL_NS;
    tandem_exporter_partition_info parts[TANDEM_PARTITION_COUNT_MAX];
    uint32_t n = tandem_exporters_count(b->exporters);
    TANDEM_ASSERT(n <= BROKER_EXPORTERS_MAX);
    for (uint32_t s = 0; s < b->slot_count; s++) {
        partition_slot *slot = &b->slots[s];
        uint64_t last = tandem_processor_next_position(slot->processor) - 1;
        if (last == slot->positions_expected_last) {
            continue; /* nothing but our own records since the last ones */
        }
        uint64_t expected = last;
        for (uint32_t i = 0; i < n; i++) {
            tandem_exporter_info info;
            memset(&info, 0, sizeof(info));
            info.partition_count = b->slot_count;
            info.partitions = parts;
            tandem_exporters_info(b->exporters, i, &info);
            uint64_t position = parts[s].position;
            if (info.state == TANDEM_EXPORTER_DISABLED || position == 0 ||
                position == slot->positions_written[i]) {
                continue;
            }
            /* a full queue skips this round; the next one tries again */
            if (queue_position(b, s, info.id, position) == TANDEM_OK) {
                slot->positions_written[i] = position;
                expected++;
            }
        }
        slot->positions_expected_last = expected;
    }
}

/* ---- the loop ------------------------------------------------------------------ */

bool broker_export_backpressure(broker *b, uint32_t slot, char *why, size_t why_size)
{
    TANDEM_ASSERT(b != NULL && slot < b->slot_count);
    if (b->exporters == NULL || !tandem_exporters_over_bound(b->exporters, slot)) {
        return false;
    }
    snprintf(why, why_size,
             "partition %u keeps %" PRIu64 " journal entries for an exporter that is behind "
             "(exporters.maxRetainedEntries = %u); see GET /actuator/exporters",
             b->slots[slot].id, tandem_exporters_retained(b->exporters, slot),
             b->cfg->exporters_retained_entries_max);
    return true;
}

int broker_export_register_metrics(broker *b, tandem_diag *diag)
{
    TANDEM_ASSERT(b != NULL && b->metrics != NULL);
    if (b->exporters == NULL) {
        return TANDEM_OK;
    }
    uint32_t n = tandem_exporters_count(b->exporters);
    size_t series = (size_t)n * b->slot_count;
    b->g_export_position = calloc(series, sizeof(*b->g_export_position));
    b->g_export_lag = calloc(series, sizeof(*b->g_export_lag));
    if (b->g_export_position == NULL || b->g_export_lag == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "out of memory for exporter metrics");
    }
    int rc = TANDEM_OK;
    for (uint32_t i = 0; i < n && rc == TANDEM_OK; i++) {
        const char *id = b->export_ids[i];
        for (uint32_t s = 0; s < b->slot_count && rc == TANDEM_OK; s++) {
            char pid[16];
            snprintf(pid, sizeof(pid), "%u", b->slots[s].id);
            tandem_metric_label labels[2] = {{"exporter", id}, {"partition", pid}};
            rc = tandem_metrics_gauge(b->metrics, "tandem_exporter_position",
                                      "Last record position the exporter's store holds", labels, 2,
                                      &b->g_export_position[i * b->slot_count + s], diag);
            if (rc == TANDEM_OK) {
                rc = tandem_metrics_gauge(b->metrics, "tandem_exporter_lag_entries",
                                          "Committed journal entries not yet in the exporter's "
                                          "store",
                                          labels, 2, &b->g_export_lag[i * b->slot_count + s], diag);
            }
        }
        if (rc == TANDEM_OK) {
            tandem_exporters_set_gauges(b->exporters, i, &b->g_export_position[i * b->slot_count],
                                        &b->g_export_lag[i * b->slot_count]);
        }
    }
    return rc;
}

/* ---- management routes ------------------------------------------------------------ */

static int json_exporter(broker *b, uint32_t i, tandem_exporter_partition_info *parts, json_t **out)
{
    TANDEM_ASSERT(b != NULL && b->exporters != NULL);
    TANDEM_ASSERT(parts != NULL && out != NULL && i < BROKER_EXPORTERS_MAX);
    tandem_exporter_info info;
    memset(&info, 0, sizeof(info));
    info.partition_count = b->slot_count;
    info.partitions = parts;
    tandem_exporters_info(b->exporters, i, &info);
    json_t *arr = json_array();
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:s?, s:I, s:I}", "id", info.id, "type", "sqlite", "path",
                  b->export_paths[i], "state", tandem_exporter_state_name(info.state), "lastError",
                  info.last_error[0] != '\0' ? info.last_error : NULL, "exportedRecords",
                  (json_int_t)info.exported_records, "failures", (json_int_t)info.failures);
    if (arr == NULL || o == NULL) {
        json_decref(arr);
        json_decref(o);
        return TANDEM_ENOMEM;
    }
    for (uint32_t s = 0; s < b->slot_count; s++) {
        json_t *p =
            json_pack("{s:I, s:I, s:I, s:I}", "partitionId", (json_int_t)parts[s].partition_id,
                      "position", (json_int_t)parts[s].position, "acknowledgedIndex",
                      (json_int_t)parts[s].acked_index, "lag", (json_int_t)parts[s].lag_entries);
        if (p == NULL || json_array_append_new(arr, p) != 0) {
            json_decref(arr);
            json_decref(o);
            return TANDEM_ENOMEM;
        }
    }
    if (json_object_set_new(o, "partitions", arr) != 0) {
        json_decref(o);
        return TANDEM_ENOMEM;
    }
    *out = o;
    return TANDEM_OK;
}

static void respond_json(tandem_http_request *req, unsigned status, json_t *v)
{
    TANDEM_ASSERT(req != NULL);
    char *text = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;
    if (text == NULL) {
        tandem_http_respond_problem(req, 503, "RESOURCE_EXHAUSTED", "out of memory");
    } else {
        tandem_http_respond(req, status, "application/json", text, strlen(text));
    }
    free(text);
    json_decref(v);
}

static bool exporters_present(broker *b, tandem_http_request *req)
{
    TANDEM_ASSERT(b != NULL && req != NULL);
    if (b->exporters == NULL) {
        tandem_http_respond_problem(req, 404, "NOT_FOUND", "this broker has no partitions");
        return false;
    }
    return true;
}

/* GET /actuator/exporters */
static void handle_list(tandem_http_request *req, void *ctx)
{
    broker *b = ctx;
    if (!exporters_present(b, req)) {
        return;
    }
    tandem_exporter_partition_info *parts = calloc(b->slot_count, sizeof(*parts));
    json_t *arr = json_array();
    int rc = parts != NULL && arr != NULL ? TANDEM_OK : TANDEM_ENOMEM;
    for (uint32_t i = 0; rc == TANDEM_OK && i < tandem_exporters_count(b->exporters); i++) {
        json_t *o = NULL;
        rc = json_exporter(b, i, parts, &o);
        if (rc == TANDEM_OK && json_array_append_new(arr, o) != 0) {
            rc = TANDEM_ENOMEM;
        }
    }
    free(parts);
    if (rc != TANDEM_OK) {
        json_decref(arr);
        arr = NULL;
    }
    respond_json(req, 200, arr);
}

static void respond_one(broker *b, tandem_http_request *req, const char *id)
{
    TANDEM_ASSERT(b != NULL && req != NULL && id != NULL);
    int i = tandem_exporters_find(b->exporters, id);
    TANDEM_ASSERT(i >= 0);
    tandem_exporter_partition_info *parts = calloc(b->slot_count, sizeof(*parts));
    json_t *o = NULL;
    if (parts != NULL) {
        (void)json_exporter(b, (uint32_t)i, parts, &o);
    }
    free(parts);
    respond_json(req, 200, o);
}

static void respond_error(tandem_http_request *req, int rc, const tandem_diag *diag)
{
    TANDEM_ASSERT(req != NULL && rc != TANDEM_OK);
    unsigned status = rc == TANDEM_ENOENT ? 404 : 400;
    tandem_http_respond_problem(req, status, rc == TANDEM_ENOENT ? "NOT_FOUND" : "INVALID_ARGUMENT",
                                tandem_diag_text(diag));
}

/* POST /actuator/exporters/{id}/disable */
static void handle_disable(tandem_http_request *req, void *ctx)
{
    broker *b = ctx;
    if (!exporters_present(b, req)) {
        return;
    }
    const char *id = tandem_http_param(req, "id");
    TANDEM_ASSERT(id != NULL);
    tandem_diag diag;
    tandem_diag_clear(&diag);
    int rc = tandem_exporters_disable(b->exporters, id, &diag);
    if (rc != TANDEM_OK) {
        respond_error(req, rc, &diag);
        return;
    }
    respond_one(b, req, id);
}

/* POST /actuator/exporters/{id}/enable, body optional {"initializeFrom": "<id>"} */
static void handle_enable(tandem_http_request *req, void *ctx)
{
    broker *b = ctx;
    if (!exporters_present(b, req)) {
        return;
    }
    const char *id = tandem_http_param(req, "id");
    TANDEM_ASSERT(id != NULL);
    size_t len = 0;
    const uint8_t *body = tandem_http_body(req, &len);
    json_t *doc = NULL;
    const char *from = NULL;
    if (len > 0) {
        json_error_t jerr;
        doc = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
        json_t *f = doc != NULL ? json_object_get(doc, "initializeFrom") : NULL;
        if (doc == NULL || !json_is_object(doc) || (f != NULL && !json_is_string(f))) {
            char detail[300];
            snprintf(detail, sizeof(detail),
                     "the body must be a JSON object {\"initializeFrom\": \"<exporter id>\"}%s%s",
                     doc == NULL ? ": " : "", doc == NULL ? jerr.text : "");
            json_decref(doc);
            tandem_http_respond_problem(req, 400, "INVALID_ARGUMENT", detail);
            return;
        }
        from = f != NULL ? json_string_value(f) : NULL;
    }
    tandem_diag diag;
    tandem_diag_clear(&diag);
    int rc = tandem_exporters_enable(b->exporters, id, from, &diag);
    json_decref(doc);
    if (rc != TANDEM_OK) {
        respond_error(req, rc, &diag);
        return;
    }
    respond_one(b, req, id);
}

static void respond_paused(tandem_http_request *req, bool paused)
{
    TANDEM_ASSERT(req != NULL);
    const char *body = paused ? "{\"paused\":true}" : "{\"paused\":false}";
    tandem_http_respond(req, 200, "application/json", body, strlen(body));
}

static void handle_pause(tandem_http_request *req, void *ctx)
{
    broker *b = ctx;
    if (!exporters_present(b, req)) {
        return;
    }
    tandem_exporters_pause(b->exporters);
    respond_paused(req, true);
}

static void handle_resume(tandem_http_request *req, void *ctx)
{
    broker *b = ctx;
    if (!exporters_present(b, req)) {
        return;
    }
    tandem_exporters_resume(b->exporters);
    respond_paused(req, false);
}

int broker_export_routes(broker *b, tandem_diag *diag)
{
    TANDEM_ASSERT(b != NULL && b->mgmt != NULL);
    int rc = tandem_mgmt_route(b->mgmt, "GET", "/actuator/exporters", handle_list, b, diag);
    if (rc == TANDEM_OK) {
        rc = tandem_mgmt_route(b->mgmt, "POST", "/actuator/exporters/{id}/disable", handle_disable,
                               b, diag);
    }
    if (rc == TANDEM_OK) {
        rc = tandem_mgmt_route(b->mgmt, "POST", "/actuator/exporters/{id}/enable", handle_enable, b,
                               diag);
    }
    if (rc == TANDEM_OK) {
        rc = tandem_mgmt_route(b->mgmt, "POST", "/actuator/exporting/pause", handle_pause, b, diag);
    }
    if (rc == TANDEM_OK) {
        rc = tandem_mgmt_route(b->mgmt, "POST", "/actuator/exporting/resume", handle_resume, b,
                               diag);
    }
    return rc;
}
