/*
 * store_sqlite.c — opening a store (pragmas, migrations), the export
 * transaction and the exporter positions.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/assert.h"
#include "base/log.h"
#include "export/store_int.h"

/* How long a writer waits for another connection's lock before failing:
 * readers in WAL mode never block the writer, so only a second writer (a
 * tool, a misconfiguration) ever waits. */
#define STORE_BUSY_TIMEOUT_MS 5000

/*
 * The migrations, in order: migration i brings the schema from version i to
 * i + 1 and runs in one transaction with the version update. A released
 * migration is never edited: a change to the schema is a new migration
 * appended here, documented in docs/STORE_FORMAT.md.
 */
static const char *const migrations[] = {
    /* 1: the first schema. */
    "CREATE TABLE schema_version(version INTEGER NOT NULL);"
    "INSERT INTO schema_version(version) VALUES (0);"
    "CREATE TABLE exporter_position(exporter_id TEXT NOT NULL, partition_id INTEGER NOT NULL,"
    " position INTEGER NOT NULL, PRIMARY KEY(exporter_id, partition_id));"
    "CREATE TABLE process_definition(process_definition_key INTEGER PRIMARY KEY,"
    " process_definition_id TEXT, name TEXT, version INTEGER, version_tag TEXT,"
    " resource_name TEXT, tenant_id TEXT, xml TEXT, deployment_key INTEGER,"
    " position INTEGER NOT NULL);"
    "CREATE TABLE process_instance(process_instance_key INTEGER PRIMARY KEY,"
    " process_definition_key INTEGER, process_definition_id TEXT,"
    " process_definition_version INTEGER, process_definition_version_tag TEXT, state TEXT,"
    " start_date INTEGER, end_date INTEGER, has_incident INTEGER NOT NULL DEFAULT 0,"
    " tenant_id TEXT, parent_process_instance_key INTEGER, parent_element_instance_key INTEGER,"
    " partition_id INTEGER, position INTEGER NOT NULL);"
    "CREATE TABLE element_instance(element_instance_key INTEGER PRIMARY KEY,"
    " process_instance_key INTEGER, process_definition_key INTEGER, process_definition_id TEXT,"
    " element_id TEXT, element_name TEXT, type TEXT, state TEXT, start_date INTEGER,"
    " end_date INTEGER, has_incident INTEGER NOT NULL DEFAULT 0, incident_key INTEGER,"
    " flow_scope_key INTEGER, tenant_id TEXT, position INTEGER NOT NULL);"
    "CREATE TABLE variable(variable_key INTEGER PRIMARY KEY, name TEXT, value TEXT,"
    " scope_key INTEGER, process_instance_key INTEGER, tenant_id TEXT,"
    " position INTEGER NOT NULL);"
    "CREATE TABLE job(job_key INTEGER PRIMARY KEY, type TEXT, worker TEXT, state TEXT, kind TEXT,"
    " listener_event_type TEXT, retries INTEGER, deadline INTEGER, end_time INTEGER,"
    " error_code TEXT, error_message TEXT,"
    " has_failed_with_retries_left INTEGER NOT NULL DEFAULT 0, element_id TEXT,"
    " element_instance_key INTEGER, process_instance_key INTEGER,"
    " process_definition_key INTEGER, process_definition_id TEXT, custom_headers TEXT,"
    " tenant_id TEXT, position INTEGER NOT NULL);"
    "CREATE TABLE incident(incident_key INTEGER PRIMARY KEY, error_type TEXT, error_message TEXT,"
    " element_id TEXT, element_instance_key INTEGER, process_instance_key INTEGER,"
    " process_definition_key INTEGER, process_definition_id TEXT, job_key INTEGER, state TEXT,"
    " creation_time INTEGER, tenant_id TEXT, position INTEGER NOT NULL);"
    "CREATE INDEX process_definition_by_id ON process_definition(process_definition_id, version);"
    "CREATE INDEX process_instance_by_state ON process_instance(state, start_date);"
    "CREATE INDEX process_instance_by_start ON process_instance(start_date);"
    "CREATE INDEX process_instance_by_def_id"
    " ON process_instance(process_definition_id, state, start_date);"
    "CREATE INDEX process_instance_by_def_key ON process_instance(process_definition_key);"
    "CREATE INDEX element_instance_by_pi ON element_instance(process_instance_key);"
    "CREATE INDEX variable_by_pi ON variable(process_instance_key);"
    "CREATE INDEX variable_by_scope ON variable(scope_key, name);"
    "CREATE INDEX variable_by_name ON variable(name);"
    "CREATE INDEX job_by_pi ON job(process_instance_key);"
    "CREATE INDEX job_by_type ON job(type, state);"
    "CREATE INDEX job_by_state ON job(state);"
    "CREATE INDEX incident_by_pi ON incident(process_instance_key);"
    "CREATE INDEX incident_by_state ON incident(state);",
};
#define MIGRATION_COUNT (sizeof(migrations) / sizeof(migrations[0]))
_Static_assert(MIGRATION_COUNT == TANDEM_STORE_SCHEMA_VERSION, "one migration per schema version");

