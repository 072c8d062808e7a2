/*
 * config_schema.c — the one table of configuration keys, and the parsers,
 * formatters and documentation built from it.
 *
 * The order of the table is the order of the printed file and of the docs,
 * and keys of one section stay together so the printer can nest them.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "cluster/config_int.h"

#define KIB ((uint64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define TIB (GIB * 1024)

#define FIELD(f) offsetof(tandem_config, f), sizeof(((tandem_config *)0)->f)

static const config_key keys[] = {
    {"cluster.nodeId", CONFIG_U32, FIELD(node_id), "0", NULL, 0, TANDEM_CLUSTER_SIZE_MAX - 1, 0,
     "< cluster.clusterSize", "Id of this broker; brokers are numbered 0..clusterSize-1."},
    {"cluster.clusterSize", CONFIG_U32, FIELD(cluster_size), "1", NULL, 1, TANDEM_CLUSTER_SIZE_MAX,
     0, "dual-region: even and >= 4", "Number of brokers in the cluster."},
    {"cluster.partitionCount", CONFIG_U32, FIELD(partition_count), "1", NULL, 1,
     TANDEM_PARTITION_COUNT_MAX, 0, NULL, "Number of partitions; each one is a Raft group."},
    {"cluster.replicationFactor", CONFIG_U32, FIELD(replication_factor), "1", NULL, 1,
     TANDEM_REPLICATION_FACTOR_MAX, 0, "<= cluster.clusterSize; dual-region: 4",
     "Replicas of every partition."},
    {"cluster.clusterName", CONFIG_NAME, FIELD(cluster_name), "tandem", NULL, 1,
     TANDEM_CONFIG_NAME_LEN_MAX, 0, NULL,
     "Name of the cluster; a data directory remembers it and refuses another."},
    {"cluster.regions", CONFIG_U32, FIELD(regions), "1", NULL, 1, 2, 0, NULL,
     "1, or 2 for dual-region mode: even broker ids in region 0, odd ids in region 1."},
    {"cluster.initialContactPoints", CONFIG_ADDRESSES, FIELD(initial_contact_points), "",
     "`[]` = cluster.brokers without this broker", 0, TANDEM_CLUSTER_SIZE_MAX, CONFIG_EMPTY_DERIVED,
     "needed when clusterSize > 1 and cluster.brokers is empty",
     "Internal addresses (host:port) a starting broker contacts first."},
    {"cluster.brokers", CONFIG_ADDRESSES, FIELD(brokers), "", NULL, 0, TANDEM_CLUSTER_SIZE_MAX, 0,
     "empty or clusterSize distinct entries",
     "Internal address (host:port) of every broker, indexed by node id."},
    {"network.host", CONFIG_HOST, FIELD(host), "127.0.0.1", NULL, 1, TANDEM_CONFIG_HOST_LEN_MAX, 0,
     NULL, "Address the broker binds its ports to (0.0.0.0 = all interfaces)."},
    {"network.advertisedHost", CONFIG_HOST, FIELD(advertised_host), "", "= network.host", 0,
     TANDEM_CONFIG_HOST_LEN_MAX, CONFIG_EMPTY_DERIVED, "no wildcard when clusterSize > 1",
     "Address other brokers reach this broker at."},
    {"network.internalApi.port", CONFIG_PORT, FIELD(internal_api_port), "26502", NULL, 1, 65535, 0,
     "distinct from the other ports", "Port of broker-to-broker traffic (Raft, commands)."},
    {"api.rest.port", CONFIG_PORT, FIELD(rest_port), "8080", NULL, 1, 65535, 0,
     "distinct from the other ports", "Port of the REST API (/v2)."},
    {"api.grpc.port", CONFIG_PORT, FIELD(grpc_port), "26500", NULL, 1, 65535, 0,
     "distinct from the other ports", "Port of the gRPC gateway API."},
    {"management.port", CONFIG_PORT, FIELD(management_port), "9600", NULL, 1, 65535, 0,
     "distinct from the other ports", "Port of the management API (health, metrics, cluster)."},
    {"management.host", CONFIG_HOST, FIELD(management_host), "", "= network.host", 0,
     TANDEM_CONFIG_HOST_LEN_MAX, CONFIG_EMPTY_DERIVED, NULL,
     "Address the management API binds to."},
    {"management.journalProbe", CONFIG_BOOL, FIELD(management_journal_probe), "false", NULL, 0, 1,
     0, NULL,
     "Serve POST /actuator/journal/append, which writes probe records (for write-path tests)."},
    {"data.directory", CONFIG_PATH, FIELD(data_directory), "data", NULL, 1,
     TANDEM_CONFIG_PATH_LEN_MAX, 0, NULL,
     "Directory of this broker's journals, state and metadata."},
    {"data.logSegmentSize", CONFIG_SIZE, FIELD(log_segment_size_bytes), "128MB", NULL, 64 * KIB,
     2 * GIB, 0, NULL, "Size of one journal segment file."},
    {"data.entrySizeMax", CONFIG_SIZE, FIELD(entry_size_bytes_max), "4MB", NULL, KIB, GIB, 0,
     "< data.logSegmentSize", "Largest journal entry (one batch of records)."},
    {"data.stateMapSize", CONFIG_SIZE, FIELD(state_map_size_bytes), "1GB", NULL, MIB, TIB, 0, NULL,
     "Map size of the state store (LMDB) of each partition replica."},
    {"exporters.sqlite.enabled", CONFIG_BOOL, FIELD(exporter_sqlite_enabled), "true", NULL, 0, 1, 0,
     NULL, "Export committed records to the SQLite store of exporter \"sqlite\"."},
    {"exporters.sqlite.path", CONFIG_PATH, FIELD(exporter_sqlite_path), "store.sqlite", NULL, 1,
     TANDEM_CONFIG_PATH_LEN_MAX, 0, "relative to data.directory",
     "SQLite file of exporter \"sqlite\" (the store the read API serves)."},
    {"exporters.secondary.enabled", CONFIG_BOOL, FIELD(exporter_secondary_enabled), "false", NULL,
     0, 1, 0, NULL, "Also export to a second SQLite store, exporter \"secondary\"."},
    {"exporters.secondary.path", CONFIG_PATH, FIELD(exporter_secondary_path),
     "store-secondary.sqlite", NULL, 1, TANDEM_CONFIG_PATH_LEN_MAX, 0,
     "relative to data.directory; not exporters.sqlite.path",
     "SQLite file of exporter \"secondary\"."},
    {"exporters.maxRetainedEntries", CONFIG_U32, FIELD(exporters_retained_entries_max), "100000",
     NULL, 0, UINT32_MAX, 0, "0 = no bound",
     "Journal entries a partition keeps for an enabled exporter that is behind before new "
     "commands get 503 RESOURCE_EXHAUSTED."},
    {"logging.level", CONFIG_LOG_LEVEL, FIELD(log_level), "info", NULL, TANDEM_LOG_DEBUG,
     TANDEM_LOG_ERROR, 0, NULL, "Lowest level of the log lines written."},
};

#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))
_Static_assert(KEY_COUNT <= CONFIG_KEYS_MAX, "per-key arrays hold every key");

static const char *const level_names[] = {"debug", "info", "warn", "error"};
_Static_assert(TANDEM_LOG_DEBUG == 0 && TANDEM_LOG_ERROR == 3, "level_names matches the enum");

size_t config_key_count_get(void)
{
    TANDEM_ASSERT(KEY_COUNT > 0);
    TANDEM_ASSERT(keys[KEY_COUNT - 1].path != NULL);
    return KEY_COUNT;
}

const config_key *config_key_at(size_t index)
{
    TANDEM_ASSERT(index < KEY_COUNT);
    TANDEM_ASSERT(strlen(keys[index].path) <= CONFIG_PATH_LEN_MAX);
    return &keys[index];
}

size_t config_key_index(const config_key *key)
{
    TANDEM_ASSERT(key >= keys && key < keys + KEY_COUNT);
    size_t index = (size_t)(key - keys);
    TANDEM_ASSERT(index < KEY_COUNT);
    return index;
}

const config_key *config_key_find(const char *path, size_t len)
{
    TANDEM_ASSERT(path != NULL || len == 0);
    TANDEM_ASSERT(KEY_COUNT <= CONFIG_KEYS_MAX);
    for (size_t i = 0; i < KEY_COUNT; i++) {
        if (strlen(keys[i].path) == len && memcmp(keys[i].path, path, len) == 0) {
            return &keys[i];
        }
    }
    return NULL;
}

bool config_is_section(const char *path, size_t len)
{
    TANDEM_ASSERT(path != NULL || len == 0);
    TANDEM_ASSERT(KEY_COUNT <= CONFIG_KEYS_MAX);
    if (len == 0) {
        return false;
    }
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const char *p = keys[i].path;
        if (strlen(p) > len && memcmp(p, path, len) == 0 && p[len] == '.') {
            return true;
        }
    }
    return false;
}

void config_env_name(const char *path, char *out, size_t out_size)
{
    TANDEM_ASSERT(path != NULL && out != NULL);
    TANDEM_ASSERT(out_size > 7 + strlen(path));
    size_t n = 0;
    memcpy(out, "TANDEM_", 7);
    n = 7;
    for (const char *p = path; *p != '\0'; p++) {
        out[n++] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
    }
    out[n] = '\0';
}

void config_quote(const char *text, size_t len, char *out, size_t out_size)
{
    TANDEM_ASSERT(text != NULL || len == 0);
    TANDEM_ASSERT(out != NULL && out_size >= 16);
    size_t n = 0;
    out[n++] = '"';
    for (size_t i = 0; i < len; i++) {
        if (i == 64 || n + 8 >= out_size) {
            memcpy(out + n, "...", 3);
            n += 3;
            break;
        }
        unsigned char c = (unsigned char)text[i];
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            n += (size_t)snprintf(out + n, out_size - n, "\\x%02x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    out[n++] = '"';
    out[n] = '\0';
    TANDEM_ASSERT(n < out_size);
}

/* --- numbers and sizes ------------------------------------------------- */

