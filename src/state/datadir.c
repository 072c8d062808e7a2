/*
 * The data directory of a partition replica (see datadir.h; the files are
 * described byte by byte in docs/STATE_FORMAT.md).
 */
#include "state/datadir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/buf.h"
#include "base/crc32c.h"

#define FORMAT_FILE        "FORMAT"
#define IDENTITY_FILE      "IDENTITY"
#define FORMAT_PREFIX      "tandem-data "
#define IDENTITY_HEADER    "tandem-identity 1"
#define FORMAT_MAX_BYTES   64
#define IDENTITY_MAX_BYTES 512

struct tandem_datadir {
    tandem_fileops *ops;
    bool created;
    uint32_t node_id;
    uint32_t partition_id;
    uint8_t incarnation[TANDEM_INCARNATION_BYTES];
    char incarnation_hex[2 * TANDEM_INCARNATION_BYTES + 1];
    char cluster_name[TANDEM_CLUSTER_NAME_MAX_BYTES + 1];
    char path[TANDEM_DATADIR_PATH_MAX_BYTES];
    char journal[TANDEM_DATADIR_PATH_MAX_BYTES];
    char state[TANDEM_DATADIR_PATH_MAX_BYTES];
    char snapshots[TANDEM_DATADIR_PATH_MAX_BYTES];
    char format_file[TANDEM_DATADIR_PATH_MAX_BYTES];
    char identity_file[TANDEM_DATADIR_PATH_MAX_BYTES];
};

/* What IDENTITY says. */
typedef struct identity {
    char cluster_name[TANDEM_CLUSTER_NAME_MAX_BYTES + 1];
    uint32_t node_id;
    uint32_t partition_id;
    uint8_t incarnation[TANDEM_INCARNATION_BYTES];
} identity;

