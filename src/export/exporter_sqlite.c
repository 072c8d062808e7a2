/* The SQLite store as an exporter (exporter_sqlite.h). */
#include "export/exporter_sqlite.h"

#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "export/store.h"

#define PATH_LEN_MAX 4096

typedef struct sqlite_exporter {
    char id[TANDEM_EXPORTER_ID_LEN_MAX + 1];
    char path[PATH_LEN_MAX + 1];
    tandem_store *store; /* NULL while closed */
} sqlite_exporter;

_Static_assert(TANDEM_EXPORTER_ID_LEN_MAX <= TANDEM_STORE_EXPORTER_ID_MAX_BYTES,
               "every exporter id fits the store's column");

static int sq_open(void *impl, tandem_diag *diag)
{
    sqlite_exporter *x = impl;
    TANDEM_ASSERT(x != NULL && x->store == NULL);
    int rc = tandem_store_open(x->path, false, &x->store, diag);
    TANDEM_ASSERT(rc != TANDEM_OK || x->store != NULL);
    return rc;
}

static int sq_export(void *impl, uint32_t partition_id, const tandem_record *const *records,
                     size_t count, tandem_diag *diag)
{
    sqlite_exporter *x = impl;
    TANDEM_ASSERT(x != NULL && x->store != NULL);
    /* the framework batches by entries; split what exceeds the store's limit.
     * Each part is its own transaction with its own position: a crash between
     * parts leaves an exact, smaller position. */
    size_t done = 0;
    while (done < count) {
        size_t n = count - done;
        n = n > TANDEM_STORE_EXPORT_RECORDS_MAX ? TANDEM_STORE_EXPORT_RECORDS_MAX : n;
        int rc = tandem_store_export(x->store, x->id, partition_id, records + done, n, diag);
        if (rc != TANDEM_OK) {
            return rc;
        }
        done += n;
    }
    TANDEM_ASSERT(done == count);
    return TANDEM_OK;
}

static int sq_position(void *impl, uint32_t partition_id, uint64_t *out, tandem_diag *diag)
{
    sqlite_exporter *x = impl;
    TANDEM_ASSERT(x != NULL && x->store != NULL);
    return tandem_store_position(x->store, x->id, partition_id, out, diag);
}

static int sq_set_position(void *impl, uint32_t partition_id, uint64_t position, tandem_diag *diag)
{
    sqlite_exporter *x = impl;
    TANDEM_ASSERT(x != NULL && x->store != NULL);
    return tandem_store_set_position(x->store, x->id, partition_id, position, diag);
}

static void sq_close(void *impl)
{
    sqlite_exporter *x = impl;
    TANDEM_ASSERT(x != NULL && x->store != NULL);
    tandem_store_close(x->store);
    x->store = NULL;
}

static void sq_destroy(void *impl)
{
    sqlite_exporter *x = impl;
    TANDEM_ASSERT(x == NULL || x->store == NULL);
    free(x);
}

static const tandem_exporter_vtable sqlite_vt = {
    .open = sq_open,
    .export_records = sq_export,
    .position = sq_position,
    .set_position = sq_set_position,
    .close = sq_close,
    .destroy = sq_destroy,
};

const tandem_exporter_vtable *tandem_exporter_sqlite_vtable(void)
{
    return &sqlite_vt;
}

int tandem_exporter_sqlite_new(const char *id, const char *path, void **impl_out, tandem_diag *diag)
{
    TANDEM_ASSERT(id != NULL && path != NULL && impl_out != NULL);
    size_t id_len = strlen(id);
    size_t path_len = strlen(path);
    if (id_len == 0 || id_len > TANDEM_EXPORTER_ID_LEN_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "exporter id \"%.40s\": 1..%d bytes", id,
                               TANDEM_EXPORTER_ID_LEN_MAX);
    }
    if (path_len == 0 || path_len > PATH_LEN_MAX) {
        return tandem_diag_set(diag, TANDEM_EINVAL, "exporter %s: store path of %zu bytes", id,
                               path_len);
    }
    sqlite_exporter *x = calloc(1, sizeof(*x));
    if (x == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "exporter %s: out of memory", id);
    }
    memcpy(x->id, id, id_len + 1);
    memcpy(x->path, path, path_len + 1);
    *impl_out = x;
    return TANDEM_OK;
}
