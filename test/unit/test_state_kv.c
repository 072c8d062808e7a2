/* The state store's one test suite, run against both backends (every case
 * named "x/memory" has a twin "x/lmdb"), plus the cases that compare the two:
 * digests of equal content and snapshots read by the other backend. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/faultfs.h"
#include "base/fileops.h"
#include "base/rand.h"
#include "state/kv.h"
#include "test.h"

/* rc must be 0; prints the diagnostic's message otherwise. */
#define CHECK_OKD(expr, d)                                                                         \
    do {                                                                                           \
        int r__ = (expr);                                                                          \
        CHECK_MSG(r__ == 0, "%s returned %s: %s", #expr, tandem_errname(r__), (d).message);        \
    } while (0)

typedef enum { B_MEM, B_LMDB } backend;

static const char *const TABLES[] = {"alpha", "beta", "gamma"};
enum { T_ALPHA, T_BETA, T_GAMMA, T_COUNT };

static const char *fresh_dir(void)
{
    static char path[4096];
    static int n;
    snprintf(path, sizeof(path), "%s/kv-%d", test_tmpdir(), n++);
    CHECK(mkdir(path, 0755) == 0);
    return path;
}

static tandem_kv *open_with(backend b, const char *dir, const char *const *tables, uint32_t n,
                            uint64_t map_size)
{
    tandem_kv_options o = {tables, n, map_size};
    tandem_diag d = {0, ""};
    tandem_kv *kv = NULL;
    if (b == B_MEM) {
        CHECK_OKD(tandem_kv_open_mem(&o, &kv, &d), d);
    } else {
        CHECK_OKD(tandem_kv_open_lmdb(dir, &o, &kv, &d), d);
    }
    CHECK(kv != NULL);
    CHECK_STREQ(b == B_MEM ? "memory" : "lmdb", tandem_kv_backend_name(kv));
    return kv;
}

static tandem_kv *kv_new(backend b)
{
    return open_with(b, b == B_LMDB ? fresh_dir() : NULL, TABLES, T_COUNT, 0);
}

static tandem_kv_txn *begin_w(tandem_kv *kv)
{
    tandem_diag d = {0, ""};
    tandem_kv_txn *t = NULL;
    CHECK_OKD(tandem_kv_begin_write(kv, &t, &d), d);
    CHECK(tandem_kv_txn_is_write(t));
    return t;
}

static tandem_kv_txn *begin_r(tandem_kv *kv)
{
    tandem_diag d = {0, ""};
    tandem_kv_txn *t = NULL;
    CHECK_OKD(tandem_kv_begin_read(kv, &t, &d), d);
    CHECK(!tandem_kv_txn_is_write(t));
    return t;
}

static void put_s(tandem_kv_txn *t, uint32_t table, const char *k, const char *v)
{
    tandem_diag d = {0, ""};
    CHECK_OKD(tandem_kv_put(t, table, k, strlen(k), v, strlen(v), &d), d);
}

static void expect_s(tandem_kv_txn *t, uint32_t table, const char *k, const char *v)
{
    tandem_kv_val val;
    int rc = tandem_kv_get(t, table, k, strlen(k), &val, NULL);
    if (v == NULL) {
        CHECK_RC(TANDEM_ENOENT, rc);
        return;
    }
    CHECK_OK(rc);
    CHECK_EQ_U64(strlen(v), val.len);
    CHECK(memcmp(val.data, v, val.len) == 0);
}

static void commit(tandem_kv_txn *t, uint64_t pos)
{
    tandem_diag d = {0, ""};
    CHECK_OKD(tandem_kv_commit(t, pos, &d), d);
}

static uint64_t count_of(tandem_kv_txn *t, uint32_t table)
{
    uint64_t n = 0;
    CHECK_OK(tandem_kv_count(t, table, &n, NULL));
    return n;
}

static void digest_of(tandem_kv *kv, uint64_t out[2])
{
    tandem_diag d = {0, ""};
    CHECK_OKD(tandem_kv_digest(kv, out, &d), d);
}

/* --- the shared suite --- */

static void put_get_delete(backend b)
{
    tandem_kv *kv = kv_new(b);
    tandem_kv_txn *t = begin_w(kv);
    put_s(t, T_ALPHA, "k1", "v1");
    put_s(t, T_ALPHA, "k2", "v2");
    expect_s(t, T_ALPHA, "k1", "v1");
    put_s(t, T_ALPHA, "k1", "v1-overwritten");
    expect_s(t, T_ALPHA, "k1", "v1-overwritten");
    CHECK_EQ_U64(2, count_of(t, T_ALPHA));
    CHECK_OK(tandem_kv_del(t, T_ALPHA, "k2", 2, NULL));
    expect_s(t, T_ALPHA, "k2", NULL);
    /* an absent key is not an error that poisons the transaction */
    CHECK_RC(TANDEM_ENOENT, tandem_kv_del(t, T_ALPHA, "k2", 2, NULL));
    put_s(t, T_ALPHA, "k3", "");
    expect_s(t, T_ALPHA, "k3", "");
    commit(t, 1);

    t = begin_r(kv);
    expect_s(t, T_ALPHA, "k1", "v1-overwritten");
    expect_s(t, T_ALPHA, "k2", NULL);
    expect_s(t, T_ALPHA, "k3", "");
    CHECK_EQ_U64(2, count_of(t, T_ALPHA));
    tandem_kv_abort(t);
    tandem_kv_close(kv);
}

static void tables_are_separate(backend b)
{
    tandem_kv *kv = kv_new(b);
    tandem_kv_txn *t = begin_w(kv);
    put_s(t, T_ALPHA, "same", "in alpha");
    put_s(t, T_GAMMA, "same", "in gamma");
    commit(t, 1);
    t = begin_w(kv);
    expect_s(t, T_ALPHA, "same", "in alpha");
    expect_s(t, T_BETA, "same", NULL);
    expect_s(t, T_GAMMA, "same", "in gamma");
    CHECK_OK(tandem_kv_clear(t, T_ALPHA, NULL));
    CHECK_EQ_U64(0, count_of(t, T_ALPHA));
    CHECK_EQ_U64(1, count_of(t, T_GAMMA));
    commit(t, 2);
    CHECK_EQ_U64(T_COUNT, tandem_kv_table_count(kv));
    CHECK_STREQ("beta", tandem_kv_table_name(kv, T_BETA));
    tandem_kv_close(kv);
}

typedef struct bkey {
    uint8_t b[4];
    size_t len;
} bkey;

/* The order the interface promises, written independently of the store. */
static int bkey_cmp(const void *pa, const void *pb)
{
    const bkey *a = pa;
    const bkey *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->b, b->b, n);
    if (c != 0) {
        return c;
    }
    return (a->len > b->len) - (a->len < b->len);
}

