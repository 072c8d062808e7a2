/*
 * config.c — loading a configuration: defaults, then the YAML file, then the
 * TANDEM_* environment variables, then derived defaults, then the rules that
 * relate keys to each other (dual-region mode, replication, ports).
 */
#include "cluster/config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/fileops.h"
#include "cluster/config_int.h"

/* The environment of a process is finite, but a limit keeps the loop honest. */
#define ENV_ENTRIES_MAX (1u << 20)

int config_key_error(config_load *ld, const config_key *key, const char *fmt, ...)
{
    TANDEM_ASSERT(ld != NULL && key != NULL && fmt != NULL);
    char text[CONFIG_ERR_LEN_MAX * 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    const config_origin *o = &ld->origins[config_key_index(key)];
    TANDEM_ASSERT(o->kind == CONFIG_FROM_DEFAULT || o->kind == CONFIG_FROM_FILE ||
                  o->kind == CONFIG_FROM_ENV);
    if (o->kind == CONFIG_FROM_FILE) {
        return tandem_diag_set(ld->diag, TANDEM_ECONFIG, "%s:%" PRIu64 ":%" PRIu64 ": %s: %s",
                               ld->name, o->line, o->column, key->path, text);
    }
    if (o->kind == CONFIG_FROM_ENV) {
        char env[CONFIG_ENV_LEN_MAX + 1];
        config_env_name(key->path, env, sizeof(env));
        return tandem_diag_set(ld->diag, TANDEM_ECONFIG, "environment variable %s: %s: %s", env,
                               key->path, text);
    }
    return tandem_diag_set(ld->diag, TANDEM_ECONFIG, "%s: %s", key->path, text);
}

/* --- suggestions --------------------------------------------------------- */

#define SUGGEST_LEN_MAX 80

/* Edit distance, ignoring case; both strings at most SUGGEST_LEN_MAX. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    TANDEM_ASSERT(la <= SUGGEST_LEN_MAX && lb <= SUGGEST_LEN_MAX);
    size_t prev[SUGGEST_LEN_MAX + 1], cur[SUGGEST_LEN_MAX + 1];
    for (size_t j = 0; j <= lb; j++) {
        prev[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            char ca = a[i - 1], cb = b[j - 1];
            ca = (char)(ca >= 'A' && ca <= 'Z' ? ca + 32 : ca);
            cb = (char)(cb >= 'A' && cb <= 'Z' ? cb + 32 : cb);
            size_t best = prev[j - 1] + (ca == cb ? 0 : 1);
            best = prev[j] + 1 < best ? prev[j] + 1 : best;
            best = cur[j - 1] + 1 < best ? cur[j - 1] + 1 : best;
            cur[j] = best;
        }
        memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
    }
    TANDEM_ASSERT(prev[lb] <= (la > lb ? la : lb));
    return prev[lb];
}

typedef struct suggestion {
    const char *unknown;
    size_t len;
    size_t best_distance;
    char best[SUGGEST_LEN_MAX + 1];
} suggestion;

static void consider(suggestion *s, const char *candidate, size_t len)
{
    TANDEM_ASSERT(s != NULL && candidate != NULL);
    TANDEM_ASSERT(len <= SUGGEST_LEN_MAX);
    size_t d = edit_distance(s->unknown, s->len, candidate, len);
    /* Close enough to be a typo: a few edits, and fewer than a third of the
     * name, so short names do not match everything. */
    if (d < s->best_distance && d <= 3 && d * 3 < len) {
        s->best_distance = d;
        snprintf(s->best, sizeof(s->best), "%.*s", (int)len, candidate);
    }
}

void config_suggest(const char *unknown, size_t len, bool env, char *out, size_t out_size)
{
    TANDEM_ASSERT(unknown != NULL && out != NULL && out_size > 0);
    out[0] = '\0';
    if (len > SUGGEST_LEN_MAX) {
        return;
    }
    suggestion s = {unknown, len, SIZE_MAX, ""};
    /* A file key is compared with keys and sections of its own depth: a
     * misspelt "cluster.x" is no typo of "cluster". */
    size_t dots = 0;
    for (size_t i = 0; i < len; i++) {
        dots += unknown[i] == '.';
    }
    for (size_t i = 0; i < config_key_count_get(); i++) {
        const char *path = config_key_at(i)->path;
        if (env) {
            char name[CONFIG_ENV_LEN_MAX + 1];
            config_env_name(path, name, sizeof(name));
            consider(&s, name, strlen(name));
            continue;
        }
        size_t depth = 0;
        for (const char *p = path;; p++) {
            if (*p == '.' || *p == '\0') {
                if (depth == dots) {
                    consider(&s, path, (size_t)(p - path)); /* the key or one of its sections */
                }
                if (*p == '\0') {
                    break;
                }
                depth++;
            }
        }
    }
    snprintf(out, out_size, "%s", s.best);
    TANDEM_ASSERT(s.best_distance == SIZE_MAX || s.best[0] != '\0');
}