enum number_result { NUMBER_OK, NUMBER_INVALID, NUMBER_RANGE };

/* Decimal digits, optionally after a '-' (which only makes it out of range). */
static enum number_result parse_decimal(const char *t, size_t len, size_t *used, uint64_t *out)
{
    TANDEM_ASSERT(used != NULL && out != NULL);
    size_t i = 0;
    bool negative = false;
    if (len > 0 && t[0] == '-') {
        negative = true;
        i = 1;
    }
    size_t first_digit = i;
    uint64_t v = 0;
    bool overflow = false;
    for (; i < len && t[i] >= '0' && t[i] <= '9'; i++) {
        unsigned d = (unsigned)(t[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            overflow = true;
        } else {
            v = v * 10 + d;
        }
    }
    *used = i;
    *out = v;
    if (i == first_digit) {
        return NUMBER_INVALID;
    }
    TANDEM_ASSERT(i <= len);
    return negative || overflow ? NUMBER_RANGE : NUMBER_OK;
}

static bool word_equals_nocase(const char *t, size_t len, const char *word)
{
    TANDEM_ASSERT(word != NULL && (t != NULL || len == 0));
    return strlen(word) == len && strncasecmp(t, word, len) == 0;
}

/* Units as in Camunda (Spring DataSize): KB, MB, GB, TB are powers of 1024,
 * the same as KiB, MiB, GiB, TiB; no unit or B means bytes. */
static enum number_result parse_size(const char *t, size_t len, uint64_t *out)
{
    static const struct {
        const char *name;
        uint64_t factor;
    } units[] = {{"", 1},      {"B", 1},    {"KB", KIB},  {"KiB", KIB}, {"MB", MIB},
                 {"MiB", MIB}, {"GB", GIB}, {"GiB", GIB}, {"TB", TIB},  {"TiB", TIB}};
    TANDEM_ASSERT(out != NULL);
    size_t used = 0;
    uint64_t v = 0;
    enum number_result r = parse_decimal(t, len, &used, &v);
    if (r == NUMBER_INVALID) {
        return r;
    }
    TANDEM_ASSERT(used <= len);
    while (used < len && t[used] == ' ') {
        used++;
    }
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        if (word_equals_nocase(t + used, len - used, units[u].name)) {
            if (r == NUMBER_OK && v > UINT64_MAX / units[u].factor) {
                return NUMBER_RANGE;
            }
            *out = v * units[u].factor;
            return r;
        }
    }
    return NUMBER_INVALID;
}