static void iteration_order_binary(backend b)
{
    bkey keys[] = {
        {{0x00}, 1},
        {{0x00, 0x00}, 2},
        {{0x00, 0xff}, 2},
        {{0x01}, 1},
        {{0x7f, 0xff}, 2},
        {{0x80}, 1},
        {{0xff}, 1},
        {{0xff, 0x00}, 2},
        {{0xff, 0xff}, 2},
        {{'a'}, 1},
        {{'a', 'b'}, 2},
        {{'b'}, 1},
        {{0xff, 0xff, 0xff, 0xff}, 4},
    };
    size_t n = sizeof(keys) / sizeof(keys[0]);
    tandem_kv *kv = kv_new(b);
    tandem_kv_txn *t = begin_w(kv);
    /* insert in a shuffled order */
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    size_t order[sizeof(keys) / sizeof(keys[0])];
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
    }
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)tandem_rand_below(&r.base, i + 1);
        size_t tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    for (size_t i = 0; i < n; i++) {
        bkey *k = &keys[order[i]];
        CHECK_OK(tandem_kv_put(t, T_BETA, k->b, k->len, &k->len, 1, NULL));
    }
    commit(t, 7);
    qsort(keys, n, sizeof(keys[0]), bkey_cmp);

    t = begin_r(kv);
    tandem_kv_cursor *c = NULL;
    CHECK_OK(tandem_kv_cursor_open(t, T_BETA, &c, NULL));
    tandem_kv_val k;
    tandem_kv_val v;
    size_t i = 0;
    int rc;
    while ((rc = tandem_kv_cursor_next(c, &k, &v, NULL)) == TANDEM_OK) {
        CHECK(i < n);
        CHECK_EQ_U64(keys[i].len, k.len);
        CHECK(memcmp(keys[i].b, k.data, k.len) == 0);
        i++;
    }
    CHECK_RC(TANDEM_ENOENT, rc);
    CHECK_EQ_U64(n, i);
    /* the end stays the end */
    CHECK_RC(TANDEM_ENOENT, tandem_kv_cursor_next(c, &k, &v, NULL));
    tandem_kv_cursor_close(c);
    tandem_kv_abort(t);
    tandem_kv_close(kv);
}

/* Collects the keys a seek yields, joined by ',' into out. */
static void collect(tandem_kv_txn *t, uint32_t table, const char *seek, bool prefix, char *out,
                    size_t cap)
{
    tandem_kv_cursor *c = NULL;
    CHECK_OK(tandem_kv_cursor_open(t, table, &c, NULL));
    if (prefix) {
        CHECK_OK(tandem_kv_cursor_seek_prefix(c, seek, strlen(seek), NULL));
    } else if (seek != NULL) {
        CHECK_OK(tandem_kv_cursor_seek(c, seek, strlen(seek), NULL));
    }
    out[0] = '\0';
    tandem_kv_val k;
    tandem_kv_val v;
    int rc;
    while ((rc = tandem_kv_cursor_next(c, &k, &v, NULL)) == TANDEM_OK) {
        size_t len = strlen(out);
        CHECK(len + k.len + 2 < cap);
        if (len > 0) {
            out[len++] = ',';
        }
        memcpy(out + len, k.data, k.len);
        out[len + k.len] = '\0';
    }
    CHECK_RC(TANDEM_ENOENT, rc);
    tandem_kv_cursor_close(c);
}

static void prefix_seek(backend b)
{
    tandem_kv *kv = kv_new(b);
    tandem_kv_txn *t = begin_w(kv);
    const char *keys[] = {"job/2", "jo", "job/1", "jobs", "joc", "timer/1", "job/", "a"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        put_s(t, T_ALPHA, keys[i], "x");
    }
    commit(t, 1);
    t = begin_r(kv);
    char out[256];
    collect(t, T_ALPHA, "job/", true, out, sizeof(out));
    CHECK_STREQ("job/,job/1,job/2", out);
    collect(t, T_ALPHA, "job", true, out, sizeof(out));
    CHECK_STREQ("job/,job/1,job/2,jobs", out);
    collect(t, T_ALPHA, "joc", false, out, sizeof(out));
    CHECK_STREQ("joc,timer/1", out);
    collect(t, T_ALPHA, "jo/", false, out, sizeof(out));
    CHECK_STREQ("job/,job/1,job/2,jobs,joc,timer/1", out);
    collect(t, T_ALPHA, "zzz", false, out, sizeof(out));
    CHECK_STREQ("", out);
    collect(t, T_ALPHA, "nothing", true, out, sizeof(out));
    CHECK_STREQ("", out);
    collect(t, T_ALPHA, NULL, false, out, sizeof(out));
    CHECK_STREQ("a,jo,job/,job/1,job/2,jobs,joc,timer/1", out);
    collect(t, T_BETA, NULL, false, out, sizeof(out));
    CHECK_STREQ("", out);

    /* re-seeking a cursor restarts it */
    tandem_kv_cursor *c = NULL;
    tandem_kv_val k;
    tandem_kv_val v;
    CHECK_OK(tandem_kv_cursor_open(t, T_ALPHA, &c, NULL));
    CHECK_OK(tandem_kv_cursor_seek_prefix(c, "timer/", 6, NULL));
    CHECK_OK(tandem_kv_cursor_next(c, &k, &v, NULL));
    CHECK_RC(TANDEM_ENOENT, tandem_kv_cursor_next(c, &k, &v, NULL));
    CHECK_OK(tandem_kv_cursor_seek(c, "a", 1, NULL));
    CHECK_OK(tandem_kv_cursor_next(c, &k, &v, NULL));
    CHECK_EQ_U64(1, k.len);
    CHECK(memcmp(k.data, "a", 1) == 0);
    tandem_kv_cursor_close(c);
    tandem_kv_abort(t);

    /* binary prefixes with 0xff bytes: the bound is not "prefix + 1" */
    t = begin_w(kv);
    const uint8_t ks[][3] = {{0xfe, 0xff, 0}, {0xff, 0, 0}, {0xff, 0xff, 0}, {0xff, 0xff, 0xff}};
    const size_t lens[] = {2, 2, 2, 3};
    for (size_t i = 0; i < 4; i++) {
        CHECK_OK(tandem_kv_put(t, T_GAMMA, ks[i], lens[i], "v", 1, NULL));
    }
    CHECK_OK(tandem_kv_cursor_open(t, T_GAMMA, &c, NULL));
    const uint8_t pfx[] = {0xff};
    CHECK_OK(tandem_kv_cursor_seek_prefix(c, pfx, 1, NULL));
    size_t seen = 0;
    int rc;
    while ((rc = tandem_kv_cursor_next(c, &k, &v, NULL)) == TANDEM_OK) {
        CHECK(seen + 1 < 4);
        CHECK_EQ_U64(lens[seen + 1], k.len);
        CHECK(memcmp(k.data, ks[seen + 1], k.len) == 0);
        seen++;
    }
    CHECK_RC(TANDEM_ENOENT, rc);
    CHECK_EQ_U64(3, seen);
    tandem_kv_cursor_close(c);
    tandem_kv_abort(t);
    tandem_kv_close(kv);
}