static bool cluster_name_valid(const char *s, size_t len)
{
    TANDEM_ASSERT(s != NULL);
    if (len == 0 || len > TANDEM_CLUSTER_NAME_MAX_BYTES) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static void hex_encode(const uint8_t *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    TANDEM_ASSERT(bytes != NULL && out != NULL);
    TANDEM_ASSERT(len > 0 && len <= TANDEM_INCARNATION_BYTES);
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    out[2 * len] = '\0';
    TANDEM_ASSERT(strlen(out) == 2 * len);
}

static int hex_digit(char c)
{
    _Static_assert('9' - '0' == 9 && 'f' - 'a' == 5, "contiguous digit ranges");
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1; /* uppercase is refused: the writer never produces it */
}

static bool hex_decode(const char *s, size_t len, uint8_t *out, size_t out_len)
{
    TANDEM_ASSERT(s != NULL && out != NULL);
    TANDEM_ASSERT(out_len > 0 && out_len <= TANDEM_INCARNATION_BYTES);
    if (len != 2 * out_len) {
        return false;
    }
    for (size_t i = 0; i < out_len; i++) {
        int hi = hex_digit(s[2 * i]);
        int lo = hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* Decimal u32 without sign, spaces or leading zeros. */
static bool parse_u32(const char *s, size_t len, uint32_t *out)
{
    TANDEM_ASSERT(s != NULL && out != NULL);
    if (len == 0 || len > 10 || (len > 1 && s[0] == '0')) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* --- paths --- */

/* dir + "/" + name into a TANDEM_DATADIR_PATH_MAX_BYTES buffer; the caller
 * checked that it fits. */
static void path_join(char *out, const char *dir, const char *name)
{
    size_t dl = strlen(dir);
    size_t nl = strlen(name);
    TANDEM_ASSERT(dl + 1 + nl < TANDEM_DATADIR_PATH_MAX_BYTES);
    memcpy(out, dir, dl);
    out[dl] = '/';
    memcpy(out + dl + 1, name, nl + 1);
    TANDEM_ASSERT(strlen(out) == dl + 1 + nl);
}

static int build_paths(tandem_datadir *dd, const tandem_datadir_config *cfg, tandem_diag *diag)
{
    TANDEM_ASSERT(dd != NULL && cfg != NULL && cfg->root != NULL);
    TANDEM_ASSERT(cfg->root[0] != '\0'); /* check_config refused an empty root */
    size_t root_len = strlen(cfg->root);
    while (root_len > 1 && cfg->root[root_len - 1] == '/') {
        root_len--; /* "data/" and "data" name the same directory */
    }
    size_t cap = sizeof(dd->path);
    int n =
        snprintf(dd->path, cap, "%.*s/partition-%u", (int)root_len, cfg->root, cfg->partition_id);
    bool fits = n > 0 && (size_t)n < cap;
    /* The longest child name is "IDENTITY.tmp" (12 bytes) plus the slash. */
    if (!fits || (size_t)n + 14 > cap) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "data directory path is too long (at most %zu bytes) under %s",
                               cap - 14, cfg->root);
    }
    path_join(dd->journal, dd->path, "journal");
    path_join(dd->state, dd->path, "state");
    path_join(dd->snapshots, dd->path, "snapshots");
    path_join(dd->format_file, dd->path, FORMAT_FILE);
    path_join(dd->identity_file, dd->path, IDENTITY_FILE);
    TANDEM_ASSERT(strlen(dd->identity_file) + sizeof(".tmp") <= cap);
    return TANDEM_OK;
}

/* --- FORMAT --- */

/* Reads FORMAT: TANDEM_ENOENT when absent (the folder was never completed),
 * else the version or an error. */
static int read_format(tandem_datadir *dd, uint32_t *version, tandem_diag *diag)
{
    TANDEM_ASSERT(dd != NULL && version != NULL);
    TANDEM_ASSERT(dd->format_file[0] != '\0');
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = tandem_file_read_all(dd->ops, dd->format_file, FORMAT_MAX_BYTES, &data, &len);
    if (rc == TANDEM_ENOENT) {
        return rc;
    }
    if (rc == TANDEM_ETOOBIG) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "format file %s is damaged: larger than %d bytes", dd->format_file,
                               FORMAT_MAX_BYTES);
    }
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "read format file %s: %s", dd->format_file,
                               tandem_strerror(rc));
    }
    TANDEM_ASSERT(data != NULL && len <= FORMAT_MAX_BYTES); /* checked after the read */
    const char *text = (const char *)data;
    size_t prefix = strlen(FORMAT_PREFIX);
    bool ok = len > prefix + 1 && memcmp(text, FORMAT_PREFIX, prefix) == 0 &&
              text[len - 1] == '\n' && parse_u32(text + prefix, len - prefix - 1, version) &&
              *version > 0;
    free(data);
    if (!ok) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "format file %s is damaged: expected \"tandem-data <version>\\n\"",
                               dd->format_file);
    }
    return TANDEM_OK;
}

/* --- IDENTITY --- */

static int encode_identity(const identity *id, char *out, size_t cap)
{
    TANDEM_ASSERT(id != NULL && out != NULL);
    char hex[2 * TANDEM_INCARNATION_BYTES + 1];
    hex_encode(id->incarnation, sizeof(id->incarnation), hex);
    int n =
        snprintf(out, cap, IDENTITY_HEADER "\ncluster %s\nnode %u\npartition %u\nincarnation %s\n",
                 id->cluster_name, id->node_id, id->partition_id, hex);
    TANDEM_ASSERT(n > 0 && (size_t)n + 16 < cap);
    uint32_t crc = tandem_crc32c(0, out, (size_t)n);
    int m = snprintf(out + n, cap - (size_t)n, "crc32c %08x\n", crc);
    TANDEM_ASSERT(m == 16);
    return n + m;
}

/* Walks "key value\n" lines of IDENTITY. */
typedef struct line_reader {
    const char *start;
    const char *p;
    const char *end;
    int line;
} line_reader;