void config_size_format(uint64_t bytes, char *out, size_t out_size)
{
    static const struct {
        const char *name;
        uint64_t factor;
    } units[] = {{"TB", TIB}, {"GB", GIB}, {"MB", MIB}, {"KB", KIB}};
    TANDEM_ASSERT(out != NULL && out_size >= 24);
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        if (bytes != 0 && bytes % units[u].factor == 0) {
            snprintf(out, out_size, "%" PRIu64 "%s", bytes / units[u].factor, units[u].name);
            return;
        }
    }
    TANDEM_ASSERT(bytes % KIB != 0 || bytes == 0);
    snprintf(out, out_size, "%" PRIu64, bytes);
}

static void range_text(const config_key *key, char *out, size_t out_size)
{
    TANDEM_ASSERT(key->min <= key->max);
    TANDEM_ASSERT(out != NULL && out_size >= 64);
    if (key->type == CONFIG_SIZE) {
        char lo[24], hi[24];
        config_size_format(key->min, lo, sizeof(lo));
        config_size_format(key->max, hi, sizeof(hi));
        snprintf(out, out_size, "%s..%s", lo, hi);
    } else {
        snprintf(out, out_size, "%" PRIu64 "..%" PRIu64, key->min, key->max);
    }
}

static int parse_number(const config_key *key, const char *t, size_t len, tandem_config *cfg,
                        char *err, size_t err_size)
{
    TANDEM_ASSERT(key->type == CONFIG_U32 || key->type == CONFIG_PORT || key->type == CONFIG_SIZE);
    TANDEM_ASSERT(cfg != NULL && err != NULL);
    uint64_t v = 0;
    enum number_result r;
    if (key->type == CONFIG_SIZE) {
        r = parse_size(t, len, &v);
    } else {
        size_t used = 0;
        r = parse_decimal(t, len, &used, &v);
        if (used != len) {
            r = NUMBER_INVALID;
        }
    }
    char quoted[CONFIG_ERR_LEN_MAX / 2];
    config_quote(t, len, quoted, sizeof(quoted));
    if (r == NUMBER_INVALID) {
        snprintf(err, err_size, "expected %s, got %s",
                 key->type == CONFIG_SIZE ? "a size such as 128MB, 64KiB or 65536 (bytes)"
                                          : "an integer",
                 quoted);
        return TANDEM_ECONFIG;
    }
    if (r == NUMBER_RANGE || v < key->min || v > key->max) {
        char range[64];
        range_text(key, range, sizeof(range));
        /* The text as written: quoted only if it needs escaping. */
        quoted[strlen(quoted) - 1] = '\0';
        snprintf(err, err_size, "must be %s, got %s", range, quoted + 1);
        return TANDEM_ECONFIG;
    }
    char *field = (char *)cfg + key->offset;
    TANDEM_ASSERT(v >= key->min && v <= key->max);
    if (key->type == CONFIG_SIZE) {
        memcpy(field, &v, sizeof(uint64_t));
    } else if (key->type == CONFIG_PORT) {
        uint16_t p = (uint16_t)v;
        memcpy(field, &p, sizeof(p));
    } else {
        uint32_t u = (uint32_t)v;
        memcpy(field, &u, sizeof(u));
    }
    return TANDEM_OK;
}