int tandem_store_sql_error(const tandem_store *s, int sqlite_rc, const char *what,
                           tandem_diag *diag)
{
    TANDEM_ASSERT(sqlite_rc != SQLITE_OK && sqlite_rc != SQLITE_DONE && sqlite_rc != SQLITE_ROW);
    TANDEM_ASSERT(what != NULL);
    int code;
    switch (sqlite_rc & 0xff) {
    case SQLITE_NOMEM:
        code = TANDEM_ENOMEM;
        break;
    case SQLITE_FULL:
        code = TANDEM_ENOSPC;
        break;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        code = TANDEM_ECORRUPT;
        break;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
        code = TANDEM_EACCES;
        break;
    case SQLITE_CANTOPEN:
        code = TANDEM_ENOENT;
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        code = TANDEM_ETIMEDOUT;
        break;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
        code = TANDEM_EINVAL;
        break;
    default:
        code = TANDEM_EIO;
        break;
    }
    const char *detail = sqlite3_errstr(sqlite_rc);
    if (s != NULL && s->db != NULL && sqlite3_errcode(s->db) == sqlite_rc) {
        detail = sqlite3_errmsg(s->db);
    }
    if ((sqlite_rc & 0xff) == SQLITE_NOTADB) {
        return tandem_diag_set(diag, code, "store %s: %s: not a SQLite database (%s)",
                               s != NULL ? s->path : "?", what, detail);
    }
    return tandem_diag_set(diag, code, "store %s: %s: %s", s != NULL ? s->path : "?", what, detail);
}

int tandem_store_step_done(tandem_store *s, sqlite3_stmt *st, const char *what, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && st != NULL);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        /* Statements used here return nothing; a row means a wrong statement. */
        TANDEM_UNREACHABLE();
    }
    int out = rc == SQLITE_DONE ? 0 : tandem_store_sql_error(s, rc, what, diag);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return out;
}

int tandem_store_stmt(tandem_store *s, enum tandem_store_stmt which, sqlite3_stmt **out,
                      tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && out != NULL);
    TANDEM_ASSERT((unsigned)which < TANDEM_STORE_STMT_COUNT);
    if (s->stmts[which] == NULL) {
        int rc = sqlite3_prepare_v3(s->db, tandem_store_stmt_sql(which), -1,
                                    SQLITE_PREPARE_PERSISTENT, &s->stmts[which], NULL);
        if (rc != SQLITE_OK) {
            return tandem_store_sql_error(s, rc, "prepare", diag);
        }
    }
    *out = s->stmts[which];
    return 0;
}

static int exec(tandem_store *s, const char *sql, const char *what, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && s->db != NULL);
    TANDEM_ASSERT(sql != NULL);
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : tandem_store_sql_error(s, rc, what, diag);
}

/* Reads one integer from a query returning at most one row; *found false when
 * it returns none. */
static int query_int(tandem_store *s, const char *sql, int64_t *out, bool *found, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && sql != NULL);
    TANDEM_ASSERT(out != NULL && found != NULL);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        return tandem_store_sql_error(s, rc, "reading the schema", diag);
    }
    *found = false;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        *found = true;
        rc = SQLITE_DONE;
    }
    int out_rc = rc == SQLITE_DONE ? 0 : tandem_store_sql_error(s, rc, "reading the schema", diag);
    sqlite3_finalize(st);
    return out_rc;
}

/* The file's schema version: 0 for an empty database; an error for a
 * database that holds tables but is not a store. */
static int schema_version(tandem_store *s, int64_t *out, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && out != NULL);
    int64_t n = 0;
    bool found = false;
    int rc = query_int(s, "SELECT count(*) FROM sqlite_master WHERE name = 'schema_version'", &n,
                       &found, diag);
    if (rc != 0) {
        return rc;
    }
    if (n == 0) {
        rc = query_int(s, "SELECT count(*) FROM sqlite_master", &n, &found, diag);
        if (rc == 0 && n != 0) {
            return tandem_diag_set(diag, TANDEM_ECORRUPT,
                                   "store %s: a SQLite database but not a store (no table "
                                   "schema_version)",
                                   s->path);
        }
        *out = 0;
        return rc;
    }
    rc = query_int(s, "SELECT max(version) FROM schema_version", out, &found, diag);
    if (rc == 0 && (!found || *out < 0)) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT, "store %s: table schema_version is empty",
                               s->path);
    }
    TANDEM_ASSERT(rc != 0 || *out >= 0);
    return rc;
}

