/*
 * The in-memory power-loss file system (see faultfs.h).
 *
 * Model. Every file is an inode with two contents: `cache`, what readers see,
 * and `durable`, what a power loss would leave. Writes and truncations go to
 * the cache and are queued as pending operations; a successful sync replays
 * the pending operations onto `durable` and clears the queue. A failed sync
 * clears the queue without replaying it: that data is lost although reads
 * still return it, as on Linux after a writeback error. At a crash each
 * pending operation is, in order, kept whole, kept torn (a prefix of a write)
 * or dropped, and the result becomes the new content.
 *
 * The name space is kept twice as well: `cache` names change at once, and the
 * names under a directory become durable only when that directory is synced.
 */
#include "base/faultfs.h"

#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/error.h"

#define FAULTFS_FDS_MAX 256

enum { OP_WRITE, OP_TRUNCATE };

typedef struct pending_op {
    int kind;
    uint64_t off; /* write offset, or new size for a truncation */
    uint8_t *data;
    size_t len;
} pending_op;

typedef struct content {
    uint8_t *data;
    size_t len;
    size_t cap;
} content;

typedef struct inode {
    content cache;
    content durable;
    pending_op *pending;
    size_t pending_len;
    size_t pending_cap;
} inode;

typedef struct name {
    char *path;
    int ino; /* -1 for a directory */
} name;

typedef struct names {
    name *items;
    size_t len;
    size_t cap;
} names;

struct tandem_faultfs {
    tandem_fileops ops; /* first: the table handed out is the file system itself */
    tandem_rand *rand;
    inode **inodes;
    size_t inodes_len;
    size_t inodes_cap;
    names cache_names;
    names durable_names;
    int fds[FAULTFS_FDS_MAX]; /* inode of each handle, -1 when closed */
    int64_t crash_countdown;  /* operations left before death, -1 when disarmed */
    int64_t sync_fail_countdown;
    int64_t write_fail_countdown;
    bool dead;
    tandem_faultfs_stats stats;
};

/* --- memory helpers: a failed allocation in a test double is fatal --- */

static void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size == 0 ? 1 : size);
    TANDEM_ASSERT(q != NULL);
    return q;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xrealloc(NULL, n);
    memcpy(p, s, n);
    return p;
}

static void content_resize(content *c, size_t len)
{
    if (len > c->cap) {
        size_t cap = c->cap < 256 ? 256 : c->cap;
        while (cap < len) {
            cap *= 2;
        }
        c->data = xrealloc(c->data, cap);
        c->cap = cap;
    }
    if (len > c->len) {
        memset(c->data + c->len, 0, len - c->len);
    }
    c->len = len;
}

static void content_write(content *c, uint64_t off, const uint8_t *data, size_t len)
{
    TANDEM_ASSERT(off <= SIZE_MAX - len);
    if (off + len > c->len) {
        content_resize(c, (size_t)off + len);
    }
    if (len > 0) {
        memcpy(c->data + off, data, len);
    }
}

static void content_copy(content *dst, const content *src)
{
    content_resize(dst, src->len);
    if (src->len > 0) {
        memcpy(dst->data, src->data, src->len);
    }
}

static void apply_op(content *c, const pending_op *op, size_t len)
{
    if (op->kind == OP_WRITE) {
        content_write(c, op->off, op->data, len);
    } else {
        content_resize(c, (size_t)op->off);
    }
}

static void pending_clear(inode *in)
{
    for (size_t i = 0; i < in->pending_len; i++) {
        free(in->pending[i].data);
    }
    in->pending_len = 0;
}