static void cursor_with_writes(backend b)
{
    tandem_kv *kv = kv_new(b);
    tandem_kv_txn *t = begin_w(kv);
    for (int i = 0; i < 100; i += 2) {
        char key[16];
        snprintf(key, sizeof(key), "k%03d", i);
        put_s(t, T_ALPHA, key, "even");
    }
    commit(t, 1);
    t = begin_w(kv);
    tandem_kv_cursor *c = NULL;
    CHECK_OK(tandem_kv_cursor_open(t, T_ALPHA, &c, NULL));
    tandem_kv_val k;
    tandem_kv_val v;
    int seen = 0;
    int rc;
    /* delete every key as it is visited and insert the odd key after it:
     * the iteration continues after the last key returned, so it visits the
     * new odd keys too */
    while ((rc = tandem_kv_cursor_next(c, &k, &v, NULL)) == TANDEM_OK) {
        char key[16];
        CHECK(k.len == 4);
        memcpy(key, k.data, 4);
        key[4] = '\0';
        int n = atoi(key + 1);
        CHECK_EQ_I64(seen, n);
        seen++;
        CHECK_OK(tandem_kv_del(t, T_ALPHA, key, 4, NULL));
        if (n % 2 == 0) {
            snprintf(key, sizeof(key), "k%03d", n + 1);
            put_s(t, T_ALPHA, key, "odd");
        }
    }
    CHECK_RC(TANDEM_ENOENT, rc);
    CHECK_EQ_I64(100, seen);
    tandem_kv_cursor_close(c);
    CHECK_EQ_U64(0, count_of(t, T_ALPHA));
    /* a seek followed by a write still returns the sought entry, fresh */
    put_s(t, T_BETA, "a", "1");
    put_s(t, T_BETA, "b", "2");
    CHECK_OK(tandem_kv_cursor_open(t, T_BETA, &c, NULL));
    CHECK_OK(tandem_kv_cursor_seek(c, "a", 1, NULL));
    put_s(t, T_BETA, "a", "changed");
    CHECK_OK(tandem_kv_cursor_next(c, &k, &v, NULL));
    CHECK_EQ_U64(7, v.len);
    CHECK(memcmp(v.data, "changed", 7) == 0);
    CHECK_OK(tandem_kv_clear(t, T_BETA, NULL));
    CHECK_RC(TANDEM_ENOENT, tandem_kv_cursor_next(c, &k, &v, NULL));
    tandem_kv_cursor_close(c);
    commit(t, 2);
    tandem_kv_close(kv);
}

static void abort_discards(backend b)
{
    tandem_kv *kv = kv_new(b);
    tandem_kv_txn *t = begin_w(kv);
    put_s(t, T_ALPHA, "kept", "1");
    commit(t, 10);
    uint64_t before[2];
    digest_of(kv, before);
    t = begin_w(kv);
    put_s(t, T_ALPHA, "dropped", "2");
    CHECK_OK(tandem_kv_del(t, T_ALPHA, "kept", 4, NULL));
    tandem_kv_abort(t);
    CHECK_EQ_U64(10, tandem_kv_applied_position(kv));
    t = begin_r(kv);
    expect_s(t, T_ALPHA, "kept", "1");
    expect_s(t, T_ALPHA, "dropped", NULL);
    CHECK_EQ_U64(10, tandem_kv_txn_applied_position(t));
    tandem_kv_abort(t);
    uint64_t after[2];
    digest_of(kv, after);
    CHECK(before[0] == after[0] && before[1] == after[1]);
    tandem_kv_close(kv);
}

static void read_isolation(backend b)
{
    tandem_kv *kv = kv_new(b);
    tandem_kv_txn *t = begin_w(kv);
    put_s(t, T_ALPHA, "k", "old");
    commit(t, 1);
    tandem_kv_txn *reader = begin_r(kv);
    t = begin_w(kv);
    put_s(t, T_ALPHA, "k", "new");
    put_s(t, T_ALPHA, "k2", "added");
    /* the reader does not see uncommitted writes ... */
    expect_s(reader, T_ALPHA, "k", "old");
    commit(t, 2);
    /* ... nor later commits */
    expect_s(reader, T_ALPHA, "k", "old");
    expect_s(reader, T_ALPHA, "k2", NULL);
    CHECK_EQ_U64(1, tandem_kv_txn_applied_position(reader));
    CHECK_EQ_U64(1, count_of(reader, T_ALPHA));
    tandem_kv_txn *fresh = begin_r(kv);
    expect_s(fresh, T_ALPHA, "k", "new");
    CHECK_EQ_U64(2, tandem_kv_txn_applied_position(fresh));
    tandem_kv_abort(fresh);
    tandem_kv_abort(reader);
    tandem_kv_close(kv);
}

static void applied_position(backend b)
{
    const char *dir = b == B_LMDB ? fresh_dir() : NULL;
    tandem_kv *kv = open_with(b, dir, TABLES, T_COUNT, 0);
    CHECK_EQ_U64(0, tandem_kv_applied_position(kv));
    tandem_kv_txn *t = begin_w(kv);
    CHECK_EQ_U64(0, tandem_kv_txn_applied_position(t));
    put_s(t, T_ALPHA, "a", "1");
    commit(t, 42);
    CHECK_EQ_U64(42, tandem_kv_applied_position(kv));
    /* the same position again is fine (a group with nothing new) */
    t = begin_w(kv);
    CHECK_EQ_U64(42, tandem_kv_txn_applied_position(t));
    commit(t, 42);
    /* going back is refused and discards the transaction */
    t = begin_w(kv);
    put_s(t, T_ALPHA, "b", "2");
    tandem_diag d = {0, ""};
    CHECK_RC(TANDEM_ERANGE, tandem_kv_commit(t, 41, &d));
    CHECK_CONTAINS(d.message, "applied position 41 is behind the committed 42");
    CHECK_EQ_U64(42, tandem_kv_applied_position(kv));
    t = begin_r(kv);
    expect_s(t, T_ALPHA, "b", NULL);
    tandem_kv_abort(t);
    t = begin_w(kv);
    put_s(t, T_ALPHA, "c", "3");
    commit(t, UINT64_MAX - 1);
    tandem_kv_close(kv);
    if (b == B_LMDB) {
        /* the position is in the same transaction as the data */
        kv = open_with(b, dir, TABLES, T_COUNT, 0);
        CHECK_EQ_U64(UINT64_MAX - 1, tandem_kv_applied_position(kv));
        t = begin_r(kv);
        expect_s(t, T_ALPHA, "a", "1");
        expect_s(t, T_ALPHA, "c", "3");
        CHECK_EQ_U64(UINT64_MAX - 1, tandem_kv_txn_applied_position(t));
        tandem_kv_abort(t);
        tandem_kv_close(kv);
    }
}

static void one_writer(backend b)
{
    tandem_kv *kv = kv_new(b);
    tandem_kv_txn *t = begin_w(kv);
    tandem_kv_txn *t2 = NULL;
    tandem_diag d = {0, ""};
    CHECK_RC(TANDEM_ESTATE, tandem_kv_begin_write(kv, &t2, &d));
    CHECK_CONTAINS(d.message, "a write transaction is already open");
    CHECK(t2 == NULL);
    /* readers are fine meanwhile */
    tandem_kv_txn *r = begin_r(kv);
    tandem_kv_abort(r);
    tandem_kv_abort(t);
    t = begin_w(kv);
    commit(t, 1);
    t = begin_w(kv);
    tandem_kv_abort(t);
    tandem_kv_close(kv);
}