/* --- strings ------------------------------------------------------------- */

static bool is_name_char(unsigned char c)
{
    return isalnum(c) || c == '.' || c == '_' || c == '-';
}

static bool is_host_char(unsigned char c)
{
    return is_name_char(c) || c == ':';
}

/* Well-formed UTF-8 without control characters. */
static bool is_printable_utf8(const char *t, size_t len)
{
    TANDEM_ASSERT(t != NULL || len == 0);
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)t[i];
        size_t extra;
        if (c < 0x20 || c == 0x7f) {
            return false;
        } else if (c < 0x80) {
            extra = 0;
        } else if (c >= 0xc2 && c <= 0xdf) {
            extra = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            extra = 2;
        } else if (c >= 0xf0 && c <= 0xf4) {
            extra = 3;
        } else {
            return false;
        }
        if (extra > len - i - 1) {
            return false;
        }
        for (size_t k = 1; k <= extra; k++) {
            if (((unsigned char)t[i + k] & 0xc0) != 0x80) {
                return false;
            }
        }
        i += extra + 1;
    }
    TANDEM_ASSERT(i == len);
    return true;
}

static int parse_string(const config_key *key, const char *t, size_t len, tandem_config *cfg,
                        char *err, size_t err_size)
{
    TANDEM_ASSERT(key->size > key->max);
    TANDEM_ASSERT(key->type == CONFIG_NAME || key->type == CONFIG_HOST || key->type == CONFIG_PATH);
    char quoted[CONFIG_ERR_LEN_MAX / 2];
    config_quote(t, len, quoted, sizeof(quoted));
    if (len < key->min) {
        snprintf(err, err_size, "must not be empty");
        return TANDEM_ECONFIG;
    }
    if (len > key->max) {
        snprintf(err, err_size, "must be at most %" PRIu64 " bytes long, got %zu", key->max, len);
        return TANDEM_ECONFIG;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)t[i];
        if (key->type == CONFIG_NAME && !is_name_char(c)) {
            snprintf(err, err_size, "must consist of A-Z a-z 0-9 . _ -, got %s", quoted);
            return TANDEM_ECONFIG;
        }
        if (key->type == CONFIG_HOST && !is_host_char(c)) {
            snprintf(err, err_size,
                     "must be a host name or IP address (letters, digits, . - _ :), got %s",
                     quoted);
            return TANDEM_ECONFIG;
        }
    }
    if (key->type == CONFIG_PATH && !is_printable_utf8(t, len)) {
        snprintf(err, err_size, "must be printable UTF-8 without control characters, got %s",
                 quoted);
        return TANDEM_ECONFIG;
    }
    char *field = (char *)cfg + key->offset;
    memset(field, 0, key->size);
    memcpy(field, t, len);
    return TANDEM_OK;
}