static void pending_push(inode *in, int kind, uint64_t off, const void *data, size_t len)
{
    if (in->pending_len == in->pending_cap) {
        in->pending_cap = in->pending_cap == 0 ? 8 : in->pending_cap * 2;
        in->pending = xrealloc(in->pending, in->pending_cap * sizeof(*in->pending));
    }
    pending_op *op = &in->pending[in->pending_len++];
    op->kind = kind;
    op->off = off;
    op->len = len;
    op->data = NULL;
    if (kind == OP_WRITE) {
        op->data = xrealloc(NULL, len);
        memcpy(op->data, data, len);
    }
}

static void inode_free(inode *in)
{
    if (in == NULL) {
        return;
    }
    pending_clear(in);
    free(in->pending);
    free(in->cache.data);
    free(in->durable.data);
    free(in);
}

static int inode_new(tandem_faultfs *fs)
{
    if (fs->inodes_len == fs->inodes_cap) {
        fs->inodes_cap = fs->inodes_cap == 0 ? 16 : fs->inodes_cap * 2;
        fs->inodes = xrealloc(fs->inodes, fs->inodes_cap * sizeof(*fs->inodes));
    }
    inode *in = xrealloc(NULL, sizeof(*in));
    memset(in, 0, sizeof(*in));
    fs->inodes[fs->inodes_len] = in;
    TANDEM_ASSERT(fs->inodes_len < (size_t)INT32_MAX);
    return (int)fs->inodes_len++;
}

/* --- name space --- */

static bool is_root(const char *path)
{
    return path[0] == '\0' || strcmp(path, ".") == 0 || strcmp(path, "/") == 0;
}

static void parent_of(const char *path, char *out, size_t out_size)
{
    int rc = tandem_path_parent(path, out, out_size);
    TANDEM_ASSERT(rc == TANDEM_OK);
}

static name *names_find(names *ns, const char *path)
{
    for (size_t i = 0; i < ns->len; i++) {
        if (strcmp(ns->items[i].path, path) == 0) {
            return &ns->items[i];
        }
    }
    return NULL;
}

static void names_set(names *ns, const char *path, int ino)
{
    name *n = names_find(ns, path);
    if (n != NULL) {
        n->ino = ino;
        return;
    }
    if (ns->len == ns->cap) {
        ns->cap = ns->cap == 0 ? 16 : ns->cap * 2;
        ns->items = xrealloc(ns->items, ns->cap * sizeof(*ns->items));
    }
    ns->items[ns->len].path = xstrdup(path);
    ns->items[ns->len].ino = ino;
    ns->len++;
}

static void names_remove(names *ns, const char *path)
{
    name *n = names_find(ns, path);
    if (n == NULL) {
        return;
    }
    free(n->path);
    *n = ns->items[--ns->len];
}

static void names_clear(names *ns)
{
    for (size_t i = 0; i < ns->len; i++) {
        free(ns->items[i].path);
    }
    ns->len = 0;
}

static bool child_of(const char *path, const char *dir)
{
    char parent[4096];
    parent_of(path, parent, sizeof(parent));
    if (is_root(dir)) {
        return is_root(parent);
    }
    return strcmp(parent, dir) == 0;
}

/* Is `dir` an existing directory in the cache name space? */
static bool dir_exists(tandem_faultfs *fs, const char *dir)
{
    if (is_root(dir)) {
        return true;
    }
    name *n = names_find(&fs->cache_names, dir);
    return n != NULL && n->ino < 0;
}

static bool parent_exists(tandem_faultfs *fs, const char *path)
{
    char parent[4096];
    parent_of(path, parent, sizeof(parent));
    return dir_exists(fs, parent);
}

/* --- fault bookkeeping --- */

/* Counts an operation; false when the file system is (now) dead. */
static bool op_begin(tandem_faultfs *fs)
{
    fs->stats.ops++;
    if (fs->dead) {
        return false;
    }
    if (fs->crash_countdown >= 0) {
        if (fs->crash_countdown == 0) {
            fs->dead = true;
            return false;
        }
        fs->crash_countdown--;
    }
    return true;
}