static void sticky_error(backend b)
{
    tandem_kv *kv = kv_new(b);
    tandem_kv_txn *t = begin_w(kv);
    put_s(t, T_ALPHA, "before", "1");
    uint8_t big_key[TANDEM_KV_KEY_MAX_BYTES + 1];
    memset(big_key, 'k', sizeof(big_key));
    /* the longest key is fine */
    CHECK_OK(tandem_kv_put(t, T_ALPHA, big_key, TANDEM_KV_KEY_MAX_BYTES, "v", 1, NULL));
    tandem_diag d = {0, ""};
    CHECK_RC(TANDEM_ETOOBIG, tandem_kv_put(t, T_ALPHA, big_key, sizeof(big_key), "v", 1, &d));
    CHECK_CONTAINS(d.message, "key of 512 bytes (at most 511)");
    /* every later operation gives the same error */
    tandem_kv_val v;
    CHECK_RC(TANDEM_ETOOBIG, tandem_kv_get(t, T_ALPHA, "before", 6, &v, NULL));
    CHECK_RC(TANDEM_ETOOBIG, tandem_kv_put(t, T_ALPHA, "x", 1, "y", 1, NULL));
    CHECK_RC(TANDEM_ETOOBIG, tandem_kv_del(t, T_ALPHA, "before", 6, NULL));
    uint64_t n;
    CHECK_RC(TANDEM_ETOOBIG, tandem_kv_count(t, T_ALPHA, &n, NULL));
    tandem_kv_cursor *c = NULL;
    CHECK_RC(TANDEM_ETOOBIG, tandem_kv_cursor_open(t, T_ALPHA, &c, NULL));
    CHECK_RC(TANDEM_ETOOBIG, tandem_kv_commit(t, 5, &d));
    CHECK_CONTAINS(d.message, "commit of a failed transaction");
    CHECK_EQ_U64(0, tandem_kv_applied_position(kv));
    t = begin_r(kv);
    expect_s(t, T_ALPHA, "before", NULL);
    /* a write in a read transaction fails it too */
    CHECK_RC(TANDEM_ESTATE, tandem_kv_put(t, T_ALPHA, "x", 1, "y", 1, &d));
    CHECK_CONTAINS(d.message, "write in a read transaction");
    CHECK_RC(TANDEM_ESTATE, tandem_kv_get(t, T_ALPHA, "x", 1, &v, NULL));
    tandem_kv_abort(t);
    /* an empty key is invalid */
    t = begin_w(kv);
    CHECK_RC(TANDEM_EINVAL, tandem_kv_put(t, T_ALPHA, "", 0, "y", 1, &d));
    CHECK_CONTAINS(d.message, "empty key");
    tandem_kv_abort(t);
    /* an error inside a cursor walk fails the transaction as well */
    t = begin_w(kv);
    put_s(t, T_ALPHA, "a", "1");
    CHECK_OK(tandem_kv_cursor_open(t, T_ALPHA, &c, NULL));
    CHECK_RC(TANDEM_ETOOBIG, tandem_kv_cursor_seek(c, big_key, sizeof(big_key), NULL));
    tandem_kv_val k;
    CHECK_RC(TANDEM_ETOOBIG, tandem_kv_cursor_next(c, &k, &v, NULL));
    tandem_kv_cursor_close(c);
    CHECK_RC(TANDEM_ETOOBIG, tandem_kv_commit(t, 1, NULL));
    /* the store is fine afterwards */
    t = begin_w(kv);
    put_s(t, T_ALPHA, "after", "2");
    commit(t, 3);
    tandem_kv_close(kv);
}

static void large_values(backend b)
{
    tandem_kv *kv = kv_new(b);
    size_t max = TANDEM_KV_VALUE_MAX_BYTES;
    uint8_t *big = malloc(max + 1);
    CHECK(big != NULL);
    for (size_t i = 0; i <= max; i++) {
        big[i] = (uint8_t)(i * 131 + (i >> 13));
    }
    tandem_kv_txn *t = begin_w(kv);
    CHECK_OK(tandem_kv_put(t, T_ALPHA, "max", 3, big, max, NULL));
    CHECK_OK(tandem_kv_put(t, T_ALPHA, "mid", 3, big + 7, 1000003, NULL));
    commit(t, 1);
    t = begin_r(kv);
    tandem_kv_val v;
    CHECK_OK(tandem_kv_get(t, T_ALPHA, "max", 3, &v, NULL));
    CHECK_EQ_U64(max, v.len);
    CHECK(memcmp(v.data, big, max) == 0);
    CHECK_OK(tandem_kv_get(t, T_ALPHA, "mid", 3, &v, NULL));
    CHECK_EQ_U64(1000003, v.len);
    CHECK(memcmp(v.data, big + 7, v.len) == 0);
    tandem_kv_abort(t);
    t = begin_w(kv);
    tandem_diag d = {0, ""};
    CHECK_RC(TANDEM_ETOOBIG, tandem_kv_put(t, T_ALPHA, "over", 4, big, max + 1, &d));
    CHECK_CONTAINS(d.message, "value of 16777217 bytes");
    tandem_kv_abort(t);
    free(big);
    tandem_kv_close(kv);
}

/* --- a random walk against a model --- */

#define MODEL_KEYS 512

typedef struct model {
    bool present[MODEL_KEYS];
    uint64_t value[MODEL_KEYS];
} model;

/* Key i: two bytes of i then 0..4 bytes of 0x00 or 0xff, so keys share
 * prefixes and hit both ends of the byte range. */
static size_t model_key(int i, uint8_t *out)
{
    out[0] = (uint8_t)(i >> 8 ^ 0xa5);
    out[1] = (uint8_t)i;
    size_t extra = (size_t)(i % 5);
    for (size_t j = 0; j < extra; j++) {
        out[2 + j] = (i & 1) ? 0xff : 0x00;
    }
    return 2 + extra;
}