/* The value of the next line, which must read "<key> <value>\n". */
static bool next_field(line_reader *lr, const char *key, const char **val, size_t *val_len)
{
    TANDEM_ASSERT(lr != NULL && key != NULL);
    TANDEM_ASSERT(lr->p >= lr->start && lr->p <= lr->end);
    lr->line++;
    size_t key_len = strlen(key);
    const char *nl = memchr(lr->p, '\n', (size_t)(lr->end - lr->p));
    if (nl == NULL || (size_t)(nl - lr->p) < key_len + 2 || memcmp(lr->p, key, key_len) != 0 ||
        lr->p[key_len] != ' ') {
        return false;
    }
    *val = lr->p + key_len + 1;
    *val_len = (size_t)(nl - *val);
    lr->p = nl + 1;
    return true;
}

static int identity_damaged(const char *file, int line, const char *what, tandem_diag *diag)
{
    TANDEM_ASSERT(file != NULL && what != NULL);
    TANDEM_ASSERT(line >= 1 && line <= 7);
    return tandem_diag_set(diag, TANDEM_ECORRUPT, "identity file %s is damaged: line %d: %s", file,
                           line, what);
}

static int parse_identity(const char *file, const char *text, size_t len, identity *id,
                          tandem_diag *diag)
{
    TANDEM_ASSERT(file != NULL && text != NULL && id != NULL);
    TANDEM_ASSERT(len <= IDENTITY_MAX_BYTES);
    line_reader lr = {text, text, text + len, 0};
    const char *v;
    size_t n;
    if (!next_field(&lr, "tandem-identity", &v, &n) || n != 1 || v[0] != '1') {
        return identity_damaged(file, lr.line, "expected \"" IDENTITY_HEADER "\"", diag);
    }
    if (!next_field(&lr, "cluster", &v, &n) || !cluster_name_valid(v, n)) {
        return identity_damaged(file, lr.line, "expected \"cluster <name>\"", diag);
    }
    memcpy(id->cluster_name, v, n);
    id->cluster_name[n] = '\0';
    if (!next_field(&lr, "node", &v, &n) || !parse_u32(v, n, &id->node_id)) {
        return identity_damaged(file, lr.line, "expected \"node <id>\"", diag);
    }
    if (!next_field(&lr, "partition", &v, &n) || !parse_u32(v, n, &id->partition_id)) {
        return identity_damaged(file, lr.line, "expected \"partition <id>\"", diag);
    }
    if (!next_field(&lr, "incarnation", &v, &n) ||
        !hex_decode(v, n, id->incarnation, sizeof(id->incarnation))) {
        return identity_damaged(file, lr.line, "expected \"incarnation <32 hex digits>\"", diag);
    }
    size_t covered = (size_t)(lr.p - lr.start);
    uint8_t crc_bytes[4];
    if (!next_field(&lr, "crc32c", &v, &n) || !hex_decode(v, n, crc_bytes, sizeof(crc_bytes))) {
        return identity_damaged(file, lr.line, "expected \"crc32c <8 hex digits>\"", diag);
    }
    uint32_t stored = (uint32_t)crc_bytes[0] << 24 | (uint32_t)crc_bytes[1] << 16 |
                      (uint32_t)crc_bytes[2] << 8 | crc_bytes[3];
    uint32_t actual = tandem_crc32c(0, text, covered);
    if (stored != actual) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "identity file %s is damaged: checksum %08x, stored %08x", file,
                               actual, stored);
    }
    if (lr.p != lr.end) {
        return identity_damaged(file, lr.line + 1, "unexpected bytes after the checksum", diag);
    }
    TANDEM_ASSERT(lr.line == 6 && cluster_name_valid(id->cluster_name, strlen(id->cluster_name)));
    return TANDEM_OK;
}

static int read_identity(tandem_datadir *dd, identity *id, tandem_diag *diag)
{
    TANDEM_ASSERT(dd != NULL && id != NULL);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = tandem_file_read_all(dd->ops, dd->identity_file, IDENTITY_MAX_BYTES, &data, &len);
    if (rc == TANDEM_ENOENT) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "identity file %s is missing",
                               dd->identity_file);
    }
    if (rc == TANDEM_ETOOBIG) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "identity file %s is damaged: larger than %d bytes",
                               dd->identity_file, IDENTITY_MAX_BYTES);
    }
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "read identity file %s: %s", dd->identity_file,
                               tandem_strerror(rc));
    }
    TANDEM_ASSERT(data != NULL && len <= IDENTITY_MAX_BYTES);
    rc = parse_identity(dd->identity_file, (const char *)data, len, id, diag);
    free(data);
    return rc;
}

