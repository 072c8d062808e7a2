/* Helpers built on the fileops table (see fileops.h). */
#include "base/fileops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/error.h"

int tandem_path_parent(const char *path, char *out, size_t out_size)
{
    TANDEM_ASSERT(path != NULL && out != NULL && out_size > 0);
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        if (out_size < 2) {
            return TANDEM_ETOOBIG;
        }
        strcpy(out, ".");
        return TANDEM_OK;
    }
    size_t n = (size_t)(slash - path);
    if (n == 0) {
        n = 1; /* "/x" -> "/" */
    }
    if (n + 1 > out_size) {
        return TANDEM_ETOOBIG;
    }
    memcpy(out, path, n);
    out[n] = '\0';
    return TANDEM_OK;
}

int tandem_file_read_all(tandem_fileops *ops, const char *path, size_t max_bytes, uint8_t **data,
                         size_t *len)
{
    TANDEM_ASSERT(ops != NULL && path != NULL && data != NULL && len != NULL);
    int fd;
    int rc = ops->open(ops, path, TANDEM_OPEN_READ, &fd);
    if (rc != TANDEM_OK) {
        return rc;
    }
    uint64_t size;
    rc = ops->size(ops, fd, &size);
    if (rc != TANDEM_OK) {
        goto err_close;
    }
    if (size > max_bytes) {
        rc = TANDEM_ETOOBIG;
        goto err_close;
    }
    uint8_t *buf = malloc((size_t)size + 1);
    if (buf == NULL) {
        rc = TANDEM_ENOMEM;
        goto err_close;
    }
    size_t got = 0;
    rc = ops->pread(ops, fd, buf, (size_t)size, 0, &got);
    if (rc != TANDEM_OK) {
        goto err_free;
    }
    buf[got] = '\0';
    ops->close(ops, fd);
    *data = buf;
    *len = got;
    return TANDEM_OK;

err_free:
    free(buf);
err_close:
    ops->close(ops, fd);
    return rc;
}

int tandem_file_write_atomic(tandem_fileops *ops, const char *path, const void *data, size_t len)
{
    TANDEM_ASSERT(ops != NULL && path != NULL && (data != NULL || len == 0));
    char tmp[4096];
    char parent[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        return TANDEM_ETOOBIG;
    }
    int rc = tandem_path_parent(path, parent, sizeof(parent));
    if (rc != TANDEM_OK) {
        return rc;
    }
    int fd;
    rc = ops->open(ops, tmp, TANDEM_OPEN_WRITE | TANDEM_OPEN_CREATE, &fd);
    if (rc != TANDEM_OK) {
        return rc;
    }
    rc = ops->truncate(ops, fd, 0);
    if (rc == TANDEM_OK) {
        rc = ops->pwrite(ops, fd, data, len, 0);
    }
    if (rc == TANDEM_OK) {
        rc = ops->sync(ops, fd);
    }
    int close_rc = ops->close(ops, fd);
    if (rc == TANDEM_OK) {
        rc = close_rc;
    }
    if (rc == TANDEM_OK) {
        rc = ops->rename(ops, tmp, path);
    }
    if (rc == TANDEM_OK) {
        rc = ops->sync_dir(ops, parent);
    }
    return rc;
}

int tandem_mkdir_durable(tandem_fileops *ops, const char *path)
{
    TANDEM_ASSERT(ops != NULL && path != NULL);
    int rc = ops->mkdir(ops, path);
    if (rc == TANDEM_EEXIST) {
        bool is_dir = false;
        rc = ops->stat(ops, path, &is_dir);
        if (rc != TANDEM_OK) {
            return rc;
        }
        return is_dir ? TANDEM_OK : TANDEM_EEXIST;
    }
    if (rc != TANDEM_OK) {
        return rc;
    }
    char parent[4096];
    rc = tandem_path_parent(path, parent, sizeof(parent));
    if (rc != TANDEM_OK) {
        return rc;
    }
    return ops->sync_dir(ops, parent);
}