static void model_check(tandem_kv_txn *t, const model *m)
{
    size_t n = 0;
    for (int i = 0; i < MODEL_KEYS; i++) {
        n += m->present[i] ? 1 : 0;
    }
    CHECK_EQ_U64(n, count_of(t, T_GAMMA));
    /* walk the cursor and check every key is in the model with its value,
     * in strictly increasing order */
    tandem_kv_cursor *c = NULL;
    CHECK_OK(tandem_kv_cursor_open(t, T_GAMMA, &c, NULL));
    tandem_kv_val k;
    tandem_kv_val v;
    uint8_t prev[8];
    size_t prev_len = 0;
    size_t seen = 0;
    int rc;
    while ((rc = tandem_kv_cursor_next(c, &k, &v, NULL)) == TANDEM_OK) {
        CHECK(k.len >= 2 && k.len <= 6);
        const uint8_t *kb = k.data;
        int i = ((kb[0] ^ 0xa5) << 8) | kb[1];
        CHECK(i >= 0 && i < MODEL_KEYS && m->present[i]);
        uint8_t raw[8];
        CHECK_EQ_U64(model_key(i, raw), k.len);
        CHECK(memcmp(raw, k.data, k.len) == 0);
        CHECK_EQ_U64(8, v.len);
        CHECK_EQ_U64(m->value[i], tandem_load_u64(v.data));
        if (prev_len > 0) {
            size_t mn = prev_len < k.len ? prev_len : k.len;
            int cmp = memcmp(prev, k.data, mn);
            CHECK(cmp < 0 || (cmp == 0 && prev_len < k.len));
        }
        memcpy(prev, k.data, k.len);
        prev_len = k.len;
        seen++;
    }
    CHECK_RC(TANDEM_ENOENT, rc);
    CHECK_EQ_U64(n, seen);
    tandem_kv_cursor_close(c);
}

static void random_walk(backend b)
{
    tandem_kv *kv = kv_new(b);
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    static model committed;
    static model working;
    memset(&committed, 0, sizeof(committed));
    uint64_t txns = test_iterations(b == B_LMDB ? 60 : 300);
    uint64_t pos = 0;
    for (uint64_t round = 0; round < txns; round++) {
        working = committed;
        tandem_kv_txn *t = begin_w(kv);
        uint64_t ops = 1 + tandem_rand_below(&r.base, 200);
        for (uint64_t o = 0; o < ops; o++) {
            int i = (int)tandem_rand_below(&r.base, MODEL_KEYS);
            uint8_t key[8];
            size_t len = model_key(i, key);
            uint64_t what = tandem_rand_below(&r.base, 10);
            if (what < 6) {
                uint8_t val[8];
                uint64_t x = tandem_rand_u64(&r.base);
                tandem_store_u64(val, x);
                CHECK_OK(tandem_kv_put(t, T_GAMMA, key, len, val, 8, NULL));
                working.present[i] = true;
                working.value[i] = x;
            } else if (what < 9) {
                int rc = tandem_kv_del(t, T_GAMMA, key, len, NULL);
                CHECK_RC(working.present[i] ? TANDEM_OK : TANDEM_ENOENT, rc);
                working.present[i] = false;
            } else {
                tandem_kv_val v;
                int rc = tandem_kv_get(t, T_GAMMA, key, len, &v, NULL);
                CHECK_RC(working.present[i] ? TANDEM_OK : TANDEM_ENOENT, rc);
                if (rc == TANDEM_OK) {
                    CHECK_EQ_U64(working.value[i], tandem_load_u64(v.data));
                }
            }
        }
        if (round % 7 == 0) {
            model_check(t, &working);
        }
        if (tandem_rand_below(&r.base, 4) == 0) {
            tandem_kv_abort(t);
        } else {
            pos += 1 + tandem_rand_below(&r.base, 5);
            commit(t, pos);
            committed = working;
        }
    }
    tandem_kv_txn *t = begin_r(kv);
    model_check(t, &committed);
    CHECK_EQ_U64(pos, tandem_kv_txn_applied_position(t));
    tandem_kv_abort(t);
    tandem_kv_close(kv);
}

static void many_keys(backend b)
{
    tandem_kv *kv = kv_new(b);
    uint64_t n = test_iterations(20000);
    tandem_kv_txn *t = begin_w(kv);
    /* insert in a scrambled order: i * odd constant mod 2^32 is a bijection */
    for (uint64_t i = 0; i < n; i++) {
        uint32_t x = (uint32_t)(i * 2654435761u);
        uint8_t key[4];
        key[0] = (uint8_t)(x >> 24);
        key[1] = (uint8_t)(x >> 16);
        key[2] = (uint8_t)(x >> 8);
        key[3] = (uint8_t)x;
        CHECK_OK(tandem_kv_put(t, T_ALPHA, key, 4, &x, sizeof(x), NULL));
    }
    commit(t, n);
    t = begin_w(kv);
    CHECK_EQ_U64(n, count_of(t, T_ALPHA));
    tandem_kv_cursor *c = NULL;
    CHECK_OK(tandem_kv_cursor_open(t, T_ALPHA, &c, NULL));
    tandem_kv_val k;
    tandem_kv_val v;
    uint64_t seen = 0;
    uint32_t prev = 0;
    int rc;
    while ((rc = tandem_kv_cursor_next(c, &k, &v, NULL)) == TANDEM_OK) {
        const uint8_t *kb = k.data;
        uint32_t x = (uint32_t)kb[0] << 24 | (uint32_t)kb[1] << 16 | (uint32_t)kb[2] << 8 | kb[3];
        CHECK(seen == 0 || x > prev);
        uint32_t stored;
        memcpy(&stored, v.data, 4);
        CHECK_EQ_U64(x, stored);
        prev = x;
        seen++;
    }
    CHECK_RC(TANDEM_ENOENT, rc);
    CHECK_EQ_U64(n, seen);
    tandem_kv_cursor_close(c);
    /* delete every other key (in key order) */
    uint64_t deleted = 0;
    CHECK_OK(tandem_kv_cursor_open(t, T_ALPHA, &c, NULL));
    bool odd = false;
    while ((rc = tandem_kv_cursor_next(c, &k, &v, NULL)) == TANDEM_OK) {
        if (odd) {
            uint8_t key[4];
            memcpy(key, k.data, 4);
            CHECK_OK(tandem_kv_del(t, T_ALPHA, key, 4, NULL));
            deleted++;
        }
        odd = !odd;
    }
    CHECK_RC(TANDEM_ENOENT, rc);
    tandem_kv_cursor_close(c);
    CHECK_EQ_U64(n / 2, deleted);
    CHECK_EQ_U64(n - deleted, count_of(t, T_ALPHA));
    commit(t, n + 1);
    tandem_kv_close(kv);
}

static void map_full(backend b)
{
    tandem_kv *kv = open_with(b, b == B_LMDB ? fresh_dir() : NULL, TABLES, T_COUNT, 1u << 20);
    uint8_t val[4096];
    memset(val, 0x5a, sizeof(val));
    tandem_kv_txn *t = begin_w(kv);
    put_s(t, T_ALPHA, "first", "kept");
    commit(t, 1);
    t = begin_w(kv);
    tandem_diag d = {0, ""};
    int rc = TANDEM_OK;
    uint32_t i;
    for (i = 0; i < 100000 && rc == TANDEM_OK; i++) {
        uint8_t key[4];
        tandem_store_u32(key, i);
        rc = tandem_kv_put(t, T_BETA, key, 4, val, sizeof(val), &d);
    }
    CHECK_RC(TANDEM_ENOSPC, rc);
    CHECK(i > 10);
    CHECK_CONTAINS(d.message, "map size");
    CHECK_CONTAINS(d.message, "raise the state map size");
    /* sticky, then abort; the store still works */
    CHECK_RC(TANDEM_ENOSPC, tandem_kv_put(t, T_BETA, "x", 1, "y", 1, NULL));
    tandem_kv_abort(t);
    t = begin_w(kv);
    expect_s(t, T_ALPHA, "first", "kept");
    put_s(t, T_ALPHA, "second", "fits");
    commit(t, 2);
    /* a larger map lets the big transaction through */
    CHECK_OKD(tandem_kv_set_map_size(kv, 64u << 20, &d), d);
    t = begin_w(kv);
    CHECK_RC(TANDEM_ESTATE, tandem_kv_set_map_size(kv, 128u << 20, &d));
    for (uint32_t j = 0; j < i; j++) {
        uint8_t key[4];
        tandem_store_u32(key, j);
        CHECK_OK(tandem_kv_put(t, T_BETA, key, 4, val, sizeof(val), NULL));
    }
    commit(t, 3);
    tandem_kv_close(kv);
}