static bool countdown_fires(int64_t *countdown)
{
    if (*countdown <= 0) {
        return false;
    }
    (*countdown)--;
    return *countdown == 0;
}

static inode *fd_inode(tandem_faultfs *fs, int fd)
{
    if (fd < 0 || fd >= FAULTFS_FDS_MAX || fs->fds[fd] < 0) {
        return NULL;
    }
    return fs->inodes[fs->fds[fd]];
}

/* --- the operations table --- */

static int ffs_open(tandem_fileops *ops, const char *path, unsigned flags, int *fd_out)
{
    tandem_faultfs *fs = (tandem_faultfs *)ops;
    TANDEM_ASSERT(path != NULL && fd_out != NULL);
    if (!op_begin(fs)) {
        return TANDEM_EIO;
    }
    name *n = names_find(&fs->cache_names, path);
    if (n != NULL && n->ino < 0) {
        return TANDEM_EINVAL; /* a directory */
    }
    if (n != NULL && (flags & TANDEM_OPEN_CREATE) && (flags & TANDEM_OPEN_EXCL)) {
        return TANDEM_EEXIST;
    }
    if (n == NULL && !(flags & TANDEM_OPEN_CREATE)) {
        return TANDEM_ENOENT;
    }
    if (n == NULL && !parent_exists(fs, path)) {
        return TANDEM_ENOENT;
    }
    int slot = -1;
    for (int i = 0; i < FAULTFS_FDS_MAX; i++) {
        if (fs->fds[i] < 0) {
            slot = i;
            break;
        }
    }
    if (slot < 0) {
        return TANDEM_ESYS; /* EMFILE */
    }
    int ino;
    if (n == NULL) {
        ino = inode_new(fs);
        names_set(&fs->cache_names, path, ino);
    } else {
        ino = n->ino;
    }
    fs->fds[slot] = ino;
    *fd_out = slot;
    return TANDEM_OK;
}

static int ffs_close(tandem_fileops *ops, int fd)
{
    tandem_faultfs *fs = (tandem_faultfs *)ops;
    /* close always releases the handle, even on a dead file system, so code
     * under test can clean up after a crash without leaking handles */
    fs->stats.ops++;
    if (fd_inode(fs, fd) == NULL) {
        return TANDEM_EINVAL;
    }
    fs->fds[fd] = -1;
    return TANDEM_OK;
}

static int ffs_pwrite(tandem_fileops *ops, int fd, const void *buf, size_t len, uint64_t off)
{
    tandem_faultfs *fs = (tandem_faultfs *)ops;
    TANDEM_ASSERT(buf != NULL || len == 0);
    if (!op_begin(fs)) {
        return TANDEM_EIO;
    }
    inode *in = fd_inode(fs, fd);
    if (in == NULL) {
        return TANDEM_EINVAL;
    }
    if (countdown_fires(&fs->write_fail_countdown)) {
        size_t prefix = len == 0 ? 0 : (size_t)tandem_rand_below(fs->rand, len);
        content_write(&in->cache, off, buf, prefix);
        pending_push(in, OP_WRITE, off, buf, prefix);
        fs->stats.failed_writes++;
        return TANDEM_ENOSPC;
    }
    content_write(&in->cache, off, buf, len);
    pending_push(in, OP_WRITE, off, buf, len);
    fs->stats.writes++;
    return TANDEM_OK;
}

static int ffs_pread(tandem_fileops *ops, int fd, void *buf, size_t len, uint64_t off,
                     size_t *nread)
{
    tandem_faultfs *fs = (tandem_faultfs *)ops;
    TANDEM_ASSERT((buf != NULL || len == 0) && nread != NULL);
    if (!op_begin(fs)) {
        return TANDEM_EIO;
    }
    inode *in = fd_inode(fs, fd);
    if (in == NULL) {
        return TANDEM_EINVAL;
    }
    size_t n = 0;
    if (off < in->cache.len) {
        n = in->cache.len - (size_t)off;
        if (n > len) {
            n = len;
        }
        memcpy(buf, in->cache.data + off, n);
    }
    *nread = n;
    return TANDEM_OK;
}