/* Newer files are refused, older ones only writable migrate. */
static int check_version(const tandem_store *s, int64_t version, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && version >= 0);
    if (version > TANDEM_STORE_SCHEMA_VERSION) {
        return tandem_diag_set(diag, TANDEM_EFORMAT,
                               "store %s: schema version %lld is newer than this build's %d; "
                               "use a newer tandem",
                               s->path, (long long)version, TANDEM_STORE_SCHEMA_VERSION);
    }
    if (version < TANDEM_STORE_SCHEMA_VERSION && s->read_only) {
        return tandem_diag_set(diag, TANDEM_EFORMAT,
                               "store %s: schema version %lld is older than this build's %d; "
                               "open it writable once to migrate",
                               s->path, (long long)version, TANDEM_STORE_SCHEMA_VERSION);
    }
    return 0;
}

/* One step: inside a write transaction, reads the version and applies the
 * next migration when one is missing (*done when none is). The version is
 * read under the write lock, so two writers opening a new file at once do
 * not both migrate from 0: the second waits and then sees the first's
 * version. */
static int migrate_step(tandem_store *s, bool *done, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && !s->read_only);
    TANDEM_ASSERT(done != NULL);
    *done = false;
    int rc = exec(s, "BEGIN IMMEDIATE", "begin migration", diag);
    if (rc != 0) {
        return rc;
    }
    int64_t v = 0;
    rc = schema_version(s, &v, diag);
    if (rc == 0) {
        rc = check_version(s, v, diag);
    }
    if (rc == 0 && v == TANDEM_STORE_SCHEMA_VERSION) {
        *done = true;
    } else if (rc == 0) {
        TANDEM_ASSERT(v >= 0 && v < TANDEM_STORE_SCHEMA_VERSION);
        char update[96];
        snprintf(update, sizeof(update), "UPDATE schema_version SET version = %lld",
                 (long long)(v + 1));
        rc = exec(s, migrations[v], "migration", diag);
        if (rc == 0) {
            rc = exec(s, update, "migration version", diag);
        }
    }
    if (rc == 0) {
        rc = exec(s, "COMMIT", "commit migration", diag);
    }
    if (rc != 0 && !sqlite3_get_autocommit(s->db)) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

/* Pause between tries of the journal mode change. */
#define STORE_WAL_RETRY_MS 10

/* Switches to WAL. The change needs the file to itself and SQLite does not
 * call the busy handler for it, so while another writer opens the same new
 * file it is tried again for up to the busy timeout. */
static int set_wal(tandem_store *s, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && s->db != NULL);
    _Static_assert(STORE_WAL_RETRY_MS > 0 && STORE_WAL_RETRY_MS < STORE_BUSY_TIMEOUT_MS,
                   "a few tries within the busy timeout");
    int rc = SQLITE_BUSY;
    for (int waited_ms = 0; waited_ms <= STORE_BUSY_TIMEOUT_MS; waited_ms += STORE_WAL_RETRY_MS) {
        rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) {
            break;
        }
        sqlite3_sleep(STORE_WAL_RETRY_MS);
    }
    return rc == SQLITE_OK ? 0 : tandem_store_sql_error(s, rc, "set journal_mode", diag);
}

/* Pragmas: WAL so readers never block the exporter; synchronous=FULL because
 * the exporter position must be durable with its rows (the broker compacts
 * its log below the exported position, so a committed transaction lost to a
 * power failure could never be exported again); no foreign keys, since rows
 * of many partitions arrive in any order. */
static int pragmas(tandem_store *s, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && s->db != NULL);
    int rc = 0;
    if (!s->read_only) {
        rc = set_wal(s, diag);
        if (rc == 0) {
            rc = exec(s, "PRAGMA synchronous=FULL", "set synchronous", diag);
        }
    } else {
        rc = exec(s, "PRAGMA query_only=1", "set query_only", diag);
    }
    if (rc == 0) {
        rc = exec(s, "PRAGMA foreign_keys=OFF", "set foreign_keys", diag);
    }
    return rc;
}

