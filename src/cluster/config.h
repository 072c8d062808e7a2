/*
 * config.h — the configuration of one broker: a YAML file, environment
 * overrides and defaults, loaded into one plain struct and validated.
 *
 * Every key is described once, in the schema table of config_schema.c: its
 * dotted path (`cluster.clusterSize`), its type, where it lives in
 * tandem_config, its default, its bounds and a line of documentation. Parsing,
 * environment overrides, validation, printing and the documentation table of
 * docs/CONFIGURATION.md all come from that table, so they cannot drift apart.
 * Keys mirror Camunda's where the concept is the same.
 *
 * Precedence: an environment variable beats the file, the file beats the
 * default. Key `a.bC.d` is overridden by `TANDEM_A_BC_D` (path upper-cased,
 * dots become underscores); lists are comma-separated there. A variable that
 * starts with `TANDEM_` and names no key is an error, except the non-config
 * variables of the allow-list (TANDEM_CONFIG and every TANDEM_TEST_*).
 *
 * Errors: loading stops at the first problem and returns TANDEM_ECONFIG with a
 * message in the tandem_diag that names the place (`file:line:column` or the
 * environment variable), the key and the rule, e.g.
 *   config.yaml:3:5: unknown key "cluster.clustersize" (did you mean "cluster.clusterSize"?)
 * Bad input never aborts.
 *
 * Ownership: tandem_config is a plain value with fixed-size fields; it owns no
 * memory, may be copied with `=`, and needs no free. Functions here keep no
 * pointer to their arguments after they return.
 */
#ifndef TANDEM_CLUSTER_CONFIG_H
#define TANDEM_CLUSTER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/log.h"

/* Brokers in one cluster. Broker-indexed arrays elsewhere are sized by it. */
#define TANDEM_CLUSTER_SIZE_MAX 64
/* Partitions: each costs a Raft group, a journal and a state store per
 * replica, so the bound is far above real setups and far below the 8191 that
 * the key format (partition id << 51) could address. */
#define TANDEM_PARTITION_COUNT_MAX 1024
/* Replicas of one partition: a Raft group beyond nine voters only slows
 * commits down; dual-region mode needs exactly four. */
#define TANDEM_REPLICATION_FACTOR_MAX 9
/* A host name (RFC 1035 bounds it to 253 characters). */
#define TANDEM_CONFIG_HOST_LEN_MAX 253
/* "host:port", or "[v6-address]:port". */
#define TANDEM_CONFIG_ADDRESS_LEN_MAX (TANDEM_CONFIG_HOST_LEN_MAX + 2 + 1 + 5)
/* The cluster name is written into every data directory. */
#define TANDEM_CONFIG_NAME_LEN_MAX 64
#define TANDEM_CONFIG_PATH_LEN_MAX 1023
/* A configuration file is small; anything larger is a mistake. */
#define TANDEM_CONFIG_FILE_SIZE_BYTES_MAX (1024 * 1024)

_Static_assert(TANDEM_REPLICATION_FACTOR_MAX <= TANDEM_CLUSTER_SIZE_MAX, "replicas are brokers");
_Static_assert(TANDEM_PARTITION_COUNT_MAX < 8192, "partition ids fit the 13 bits of a key");

/* A list of "host:port" strings, each NUL-terminated. */
typedef struct tandem_config_addresses {
    uint32_t count; /* read-only: entries in use */
    char items[TANDEM_CLUSTER_SIZE_MAX][TANDEM_CONFIG_ADDRESS_LEN_MAX + 1];
} tandem_config_addresses;

/*
 * The effective configuration (after defaults, file and environment; derived
 * defaults filled in). All fields are public and read-only for everyone but
 * the loader; after a successful load they satisfy every rule of the schema.
 */