static int ffs_sync(tandem_fileops *ops, int fd)
{
    tandem_faultfs *fs = (tandem_faultfs *)ops;
    if (!op_begin(fs)) {
        return TANDEM_EIO;
    }
    inode *in = fd_inode(fs, fd);
    if (in == NULL) {
        return TANDEM_EINVAL;
    }
    if (countdown_fires(&fs->sync_fail_countdown)) {
        pending_clear(in); /* written back and lost: the durable view never gets it */
        fs->stats.failed_syncs++;
        return TANDEM_EIO;
    }
    for (size_t i = 0; i < in->pending_len; i++) {
        apply_op(&in->durable, &in->pending[i], in->pending[i].len);
    }
    pending_clear(in);
    fs->stats.syncs++;
    return TANDEM_OK;
}

static int ffs_truncate(tandem_fileops *ops, int fd, uint64_t size)
{
    tandem_faultfs *fs = (tandem_faultfs *)ops;
    if (!op_begin(fs)) {
        return TANDEM_EIO;
    }
    inode *in = fd_inode(fs, fd);
    if (in == NULL) {
        return TANDEM_EINVAL;
    }
    content_resize(&in->cache, (size_t)size);
    pending_push(in, OP_TRUNCATE, size, NULL, 0);
    return TANDEM_OK;
}

static int ffs_size(tandem_fileops *ops, int fd, uint64_t *size_out)
{
    tandem_faultfs *fs = (tandem_faultfs *)ops;
    TANDEM_ASSERT(size_out != NULL);
    if (!op_begin(fs)) {
        return TANDEM_EIO;
    }
    inode *in = fd_inode(fs, fd);
    if (in == NULL) {
        return TANDEM_EINVAL;
    }
    *size_out = in->cache.len;
    return TANDEM_OK;
}

static int ffs_rename(tandem_fileops *ops, const char *from, const char *to)
{
    tandem_faultfs *fs = (tandem_faultfs *)ops;
    if (!op_begin(fs)) {
        return TANDEM_EIO;
    }
    name *n = names_find(&fs->cache_names, from);
    if (n == NULL) {
        return TANDEM_ENOENT;
    }
    if (n->ino < 0) {
        return TANDEM_EINVAL; /* directory renames are not needed by tandem */
    }
    name *target = names_find(&fs->cache_names, to);
    if (target != NULL && target->ino < 0) {
        return TANDEM_EINVAL;
    }
    if (!parent_exists(fs, to)) {
        return TANDEM_ENOENT;
    }
    int ino = n->ino;
    names_remove(&fs->cache_names, from);
    names_set(&fs->cache_names, to, ino);
    return TANDEM_OK;
}

static int ffs_unlink(tandem_fileops *ops, const char *path)
{
    tandem_faultfs *fs = (tandem_faultfs *)ops;
    if (!op_begin(fs)) {
        return TANDEM_EIO;
    }
    name *n = names_find(&fs->cache_names, path);
    if (n == NULL) {
        return TANDEM_ENOENT;
    }
    if (n->ino < 0) {
        return TANDEM_EINVAL;
    }
    names_remove(&fs->cache_names, path);
    return TANDEM_OK;
}

static int ffs_mkdir(tandem_fileops *ops, const char *path)
{
    tandem_faultfs *fs = (tandem_faultfs *)ops;
    if (!op_begin(fs)) {
        return TANDEM_EIO;
    }
    if (is_root(path) || names_find(&fs->cache_names, path) != NULL) {
        return TANDEM_EEXIST;
    }
    if (!parent_exists(fs, path)) {
        return TANDEM_ENOENT;
    }
    names_set(&fs->cache_names, path, -1);
    return TANDEM_OK;
}