/* --- opening --- */

static int check_identity(const tandem_datadir *dd, const identity *id, tandem_diag *diag)
{
    TANDEM_ASSERT(dd != NULL && id != NULL);
    if (strcmp(id->cluster_name, dd->cluster_name) != 0) {
        return tandem_diag_set(diag, TANDEM_ECLUSTER,
                               "data directory %s belongs to cluster \"%s\", this broker is in "
                               "cluster \"%s\"",
                               dd->path, id->cluster_name, dd->cluster_name);
    }
    if (id->node_id != dd->node_id) {
        return tandem_diag_set(diag, TANDEM_ECLUSTER,
                               "data directory %s belongs to node %u, this broker is node %u",
                               dd->path, id->node_id, dd->node_id);
    }
    if (id->partition_id != dd->partition_id) {
        return tandem_diag_set(diag, TANDEM_ECLUSTER,
                               "data directory %s belongs to partition %u, expected partition %u",
                               dd->path, id->partition_id, dd->partition_id);
    }
    TANDEM_ASSERT(id->node_id == dd->node_id && id->partition_id == dd->partition_id);
    return TANDEM_OK;
}

static int is_dir(tandem_datadir *dd, const char *path, tandem_diag *diag)
{
    TANDEM_ASSERT(dd != NULL && path != NULL);
    TANDEM_ASSERT(strncmp(path, dd->path, strlen(dd->path)) == 0); /* inside the folder */
    bool dir = false;
    int rc = dd->ops->stat(dd->ops, path, &dir);
    if (rc == TANDEM_ENOENT || (rc == TANDEM_OK && !dir)) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "data directory %s is damaged: %s is missing or not a directory",
                               dd->path, path);
    }
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "stat %s: %s", path, tandem_strerror(rc));
    }
    return TANDEM_OK;
}

/* An existing, complete folder: check it belongs to us. */
static int open_existing(tandem_datadir *dd, uint32_t version, tandem_diag *diag)
{
    TANDEM_ASSERT(dd != NULL && version > 0);
    if (version > TANDEM_DATADIR_FORMAT_VERSION) {
        return tandem_diag_set(diag, TANDEM_EFORMAT,
                               "data directory %s has format version %u, this build reads up to %d",
                               dd->path, version, TANDEM_DATADIR_FORMAT_VERSION);
    }
    identity id;
    int rc = read_identity(dd, &id, diag);
    if (rc == TANDEM_OK) {
        rc = check_identity(dd, &id, diag);
    }
    const char *subdirs[] = {dd->journal, dd->state, dd->snapshots};
    for (size_t i = 0; rc == TANDEM_OK && i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
        rc = is_dir(dd, subdirs[i], diag);
    }
    if (rc == TANDEM_OK) {
        memcpy(dd->incarnation, id.incarnation, sizeof(dd->incarnation));
    }
    TANDEM_ASSERT(!dd->created);
    return rc;
}

static int count_entry(void *arg, const char *name)
{
    TANDEM_ASSERT(arg != NULL && name != NULL);
    TANDEM_ASSERT(*(uint64_t *)arg < UINT64_MAX);
    (*(uint64_t *)arg)++;
    return 0;
}

/* A folder without FORMAT was never handed out; refuse it only when it
 * holds data, which then did not come from an interrupted creation. */
static int check_no_data(tandem_datadir *dd, tandem_diag *diag)
{
    TANDEM_ASSERT(dd != NULL && dd->ops != NULL);
    TANDEM_ASSERT(!dd->created);
    const char *subdirs[] = {dd->journal, dd->state, dd->snapshots};
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
        uint64_t entries = 0;
        int rc = dd->ops->list(dd->ops, subdirs[i], count_entry, &entries);
        if (rc == TANDEM_ENOENT) {
            continue;
        }
        if (rc != TANDEM_OK) {
            return tandem_diag_set(diag, rc, "list %s: %s", subdirs[i], tandem_strerror(rc));
        }
        if (entries > 0) {
            return tandem_diag_set(diag, TANDEM_ECORRUPT,
                                   "data directory %s has data in %s but no " FORMAT_FILE
                                   " file; refusing to reinitialize it",
                                   dd->path, subdirs[i]);
        }
    }
    return TANDEM_OK;
}

