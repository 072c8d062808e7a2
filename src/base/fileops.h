/*
 * fileops.h — the file-operations table through which the journal, the data
 * directory and the state's own files reach the disk.
 *
 * Production uses tandem_fileops_posix(). Tests use the fault-injecting table
 * of faultfs.h, which keeps what has been made durable apart from what is only
 * in the (simulated) page cache, so a test can crash at any operation and see
 * exactly what a power loss would have left.
 *
 * Durability contract, the same for every implementation:
 * - `sync(fd)` makes the file's content and size durable (fdatasync).
 * - Creating, renaming or unlinking a name is durable only after
 *   `sync_dir(parent)` returned 0.
 * - A failed `sync` means the unsynced data of that file may be lost even
 *   though reads still return it: callers must stop, never retry
 *   (TANDEM_ESTOPPED semantics are the caller's).
 * - A failed `pwrite` may have written any prefix of the buffer.
 *
 * Handles are small non-negative ints owned by the table; every call returns 0
 * or a tandem error code (error.h), with errno translated.
 */
#ifndef TANDEM_BASE_FILEOPS_H
#define TANDEM_BASE_FILEOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    TANDEM_OPEN_READ = 0,        /* read only */
    TANDEM_OPEN_WRITE = 1u << 0, /* read and write */
    TANDEM_OPEN_CREATE = 1u << 1,
    TANDEM_OPEN_EXCL = 1u << 2, /* with CREATE: fail with TANDEM_EEXIST if present */
};

typedef struct tandem_fileops tandem_fileops;

/* Called once per directory entry (not "." or ".."); a non-zero return stops
 * the listing and is returned by `list`. The name is valid during the call. */
typedef int (*tandem_list_cb)(void *arg, const char *name);

struct tandem_fileops {
    int (*open)(tandem_fileops *ops, const char *path, unsigned flags, int *fd_out);
    int (*close)(tandem_fileops *ops, int fd);
    /* Writes all of buf at off, or fails (a prefix may have been written). */
    int (*pwrite)(tandem_fileops *ops, int fd, const void *buf, size_t len, uint64_t off);
    /* Reads up to len bytes at off; *nread < len only at end of file. */
    int (*pread)(tandem_fileops *ops, int fd, void *buf, size_t len, uint64_t off, size_t *nread);
    int (*sync)(tandem_fileops *ops, int fd);
    int (*truncate)(tandem_fileops *ops, int fd, uint64_t size);
    int (*size)(tandem_fileops *ops, int fd, uint64_t *size_out);
    /* Atomically replaces `to` if it exists. */
    int (*rename)(tandem_fileops *ops, const char *from, const char *to);
    int (*unlink)(tandem_fileops *ops, const char *path);
    /* TANDEM_EEXIST if the directory exists already. */
    int (*mkdir)(tandem_fileops *ops, const char *path);
    int (*sync_dir)(tandem_fileops *ops, const char *path);
    /* Entries in unspecified order. */
    int (*list)(tandem_fileops *ops, const char *dir, tandem_list_cb cb, void *arg);
    /* 0 and *is_dir when the path exists, TANDEM_ENOENT when it does not. */
    int (*stat)(tandem_fileops *ops, const char *path, bool *is_dir);
};

/* The real file system; static storage, thread-safe. */
tandem_fileops *tandem_fileops_posix(void);

/* Helpers built on the table. */

/* Reads a whole small file (at most max_bytes) into a malloc'd buffer that the
 * caller frees; TANDEM_ETOOBIG when it is larger. A NUL is appended (not
 * counted in *len) so text files can be used as strings. */
int tandem_file_read_all(tandem_fileops *ops, const char *path, size_t max_bytes, uint8_t **data,
                         size_t *len);

/* Writes a small file atomically and durably: `path.tmp`, write, sync, rename
 * over `path`, sync the parent directory. */
int tandem_file_write_atomic(tandem_fileops *ops, const char *path, const void *data, size_t len);

/* mkdir that treats an existing directory as success, and syncs the parent
 * when it created the directory. */
int tandem_mkdir_durable(tandem_fileops *ops, const char *path);

/* Writes the parent directory of `path` into out (".") when there is no
 * slash). Returns TANDEM_ETOOBIG if out is too small. */
int tandem_path_parent(const char *path, char *out, size_t out_size);

#endif