static void readers_bounded(backend b)
{
    tandem_kv *kv = kv_new(b);
    static tandem_kv_txn *readers[TANDEM_KV_READERS_MAX];
    for (int i = 0; i < TANDEM_KV_READERS_MAX; i++) {
        readers[i] = begin_r(kv);
    }
    tandem_kv_txn *extra = NULL;
    tandem_diag d = {0, ""};
    CHECK_RC(TANDEM_EFULL, tandem_kv_begin_read(kv, &extra, &d));
    CHECK_CONTAINS(d.message, "read transactions are open already");
    /* the writer is not a reader */
    tandem_kv_txn *w = begin_w(kv);
    commit(w, 1);
    tandem_kv_abort(readers[0]);
    readers[0] = begin_r(kv);
    for (int i = 0; i < TANDEM_KV_READERS_MAX; i++) {
        tandem_kv_abort(readers[i]);
    }
    tandem_kv_close(kv);
}

static void bad_options(backend b)
{
    const char *dir = b == B_LMDB ? fresh_dir() : NULL;
    tandem_kv *kv = NULL;
    tandem_diag d = {0, ""};
    const char *bad_name[] = {"alpha", "Bad-Name"};
    const char *dup[] = {"alpha", "alpha"};
    const char *too_long[] = {"a23456789012345678901234567890123"};
    struct {
        const char *const *names;
        uint32_t n;
        const char *msg;
    } cases[] = {
        {bad_name, 2, "table name \"Bad-Name\" is not"},
        {dup, 2, "table \"alpha\" named twice"},
        {too_long, 1, "is not 1..32 bytes"},
        {TABLES, 0, "between 1 and 32 tables"},
        {TABLES, TANDEM_KV_TABLES_MAX + 1, "between 1 and 32 tables"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tandem_kv_options o = {cases[i].names, cases[i].n, 0};
        int rc =
            b == B_MEM ? tandem_kv_open_mem(&o, &kv, &d) : tandem_kv_open_lmdb(dir, &o, &kv, &d);
        CHECK_RC(TANDEM_EINVAL, rc);
        CHECK_CONTAINS(d.message, cases[i].msg);
    }
    CHECK_RC(TANDEM_EINVAL, tandem_kv_open_mem(NULL, &kv, &d));
}

/* --- digests and snapshots --- */

/* The same content, written in an order that depends on `seed`. */
static void fill(tandem_kv *kv, uint64_t seed, uint64_t pos)
{
    enum { N = 300 };
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, seed);
    static int order[N];
    for (int i = 0; i < N; i++) {
        order[i] = i;
    }
    for (int i = N - 1; i > 0; i--) {
        int j = (int)tandem_rand_below(&r.base, (uint64_t)i + 1);
        int tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    tandem_kv_txn *t = begin_w(kv);
    for (int i = 0; i < N; i++) {
        int x = order[i];
        char key[32];
        char val[64];
        snprintf(key, sizeof(key), "key-%05d", x);
        snprintf(val, sizeof(val), "value %d %s", x * 7, x % 3 ? "plain" : "");
        put_s(t, (uint32_t)(x % T_COUNT), key, val);
    }
    uint8_t bin[3] = {0x00, 0xff, 0x00};
    CHECK_OK(tandem_kv_put(t, T_BETA, bin, sizeof(bin), bin, sizeof(bin), NULL));
    commit(t, pos);
}

static bool same(const uint64_t a[2], const uint64_t b[2])
{
    return a[0] == b[0] && a[1] == b[1];
}

static void test_digest_across_backends(void)
{
    tandem_kv *mem = kv_new(B_MEM);
    tandem_kv *lmdb = kv_new(B_LMDB);
    uint64_t dm[2];
    uint64_t dl[2];
    digest_of(mem, dm);
    digest_of(lmdb, dl);
    CHECK(same(dm, dl)); /* empty */
    fill(mem, 1, 77);
    fill(lmdb, 2, 77); /* same content, other insertion order */
    digest_of(mem, dm);
    digest_of(lmdb, dl);
    CHECK_MSG(same(dm, dl), "digests %016llx%016llx != %016llx%016llx", (unsigned long long)dm[0],
              (unsigned long long)dm[1], (unsigned long long)dl[0], (unsigned long long)dl[1]);
    uint64_t good[2] = {dm[0], dm[1]};

    /* one byte of one value */
    tandem_kv_txn *t = begin_w(mem);
    put_s(t, T_BETA, "key-00001", "value 7 plaiN");
    commit(t, 77);
    digest_of(mem, dm);
    CHECK(!same(dm, good));
    t = begin_w(mem);
    put_s(t, T_BETA, "key-00001", "value 7 plain");
    commit(t, 77);
    digest_of(mem, dm);
    CHECK(same(dm, good));

    /* the applied position is part of it */
    t = begin_w(mem);
    commit(t, 78);
    digest_of(mem, dm);
    CHECK(!same(dm, good));

    /* the same entry in another table */
    t = begin_w(lmdb);
    CHECK_OK(tandem_kv_del(t, T_BETA, "key-00001", 9, NULL));
    put_s(t, T_ALPHA, "key-00001", "value 7 plain");
    commit(t, 77);
    digest_of(lmdb, dl);
    CHECK(!same(dl, good));

    /* a digest inside a write transaction sees its writes */
    t = begin_w(lmdb);
    CHECK_OK(tandem_kv_del(t, T_ALPHA, "key-00001", 9, NULL));
    put_s(t, T_BETA, "key-00001", "value 7 plain");
    CHECK_OK(tandem_kv_txn_digest(t, dl, NULL));
    CHECK(same(dl, good));
    tandem_kv_abort(t);
    tandem_kv_close(mem);
    tandem_kv_close(lmdb);
}

static void snapshot_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", test_tmpdir(), name);
}