static int mkdir_named(tandem_datadir *dd, const char *path, tandem_diag *diag)
{
    TANDEM_ASSERT(dd != NULL && dd->ops != NULL);
    TANDEM_ASSERT(path != NULL && path[0] != '\0');
    int rc = tandem_mkdir_durable(dd->ops, path);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "create directory %s: %s", path, tandem_strerror(rc));
    }
    return TANDEM_OK;
}

/* IDENTITY and subdirectories first, FORMAT last: FORMAT's presence means
 * everything before it is durable. */
static int create_new(tandem_datadir *dd, tandem_rand *rand, tandem_diag *diag)
{
    TANDEM_ASSERT(dd != NULL && rand != NULL);
    int rc = check_no_data(dd, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    identity id;
    memset(&id, 0, sizeof(id));
    memcpy(id.cluster_name, dd->cluster_name, sizeof(id.cluster_name));
    id.node_id = dd->node_id;
    id.partition_id = dd->partition_id;
    tandem_store_u64(id.incarnation, tandem_rand_u64(rand));
    tandem_store_u64(id.incarnation + 8, tandem_rand_u64(rand));
    char text[IDENTITY_MAX_BYTES];
    int len = encode_identity(&id, text, sizeof(text));
    rc = tandem_file_write_atomic(dd->ops, dd->identity_file, text, (size_t)len);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "write identity file %s: %s", dd->identity_file,
                               tandem_strerror(rc));
    }
    const char *subdirs[] = {dd->journal, dd->state, dd->snapshots};
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
        rc = mkdir_named(dd, subdirs[i], diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
    }
    char format[32];
    int flen =
        snprintf(format, sizeof(format), FORMAT_PREFIX "%d\n", TANDEM_DATADIR_FORMAT_VERSION);
    TANDEM_ASSERT(flen > 0 && (size_t)flen < sizeof(format));
    rc = tandem_file_write_atomic(dd->ops, dd->format_file, format, (size_t)flen);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "write format file %s: %s", dd->format_file,
                               tandem_strerror(rc));
    }
    memcpy(dd->incarnation, id.incarnation, sizeof(dd->incarnation));
    dd->created = true;
    return TANDEM_OK;
}

static int check_config(const tandem_datadir_config *cfg, tandem_diag *diag)
{
    _Static_assert(TANDEM_CLUSTER_NAME_MAX_BYTES < TANDEM_DATADIR_PATH_MAX_BYTES, "name fits");
    if (cfg == NULL || cfg->root == NULL || cfg->root[0] == '\0') {
        return tandem_diag_set(diag, TANDEM_EINVAL, "data directory: no root directory given");
    }
    const char *name = cfg->cluster_name;
    if (name == NULL || !cluster_name_valid(name, strlen(name))) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "data directory %s: cluster name \"%s\" is not 1..%d bytes of "
                               "[A-Za-z0-9._-]",
                               cfg->root, name == NULL ? "(null)" : name,
                               TANDEM_CLUSTER_NAME_MAX_BYTES);
    }
    return TANDEM_OK;
}

