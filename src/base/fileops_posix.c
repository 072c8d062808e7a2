/* The real file system behind the fileops table (see fileops.h). */
#include "base/fileops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/error.h"

static int posix_open(tandem_fileops *ops, const char *path, unsigned flags, int *fd_out)
{
    (void)ops;
    TANDEM_ASSERT(path != NULL && fd_out != NULL);
    int oflags = O_CLOEXEC | ((flags & TANDEM_OPEN_WRITE) ? O_RDWR : O_RDONLY);
    if (flags & TANDEM_OPEN_CREATE) {
        oflags |= O_CREAT;
    }
    if (flags & TANDEM_OPEN_EXCL) {
        oflags |= O_EXCL;
    }
    int fd;
    do {
        fd = open(path, oflags, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        return tandem_from_errno(errno);
    }
    *fd_out = fd;
    return TANDEM_OK;
}

static int posix_close(tandem_fileops *ops, int fd)
{
    (void)ops;
    TANDEM_ASSERT(fd >= 0);
    /* close is not retried on EINTR on Linux: the descriptor is gone either way */
    if (close(fd) != 0 && errno != EINTR) {
        return tandem_from_errno(errno);
    }
    return TANDEM_OK;
}

static int posix_pwrite(tandem_fileops *ops, int fd, const void *buf, size_t len, uint64_t off)
{
    (void)ops;
    TANDEM_ASSERT(fd >= 0 && (buf != NULL || len == 0));
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return tandem_from_errno(errno);
        }
        TANDEM_ASSERT((size_t)n <= len);
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return TANDEM_OK;
}

static int posix_pread(tandem_fileops *ops, int fd, void *buf, size_t len, uint64_t off,
                       size_t *nread)
{
    (void)ops;
    TANDEM_ASSERT(fd >= 0 && (buf != NULL || len == 0) && nread != NULL);
    uint8_t *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, p + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return tandem_from_errno(errno);
        }
        if (n == 0) {
            break;
        }
        done += (size_t)n;
    }
    *nread = done;
    return TANDEM_OK;
}

static int posix_sync(tandem_fileops *ops, int fd)
{
    (void)ops;
    TANDEM_ASSERT(fd >= 0);
    /* No EINTR retry: a failed fdatasync is final (DESIGN §2). */
    if (fdatasync(fd) != 0) {
        return errno == ENOSPC ? TANDEM_ENOSPC : TANDEM_EIO;
    }
    return TANDEM_OK;
}

static int posix_truncate(tandem_fileops *ops, int fd, uint64_t size)
{
    (void)ops;
    TANDEM_ASSERT(fd >= 0);
    int rc;
    do {
        rc = ftruncate(fd, (off_t)size);
    } while (rc != 0 && errno == EINTR);
    return rc == 0 ? TANDEM_OK : tandem_from_errno(errno);
}

static int posix_size(tandem_fileops *ops, int fd, uint64_t *size_out)
{
    (void)ops;
    TANDEM_ASSERT(fd >= 0 && size_out != NULL);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        return tandem_from_errno(errno);
    }
    TANDEM_ASSERT(st.st_size >= 0);
    *size_out = (uint64_t)st.st_size;
    return TANDEM_OK;
}

static int posix_rename(tandem_fileops *ops, const char *from, const char *to)
{
    (void)ops;
    return rename(from, to) == 0 ? TANDEM_OK : tandem_from_errno(errno);
}

static int posix_unlink(tandem_fileops *ops, const char *path)
{
    (void)ops;
    return unlink(path) == 0 ? TANDEM_OK : tandem_from_errno(errno);
}

static int posix_mkdir(tandem_fileops *ops, const char *path)
{
    (void)ops;
    return mkdir(path, 0755) == 0 ? TANDEM_OK : tandem_from_errno(errno);
}

static int posix_sync_dir(tandem_fileops *ops, const char *path)
{
    (void)ops;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return tandem_from_errno(errno);
    }
    int rc = TANDEM_OK;
    if (fsync(fd) != 0) {
        rc = TANDEM_EIO;
    }
    close(fd);
    return rc;
}

static int posix_list(tandem_fileops *ops, const char *dir, tandem_list_cb cb, void *arg)
{
    (void)ops;
    TANDEM_ASSERT(dir != NULL && cb != NULL);
    DIR *d = opendir(dir);
    if (d == NULL) {
        return tandem_from_errno(errno);
    }
    int rc = TANDEM_OK;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (e == NULL) {
            if (errno != 0) {
                rc = tandem_from_errno(errno);
            }
            break;
        }
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        rc = cb(arg, e->d_name);
        if (rc != 0) {
            break;
        }
    }
    closedir(d);
    return rc;
}

static int posix_stat(tandem_fileops *ops, const char *path, bool *is_dir)
{
    (void)ops;
    struct stat st;
    if (stat(path, &st) != 0) {
        return tandem_from_errno(errno);
    }
    if (is_dir != NULL) {
        *is_dir = S_ISDIR(st.st_mode);
    }
    return TANDEM_OK;
}

static tandem_fileops posix_ops = {
    posix_open,     posix_close, posix_pwrite, posix_pread,  posix_sync,
    posix_truncate, posix_size,  posix_rename, posix_unlink, posix_mkdir,
    posix_sync_dir, posix_list,  posix_stat,
};

tandem_fileops *tandem_fileops_posix(void)
{
    return &posix_ops;
}