/* --- environment --------------------------------------------------------- */

bool tandem_config_env_allowed(const char *name)
{
    TANDEM_ASSERT(name != NULL);
    size_t len = strcspn(name, "=");
    TANDEM_ASSERT(name[len] == '\0' || name[len] == '=');
    static const char config_var[] = "TANDEM_CONFIG";
    static const char test_prefix[] = "TANDEM_TEST_";
    if (len == sizeof(config_var) - 1 && memcmp(name, config_var, len) == 0) {
        return true;
    }
    return len >= sizeof(test_prefix) - 1 &&
           memcmp(name, test_prefix, sizeof(test_prefix) - 1) == 0;
}

static const config_key *key_of_env(const char *name, size_t len)
{
    TANDEM_ASSERT(name != NULL);
    TANDEM_ASSERT(len <= strlen(name));
    for (size_t i = 0; i < config_key_count_get(); i++) {
        const config_key *key = config_key_at(i);
        char env[CONFIG_ENV_LEN_MAX + 1];
        config_env_name(key->path, env, sizeof(env));
        if (strlen(env) == len && memcmp(env, name, len) == 0) {
            return key;
        }
    }
    return NULL;
}

static int apply_env_entry(config_load *ld, const char *entry)
{
    TANDEM_ASSERT(ld != NULL && ld->origins != NULL);
    TANDEM_ASSERT(entry != NULL && strncmp(entry, "TANDEM_", 7) == 0);
    size_t name_len = strcspn(entry, "=");
    const char *value = entry[name_len] == '=' ? entry + name_len + 1 : "";
    if (tandem_config_env_allowed(entry)) {
        return TANDEM_OK;
    }
    const config_key *key = key_of_env(entry, name_len);
    if (key == NULL) {
        char quoted[CONFIG_ERR_LEN_MAX / 2];
        config_quote(entry, name_len, quoted, sizeof(quoted));
        char hint[CONFIG_ENV_LEN_MAX + 1];
        config_suggest(entry, name_len, true, hint, sizeof(hint));
        return tandem_diag_set(ld->diag, TANDEM_ECONFIG,
                               "environment variable %s matches no configuration key%s%s%s", quoted,
                               hint[0] ? " (did you mean " : "", hint, hint[0] ? "?)" : "");
    }
    config_origin *o = &ld->origins[config_key_index(key)];
    if (o->kind == CONFIG_FROM_ENV) {
        return TANDEM_OK; /* the first one wins, as with getenv */
    }
    o->kind = CONFIG_FROM_ENV;
    size_t len = strlen(value);
    while (len > 0 && (value[0] == ' ' || value[0] == '\t')) {
        value++;
        len--;
    }
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t')) {
        len--;
    }
    char err[CONFIG_ERR_LEN_MAX];
    if (config_value_parse(key, value, len, ld->cfg, err, sizeof(err)) != TANDEM_OK) {
        return config_key_error(ld, key, "%s", err);
    }
    return TANDEM_OK;
}

static int apply_env(config_load *ld, char *const *envp)
{
    TANDEM_ASSERT(ld != NULL && ld->cfg != NULL);
    if (envp == NULL) {
        return TANDEM_OK;
    }
    for (size_t i = 0; envp[i] != NULL; i++) {
        if (i == ENV_ENTRIES_MAX) {
            return tandem_diag_set(ld->diag, TANDEM_ECONFIG, "environment: more than %u variables",
                                   ENV_ENTRIES_MAX);
        }
        if (strncmp(envp[i], "TANDEM_", 7) != 0) {
            continue;
        }
        int rc = apply_env_entry(ld, envp[i]);
        if (rc != TANDEM_OK) {
            return rc;
        }
    }
    return TANDEM_OK;
}