typedef struct tandem_config {
    /* cluster.* */
    uint32_t node_id;            /* cluster.nodeId */
    uint32_t cluster_size;       /* cluster.clusterSize */
    uint32_t partition_count;    /* cluster.partitionCount */
    uint32_t replication_factor; /* cluster.replicationFactor */
    char cluster_name[TANDEM_CONFIG_NAME_LEN_MAX + 1];
    uint32_t regions; /* cluster.regions: 1, or 2 for dual-region mode */
    /* Addresses a starting broker contacts first. Derived when empty: the
     * brokers list without this broker. */
    tandem_config_addresses initial_contact_points;
    /* Internal addresses indexed by node id: empty, or clusterSize entries. */
    tandem_config_addresses brokers;
    /* network.* */
    char host[TANDEM_CONFIG_HOST_LEN_MAX + 1];            /* bind address */
    char advertised_host[TANDEM_CONFIG_HOST_LEN_MAX + 1]; /* derived: = host */
    uint16_t internal_api_port;                           /* network.internalApi.port */
    /* api.* */
    uint16_t rest_port; /* api.rest.port */
    uint16_t grpc_port; /* api.grpc.port */
    /* management.* */
    uint16_t management_port;
    char management_host[TANDEM_CONFIG_HOST_LEN_MAX + 1]; /* derived: = network.host */
    bool management_journal_probe;                        /* management.journalProbe */
    /* data.* */
    char data_directory[TANDEM_CONFIG_PATH_LEN_MAX + 1];
    uint64_t log_segment_size_bytes;
    uint64_t entry_size_bytes_max;
    uint64_t state_map_size_bytes;
    /* exporters.*: the SQLite stores committed records are exported to.
     * Relative paths are relative to data.directory. */
    bool exporter_sqlite_enabled;                              /* exporters.sqlite.enabled */
    char exporter_sqlite_path[TANDEM_CONFIG_PATH_LEN_MAX + 1]; /* exporters.sqlite.path */
    bool exporter_secondary_enabled;                           /* exporters.secondary.enabled */
    char exporter_secondary_path[TANDEM_CONFIG_PATH_LEN_MAX + 1];
    uint32_t exporters_retained_entries_max; /* exporters.maxRetainedEntries; 0 = no bound */
    /* logging.* */
    enum tandem_log_level log_level;
} tandem_config;

/* Fills *cfg with the defaults of every key (derived ones resolved): a
 * single broker on 127.0.0.1. */
void tandem_config_defaults(tandem_config *cfg);

/*
 * Loads the YAML text data[0..len) (need not be NUL-terminated; empty = all
 * defaults) and then the overrides of envp, and validates the result.
 * `name` is the file name used in messages. envp is a NULL-terminated array of
 * "NAME=value" strings like `environ`; NULL means no environment. Returns 0,
 * or TANDEM_ECONFIG with the first problem in diag (may be NULL); on failure
 * *cfg holds the defaults.
 */
int tandem_config_load_buffer(tandem_config *cfg, const char *name, const void *data, size_t len,
                              char *const *envp, tandem_diag *diag);

/*
 * Like tandem_config_load_buffer, reading the file at `path` (NULL = no file:
 * defaults and environment only). A file that cannot be read gives the I/O
 * code (TANDEM_ENOENT, TANDEM_EACCES, ...; TANDEM_ETOOBIG above
 * TANDEM_CONFIG_FILE_SIZE_BYTES_MAX) with the path in diag.
 */
int tandem_config_load_file(tandem_config *cfg, const char *path, char *const *envp,
                            tandem_diag *diag);

/*
 * Appends the configuration as YAML to out: every key, nested like the file,
 * sizes with the largest exact unit. Loading the output gives a config that
 * tandem_config_equal calls equal. cfg must be valid (loaded or defaults).
 * TANDEM_ENOMEM when out cannot grow (out may then hold a part of the text).
 */
int tandem_config_print(const tandem_config *cfg, tandem_buf *out);

/* True when every key has the same value in a and b. */
bool tandem_config_equal(const tandem_config *a, const tandem_config *b);

/* True for the environment variables that start with TANDEM_ but are no
 * configuration key (TANDEM_CONFIG, TANDEM_TEST_*). name stops at '=' or NUL. */
bool tandem_config_env_allowed(const char *name);

/* One key of the schema, described for documentation. path, type,
 * default_text and doc point to static strings; rule and env are filled in. */
typedef struct tandem_config_key_info {
    const char *path;         /* "cluster.clusterSize" */
    const char *type;         /* "integer", "size", "string", "list", "port", "enum" */
    const char *default_text; /* as the docs show it */
    const char *doc;          /* one line */
    char rule[128];           /* bounds and cross-key rules, as the docs show them */
    char env[72];             /* "TANDEM_CLUSTER_CLUSTERSIZE" */
} tandem_config_key_info;

/* Number of keys; tandem_config_key_describe takes 0..count-1. */
size_t tandem_config_key_count(void);
void tandem_config_key_describe(size_t index, tandem_config_key_info *out);

/* Appends the Markdown table of all keys (as in docs/CONFIGURATION.md) to
 * out. TANDEM_ENOMEM when out cannot grow (out may then hold a part of it). */
int tandem_config_doc_table(tandem_buf *out);

#endif