static void snapshot_restore(backend b)
{
    tandem_fileops *ops = tandem_fileops_posix();
    tandem_kv *kv = kv_new(b);
    fill(kv, 3, 500);
    uint64_t want[2];
    digest_of(kv, want);
    char path[4200];
    snapshot_path(path, sizeof(path), "snap-1");
    tandem_diag d = {0, ""};
    uint64_t pos = 0;
    CHECK_OKD(tandem_kv_snapshot(kv, ops, path, &pos, &d), d);
    CHECK_EQ_U64(500, pos);
    pos = 0;
    CHECK_OKD(tandem_kv_snapshot_verify(ops, path, &pos, &d), d);
    CHECK_EQ_U64(500, pos);
    /* no temp file is left */
    char tmp[4300];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    CHECK_RC(TANDEM_ENOENT, ops->stat(ops, tmp, NULL));

    /* change the state, then go back to the snapshot (even to a lower position) */
    tandem_kv_txn *t = begin_w(kv);
    put_s(t, T_GAMMA, "later", "x");
    CHECK_OK(tandem_kv_del(t, T_ALPHA, "key-00000", 9, NULL));
    commit(t, 600);
    CHECK_OKD(tandem_kv_restore(kv, ops, path, &d), d);
    CHECK_EQ_U64(500, tandem_kv_applied_position(kv));
    uint64_t got[2];
    digest_of(kv, got);
    CHECK(same(got, want));

    /* both backends read it */
    tandem_kv *other = kv_new(b == B_MEM ? B_LMDB : B_MEM);
    CHECK_OKD(tandem_kv_restore(other, ops, path, &d), d);
    digest_of(other, got);
    CHECK(same(got, want));
    tandem_kv_close(other);
    tandem_kv_close(kv);
}

/* Flips one bit of a file in place. */
static void flip(const char *path, uint64_t off)
{
    tandem_fileops *ops = tandem_fileops_posix();
    int fd;
    CHECK_OK(ops->open(ops, path, TANDEM_OPEN_WRITE, &fd));
    uint8_t byte;
    size_t n;
    CHECK_OK(ops->pread(ops, fd, &byte, 1, off, &n));
    CHECK_EQ_U64(1, n);
    byte ^= 0x10;
    CHECK_OK(ops->pwrite(ops, fd, &byte, 1, off));
    CHECK_OK(ops->close(ops, fd));
}

static void snapshot_damage_refused(backend b)
{
    tandem_fileops *ops = tandem_fileops_posix();
    tandem_kv *kv = kv_new(b);
    fill(kv, 4, 900);
    char path[4200];
    snapshot_path(path, sizeof(path), "snap-damaged");
    tandem_diag d = {0, ""};
    CHECK_OKD(tandem_kv_snapshot(kv, ops, path, NULL, &d), d);
    uint64_t size = 0;
    int fd;
    CHECK_OK(ops->open(ops, path, TANDEM_OPEN_READ, &fd));
    CHECK_OK(ops->size(ops, fd, &size));
    CHECK_OK(ops->close(ops, fd));

    /* the target holds other content: a refused restore must not touch it */
    tandem_kv *target = kv_new(b);
    fill(target, 5, 10);
    uint64_t before[2];
    digest_of(target, before);

    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    uint64_t offsets[] = {30, size / 2, size - 5, size - 1,
                          8 + tandem_rand_below(&r.base, size - 8)};
    for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        flip(path, offsets[i]);
        CHECK_RC(TANDEM_ECORRUPT, tandem_kv_snapshot_verify(ops, path, NULL, &d));
        CHECK_CONTAINS(d.message, path);
        CHECK_CONTAINS(d.message, "is damaged");
        CHECK_RC(TANDEM_ECORRUPT, tandem_kv_restore(target, ops, path, &d));
        CHECK_CONTAINS(d.message, "checksum");
        uint64_t after[2];
        digest_of(target, after);
        CHECK(same(before, after));
        flip(path, offsets[i]);
        CHECK_OKD(tandem_kv_snapshot_verify(ops, path, NULL, &d), d);
    }
    /* the magic */
    flip(path, 0);
    CHECK_RC(TANDEM_ECORRUPT, tandem_kv_snapshot_verify(ops, path, NULL, &d));
    CHECK_CONTAINS(d.message, "bad magic");
    flip(path, 0);
    /* a newer version is a format error, named as such */
    flip(path, 10);
    CHECK_RC(TANDEM_EFORMAT, tandem_kv_snapshot_verify(ops, path, NULL, &d));
    CHECK_CONTAINS(d.message, "this build reads up to 1");
    flip(path, 10);
    /* a truncated file */
    CHECK_OK(ops->open(ops, path, TANDEM_OPEN_WRITE, &fd));
    CHECK_OK(ops->truncate(ops, fd, size - 3));
    CHECK_OK(ops->close(ops, fd));
    CHECK_RC(TANDEM_ECORRUPT, tandem_kv_restore(target, ops, path, &d));
    CHECK_CONTAINS(d.message, path);
    CHECK_OK(ops->open(ops, path, TANDEM_OPEN_WRITE, &fd));
    CHECK_OK(ops->truncate(ops, fd, 20));
    CHECK_OK(ops->close(ops, fd));
    CHECK_RC(TANDEM_ECORRUPT, tandem_kv_restore(target, ops, path, &d));
    CHECK_CONTAINS(d.message, "too short");
    /* a missing file */
    CHECK_RC(TANDEM_ENOENT, tandem_kv_restore(target, ops, "/nonexistent/snap", &d));
    CHECK_CONTAINS(d.message, "/nonexistent/snap");
    uint64_t after[2];
    digest_of(target, after);
    CHECK(same(before, after));
    tandem_kv_close(target);
    tandem_kv_close(kv);
}

static void snapshot_ignores_open_writes(backend b)
{
    /* A snapshot taken while a write transaction is open holds only what
     * was committed (one thread holding both: MDB_NOTLS for LMDB). */
    tandem_fileops *ops = tandem_fileops_posix();
    tandem_kv *kv = kv_new(b);
    fill(kv, 6, 40);
    uint64_t want[2];
    digest_of(kv, want);
    tandem_kv_txn *t = begin_w(kv);
    put_s(t, T_ALPHA, "uncommitted", "x");
    char path[4200];
    snapshot_path(path, sizeof(path), "snap-open-writer");
    uint64_t pos = 0;
    CHECK_OK(tandem_kv_snapshot(kv, ops, path, &pos, NULL));
    CHECK_EQ_U64(40, pos);
    commit(t, 41);
    tandem_kv *copy = kv_new(B_MEM);
    CHECK_OK(tandem_kv_restore(copy, ops, path, NULL));
    uint64_t got[2];
    digest_of(copy, got);
    CHECK(same(got, want));
    /* restore needs the write transaction */
    t = begin_w(copy);
    tandem_diag d = {0, ""};
    CHECK_RC(TANDEM_ESTATE, tandem_kv_restore(copy, ops, path, &d));
    tandem_kv_abort(t);
    tandem_kv_close(copy);
    tandem_kv_close(kv);
}