/* --- defaults, derived values and rules across keys ---------------------- */

static void set_defaults(tandem_config *cfg)
{
    TANDEM_ASSERT(cfg != NULL);
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < config_key_count_get(); i++) {
        const config_key *key = config_key_at(i);
        char err[CONFIG_ERR_LEN_MAX];
        int rc = config_value_parse(key, key->default_text, strlen(key->default_text), cfg, err,
                                    sizeof(err));
        /* Empty defaults of derived keys are filled in by derive_hosts. */
        TANDEM_ASSERT(rc == TANDEM_OK ||
                      (key->flags & CONFIG_EMPTY_DERIVED && key->default_text[0] == '\0'));
    }
}

/* Empty advertised and management hosts mean network.host. */
static void derive_hosts(tandem_config *cfg)
{
    TANDEM_ASSERT(cfg->host[0] != '\0');
    _Static_assert(sizeof(cfg->advertised_host) == sizeof(cfg->host), "same capacity");
    _Static_assert(sizeof(cfg->management_host) == sizeof(cfg->host), "same capacity");
    if (cfg->advertised_host[0] == '\0') {
        memcpy(cfg->advertised_host, cfg->host, sizeof(cfg->host));
    }
    if (cfg->management_host[0] == '\0') {
        memcpy(cfg->management_host, cfg->host, sizeof(cfg->host));
    }
    TANDEM_ASSERT(cfg->advertised_host[0] != '\0' && cfg->management_host[0] != '\0');
}

/* Empty contact points mean every other broker of the brokers list. */
static void derive_contact_points(tandem_config *cfg)
{
    TANDEM_ASSERT(cfg->brokers.count == 0 || cfg->brokers.count == cfg->cluster_size);
    TANDEM_ASSERT(cfg->node_id < cfg->cluster_size);
    if (cfg->initial_contact_points.count != 0) {
        return;
    }
    for (uint32_t i = 0; i < cfg->brokers.count; i++) {
        if (i != cfg->node_id) {
            tandem_config_addresses *cp = &cfg->initial_contact_points;
            memcpy(cp->items[cp->count], cfg->brokers.items[i], sizeof(cp->items[0]));
            cp->count++;
        }
    }
    TANDEM_ASSERT(cfg->initial_contact_points.count + 1 == cfg->brokers.count ||
                  cfg->brokers.count == 0);
}

static const config_key *key_named(const char *path)
{
    const config_key *key = config_key_find(path, strlen(path));
    TANDEM_ASSERT(key != NULL);
    return key;
}

static bool is_wildcard(const char *host)
{
    TANDEM_ASSERT(host != NULL);
    return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || strcmp(host, "[::]") == 0;
}

/* Dual-region mode, replication and node id. */
static int check_cluster(config_load *ld)
{
    const tandem_config *c = ld->cfg;
    TANDEM_ASSERT(c->regions == 1 || c->regions == 2);
    TANDEM_ASSERT(c->cluster_size >= 1 && c->replication_factor >= 1);
    if (c->regions == 2 && (c->cluster_size % 2 != 0 || c->cluster_size < 4)) {
        return config_key_error(ld, key_named("cluster.clusterSize"),
                                "dual-region mode (cluster.regions: 2) needs an even clusterSize "
                                ">= 4, got %" PRIu32,
                                c->cluster_size);
    }
    if (c->regions == 2 && c->replication_factor != 4) {
        return config_key_error(ld, key_named("cluster.replicationFactor"),
                                "dual-region mode needs replicationFactor 4, got %" PRIu32,
                                c->replication_factor);
    }
    if (c->replication_factor > c->cluster_size) {
        return config_key_error(ld, key_named("cluster.replicationFactor"),
                                "must be <= cluster.clusterSize (%" PRIu32 " > %" PRIu32 ")",
                                c->replication_factor, c->cluster_size);
    }
    if (c->node_id >= c->cluster_size) {
        return config_key_error(ld, key_named("cluster.nodeId"),
                                "must be < clusterSize (%" PRIu32 " >= %" PRIu32 ")", c->node_id,
                                c->cluster_size);
    }
    return TANDEM_OK;
}

