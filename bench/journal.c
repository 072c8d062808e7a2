/*
 * journal — how fast the journal makes entries durable, next to the disk's
 * own limit.
 *
 *   build/bench/journal [--dir DIR] [--seconds N] [--writers N]
 *
 * For entries of 128 B and 4 KiB it measures, each for N seconds:
 *   raw       write + fdatasync per entry on a plain file: the physical limit
 *             of one durable write at a time
 *   1 writer  append + flush per entry: one fsync per entry through the journal
 *   N writers N producer threads each hand an entry to one flusher thread and
 *             wait until it is durable; the flusher appends whatever is queued
 *             and flushes once (group commit, as the broker's I/O thread will)
 * and prints appends/s, fsyncs/s, MB/s and entries per fsync.
 *
 * It refuses to run where fsync is a no-op (tmpfs, ramfs, eatmydata), since
 * the figures would be meaningless.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "base/fileops.h"
#include "journal/journal.h"

#define WRITERS_MAX 256

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "journal bench: %s\n", what);
    exit(1);
}

/* ---- a fileops table that counts fsyncs and bytes, around posix ---- */

typedef struct counting_ops {
    tandem_fileops base; /* first: the table handed out */
    tandem_fileops *inner;
    uint64_t syncs;
    uint64_t bytes;
} counting_ops;

static counting_ops counted;

static int c_open(tandem_fileops *o, const char *p, unsigned f, int *fd)
{
    (void)o;
    return counted.inner->open(counted.inner, p, f, fd);
}
static int c_close(tandem_fileops *o, int fd)
{
    (void)o;
    return counted.inner->close(counted.inner, fd);
}
static int c_pwrite(tandem_fileops *o, int fd, const void *b, size_t n, uint64_t off)
{
    (void)o;
    counted.bytes += n;
    return counted.inner->pwrite(counted.inner, fd, b, n, off);
}
static int c_pread(tandem_fileops *o, int fd, void *b, size_t n, uint64_t off, size_t *got)
{
    (void)o;
    return counted.inner->pread(counted.inner, fd, b, n, off, got);
}
static int c_sync(tandem_fileops *o, int fd)
{
    (void)o;
    counted.syncs++;
    return counted.inner->sync(counted.inner, fd);
}
static int c_truncate(tandem_fileops *o, int fd, uint64_t size)
{
    (void)o;
    return counted.inner->truncate(counted.inner, fd, size);
}
static int c_size(tandem_fileops *o, int fd, uint64_t *size)
{
    (void)o;
    return counted.inner->size(counted.inner, fd, size);
}
static int c_rename(tandem_fileops *o, const char *a, const char *b)
{
    (void)o;
    return counted.inner->rename(counted.inner, a, b);
}
static int c_unlink(tandem_fileops *o, const char *p)
{
    (void)o;
    return counted.inner->unlink(counted.inner, p);
}
static int c_mkdir(tandem_fileops *o, const char *p)
{
    (void)o;
    return counted.inner->mkdir(counted.inner, p);
}
static int c_sync_dir(tandem_fileops *o, const char *p)
{
    (void)o;
    counted.syncs++;
    return counted.inner->sync_dir(counted.inner, p);
}
static int c_list(tandem_fileops *o, const char *d, tandem_list_cb cb, void *arg)
{
    (void)o;
    return counted.inner->list(counted.inner, d, cb, arg);
}
static int c_stat(tandem_fileops *o, const char *p, bool *is_dir)
{
    (void)o;
    return counted.inner->stat(counted.inner, p, is_dir);
}

static tandem_fileops *counting_init(void)
{
    counted.base =
        (tandem_fileops){c_open,   c_close,  c_pwrite, c_pread,    c_sync, c_truncate, c_size,
                         c_rename, c_unlink, c_mkdir,  c_sync_dir, c_list, c_stat};
    counted.inner = tandem_fileops_posix();
    counted.syncs = 0;
    counted.bytes = 0;
    return &counted.base;
}

/* ---- results ---- */

typedef struct result {
    const char *mode;
    size_t entry_bytes;
    uint64_t entries;
    uint64_t syncs;
    uint64_t bytes;
    double seconds;
} result;

static void print_header(void)
{
    printf("%-12s %7s %12s %10s %9s %13s\n", "mode", "entry", "appends/s", "fsyncs/s", "MB/s",
           "entries/fsync");
}

static void print_result(const result *r)
{
    double fs = (double)r->syncs / r->seconds;
    printf("%-12s %6zuB %12.0f %10.0f %9.2f %13.1f\n", r->mode, r->entry_bytes,
           (double)r->entries / r->seconds, fs, (double)r->bytes / r->seconds / 1e6,
           r->syncs > 0 ? (double)r->entries / (double)r->syncs : 0.0);
    fflush(stdout);
}