static int ffs_sync_dir(tandem_fileops *ops, const char *path)
{
    tandem_faultfs *fs = (tandem_faultfs *)ops;
    if (!op_begin(fs)) {
        return TANDEM_EIO;
    }
    if (!dir_exists(fs, path)) {
        return TANDEM_ENOENT;
    }
    /* the durable children of `path` become exactly the cached ones */
    for (size_t i = 0; i < fs->durable_names.len;) {
        name *d = &fs->durable_names.items[i];
        if (child_of(d->path, path) && names_find(&fs->cache_names, d->path) == NULL) {
            names_remove(&fs->durable_names, d->path);
            continue;
        }
        i++;
    }
    for (size_t i = 0; i < fs->cache_names.len; i++) {
        name *c = &fs->cache_names.items[i];
        if (child_of(c->path, path)) {
            names_set(&fs->durable_names, c->path, c->ino);
        }
    }
    fs->stats.dir_syncs++;
    return TANDEM_OK;
}

static int ffs_list(tandem_fileops *ops, const char *dir, tandem_list_cb cb, void *arg)
{
    tandem_faultfs *fs = (tandem_faultfs *)ops;
    TANDEM_ASSERT(cb != NULL);
    if (!op_begin(fs)) {
        return TANDEM_EIO;
    }
    if (!dir_exists(fs, dir)) {
        return TANDEM_ENOENT;
    }
    /* copy the matching names first: the callback may change the name space */
    size_t count = 0;
    char **found = xrealloc(NULL, (fs->cache_names.len + 1) * sizeof(char *));
    for (size_t i = 0; i < fs->cache_names.len; i++) {
        const char *p = fs->cache_names.items[i].path;
        if (child_of(p, dir)) {
            const char *slash = strrchr(p, '/');
            found[count++] = xstrdup(slash != NULL ? slash + 1 : p);
        }
    }
    int rc = TANDEM_OK;
    for (size_t i = 0; i < count; i++) {
        if (rc == TANDEM_OK) {
            rc = cb(arg, found[i]);
        }
        free(found[i]);
    }
    free(found);
    return rc;
}

static int ffs_stat(tandem_fileops *ops, const char *path, bool *is_dir)
{
    tandem_faultfs *fs = (tandem_faultfs *)ops;
    if (!op_begin(fs)) {
        return TANDEM_EIO;
    }
    if (is_root(path)) {
        if (is_dir != NULL) {
            *is_dir = true;
        }
        return TANDEM_OK;
    }
    name *n = names_find(&fs->cache_names, path);
    if (n == NULL) {
        return TANDEM_ENOENT;
    }
    if (is_dir != NULL) {
        *is_dir = n->ino < 0;
    }
    return TANDEM_OK;
}

/* --- public API --- */

int tandem_faultfs_new(tandem_rand *rand, tandem_faultfs **out)
{
    TANDEM_ASSERT(rand != NULL && out != NULL);
    tandem_faultfs *fs = calloc(1, sizeof(*fs));
    if (fs == NULL) {
        return TANDEM_ENOMEM;
    }
    fs->ops = (tandem_fileops){
        ffs_open,   ffs_close,  ffs_pwrite, ffs_pread,    ffs_sync, ffs_truncate, ffs_size,
        ffs_rename, ffs_unlink, ffs_mkdir,  ffs_sync_dir, ffs_list, ffs_stat,
    };
    fs->rand = rand;
    for (int i = 0; i < FAULTFS_FDS_MAX; i++) {
        fs->fds[i] = -1;
    }
    fs->crash_countdown = -1;
    *out = fs;
    return TANDEM_OK;
}

void tandem_faultfs_free(tandem_faultfs *fs)
{
    if (fs == NULL) {
        return;
    }
    for (size_t i = 0; i < fs->inodes_len; i++) {
        inode_free(fs->inodes[i]);
    }
    free(fs->inodes);
    names_clear(&fs->cache_names);
    names_clear(&fs->durable_names);
    free(fs->cache_names.items);
    free(fs->durable_names.items);
    free(fs);
}