static void test_snapshot_unknown_table(void)
{
    static const char *const more[] = {"alpha", "beta", "delta", "gamma"};
    tandem_fileops *ops = tandem_fileops_posix();
    tandem_kv *wide = open_with(B_MEM, NULL, more, 4, 0);
    fill(wide, 7, 3);
    char path[4200];
    snapshot_path(path, sizeof(path), "snap-wide");
    CHECK_OK(tandem_kv_snapshot(wide, ops, path, NULL, NULL));
    tandem_kv *narrow = kv_new(B_LMDB);
    tandem_diag d = {0, ""};
    CHECK_RC(TANDEM_EFORMAT, tandem_kv_restore(narrow, ops, path, &d));
    CHECK_CONTAINS(d.message, "table \"delta\"");
    CHECK_EQ_U64(0, tandem_kv_applied_position(narrow));
    tandem_kv_close(narrow);
    /* the other way round: missing tables are simply empty */
    tandem_kv *narrow_mem = kv_new(B_MEM);
    fill(narrow_mem, 8, 4);
    CHECK_OK(tandem_kv_snapshot(narrow_mem, ops, path, NULL, NULL));
    CHECK_OK(tandem_kv_restore(wide, ops, path, NULL));
    tandem_kv_txn *t = begin_r(wide);
    CHECK_EQ_U64(0, count_of(t, 2));
    CHECK(count_of(t, 0) > 0);
    tandem_kv_abort(t);
    tandem_kv_close(narrow_mem);
    tandem_kv_close(wide);
}

static void test_snapshot_crash_atomic(void)
{
    /* Crash at every operation of writing a snapshot over an older one:
     * afterwards the name holds the old or the new snapshot, whole. */
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    tandem_kv *kv = kv_new(B_MEM);
    fill(kv, 9, 1);
    uint64_t old_digest[2];
    digest_of(kv, old_digest);
    tandem_kv *kv2 = kv_new(B_MEM);
    fill(kv2, 10, 2);
    tandem_kv_txn *t = begin_w(kv2);
    put_s(t, T_ALPHA, "newer", "yes");
    commit(t, 2);
    uint64_t new_digest[2];
    digest_of(kv2, new_digest);
    bool saw_old = false;
    bool saw_new = false;
    for (int64_t n = 0; n < 200; n++) {
        tandem_faultfs *fs = NULL;
        CHECK_OK(tandem_faultfs_new(&r.base, &fs));
        tandem_fileops *ops = tandem_faultfs_ops(fs);
        CHECK_OK(tandem_mkdir_durable(ops, "snaps"));
        CHECK_OK(tandem_kv_snapshot(kv, ops, "snaps/state.snap", NULL, NULL));
        tandem_faultfs_crash_after(fs, n);
        int rc = tandem_kv_snapshot(kv2, ops, "snaps/state.snap", NULL, NULL);
        tandem_faultfs_crash(fs, n % 2 == 0);
        tandem_kv *check = kv_new(B_MEM);
        tandem_diag d = {0, ""};
        CHECK_OKD(tandem_kv_restore(check, ops, "snaps/state.snap", &d), d);
        uint64_t got[2];
        digest_of(check, got);
        CHECK(same(got, old_digest) || same(got, new_digest));
        if (rc == TANDEM_OK) {
            CHECK(same(got, new_digest)); /* acknowledged means durable */
        }
        saw_old |= same(got, old_digest);
        saw_new |= same(got, new_digest);
        tandem_kv_close(check);
        tandem_faultfs_free(fs);
        if (rc == TANDEM_OK) {
            break;
        }
    }
    CHECK(saw_old && saw_new);
    tandem_kv_close(kv2);
    tandem_kv_close(kv);
}

static void test_snapshot_write_errors(void)
{
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    tandem_faultfs *fs = NULL;
    CHECK_OK(tandem_faultfs_new(&r.base, &fs));
    tandem_fileops *ops = tandem_faultfs_ops(fs);
    tandem_kv *kv = kv_new(B_MEM);
    fill(kv, 11, 5);
    tandem_diag d = {0, ""};
    /* the parent directory must exist */
    CHECK_RC(TANDEM_ENOENT, tandem_kv_snapshot(kv, ops, "missing/x.snap", NULL, &d));
    CHECK_CONTAINS(d.message, "missing/x.snap.tmp");
    CHECK_OK(tandem_mkdir_durable(ops, "s"));
    tandem_faultfs_fail_write(fs, 1);
    CHECK_RC(TANDEM_ENOSPC, tandem_kv_snapshot(kv, ops, "s/x.snap", NULL, &d));
    CHECK_CONTAINS(d.message, "write snapshot s/x.snap.tmp");
    tandem_faultfs_fail_sync(fs, 1);
    CHECK_RC(TANDEM_EIO, tandem_kv_snapshot(kv, ops, "s/x.snap", NULL, &d));
    CHECK_CONTAINS(d.message, "sync snapshot s/x.snap.tmp");
    /* nothing was published, the temp file is gone */
    CHECK_RC(TANDEM_ENOENT, ops->stat(ops, "s/x.snap", NULL));
    CHECK_RC(TANDEM_ENOENT, ops->stat(ops, "s/x.snap.tmp", NULL));
    CHECK_OK(tandem_kv_snapshot(kv, ops, "s/x.snap", NULL, NULL));
    tandem_kv_close(kv);
    tandem_faultfs_free(fs);
}

#define BOTH(fn)                                                                                   \
    static void fn##_mem(void)                                                                     \
    {                                                                                              \
        fn(B_MEM);                                                                                 \
    }                                                                                              \
    static void fn##_lmdb(void)                                                                    \
    {                                                                                              \
        fn(B_LMDB);                                                                                \
    }
#define CASES(fn)                                                                                  \
    {#fn "/memory", fn##_mem},                                                                     \
    {                                                                                              \
#fn "/lmdb", fn##_lmdb                                                                     \
    }

BOTH(put_get_delete)
BOTH(tables_are_separate)
BOTH(iteration_order_binary)
BOTH(prefix_seek)
BOTH(cursor_with_writes)
BOTH(abort_discards)
BOTH(read_isolation)
BOTH(applied_position)
BOTH(one_writer)
BOTH(sticky_error)
BOTH(large_values)
BOTH(random_walk)
BOTH(many_keys)
BOTH(map_full)
BOTH(readers_bounded)
BOTH(bad_options)
BOTH(snapshot_restore)
BOTH(snapshot_damage_refused)
BOTH(snapshot_ignores_open_writes)

static const tandem_test cases[] = {
    CASES(put_get_delete),
    CASES(tables_are_separate),
    CASES(iteration_order_binary),
    CASES(prefix_seek),
    CASES(cursor_with_writes),
    CASES(abort_discards),
    CASES(read_isolation),
    CASES(applied_position),
    CASES(one_writer),
    CASES(sticky_error),
    CASES(large_values),
    CASES(random_walk),
    CASES(many_keys),
    CASES(map_full),
    CASES(readers_bounded),
    CASES(bad_options),
    CASES(snapshot_restore),
    CASES(snapshot_damage_refused),
    CASES(snapshot_ignores_open_writes),
    {"digest_across_backends", test_digest_across_backends},
    {"snapshot_unknown_table", test_snapshot_unknown_table},
    {"snapshot_crash_atomic", test_snapshot_crash_atomic},
    {"snapshot_write_errors", test_snapshot_write_errors},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