/* The brokers list, contact points and the advertised address. */
static int check_membership(config_load *ld)
{
    const tandem_config *c = ld->cfg;
    TANDEM_ASSERT(c->node_id < c->cluster_size);
    const tandem_config_addresses *b = &c->brokers;
    TANDEM_ASSERT(b->count <= TANDEM_CLUSTER_SIZE_MAX);
    if (b->count != 0 && b->count != c->cluster_size) {
        return config_key_error(ld, key_named("cluster.brokers"),
                                "must list one address per broker (cluster.clusterSize %" PRIu32
                                "), got %" PRIu32,
                                c->cluster_size, b->count);
    }
    for (uint32_t j = 1; j < b->count; j++) {
        for (uint32_t i = 0; i < j; i++) {
            if (strcmp(b->items[i], b->items[j]) == 0) {
                return config_key_error(ld, key_named("cluster.brokers"),
                                        "entries %" PRIu32 " and %" PRIu32 " are both \"%s\"", i, j,
                                        b->items[j]);
            }
        }
    }
    if (c->cluster_size > 1 && b->count == 0 && c->initial_contact_points.count == 0) {
        return config_key_error(ld, key_named("cluster.initialContactPoints"),
                                "a cluster of %" PRIu32 " brokers needs cluster.brokers or "
                                "cluster.initialContactPoints",
                                c->cluster_size);
    }
    if (c->cluster_size > 1 && is_wildcard(c->advertised_host)) {
        return config_key_error(ld, key_named("network.advertisedHost"),
                                "must be an address other brokers can reach when clusterSize > 1, "
                                "got \"%s\" (set network.advertisedHost)",
                                c->advertised_host);
    }
    return TANDEM_OK;
}

/* The four ports of one broker must differ. The message blames the key that
 * was set explicitly, the later one when both were. */
static int check_ports(config_load *ld)
{
    static const char *const paths[] = {"network.internalApi.port", "api.rest.port",
                                        "api.grpc.port", "management.port"};
    TANDEM_ASSERT(ld != NULL && ld->cfg != NULL);
    const tandem_config *c = ld->cfg;
    const uint16_t ports[] = {c->internal_api_port, c->rest_port, c->grpc_port, c->management_port};
    _Static_assert(sizeof(ports) / sizeof(ports[0]) == sizeof(paths) / sizeof(paths[0]),
                   "one path per port");
    for (size_t j = 1; j < sizeof(ports) / sizeof(ports[0]); j++) {
        for (size_t i = 0; i < j; i++) {
            if (ports[i] != ports[j]) {
                continue;
            }
            const config_key *ki = key_named(paths[i]), *kj = key_named(paths[j]);
            bool j_default = ld->origins[config_key_index(kj)].kind == CONFIG_FROM_DEFAULT;
            bool i_default = ld->origins[config_key_index(ki)].kind == CONFIG_FROM_DEFAULT;
            const config_key *blame = j_default && !i_default ? ki : kj;
            const config_key *other = blame == kj ? ki : kj;
            return config_key_error(ld, blame, "clashes with %s (both %u)", other->path,
                                    (unsigned)ports[j]);
        }
    }
    return TANDEM_OK;
}

static int check_data(config_load *ld)
{
    const tandem_config *c = ld->cfg;
    TANDEM_ASSERT(c->log_segment_size_bytes > 0);
    TANDEM_ASSERT(c->entry_size_bytes_max > 0);
    if (c->entry_size_bytes_max >= c->log_segment_size_bytes) {
        char entry[32], segment[32];
        config_size_format(c->entry_size_bytes_max, entry, sizeof(entry));
        config_size_format(c->log_segment_size_bytes, segment, sizeof(segment));
        return config_key_error(ld, key_named("data.entrySizeMax"),
                                "must be smaller than data.logSegmentSize (%s >= %s)", entry,
                                segment);
    }
    return TANDEM_OK;
}

/* Two exporters writing one SQLite file would each take the other's rows for
 * their own; only the enabled ones matter. */
static int check_exporters(config_load *ld)
{
    const tandem_config *c = ld->cfg;
    TANDEM_ASSERT(c->exporter_sqlite_path[0] != '\0');
    TANDEM_ASSERT(c->exporter_secondary_path[0] != '\0');
    if (c->exporter_sqlite_enabled && c->exporter_secondary_enabled &&
        strcmp(c->exporter_sqlite_path, c->exporter_secondary_path) == 0) {
        return config_key_error(ld, key_named("exporters.secondary.path"),
                                "is the same file as exporters.sqlite.path (\"%s\")",
                                c->exporter_secondary_path);
    }
    return TANDEM_OK;
}