/* ---- directories ---- */

static int rm_cb(void *arg, const char *name)
{
    const char *dir = arg;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
    return 0;
}

static void rm_dir(const char *dir)
{
    tandem_fileops *ops = tandem_fileops_posix();
    ops->list(ops, dir, rm_cb, (void *)dir);
    rmdir(dir);
}

static void refuse_fake_fsync(const char *dir)
{
    const char *preload = getenv("LD_PRELOAD");
    if (preload != NULL && strstr(preload, "eatmydata") != NULL) {
        die("LD_PRELOAD contains eatmydata: fsync is disabled, figures would be meaningless");
    }
    FILE *maps = fopen("/proc/self/maps", "r");
    if (maps != NULL) {
        char line[512];
        while (fgets(line, sizeof(line), maps) != NULL) {
            if (strstr(line, "eatmydata") != NULL) {
                fclose(maps);
                die("libeatmydata is loaded: fsync is disabled, figures would be meaningless");
            }
        }
        fclose(maps);
    }
    struct statfs st;
    if (statfs(dir, &st) != 0) {
        die("statfs of the benchmark directory failed");
    }
    if ((unsigned long)st.f_type == (unsigned long)TMPFS_MAGIC ||
        (unsigned long)st.f_type == (unsigned long)RAMFS_MAGIC) {
        fprintf(stderr,
                "journal bench: %s is on tmpfs/ramfs, where fsync does nothing; "
                "use --dir on a real disk\n",
                dir);
        exit(1);
    }
}

/* ---- raw: write + fdatasync per entry ---- */

static result run_raw(const char *dir, size_t size, double seconds)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/raw.dat", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        die("cannot create the raw file");
    }
    uint8_t *buf = calloc(1, size);
    if (buf == NULL) {
        die("out of memory");
    }
    result r = {"raw", size, 0, 0, 0, 0};
    double start = now_s();
    off_t off = 0;
    while ((r.seconds = now_s() - start) < seconds) {
        if (pwrite(fd, buf, size, off) != (ssize_t)size || fdatasync(fd) != 0) {
            die("raw write or fdatasync failed");
        }
        off += (off_t)size;
        r.entries++;
        r.syncs++;
        r.bytes += size;
    }
    close(fd);
    unlink(path);
    free(buf);
    return r;
}

/* ---- the journal ---- */

static tandem_journal *bench_open(const char *dir)
{
    tandem_journal *j = NULL;
    tandem_diag d;
    tandem_diag_clear(&d);
    if (tandem_journal_open(counting_init(), dir, NULL, &j, &d) != TANDEM_OK) {
        fprintf(stderr, "journal bench: open %s: %s\n", dir, tandem_diag_text(&d));
        exit(1);
    }
    return j;
}

static void check(int rc, const char *what)
{
    if (rc != TANDEM_OK) {
        fprintf(stderr, "journal bench: %s: %s\n", what, tandem_strerror(rc));
        exit(1);
    }
}

static result run_single(const char *dir, size_t size, double seconds)
{
    tandem_journal *j = bench_open(dir);
    uint8_t *buf = calloc(1, size);
    if (buf == NULL) {
        die("out of memory");
    }
    uint64_t syncs0 = counted.syncs;
    uint64_t bytes0 = counted.bytes;
    result r = {"1 writer", size, 0, 0, 0, 0};
    double start = now_s();
    while ((r.seconds = now_s() - start) < seconds) {
        uint64_t index;
        check(tandem_journal_append(j, 1, TANDEM_JOURNAL_DATA, buf, size, &index, NULL), "append");
        check(tandem_journal_flush(j, NULL), "flush");
        r.entries++;
    }
    r.syncs = counted.syncs - syncs0;
    r.bytes = counted.bytes - bytes0;
    tandem_journal_close(j);
    free(buf);
    return r;
}

/* N producers, one flusher: the producers' only shared state is a bounded
 * queue of pending requests (at most one per producer). */
typedef struct request {
    bool queued;
    bool done;
} request;

typedef struct group {
    pthread_mutex_t lock;
    pthread_cond_t work;     /* flusher waits: queue not empty or stop */
    pthread_cond_t finished; /* producers wait: their request done */
    request reqs[WRITERS_MAX];
    size_t writers;
    size_t queued;
    bool stop;
    uint64_t entries;
} group;

typedef struct producer_arg {
    group *g;
    size_t id;
} producer_arg;