static int check_and_migrate(tandem_store *s, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && s->db != NULL);
    if (s->read_only) {
        int64_t version = 0;
        int rc = schema_version(s, &version, diag);
        return rc != 0 ? rc : check_version(s, version, diag);
    }
    /* one migration per step; one more step finds the version current */
    bool done = false;
    int rc = 0;
    for (unsigned i = 0; rc == 0 && !done && i <= MIGRATION_COUNT; i++) {
        rc = migrate_step(s, &done, diag);
    }
    TANDEM_ASSERT(rc != 0 || done);
    return rc;
}

int tandem_store_open(const char *path, bool read_only, tandem_store **out, tandem_diag *diag)
{
    TANDEM_ASSERT(path != NULL && out != NULL);
    *out = NULL;
    tandem_store *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "store %s: out of memory", path);
    }
    s->read_only = read_only;
    s->path = strdup(path);
    int rc = 0;
    if (s->path == NULL) {
        rc = tandem_diag_set(diag, TANDEM_ENOMEM, "store %s: out of memory", path);
        goto fail_store;
    }
    struct stat st;
    if (read_only && stat(path, &st) != 0) {
        int err = errno;
        rc = tandem_diag_set(diag, tandem_from_errno(err), "store %s: %s", path, strerror(err));
        goto fail_store;
    }
    int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int src = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK) {
        rc = tandem_store_sql_error(s, src, "open", diag);
        goto fail_db;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    rc = pragmas(s, diag);
    if (rc == 0) {
        rc = check_and_migrate(s, diag);
    }
    if (rc != 0) {
        goto fail_db;
    }
    *out = s;
    return 0;

fail_db:
    sqlite3_close(s->db);
fail_store:
    free(s->path);
    free(s);
    TANDEM_ASSERT(rc != 0);
    return rc;
}

void tandem_store_close(tandem_store *s)
{
    if (s == NULL) {
        return;
    }
    TANDEM_ASSERT(s->db != NULL);
    for (unsigned i = 0; i < TANDEM_STORE_STMT_COUNT; i++) {
        sqlite3_finalize(s->stmts[i]);
    }
    tandem_store_models_free(s);
    /* The connection is lent out (tandem_store_db): a borrower's statement
     * still open is its bug, not a reason to abort. sqlite3_close_v2 leaves
     * the connection to be freed by that statement's finalize. */
    if (sqlite3_next_stmt(s->db, NULL) != NULL) {
        tandem_log(TANDEM_LOG_WARN, "store: closed with statements not finalized", "store", s->path,
                   NULL);
    }
    int rc = sqlite3_close_v2(s->db);
    TANDEM_ASSERT(rc == SQLITE_OK); /* close_v2 defers instead of failing */
    free(s->path);
    free(s);
}

sqlite3 *tandem_store_db(tandem_store *s)
{
    TANDEM_ASSERT(s != NULL && s->db != NULL);
    TANDEM_ASSERT(s->path != NULL);
    return s->db;
}

tandem_store_stats tandem_store_get_stats(const tandem_store *s)
{
    TANDEM_ASSERT(s != NULL && s->db != NULL);
    TANDEM_ASSERT(s->stats.records_applied <= UINT64_MAX / 2); /* counters never wrap */
    return s->stats;
}

static int check_id(const tandem_store *s, const char *exporter_id, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && s->db != NULL);
    _Static_assert(TANDEM_STORE_EXPORTER_ID_MAX_BYTES > 0, "ids are not empty");
    size_t len = exporter_id != NULL ? strlen(exporter_id) : 0;
    if (len == 0 || len > TANDEM_STORE_EXPORTER_ID_MAX_BYTES) {
        return tandem_diag_set(diag, TANDEM_EINVAL,
                               "store %s: exporter id must be 1..%d bytes, got %zu", s->path,
                               TANDEM_STORE_EXPORTER_ID_MAX_BYTES, len);
    }
    return 0;
}

static int position_get(tandem_store *s, const char *exporter_id, uint32_t partition_id,
                        uint64_t *out, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && out != NULL);
    sqlite3_stmt *st = NULL;
    int rc = tandem_store_stmt(s, TANDEM_STORE_STMT_POSITION_GET, &st, diag);
    if (rc != 0) {
        return rc;
    }
    sqlite3_bind_text(st, 1, exporter_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, partition_id);
    *out = 0;
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        *out = (uint64_t)sqlite3_column_int64(st, 0);
        src = SQLITE_DONE;
    }
    rc = src == SQLITE_DONE ? 0 : tandem_store_sql_error(s, src, "read exporter position", diag);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static int position_set(tandem_store *s, const char *exporter_id, uint32_t partition_id,
                        uint64_t position, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && !s->read_only);
    TANDEM_ASSERT(position <= INT64_MAX);
    sqlite3_stmt *st = NULL;
    int rc = tandem_store_stmt(s, TANDEM_STORE_STMT_POSITION_SET, &st, diag);
    if (rc != 0) {
        return rc;
    }
    sqlite3_bind_text(st, 1, exporter_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, partition_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)position);
    return tandem_store_step_done(s, st, "write exporter position", diag);
}

