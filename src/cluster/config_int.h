/*
 * config_int.h — internals shared by the files of the configuration loader:
 * the schema table (config_schema.c), the YAML reader and printer
 * (config_yaml.c) and the loader with its environment overrides and
 * cross-key rules (config.c).
 */
#ifndef TANDEM_CLUSTER_CONFIG_INT_H
#define TANDEM_CLUSTER_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/config.h"

enum config_type {
    CONFIG_U32,       /* uint32_t, decimal, min..max */
    CONFIG_PORT,      /* uint16_t, decimal, min..max */
    CONFIG_SIZE,      /* uint64_t bytes, "128MB" / "64KiB" / "65536", min..max */
    CONFIG_NAME,      /* char[], 1..max of [A-Za-z0-9._-] */
    CONFIG_HOST,      /* char[], a host name or IP address */
    CONFIG_PATH,      /* char[], 1..max bytes of printable UTF-8 */
    CONFIG_ADDRESSES, /* tandem_config_addresses of "host:port" */
    CONFIG_LOG_LEVEL, /* enum tandem_log_level */
    CONFIG_BOOL,      /* bool, true | false */
};

enum {
    /* An empty value means "derive it from another key" (see config.c). */
    CONFIG_EMPTY_DERIVED = 1u << 0,
};

/* One key of the schema. The table is static and read-only. */
typedef struct config_key {
    const char *path; /* dotted path, as in the file */
    enum config_type type;
    size_t offset;            /* of the field in tandem_config */
    size_t size;              /* of the field (capacity of strings, NUL included) */
    const char *default_text; /* parsed like a value from the file */
    const char *default_doc;  /* docs column when the default is derived, else NULL */
    uint64_t min;             /* numbers: smallest value; strings: shortest length */
    uint64_t max;             /* numbers: largest value; strings, lists: longest */
    unsigned flags;           /* CONFIG_EMPTY_DERIVED */
    const char *rule_extra;   /* cross-key rule for the docs, or NULL */
    const char *doc;          /* one line for the docs */
} config_key;

/* Keys in the schema (a bound for per-key arrays on the stack). */
#define CONFIG_KEYS_MAX 32
/* Longest dotted path of a key or section, NUL excluded. */
#define CONFIG_PATH_LEN_MAX 48
/* Nesting of the file: network.internalApi.port is three levels deep. */
#define CONFIG_DEPTH_MAX 3
/* Longest environment variable name: "TANDEM_" + path. */
#define CONFIG_ENV_LEN_MAX (7 + CONFIG_PATH_LEN_MAX)
/* A problem text of a value parser ("expected an integer, got ..."). */
#define CONFIG_ERR_LEN_MAX 256

_Static_assert(CONFIG_ENV_LEN_MAX < sizeof(((tandem_config_key_info *)0)->env), "env fits");

size_t config_key_count_get(void);
const config_key *config_key_at(size_t index);
/* The key with this exact path, or NULL. path need not be NUL-terminated. */
const config_key *config_key_find(const char *path, size_t len);
/* Index of key in the table. */
size_t config_key_index(const config_key *key);
/* True when path is a section: a proper prefix (up to a dot) of some key. */
bool config_is_section(const char *path, size_t len);
/* Writes "TANDEM_" + upper-cased path with dots as underscores. */
void config_env_name(const char *path, char *out, size_t out_size);

/*
 * Parses text[0..len) as the value of key into cfg (for a list: the whole
 * list, comma-separated). Returns 0, or TANDEM_ECONFIG with the problem
 * ("expected an integer, got \"four\"") in err; cfg is then unchanged.
 */
int config_value_parse(const config_key *key, const char *text, size_t len, tandem_config *cfg,
                       char *err, size_t err_size);
/* Empties a list key. */
void config_list_clear(const config_key *key, tandem_config *cfg);
/* Appends one "host:port" item to a list key; errors as config_value_parse. */
int config_list_append(const config_key *key, const char *text, size_t len, tandem_config *cfg,
                       char *err, size_t err_size);
/* Writes a scalar (non-list) value as the file would spell it. */
void config_value_format(const config_key *key, const tandem_config *cfg, char *out,
                         size_t out_size);
/* Sizes: the largest exact unit ("128MB"), or plain bytes. */
void config_size_format(uint64_t bytes, char *out, size_t out_size);
bool config_value_equal(const config_key *key, const tandem_config *a, const tandem_config *b);

/* Pointers into a config for a key. */
const tandem_config_addresses *config_addresses_of(const config_key *key, const tandem_config *cfg);

/* Writes `"text"` with quotes and backslashes escaped, control and non-ASCII
 * bytes as \xNN, cut after 64 bytes with "...". */
void config_quote(const char *text, size_t len, char *out, size_t out_size);

/* Where the value of each key came from, for messages. */
enum config_origin_kind { CONFIG_FROM_DEFAULT = 0, CONFIG_FROM_FILE, CONFIG_FROM_ENV };
typedef struct config_origin {
    enum config_origin_kind kind;
    uint64_t line;   /* 1-based, file only */
    uint64_t column; /* 1-based, file only */
} config_origin;

/* The state of one load: the target, the origins, the first error. */
typedef struct config_load {
    tandem_config *cfg;
    const char *name; /* file name for messages */
    tandem_diag *diag;
    config_origin *origins; /* one per key */
} config_load;

/* Reads YAML text into ld->cfg (config_yaml.c). 0 or TANDEM_ECONFIG. */
int config_yaml_read(config_load *ld, const void *data, size_t len);
/* Emits cfg as YAML (config_yaml.c). */
int config_yaml_print(const tandem_config *cfg, tandem_buf *out);

/* Sets diag to "<where>: <key>: <problem>" and returns TANDEM_ECONFIG; where
 * is the origin of the key (file:line:column, the environment variable) or
 * nothing for a default. */
int config_key_error(config_load *ld, const config_key *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes the best "did you mean" candidate among key and section paths (or
 * their environment names when env) into out, "" when none is close. */
void config_suggest(const char *unknown, size_t len, bool env, char *out, size_t out_size);

#endif