static void *producer(void *arg)
{
    producer_arg *pa = arg;
    group *g = pa->g;
    request *me = &g->reqs[pa->id];
    pthread_mutex_lock(&g->lock);
    while (!g->stop) {
        me->queued = true;
        me->done = false;
        g->queued++;
        pthread_cond_signal(&g->work);
        while (!me->done && !g->stop) {
            pthread_cond_wait(&g->finished, &g->lock);
        }
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

static result run_group(const char *dir, size_t size, double seconds, size_t writers,
                        const char *label)
{
    tandem_journal *j = bench_open(dir);
    uint8_t *buf = calloc(1, size);
    if (buf == NULL) {
        die("out of memory");
    }
    group *g = calloc(1, sizeof(*g));
    if (g == NULL) {
        die("out of memory");
    }
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->work, NULL);
    pthread_cond_init(&g->finished, NULL);
    g->writers = writers;
    pthread_t threads[WRITERS_MAX];
    producer_arg args[WRITERS_MAX];
    uint64_t syncs0 = counted.syncs;
    uint64_t bytes0 = counted.bytes;
    for (size_t i = 0; i < writers; i++) {
        args[i] = (producer_arg){g, i};
        if (pthread_create(&threads[i], NULL, producer, &args[i]) != 0) {
            die("pthread_create failed");
        }
    }
    result r = {label, size, 0, 0, 0, 0};
    size_t batch[WRITERS_MAX];
    double start = now_s();
    while ((r.seconds = now_s() - start) < seconds) {
        pthread_mutex_lock(&g->lock);
        while (g->queued == 0) {
            pthread_cond_wait(&g->work, &g->lock);
        }
        size_t n = 0;
        for (size_t i = 0; i < writers; i++) {
            if (g->reqs[i].queued) {
                g->reqs[i].queued = false;
                batch[n++] = i;
            }
        }
        g->queued = 0;
        pthread_mutex_unlock(&g->lock);
        for (size_t i = 0; i < n; i++) {
            uint64_t index;
            check(tandem_journal_append(j, 1, TANDEM_JOURNAL_DATA, buf, size, &index, NULL),
                  "append");
        }
        check(tandem_journal_flush(j, NULL), "flush");
        r.entries += n;
        pthread_mutex_lock(&g->lock);
        for (size_t i = 0; i < n; i++) {
            g->reqs[batch[i]].done = true;
        }
        pthread_cond_broadcast(&g->finished);
        pthread_mutex_unlock(&g->lock);
    }
    r.syncs = counted.syncs - syncs0;
    r.bytes = counted.bytes - bytes0;
    pthread_mutex_lock(&g->lock);
    g->stop = true;
    pthread_cond_broadcast(&g->finished);
    pthread_mutex_unlock(&g->lock);
    for (size_t i = 0; i < writers; i++) {
        pthread_join(threads[i], NULL);
    }
    pthread_cond_destroy(&g->finished);
    pthread_cond_destroy(&g->work);
    pthread_mutex_destroy(&g->lock);
    free(g);
    tandem_journal_close(j);
    free(buf);
    return r;
}

int main(int argc, char **argv)
{
    const char *parent = ".";
    double seconds = 3;
    size_t writers = 16;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            parent = argv[++i];
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atof(argv[++i]);
        } else if (strcmp(argv[i], "--writers") == 0 && i + 1 < argc) {
            writers = (size_t)strtoul(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: %s [--dir DIR] [--seconds N] [--writers N]\n", argv[0]);
            return 2;
        }
    }
    if (!(seconds > 0 && seconds <= 3600) || writers < 2 || writers > WRITERS_MAX) {
        die("--seconds must be in (0, 3600] and --writers in [2, 256]");
    }
    refuse_fake_fsync(parent);
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/journal-bench-XXXXXX", parent);
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "journal bench: cannot create a directory in %s: %s\n", parent,
                strerror(errno));
        return 1;
    }
    printf("journal bench: %s, %.1f s per row, %zu writers in the group rows\n", dir, seconds,
           writers);
    char label[32];
    snprintf(label, sizeof(label), "%zu writers", writers);
    static const size_t sizes[] = {128, 4096};
    print_header();
    for (size_t s = 0; s < 2; s++) {
        char sub[4200];
        result r = run_raw(dir, sizes[s], seconds);
        print_result(&r);
        snprintf(sub, sizeof(sub), "%s/single-%zu", dir, sizes[s]);
        r = run_single(sub, sizes[s], seconds);
        print_result(&r);
        rm_dir(sub);
        snprintf(sub, sizeof(sub), "%s/group-%zu", dir, sizes[s]);
        r = run_group(sub, sizes[s], seconds, writers, label);
        print_result(&r);
        rm_dir(sub);
    }
    rm_dir(dir);
    return 0;
}