int tandem_store_position(tandem_store *s, const char *exporter_id, uint32_t partition_id,
                          uint64_t *out, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && out != NULL);
    int rc = check_id(s, exporter_id, diag);
    return rc != 0 ? rc : position_get(s, exporter_id, partition_id, out, diag);
}

static int refuse_read_only(const tandem_store *s, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && s->read_only);
    TANDEM_ASSERT(s->path != NULL);
    return tandem_diag_set(diag, TANDEM_EACCES, "store %s: opened read-only", s->path);
}

int tandem_store_set_position(tandem_store *s, const char *exporter_id, uint32_t partition_id,
                              uint64_t position, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL);
    if (s->read_only) {
        return refuse_read_only(s, diag);
    }
    int rc = check_id(s, exporter_id, diag);
    if (rc == 0 && position > INT64_MAX) {
        rc = tandem_diag_set(diag, TANDEM_ERANGE, "store %s: position %llu is out of range",
                             s->path, (unsigned long long)position);
    }
    return rc != 0 ? rc : position_set(s, exporter_id, partition_id, position, diag);
}

/* Checks the batch before anything is written: one partition, increasing. */
static int check_batch(const tandem_store *s, uint32_t partition_id,
                       const tandem_record *const *records, size_t count, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL);
    TANDEM_ASSERT(count == 0 || records != NULL);
    if (count > TANDEM_STORE_EXPORT_RECORDS_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "store %s: %zu records in one export (max %d)",
                               s->path, count, TANDEM_STORE_EXPORT_RECORDS_MAX);
    }
    for (size_t i = 0; i < count; i++) {
        const tandem_record *r = records[i];
        if (r->partition_id != partition_id) {
            return tandem_diag_set(diag, TANDEM_EINVAL,
                                   "store %s: record at position %llu is of partition %u, not %u",
                                   s->path, (unsigned long long)r->position,
                                   (unsigned)r->partition_id, (unsigned)partition_id);
        }
        if (r->position > INT64_MAX || (i > 0 && r->position <= records[i - 1]->position)) {
            return tandem_diag_set(diag, TANDEM_EINVAL,
                                   "store %s: record positions must increase (%llu after %llu)",
                                   s->path, (unsigned long long)r->position,
                                   (unsigned long long)(i > 0 ? records[i - 1]->position : 0));
        }
    }
    return 0;
}

static int export_in_txn(tandem_store *s, const char *exporter_id, uint32_t partition_id,
                         const tandem_record *const *records, size_t count, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && count > 0);
    uint64_t stored = 0;
    int rc = position_get(s, exporter_id, partition_id, &stored, diag);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        if (records[i]->position <= stored) {
            s->stats.records_skipped_old++;
            continue;
        }
        bool applied = false;
        rc = tandem_store_map_record(s, records[i], &applied, diag);
        if (rc == 0 && applied) {
            s->stats.records_applied++;
        }
    }
    uint64_t last = records[count - 1]->position;
    if (rc == 0 && last > stored) {
        rc = position_set(s, exporter_id, partition_id, last, diag);
    }
    return rc;
}

int tandem_store_export(tandem_store *s, const char *exporter_id, uint32_t partition_id,
                        const tandem_record *const *records, size_t count, tandem_diag *diag)
{
    TANDEM_ASSERT(s != NULL && s->db != NULL);
    if (s->read_only) {
        return refuse_read_only(s, diag);
    }
    int rc = check_id(s, exporter_id, diag);
    if (rc == 0) {
        rc = check_batch(s, partition_id, records, count, diag);
    }
    if (rc != 0 || count == 0) {
        return rc;
    }
    tandem_store_stats before = s->stats;
    rc = exec(s, "BEGIN IMMEDIATE", "begin export", diag);
    if (rc != 0) {
        return rc;
    }
    rc = export_in_txn(s, exporter_id, partition_id, records, count, diag);
    if (rc == 0) {
        rc = exec(s, "COMMIT", "commit export", diag);
    }
    if (rc != 0) {
        /* Nothing of the batch counts: the caller retries it whole. */
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        s->stats = before;
        return rc;
    }
    s->stats.transactions++;
    TANDEM_ASSERT(s->stats.transactions > before.transactions);
    return 0;
}