/* --- addresses ----------------------------------------------------------- */

/* "host:port" with a host of [A-Za-z0-9._-] or "[v6-address]", port 1..65535. */
static int check_address(const char *t, size_t len, char *err, size_t err_size)
{
    TANDEM_ASSERT(err != NULL && err_size > 0);
    char quoted[CONFIG_ERR_LEN_MAX / 2];
    config_quote(t, len, quoted, sizeof(quoted));
    size_t colon = len;
    while (colon > 0 && t[colon - 1] != ':') {
        colon--;
    }
    if (colon == 0 || colon == 1) {
        snprintf(err, err_size, "expected \"host:port\", got %s", quoted);
        return TANDEM_ECONFIG;
    }
    colon--; /* index of the ':' */
    size_t host_len = colon;
    bool bracketed = t[0] == '[';
    if (bracketed && (host_len < 3 || t[host_len - 1] != ']')) {
        snprintf(err, err_size, "expected \"host:port\", got %s", quoted);
        return TANDEM_ECONFIG;
    }
    for (size_t i = bracketed ? 1 : 0; i < (bracketed ? host_len - 1 : host_len); i++) {
        unsigned char c = (unsigned char)t[i];
        bool ok = bracketed ? (isxdigit(c) || c == ':' || c == '.') : is_name_char(c);
        if (!ok) {
            snprintf(err, err_size, "expected \"host:port\" with a host name or IP address, got %s",
                     quoted);
            return TANDEM_ECONFIG;
        }
    }
    size_t used = 0;
    uint64_t port = 0;
    enum number_result r = parse_decimal(t + colon + 1, len - colon - 1, &used, &port);
    if (r != NUMBER_OK || used != len - colon - 1 || port < 1 || port > 65535) {
        snprintf(err, err_size, "port must be 1..65535 in \"host:port\", got %s", quoted);
        return TANDEM_ECONFIG;
    }
    TANDEM_ASSERT(host_len + 1 < len);
    return TANDEM_OK;
}