int tandem_datadir_open(tandem_fileops *ops, tandem_rand *rand, const tandem_datadir_config *cfg,
                        tandem_datadir **out, tandem_diag *diag)
{
    TANDEM_ASSERT(ops != NULL && rand != NULL && out != NULL);
    int rc = check_config(cfg, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    tandem_datadir *dd = calloc(1, sizeof(*dd));
    if (dd == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "data directory %s: no memory", cfg->root);
    }
    dd->ops = ops;
    dd->node_id = cfg->node_id;
    dd->partition_id = cfg->partition_id;
    memcpy(dd->cluster_name, cfg->cluster_name, strlen(cfg->cluster_name) + 1);
    rc = build_paths(dd, cfg, diag);
    if (rc == TANDEM_OK) {
        rc = mkdir_named(dd, cfg->root, diag);
    }
    if (rc == TANDEM_OK) {
        rc = mkdir_named(dd, dd->path, diag);
    }
    uint32_t version = 0;
    if (rc == TANDEM_OK) {
        rc = read_format(dd, &version, diag);
        if (rc == TANDEM_ENOENT) {
            rc = create_new(dd, rand, diag);
        } else if (rc == TANDEM_OK) {
            rc = open_existing(dd, version, diag);
        }
    }
    if (rc != TANDEM_OK) {
        free(dd);
        return rc;
    }
    hex_encode(dd->incarnation, sizeof(dd->incarnation), dd->incarnation_hex);
    TANDEM_ASSERT(strlen(dd->incarnation_hex) == 2 * TANDEM_INCARNATION_BYTES);
    *out = dd;
    return TANDEM_OK;
}

void tandem_datadir_close(tandem_datadir *dd)
{
    if (dd == NULL) {
        return;
    }
    TANDEM_ASSERT(dd->ops != NULL);
    TANDEM_ASSERT(strlen(dd->incarnation_hex) == 2 * TANDEM_INCARNATION_BYTES);
    free(dd);
}

bool tandem_datadir_created(const tandem_datadir *dd)
{
    TANDEM_ASSERT(dd != NULL);
    TANDEM_ASSERT(dd->incarnation_hex[0] != '\0'); /* a handle is complete once returned */
    return dd->created;
}

const char *tandem_datadir_path(const tandem_datadir *dd)
{
    TANDEM_ASSERT(dd != NULL);
    TANDEM_ASSERT(dd->incarnation_hex[0] != '\0'); /* a handle is complete once returned */
    return dd->path;
}

const char *tandem_datadir_journal_path(const tandem_datadir *dd)
{
    TANDEM_ASSERT(dd != NULL);
    TANDEM_ASSERT(dd->incarnation_hex[0] != '\0'); /* a handle is complete once returned */
    return dd->journal;
}

const char *tandem_datadir_state_path(const tandem_datadir *dd)
{
    TANDEM_ASSERT(dd != NULL);
    TANDEM_ASSERT(dd->incarnation_hex[0] != '\0'); /* a handle is complete once returned */
    return dd->state;
}

const char *tandem_datadir_snapshots_path(const tandem_datadir *dd)
{
    TANDEM_ASSERT(dd != NULL);
    TANDEM_ASSERT(dd->incarnation_hex[0] != '\0'); /* a handle is complete once returned */
    return dd->snapshots;
}

const uint8_t *tandem_datadir_incarnation(const tandem_datadir *dd)
{
    TANDEM_ASSERT(dd != NULL);
    TANDEM_ASSERT(dd->incarnation_hex[0] != '\0'); /* a handle is complete once returned */
    return dd->incarnation;
}

const char *tandem_datadir_incarnation_hex(const tandem_datadir *dd)
{
    TANDEM_ASSERT(dd != NULL);
    TANDEM_ASSERT(dd->incarnation_hex[0] != '\0'); /* a handle is complete once returned */
    return dd->incarnation_hex;
}

const char *tandem_datadir_cluster_name(const tandem_datadir *dd)
{
    TANDEM_ASSERT(dd != NULL);
    TANDEM_ASSERT(dd->incarnation_hex[0] != '\0'); /* a handle is complete once returned */
    return dd->cluster_name;
}

uint32_t tandem_datadir_node_id(const tandem_datadir *dd)
{
    TANDEM_ASSERT(dd != NULL);
    TANDEM_ASSERT(dd->incarnation_hex[0] != '\0'); /* a handle is complete once returned */
    return dd->node_id;
}

uint32_t tandem_datadir_partition_id(const tandem_datadir *dd)
{
    TANDEM_ASSERT(dd != NULL);
    TANDEM_ASSERT(dd->incarnation_hex[0] != '\0'); /* a handle is complete once returned */
    return dd->partition_id;
}