static int finish(config_load *ld)
{
    TANDEM_ASSERT(ld != NULL && ld->cfg != NULL);
    derive_hosts(ld->cfg);
    int rc = check_cluster(ld);
    if (rc == TANDEM_OK) {
        rc = check_membership(ld);
    }
    if (rc == TANDEM_OK) {
        rc = check_ports(ld);
    }
    if (rc == TANDEM_OK) {
        rc = check_data(ld);
    }
    if (rc == TANDEM_OK) {
        rc = check_exporters(ld);
    }
    if (rc == TANDEM_OK) {
        derive_contact_points(ld->cfg);
        TANDEM_ASSERT(ld->cfg->node_id < ld->cfg->cluster_size);
    }
    return rc;
}

/* --- public -------------------------------------------------------------- */

void tandem_config_defaults(tandem_config *cfg)
{
    TANDEM_ASSERT(cfg != NULL);
    set_defaults(cfg);
    derive_hosts(cfg);
    TANDEM_ASSERT(cfg->cluster_size == 1 && cfg->brokers.count == 0);
}

int tandem_config_load_buffer(tandem_config *cfg, const char *name, const void *data, size_t len,
                              char *const *envp, tandem_diag *diag)
{
    TANDEM_ASSERT(cfg != NULL && name != NULL);
    TANDEM_ASSERT(data != NULL || len == 0);
    tandem_diag_clear(diag);
    config_origin origins[CONFIG_KEYS_MAX];
    memset(origins, 0, sizeof(origins));
    config_load ld = {cfg, name, diag, origins};
    set_defaults(cfg);
    int rc = config_yaml_read(&ld, data, len);
    if (rc == TANDEM_OK) {
        rc = apply_env(&ld, envp);
    }
    if (rc == TANDEM_OK) {
        rc = finish(&ld);
    }
    if (rc != TANDEM_OK) {
        TANDEM_ASSERT(diag == NULL || diag->code == rc);
        tandem_config_defaults(cfg);
    }
    return rc;
}

int tandem_config_load_file(tandem_config *cfg, const char *path, char *const *envp,
                            tandem_diag *diag)
{
    TANDEM_ASSERT(cfg != NULL);
    if (path == NULL) {
        return tandem_config_load_buffer(cfg, "(no file)", NULL, 0, envp, diag);
    }
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = tandem_file_read_all(tandem_fileops_posix(), path, TANDEM_CONFIG_FILE_SIZE_BYTES_MAX,
                                  &data, &len);
    if (rc == TANDEM_ETOOBIG) {
        tandem_config_defaults(cfg);
        return tandem_diag_set(diag, rc, "%s: configuration file is larger than %d bytes", path,
                               TANDEM_CONFIG_FILE_SIZE_BYTES_MAX);
    }
    if (rc != TANDEM_OK) {
        tandem_config_defaults(cfg);
        return tandem_diag_set(diag, rc, "%s: cannot read the configuration file: %s", path,
                               tandem_strerror(rc));
    }
    TANDEM_ASSERT(data != NULL && len <= TANDEM_CONFIG_FILE_SIZE_BYTES_MAX);
    rc = tandem_config_load_buffer(cfg, path, data, len, envp, diag);
    free(data);
    return rc;
}

int tandem_config_print(const tandem_config *cfg, tandem_buf *out)
{
    TANDEM_ASSERT(cfg != NULL && out != NULL);
    TANDEM_ASSERT(cfg->cluster_size >= 1 && cfg->node_id < cfg->cluster_size);
    static const char header[] = "# tandem: effective configuration (defaults, then the file, "
                                 "then TANDEM_* variables)\n";
    int rc = tandem_buf_append(out, header, sizeof(header) - 1);
    if (rc != TANDEM_OK) {
        return rc;
    }
    return config_yaml_print(cfg, out);
}

bool tandem_config_equal(const tandem_config *a, const tandem_config *b)
{
    TANDEM_ASSERT(a != NULL && b != NULL);
    TANDEM_ASSERT(config_key_count_get() <= CONFIG_KEYS_MAX);
    for (size_t i = 0; i < config_key_count_get(); i++) {
        if (!config_value_equal(config_key_at(i), a, b)) {
            return false;
        }
    }
    return true;
}