tandem_fileops *tandem_faultfs_ops(tandem_faultfs *fs)
{
    TANDEM_ASSERT(fs != NULL);
    return &fs->ops;
}

void tandem_faultfs_crash_after(tandem_faultfs *fs, int64_t n)
{
    TANDEM_ASSERT(fs != NULL);
    fs->crash_countdown = n < 0 ? -1 : n;
    if (n == 0) {
        fs->dead = true;
    }
}

void tandem_faultfs_fail_sync(tandem_faultfs *fs, int64_t nth)
{
    TANDEM_ASSERT(fs != NULL && nth >= 1);
    fs->sync_fail_countdown = nth;
}

void tandem_faultfs_fail_write(tandem_faultfs *fs, int64_t nth)
{
    TANDEM_ASSERT(fs != NULL && nth >= 1);
    fs->write_fail_countdown = nth;
}

/* What survives of one inode: its durable content plus a random outcome for
 * each pending operation. */
static void crash_inode(tandem_faultfs *fs, inode *in, bool drop_all)
{
    content result = {NULL, 0, 0};
    content_copy(&result, &in->durable);
    for (size_t i = 0; i < in->pending_len; i++) {
        pending_op *op = &in->pending[i];
        uint64_t roll = drop_all ? 0 : tandem_rand_below(fs->rand, 3);
        if (roll == 0) {
            fs->stats.dropped_writes++;
        } else if (roll == 1 && op->kind == OP_WRITE && op->len > 1) {
            apply_op(&result, op, (size_t)tandem_rand_below(fs->rand, op->len));
            fs->stats.torn_writes++;
        } else {
            apply_op(&result, op, op->len);
            fs->stats.kept_writes++;
        }
    }
    pending_clear(in);
    free(in->durable.data);
    free(in->cache.data);
    in->durable = result;
    in->cache = (content){NULL, 0, 0};
    content_copy(&in->cache, &in->durable);
}

void tandem_faultfs_crash(tandem_faultfs *fs, bool drop_all_unsynced)
{
    TANDEM_ASSERT(fs != NULL);
    for (int i = 0; i < FAULTFS_FDS_MAX; i++) {
        fs->fds[i] = -1;
    }
    for (size_t i = 0; i < fs->inodes_len; i++) {
        crash_inode(fs, fs->inodes[i], drop_all_unsynced);
    }
    names_clear(&fs->cache_names);
    for (size_t i = 0; i < fs->durable_names.len; i++) {
        names_set(&fs->cache_names, fs->durable_names.items[i].path,
                  fs->durable_names.items[i].ino);
    }
    fs->dead = false;
    fs->crash_countdown = -1;
    fs->sync_fail_countdown = 0;
    fs->write_fail_countdown = 0;
    fs->stats.crashes++;
}

void tandem_faultfs_stats_get(const tandem_faultfs *fs, tandem_faultfs_stats *out)
{
    TANDEM_ASSERT(fs != NULL && out != NULL);
    *out = fs->stats;
}

int tandem_faultfs_flip_bit(tandem_faultfs *fs, const char *path, uint64_t off, unsigned bit)
{
    TANDEM_ASSERT(fs != NULL && path != NULL && bit < 8);
    name *n = names_find(&fs->cache_names, path);
    if (n == NULL || n->ino < 0) {
        return TANDEM_ENOENT;
    }
    inode *in = fs->inodes[n->ino];
    if (off >= in->cache.len) {
        return TANDEM_ERANGE;
    }
    in->cache.data[off] ^= (uint8_t)(1u << bit);
    if (off < in->durable.len) {
        in->durable.data[off] ^= (uint8_t)(1u << bit);
    }
    return TANDEM_OK;
}