const tandem_config_addresses *config_addresses_of(const config_key *key, const tandem_config *cfg)
{
    TANDEM_ASSERT(key->type == CONFIG_ADDRESSES);
    TANDEM_ASSERT(key->size == sizeof(tandem_config_addresses));
    return (const tandem_config_addresses *)(const void *)((const char *)cfg + key->offset);
}

static tandem_config_addresses *addresses_of(const config_key *key, tandem_config *cfg)
{
    TANDEM_ASSERT(key->type == CONFIG_ADDRESSES);
    TANDEM_ASSERT(key->size == sizeof(tandem_config_addresses));
    return (tandem_config_addresses *)(void *)((char *)cfg + key->offset);
}

void config_list_clear(const config_key *key, tandem_config *cfg)
{
    TANDEM_ASSERT(cfg != NULL);
    tandem_config_addresses *list = addresses_of(key, cfg);
    memset(list, 0, sizeof(*list));
    TANDEM_ASSERT(list->count == 0);
}

int config_list_append(const config_key *key, const char *text, size_t len, tandem_config *cfg,
                       char *err, size_t err_size)
{
    tandem_config_addresses *list = addresses_of(key, cfg);
    TANDEM_ASSERT(list->count <= key->max && key->max <= TANDEM_CLUSTER_SIZE_MAX);
    char inner[CONFIG_ERR_LEN_MAX];
    if (list->count == key->max) {
        snprintf(err, err_size, "must have at most %" PRIu64 " entries", key->max);
        return TANDEM_ECONFIG;
    }
    if (len > TANDEM_CONFIG_ADDRESS_LEN_MAX) {
        snprintf(err, err_size, "entry %" PRIu32 ": must be at most %d bytes long, got %zu",
                 list->count, TANDEM_CONFIG_ADDRESS_LEN_MAX, len);
        return TANDEM_ECONFIG;
    }
    if (check_address(text, len, inner, sizeof(inner)) != TANDEM_OK) {
        snprintf(err, err_size, "entry %" PRIu32 ": %s", list->count, inner);
        return TANDEM_ECONFIG;
    }
    char *item = list->items[list->count];
    memset(item, 0, TANDEM_CONFIG_ADDRESS_LEN_MAX + 1);
    memcpy(item, text, len);
    list->count++;
    TANDEM_ASSERT(list->count <= key->max);
    return TANDEM_OK;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Comma-separated "host:port" entries; blank text is the empty list. */
static int parse_list(const config_key *key, const char *t, size_t len, tandem_config *cfg,
                      char *err, size_t err_size)
{
    TANDEM_ASSERT(key->type == CONFIG_ADDRESSES);
    TANDEM_ASSERT(t != NULL || len == 0);
    config_list_clear(key, cfg);
    size_t start = 0;
    while (start < len && is_blank(t[start])) {
        start++;
    }
    if (start == len) {
        return TANDEM_OK;
    }
    /* Each round consumes at least one byte, so the loop ends. */
    size_t pos = 0;
    while (pos <= len) {
        size_t end = pos;
        while (end < len && t[end] != ',') {
            end++;
        }
        size_t a = pos, b = end;
        while (a < b && is_blank(t[a])) {
            a++;
        }
        while (b > a && is_blank(t[b - 1])) {
            b--;
        }
        int rc = config_list_append(key, t + a, b - a, cfg, err, err_size);
        if (rc != TANDEM_OK) {
            return rc;
        }
        pos = end + 1;
    }
    return TANDEM_OK;
}

/* --- booleans ------------------------------------------------------------ */

static int parse_bool(const config_key *key, const char *text, size_t len, tandem_config *cfg,
                      char *err, size_t err_size)
{
    TANDEM_ASSERT(key->type == CONFIG_BOOL && key->size == sizeof(bool));
    bool v;
    if (len == 4 && memcmp(text, "true", 4) == 0) {
        v = true;
    } else if (len == 5 && memcmp(text, "false", 5) == 0) {
        v = false;
    } else {
        char quoted[CONFIG_ERR_LEN_MAX / 2];
        config_quote(text, len, quoted, sizeof(quoted));
        snprintf(err, err_size, "expected true or false, got %s", quoted);
        return TANDEM_ECONFIG;
    }
    memcpy((char *)cfg + key->offset, &v, sizeof(v));
    return TANDEM_OK;
}

/* --- any value ----------------------------------------------------------- */

int config_value_parse(const config_key *key, const char *text, size_t len, tandem_config *cfg,
                       char *err, size_t err_size)
{
    TANDEM_ASSERT(key != NULL && cfg != NULL && err != NULL && err_size > 0);
    TANDEM_ASSERT(text != NULL || len == 0);
    err[0] = '\0';
    switch (key->type) {
    case CONFIG_U32:
    case CONFIG_PORT:
    case CONFIG_SIZE:
        return parse_number(key, text, len, cfg, err, err_size);
    case CONFIG_NAME:
    case CONFIG_HOST:
    case CONFIG_PATH:
        return parse_string(key, text, len, cfg, err, err_size);
    case CONFIG_ADDRESSES:
        return parse_list(key, text, len, cfg, err, err_size);
    case CONFIG_LOG_LEVEL:
        for (int i = 0; i < 4; i++) {
            if (strlen(level_names[i]) == len && memcmp(level_names[i], text, len) == 0) {
                enum tandem_log_level level = (enum tandem_log_level)i;
                memcpy((char *)cfg + key->offset, &level, sizeof(level));
                return TANDEM_OK;
            }
        }
        char quoted[CONFIG_ERR_LEN_MAX / 2];
        config_quote(text, len, quoted, sizeof(quoted));
        snprintf(err, err_size, "must be one of debug, info, warn, error, got %s", quoted);
        return TANDEM_ECONFIG;
    case CONFIG_BOOL:
        return parse_bool(key, text, len, cfg, err, err_size);
    }
    TANDEM_UNREACHABLE();
}

void config_value_format(const config_key *key, const tandem_config *cfg, char *out,
                         size_t out_size)
{
    TANDEM_ASSERT(key != NULL && cfg != NULL && out != NULL);
    TANDEM_ASSERT(out_size > TANDEM_CONFIG_PATH_LEN_MAX);
    const char *field = (const char *)cfg + key->offset;
    uint32_t u32;
    uint16_t u16;
    uint64_t u64;
    enum tandem_log_level level;
    switch (key->type) {
    case CONFIG_U32:
        memcpy(&u32, field, sizeof(u32));
        snprintf(out, out_size, "%" PRIu32, u32);
        return;
    case CONFIG_PORT:
        memcpy(&u16, field, sizeof(u16));
        snprintf(out, out_size, "%u", (unsigned)u16);
        return;
    case CONFIG_SIZE:
        memcpy(&u64, field, sizeof(u64));
        config_size_format(u64, out, out_size);
        return;
    case CONFIG_NAME:
    case CONFIG_HOST:
    case CONFIG_PATH:
        snprintf(out, out_size, "%s", field);
        return;
    case CONFIG_LOG_LEVEL:
        memcpy(&level, field, sizeof(level));
        TANDEM_ASSERT(level >= TANDEM_LOG_DEBUG && level <= TANDEM_LOG_ERROR);
        snprintf(out, out_size, "%s", level_names[level]);
        return;
    case CONFIG_BOOL:
        snprintf(out, out_size, "%s", *(const bool *)(const void *)field ? "true" : "false");
        return;
    case CONFIG_ADDRESSES:
        break;
    }
    TANDEM_UNREACHABLE();
}

bool config_value_equal(const config_key *key, const tandem_config *a, const tandem_config *b)
{
    TANDEM_ASSERT(key != NULL && a != NULL && b != NULL);
    TANDEM_ASSERT(key->offset + key->size <= sizeof(tandem_config));
    if (key->type == CONFIG_ADDRESSES) {
        const tandem_config_addresses *la = config_addresses_of(key, a);
        const tandem_config_addresses *lb = config_addresses_of(key, b);
        if (la->count != lb->count) {
            return false;
        }
        for (uint32_t i = 0; i < la->count; i++) {
            if (strcmp(la->items[i], lb->items[i]) != 0) {
                return false;
            }
        }
        return true;
    }
    char va[TANDEM_CONFIG_PATH_LEN_MAX + 1];
    char vb[TANDEM_CONFIG_PATH_LEN_MAX + 1];
    config_value_format(key, a, va, sizeof(va));
    config_value_format(key, b, vb, sizeof(vb));
    return strcmp(va, vb) == 0;
}

/* --- documentation ------------------------------------------------------- */

static const char *type_name(enum config_type type)
{
    switch (type) {
    case CONFIG_U32:
        return "integer";
    case CONFIG_PORT:
        return "port";
    case CONFIG_SIZE:
        return "size";
    case CONFIG_NAME:
    case CONFIG_HOST:
    case CONFIG_PATH:
        return "string";
    case CONFIG_ADDRESSES:
        return "list";
    case CONFIG_LOG_LEVEL:
        return "enum";
    case CONFIG_BOOL:
        return "boolean";
    }
    TANDEM_UNREACHABLE();
}

size_t tandem_config_key_count(void)
{
    return config_key_count_get();
}

void tandem_config_key_describe(size_t index, tandem_config_key_info *out)
{
    TANDEM_ASSERT(out != NULL);
    const config_key *key = config_key_at(index);
    out->path = key->path;
    out->type = type_name(key->type);
    out->doc = key->doc;
    out->default_text = key->default_doc != NULL ? key->default_doc : key->default_text;
    config_env_name(key->path, out->env, sizeof(out->env));
    char base[64];
    switch (key->type) {
    case CONFIG_U32:
    case CONFIG_PORT:
    case CONFIG_SIZE:
        range_text(key, base, sizeof(base));
        break;
    case CONFIG_NAME:
        snprintf(base, sizeof(base), "1..%" PRIu64 " of A-Z a-z 0-9 . _ -", key->max);
        break;
    case CONFIG_HOST:
        snprintf(base, sizeof(base), "host name or IP address%s",
                 key->flags & CONFIG_EMPTY_DERIVED ? "; empty = derived" : "");
        break;
    case CONFIG_PATH:
        snprintf(base, sizeof(base), "1..%" PRIu64 " bytes", key->max);
        break;
    case CONFIG_ADDRESSES:
        snprintf(base, sizeof(base), "up to %" PRIu64 " host:port", key->max);
        break;
    case CONFIG_LOG_LEVEL:
        snprintf(base, sizeof(base), "debug, info, warn, error");
        break;
    case CONFIG_BOOL:
        snprintf(base, sizeof(base), "true, false");
        break;
    }
    int n = snprintf(out->rule, sizeof(out->rule), "%s%s%s", base, key->rule_extra ? "; " : "",
                     key->rule_extra ? key->rule_extra : "");
    TANDEM_ASSERT(n > 0 && (size_t)n < sizeof(out->rule));
}

int tandem_config_doc_table(tandem_buf *out)
{
    TANDEM_ASSERT(out != NULL);
    static const char head[] = "| Key | Type | Default | Rule | Environment variable | "
                               "Description |\n|---|---|---|---|---|---|\n";
    int rc = tandem_buf_append(out, head, sizeof(head) - 1);
    for (size_t i = 0; i < KEY_COUNT && rc == TANDEM_OK; i++) {
        tandem_config_key_info info;
        tandem_config_key_describe(i, &info);
        char def[128];
        if (keys[i].default_doc != NULL) {
            snprintf(def, sizeof(def), "%s", info.default_text);
        } else {
            snprintf(def, sizeof(def), "`%s`",
                     keys[i].type == CONFIG_ADDRESSES ? "[]" : info.default_text);
        }
        char line[768];
        int n = snprintf(line, sizeof(line), "| `%s` | %s | %s | %s | `%s` | %s |\n", info.path,
                         info.type, def, info.rule, info.env, info.doc);
        TANDEM_ASSERT(n > 0 && (size_t)n < sizeof(line));
        rc = tandem_buf_append(out, line, (size_t)n);
    }
    return rc;
}
