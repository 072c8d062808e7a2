/*
 * store_int.h — internals shared by the files of the secondary store:
 * store_sqlite.c (open, migrations, transactions, positions),
 * store_map.c (records to rows), store_compare.c (compare and dump).
 */
#ifndef TANDEM_EXPORT_STORE_INT_H
#define TANDEM_EXPORT_STORE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "export/store.h"

/* Statements prepared once per store and reused for every record: the hot
 * path allocates nothing after the first export. The list is the one place
 * that names them; store_map.c holds their SQL. */
#define TANDEM_STORE_STMTS(X)                                                                      \
    X(POSITION_GET)                                                                                \
    X(POSITION_SET)                                                                                \
    X(PD_UPSERT)                                                                                   \
    X(PD_XML)                                                                                      \
    X(PI_INSERT)                                                                                   \
    X(PI_END)                                                                                      \
    X(PI_INCIDENT)                                                                                 \
    X(EI_INSERT)                                                                                   \
    X(EI_END)                                                                                      \
    X(EI_INCIDENT)                                                                                 \
    X(VAR_UPSERT)                                                                                  \
    X(JOB_UPSERT)                                                                                  \
    X(JOB_ACTIVATED)                                                                               \
    X(INC_UPSERT)                                                                                  \
    X(INC_RESOLVE)

enum tandem_store_stmt {
#define TANDEM_STORE_STMT_ENUM_(name) TANDEM_STORE_STMT_##name,
    TANDEM_STORE_STMTS(TANDEM_STORE_STMT_ENUM_)
#undef TANDEM_STORE_STMT_ENUM_
        TANDEM_STORE_STMT_COUNT
};

/* Parsed models kept to name element instances (element_name comes from the
 * BPMN, not from the record). Bounded: the oldest entry is replaced. */
#define TANDEM_STORE_MODEL_CACHE_MAX 16

struct tandem_bpmn_resource;

typedef struct tandem_store_model {
    uint64_t process_definition_key;
    struct tandem_bpmn_resource *resource; /* owned; NULL when the slot is empty */
    char *process_id;                      /* owned; which process of the resource */
} tandem_store_model;

struct tandem_store {
    sqlite3 *db;
    char *path; /* owned, for messages */
    bool read_only;
    sqlite3_stmt *stmts[TANDEM_STORE_STMT_COUNT]; /* lazily prepared, NULL until used */
    tandem_store_model models[TANDEM_STORE_MODEL_CACHE_MAX];
    uint32_t model_next; /* slot replaced on the next miss */
    tandem_store_stats stats;
};

/* Translates a SQLite result code into the error table with a message naming
 * the store's path, the call and sqlite3_errmsg. */
int tandem_store_sql_error(const tandem_store *s, int sqlite_rc, const char *what,
                           tandem_diag *diag);

/* The cached statement `which`, prepared on first use and reset for reuse. */
int tandem_store_stmt(tandem_store *s, enum tandem_store_stmt which, sqlite3_stmt **out,
                      tandem_diag *diag);

/* Steps a statement that returns no rows to completion. */
int tandem_store_step_done(tandem_store *s, sqlite3_stmt *st, const char *what, tandem_diag *diag);

/* Maps one committed record to rows (inside the caller's transaction). Sets
 * *applied when some row changed. Unknown records are counted, not errors. */
int tandem_store_map_record(tandem_store *s, const tandem_record *rec, bool *applied,
                            tandem_diag *diag);

/* Frees the model cache. */
void tandem_store_models_free(tandem_store *s);

/* SQL of a cached statement. */
const char *tandem_store_stmt_sql(enum tandem_store_stmt which);

/* The data tables in schema order with their primary key column, for
 * compare and dump. */
typedef struct tandem_store_table {
    const char *name;
    const char *key;
} tandem_store_table;
extern const tandem_store_table tandem_store_tables[];
extern const unsigned tandem_store_table_count;

#endif
