/*
 * The in-memory backend of the state store (see kv.h), for tests and the
 * simulator.
 *
 * Each table is a persistent treap: nodes are reference-counted and never
 * changed while shared, so a transaction's version is just its set of root
 * pointers. Beginning a transaction takes a reference on the committed
 * roots; a write copies the nodes on its path that are shared and changes in
 * place those only it holds (reference count 1), so a long write transaction
 * copies each node at most once. Commit swaps the roots; abort drops them.
 * That gives read transactions the same stable view LMDB's MVCC gives.
 *
 * A node's priority is a hash of its key, so the same content always has the
 * same shape (deterministic, no randomness needed). Key and value live in a
 * separate reference-counted blob that copies of a node share.
 *
 * Failures leave a version unchanged: before a write touches the tree, the
 * node headers it may need (at most three per level of the tree) are taken
 * into a spare list, so the copy-on-write recursion itself never allocates.
 * `map_size_bytes` bounds the bytes of all live versions, as the map size
 * bounds LMDB's file; reaching it gives TANDEM_ENOSPC.
 */
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "state/kv_int.h"

/* Spare node headers kept after frees; more are freed. */
#define MEM_SPARE_KEEP 512

typedef struct mem_blob {
    uint32_t refs;
    uint32_t key_len;
    uint32_t val_len;
    uint8_t data[]; /* key, then value */
} mem_blob;

typedef struct mem_node {
    uint32_t refs;
    uint32_t height; /* of this subtree, 1 for a leaf */
    uint64_t prio;   /* hash of the key: heap order, larger on top */
    uint64_t count;  /* entries in this subtree */
    struct mem_node *left;
    struct mem_node *right; /* also links the spare list */
    mem_blob *blob;
} mem_node;

typedef struct mem_kv {
    tandem_kv base;
    mem_node *roots[TANDEM_KV_TABLES_MAX]; /* the committed version: one reference each */
    uint64_t applied_position;
    uint64_t bytes_used; /* node headers and blobs of every live version */
    mem_node *spare;
    uint32_t spare_count;
} mem_kv;

typedef struct mem_txn {
    tandem_kv_txn base;
    mem_node *roots[TANDEM_KV_TABLES_MAX]; /* this transaction's version: one reference each */
} mem_txn;

_Static_assert(TANDEM_KV_VALUE_MAX_BYTES <= UINT32_MAX, "value length fits a blob");
_Static_assert(TANDEM_KV_KEY_MAX_BYTES <= UINT32_MAX, "key length fits a blob");

static const kv_backend mem_backend;

static mem_kv *mem_of(tandem_kv *kv)
{
    TANDEM_ASSERT(kv != NULL);
    TANDEM_ASSERT(kv->backend == &mem_backend);
    return (mem_kv *)kv;
}

static mem_txn *txn_of(tandem_kv_txn *txn)
{
    TANDEM_ASSERT(txn != NULL && txn->kv != NULL);
    TANDEM_ASSERT(txn->kv->backend == &mem_backend);
    return (mem_txn *)txn;
}

/* --- nodes and blobs --- */

static const uint8_t *blob_key(const mem_blob *b)
{
    TANDEM_ASSERT(b != NULL && b->refs > 0);
    TANDEM_ASSERT(b->key_len >= 1 && b->key_len <= TANDEM_KV_KEY_MAX_BYTES);
    return b->data;
}

static const uint8_t *blob_val(const mem_blob *b)
{
    TANDEM_ASSERT(b != NULL && b->refs > 0);
    TANDEM_ASSERT(b->val_len <= TANDEM_KV_VALUE_MAX_BYTES);
    return b->data + b->key_len;
}

static size_t blob_bytes(uint32_t key_len, uint32_t val_len)
{
    TANDEM_ASSERT(key_len >= 1 && key_len <= TANDEM_KV_KEY_MAX_BYTES);
    TANDEM_ASSERT(val_len <= TANDEM_KV_VALUE_MAX_BYTES);
    return sizeof(mem_blob) + (size_t)key_len + (size_t)val_len;
}

static void blob_unref(mem_kv *m, mem_blob *b)
{
    TANDEM_ASSERT(m != NULL);
    TANDEM_ASSERT(b != NULL && b->refs > 0);
    if (--b->refs == 0) {
        size_t bytes = blob_bytes(b->key_len, b->val_len);
        TANDEM_ASSERT(m->bytes_used >= bytes);
        m->bytes_used -= bytes;
        free(b);
    }
}

static void spare_push(mem_kv *m, mem_node *n)
{
    TANDEM_ASSERT(m != NULL && n != NULL);
    TANDEM_ASSERT(n->refs == 0);
    if (m->spare_count >= MEM_SPARE_KEEP) {
        free(n);
        return;
    }
    n->right = m->spare;
    m->spare = n;
    m->spare_count++;
}

/* Makes sure `need` headers are spare; TANDEM_ENOMEM changes nothing. */
static int spare_reserve(mem_kv *m, uint64_t need)
{
    TANDEM_ASSERT(m != NULL);
    TANDEM_ASSERT(need > 0 && need < UINT32_MAX);
    while (m->spare_count < need) {
        mem_node *n = malloc(sizeof(*n));
        if (n == NULL) {
            return TANDEM_ENOMEM;
        }
        n->refs = 0;
        n->right = m->spare;
        m->spare = n;
        m->spare_count++;
    }
    TANDEM_ASSERT(m->spare_count >= need);
    return TANDEM_OK;
}

static mem_node *spare_take(mem_kv *m)
{
    TANDEM_ASSERT(m != NULL);
    TANDEM_ASSERT(m->spare != NULL && m->spare_count > 0);
    mem_node *n = m->spare;
    TANDEM_ASSERT(n->refs == 0);
    m->spare = n->right;
    m->spare_count--;
    m->bytes_used += sizeof(mem_node);
    TANDEM_ASSERT(m->bytes_used >= sizeof(mem_node));
    return n;
}

static void node_ref(mem_node *n)
{
    if (n != NULL) {
        TANDEM_ASSERT(n->refs > 0 && n->refs < UINT32_MAX);
        TANDEM_ASSERT(n->blob != NULL && n->count >= 1);
        n->refs++;
    }
}

/* Drops a reference; frees the subtree parts nobody else holds. Recursion
 * depth is at most the tree's height. */
static void node_unref(mem_kv *m, mem_node *n)
{
    TANDEM_ASSERT(m != NULL);
    if (n == NULL) {
        return;
    }
    TANDEM_ASSERT(n->refs > 0);
    TANDEM_ASSERT(n->blob != NULL);
    if (--n->refs > 0) {
        return;
    }
    node_unref(m, n->left);
    node_unref(m, n->right);
    blob_unref(m, n->blob);
    TANDEM_ASSERT(m->bytes_used >= sizeof(mem_node));
    m->bytes_used -= sizeof(mem_node);
    spare_push(m, n);
}

static uint64_t node_count(const mem_node *n)
{
    TANDEM_ASSERT(n == NULL || n->refs > 0);
    TANDEM_ASSERT(n == NULL || n->count >= n->height);
    return n == NULL ? 0 : n->count;
}

static uint32_t node_height(const mem_node *n)
{
    TANDEM_ASSERT(n == NULL || n->refs > 0);
    TANDEM_ASSERT(n == NULL || n->height >= 1);
    return n == NULL ? 0 : n->height;
}

static int node_cmp(const void *key, size_t key_len, const mem_node *n);

/* Recomputes count and height of a node the caller holds alone, and checks
 * the treap's two invariants locally: key order and heap order. */
static void node_update(mem_node *n)
{
    TANDEM_ASSERT(n != NULL && n->refs == 1);
    const mem_blob *b = n->blob;
    if (n->left != NULL) {
        TANDEM_ASSERT(n->left->prio <= n->prio);
        TANDEM_ASSERT(node_cmp(blob_key(b), b->key_len, n->left) > 0);
    }
    if (n->right != NULL) {
        TANDEM_ASSERT(n->right->prio <= n->prio);
        TANDEM_ASSERT(node_cmp(blob_key(b), b->key_len, n->right) < 0);
    }
    n->count = 1 + node_count(n->left) + node_count(n->right);
    uint32_t hl = node_height(n->left);
    uint32_t hr = node_height(n->right);
    n->height = 1 + (hl > hr ? hl : hr);
}

/* Returns a node only the caller holds, with n's content: n itself when its
 * reference is the only one, else a copy (and n loses the caller's ref). */
static mem_node *node_own(mem_kv *m, mem_node *n)
{
    TANDEM_ASSERT(m != NULL);
    TANDEM_ASSERT(n != NULL && n->refs > 0);
    if (n->refs == 1) {
        return n;
    }
    mem_node *c = spare_take(m);
    *c = *n;
    c->refs = 1;
    node_ref(c->left);
    node_ref(c->right);
    TANDEM_ASSERT(c->blob->refs > 0 && c->blob->refs < UINT32_MAX);
    c->blob->refs++;
    n->refs--;
    TANDEM_ASSERT(n->refs > 0); /* still held by its other owners */
    return c;
}

static int node_cmp(const void *key, size_t key_len, const mem_node *n)
{
    TANDEM_ASSERT(n != NULL && n->blob != NULL);
    TANDEM_ASSERT(key_len >= 1 && key_len <= TANDEM_KV_KEY_MAX_BYTES);
    return kv_key_compare(key, key_len, blob_key(n->blob), n->blob->key_len);
}

/* --- treap operations; each consumes the references it is given --- */

/* Splits t into keys < key (*l) and keys >= key (*r). */
static void tree_split(mem_kv *m, mem_node *t, const void *key, size_t key_len, mem_node **l,
                       mem_node **r)
{
    TANDEM_ASSERT(l != NULL && r != NULL);
    if (t == NULL) {
        *l = NULL;
        *r = NULL;
        return;
    }
    uint64_t total = t->count;
    t = node_own(m, t);
    if (node_cmp(key, key_len, t) > 0) {
        tree_split(m, t->right, key, key_len, &t->right, r);
        *l = t;
    } else {
        tree_split(m, t->left, key, key_len, l, &t->left);
        *r = t;
    }
    node_update(t);
    TANDEM_ASSERT(node_count(*l) + node_count(*r) == total);
}

/* Joins a and b, every key of a below every key of b. */
static mem_node *tree_merge(mem_kv *m, mem_node *a, mem_node *b)
{
    if (a == NULL) {
        return b;
    }
    if (b == NULL) {
        return a;
    }
    uint64_t total = a->count + b->count;
    mem_node *root;
    if (a->prio > b->prio) {
        root = node_own(m, a);
        root->right = tree_merge(m, root->right, b);
    } else {
        root = node_own(m, b);
        root->left = tree_merge(m, a, root->left);
    }
    node_update(root);
    TANDEM_ASSERT(root->count == total);
    return root;
}

static mem_node *tree_insert(mem_kv *m, mem_node *t, mem_node *nn)
{
    TANDEM_ASSERT(m != NULL);
    TANDEM_ASSERT(nn != NULL && nn->refs == 1 && nn->count == 1);
    if (t == NULL) {
        return nn;
    }
    uint64_t before = t->count;
    int c = node_cmp(blob_key(nn->blob), nn->blob->key_len, t);
    if (c == 0) {
        /* Same key, same priority: nn takes t's place and children. */
        TANDEM_ASSERT(nn->prio == t->prio);
        nn->left = t->left;
        nn->right = t->right;
        node_ref(nn->left);
        node_ref(nn->right);
        node_unref(m, t);
        node_update(nn);
        TANDEM_ASSERT(nn->count == before);
        return nn;
    }
    if (nn->prio > t->prio) {
        tree_split(m, t, blob_key(nn->blob), nn->blob->key_len, &nn->left, &nn->right);
        node_update(nn);
        TANDEM_ASSERT(nn->count == before + 1);
        return nn;
    }
    t = node_own(m, t);
    if (c < 0) {
        t->left = tree_insert(m, t->left, nn);
    } else {
        t->right = tree_insert(m, t->right, nn);
    }
    node_update(t);
    TANDEM_ASSERT(t->count == before || t->count == before + 1);
    return t;
}

/* Removes key, which must be present. */
static mem_node *tree_erase(mem_kv *m, mem_node *t, const void *key, size_t key_len)
{
    TANDEM_ASSERT(t != NULL); /* the key is present, so the path never ends */
    uint64_t before = t->count;
    int c = node_cmp(key, key_len, t);
    if (c == 0) {
        /* Take the children before dropping t, so that when t was ours
         * alone they are ours alone again and merge changes them in place. */
        mem_node *l = t->left;
        mem_node *r = t->right;
        node_ref(l);
        node_ref(r);
        node_unref(m, t);
        return tree_merge(m, l, r);
    }
    t = node_own(m, t);
    if (c < 0) {
        t->left = tree_erase(m, t->left, key, key_len);
    } else {
        t->right = tree_erase(m, t->right, key, key_len);
    }
    node_update(t);
    TANDEM_ASSERT(t->count + 1 == before);
    return t;
}

static mem_node *tree_find(mem_node *t, const void *key, size_t key_len)
{
    TANDEM_ASSERT(key != NULL && key_len >= 1);
    while (t != NULL) {
        int c = node_cmp(key, key_len, t);
        if (c == 0) {
            TANDEM_ASSERT(t->blob->key_len == key_len);
            return t;
        }
        t = c < 0 ? t->left : t->right;
    }
    return NULL;
}

/* The node with the smallest key >= key (> key when strict); key_len 0
 * means the smallest key. */
static mem_node *tree_lower_bound(mem_node *t, const void *key, size_t key_len, bool strict)
{
    TANDEM_ASSERT(key != NULL || key_len == 0);
    TANDEM_ASSERT(!strict || key_len > 0);
    mem_node *best = NULL;
    while (t != NULL) {
        int c = key_len == 0 ? -1 : node_cmp(key, key_len, t);
        if (c < 0 || (c == 0 && !strict)) {
            best = t;
            t = t->left;
        } else {
            t = t->right;
        }
    }
    TANDEM_ASSERT(best == NULL || key_len == 0 ||
                  node_cmp(key, key_len, best) <= (strict ? -1 : 0));
    return best;
}

/* --- the backend --- */

static void mem_close(tandem_kv *kv)
{
    mem_kv *m = mem_of(kv);
    TANDEM_ASSERT(atomic_load(&kv->txns_open) == 0);
    for (uint32_t i = 0; i < TANDEM_KV_TABLES_MAX; i++) {
        TANDEM_ASSERT(m->roots[i] == NULL || m->roots[i]->refs == 1);
        node_unref(m, m->roots[i]);
        m->roots[i] = NULL;
    }
    /* Every version is gone, so every byte must be accounted back. */
    TANDEM_ASSERT(m->bytes_used == 0);
    while (m->spare != NULL) {
        mem_node *n = m->spare;
        m->spare = n->right;
        free(n);
    }
    free(m);
}

static int mem_begin(tandem_kv *kv, bool write, tandem_kv_txn **out, tandem_diag *diag)
{
    mem_kv *m = mem_of(kv);
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(!write || atomic_load(&kv->writer_open));
    mem_txn *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "state %s: no memory for a transaction",
                               kv->path);
    }
    for (uint32_t i = 0; i < kv->table_count; i++) {
        t->roots[i] = m->roots[i];
        node_ref(t->roots[i]);
    }
    t->base.applied_position = m->applied_position;
    *out = &t->base;
    return TANDEM_OK;
}

static void mem_abort(tandem_kv_txn *txn)
{
    mem_txn *t = txn_of(txn);
    mem_kv *m = mem_of(txn->kv);
    TANDEM_ASSERT(txn->cursors_open == 0);
    for (uint32_t i = 0; i < TANDEM_KV_TABLES_MAX; i++) {
        node_unref(m, t->roots[i]);
    }
    free(t);
}

static int mem_commit(tandem_kv_txn *txn, uint64_t applied_position, tandem_diag *diag)
{
    (void)diag;
    mem_txn *t = txn_of(txn);
    mem_kv *m = mem_of(txn->kv);
    TANDEM_ASSERT(txn->write && txn->error == TANDEM_OK);
    /* One writer: the version it started from is still the committed one. */
    TANDEM_ASSERT(m->applied_position == txn->applied_position);
    for (uint32_t i = 0; i < TANDEM_KV_TABLES_MAX; i++) {
        node_unref(m, m->roots[i]);
        m->roots[i] = t->roots[i];
    }
    m->applied_position = applied_position;
    free(t);
    return TANDEM_OK;
}

static int mem_get(tandem_kv_txn *txn, uint32_t table, const void *key, size_t key_len,
                   tandem_kv_val *val_out, tandem_diag *diag)
{
    (void)diag;
    TANDEM_ASSERT(table < txn->kv->table_count);
    TANDEM_ASSERT(val_out != NULL);
    mem_node *n = tree_find(txn_of(txn)->roots[table], key, key_len);
    if (n == NULL) {
        return TANDEM_ENOENT;
    }
    TANDEM_ASSERT(memcmp(blob_key(n->blob), key, key_len) == 0);
    val_out->data = blob_val(n->blob);
    val_out->len = n->blob->val_len;
    return TANDEM_OK;
}

/* Checks the byte budget and reserves the headers a change of `root` may
 * copy, before anything changes. */
static int prepare_change(mem_kv *m, const mem_node *root, size_t blob_size, bool grows,
                          tandem_diag *diag)
{
    TANDEM_ASSERT(m != NULL);
    TANDEM_ASSERT(grows || blob_size == 0);
    uint64_t need = 3 * (uint64_t)node_height(root) + 4;
    uint64_t bytes = blob_size + need * sizeof(mem_node);
    /* A delete may briefly copy a path, but it is how a full store gets
     * room again, so only growing writes are held to the budget. */
    if (grows && m->bytes_used + bytes > m->base.map_size_bytes) {
        return tandem_diag_set(diag, TANDEM_ENOSPC,
                               "state %s is full: %llu bytes used, %llu more needed, map size "
                               "%llu bytes; raise the state map size",
                               m->base.path, (unsigned long long)m->bytes_used,
                               (unsigned long long)bytes,
                               (unsigned long long)m->base.map_size_bytes);
    }
    if (spare_reserve(m, need) != TANDEM_OK) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "state %s: no memory for a write",
                               m->base.path);
    }
    TANDEM_ASSERT(m->spare_count >= need);
    return TANDEM_OK;
}

static uint64_t key_priority(const void *key, size_t key_len)
{
    TANDEM_ASSERT(key != NULL);
    TANDEM_ASSERT(key_len >= 1 && key_len <= TANDEM_KV_KEY_MAX_BYTES);
    kv_hasher h;
    uint64_t out[2];
    kv_hasher_init(&h);
    kv_hasher_update(&h, key, key_len);
    kv_hasher_final(&h, out);
    return out[0];
}

static int mem_put(tandem_kv_txn *txn, uint32_t table, const void *key, size_t key_len,
                   const void *val, size_t val_len, bool append, tandem_diag *diag)
{
    (void)append; /* the treap needs no hint */
    mem_txn *t = txn_of(txn);
    mem_kv *m = mem_of(txn->kv);
    TANDEM_ASSERT(txn->write && table < txn->kv->table_count);
    TANDEM_ASSERT(val != NULL && val_len <= TANDEM_KV_VALUE_MAX_BYTES);
    size_t bytes = blob_bytes((uint32_t)key_len, (uint32_t)val_len);
    int rc = prepare_change(m, t->roots[table], bytes, true, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    mem_blob *b = malloc(bytes);
    if (b == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "state %s: no memory for a value of %zu bytes",
                               m->base.path, val_len);
    }
    b->refs = 1;
    b->key_len = (uint32_t)key_len;
    b->val_len = (uint32_t)val_len;
    memcpy(b->data, key, key_len);
    memcpy(b->data + key_len, val, val_len);
    m->bytes_used += bytes;
    mem_node *nn = spare_take(m);
    memset(nn, 0, sizeof(*nn));
    nn->refs = 1;
    nn->blob = b;
    nn->prio = key_priority(key, key_len);
    node_update(nn);
    t->roots[table] = tree_insert(m, t->roots[table], nn);
    TANDEM_ASSERT(tree_find(t->roots[table], key, key_len) == nn);
    return TANDEM_OK;
}

static int mem_del(tandem_kv_txn *txn, uint32_t table, const void *key, size_t key_len,
                   tandem_diag *diag)
{
    mem_txn *t = txn_of(txn);
    mem_kv *m = mem_of(txn->kv);
    TANDEM_ASSERT(txn->write && table < txn->kv->table_count);
    if (tree_find(t->roots[table], key, key_len) == NULL) {
        return TANDEM_ENOENT;
    }
    int rc = prepare_change(m, t->roots[table], 0, false, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    uint64_t before = node_count(t->roots[table]);
    t->roots[table] = tree_erase(m, t->roots[table], key, key_len);
    TANDEM_ASSERT(node_count(t->roots[table]) + 1 == before);
    return TANDEM_OK;
}

static int mem_clear(tandem_kv_txn *txn, uint32_t table, tandem_diag *diag)
{
    (void)diag;
    mem_txn *t = txn_of(txn);
    TANDEM_ASSERT(txn->write && table < txn->kv->table_count);
    node_unref(mem_of(txn->kv), t->roots[table]);
    t->roots[table] = NULL;
    TANDEM_ASSERT(node_count(t->roots[table]) == 0);
    return TANDEM_OK;
}

static int mem_count(tandem_kv_txn *txn, uint32_t table, uint64_t *count_out, tandem_diag *diag)
{
    (void)diag;
    TANDEM_ASSERT(table < txn->kv->table_count);
    TANDEM_ASSERT(count_out != NULL);
    *count_out = node_count(txn_of(txn)->roots[table]);
    return TANDEM_OK;
}

static int mem_cursor_open(tandem_kv_txn *txn, uint32_t table, tandem_kv_cursor **out,
                           tandem_diag *diag)
{
    TANDEM_ASSERT(table < txn_of(txn)->base.kv->table_count);
    TANDEM_ASSERT(out != NULL);
    /* The front end's cursor is all a treap cursor needs: it finds the
     * successor of last_key from the root on every step. */
    tandem_kv_cursor *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "state %s: no memory for a cursor",
                               txn->kv->path);
    }
    *out = c;
    return TANDEM_OK;
}

static void mem_cursor_close(tandem_kv_cursor *c)
{
    TANDEM_ASSERT(c != NULL && c->txn != NULL);
    TANDEM_ASSERT(c->txn->kv->backend == &mem_backend);
    free(c);
}

static int found(const mem_node *n, tandem_kv_val *k, tandem_kv_val *v)
{
    TANDEM_ASSERT(k != NULL && v != NULL);
    TANDEM_ASSERT(n == NULL || n->refs > 0);
    if (n == NULL) {
        return TANDEM_ENOENT;
    }
    k->data = blob_key(n->blob);
    k->len = n->blob->key_len;
    v->data = blob_val(n->blob);
    v->len = n->blob->val_len;
    return TANDEM_OK;
}

static int mem_cursor_seek(tandem_kv_cursor *c, const void *key, size_t key_len, tandem_kv_val *k,
                           tandem_kv_val *v, tandem_diag *diag)
{
    (void)diag;
    TANDEM_ASSERT(c != NULL && c->table < c->txn->kv->table_count);
    TANDEM_ASSERT(key_len <= TANDEM_KV_KEY_MAX_BYTES);
    mem_node *root = txn_of(c->txn)->roots[c->table];
    return found(tree_lower_bound(root, key, key_len, false), k, v);
}

static int mem_cursor_next(tandem_kv_cursor *c, tandem_kv_val *k, tandem_kv_val *v,
                           tandem_diag *diag)
{
    (void)diag;
    TANDEM_ASSERT(c != NULL && c->table < c->txn->kv->table_count);
    TANDEM_ASSERT(c->last_key_len > 0 && c->last_key_len <= TANDEM_KV_KEY_MAX_BYTES);
    mem_node *root = txn_of(c->txn)->roots[c->table];
    return found(tree_lower_bound(root, c->last_key, c->last_key_len, true), k, v);
}

static int mem_sync(tandem_kv *kv, tandem_diag *diag)
{
    (void)diag;
    mem_kv *m = mem_of(kv); /* nothing to make durable: memory has no disk */
    TANDEM_ASSERT(m->base.table_count > 0);
    return TANDEM_OK;
}

static int mem_set_map_size(tandem_kv *kv, uint64_t map_size_bytes, tandem_diag *diag)
{
    (void)diag;
    TANDEM_ASSERT(map_size_bytes > 0);
    TANDEM_ASSERT(atomic_load(&mem_of(kv)->base.txns_open) == 0);
    return TANDEM_OK; /* the front end stores it; prepare_change reads it */
}

static const kv_backend mem_backend = {
    .name = "memory",
    .close = mem_close,
    .begin = mem_begin,
    .commit = mem_commit,
    .abort = mem_abort,
    .get = mem_get,
    .put = mem_put,
    .del = mem_del,
    .clear = mem_clear,
    .count = mem_count,
    .cursor_open = mem_cursor_open,
    .cursor_close = mem_cursor_close,
    .cursor_seek = mem_cursor_seek,
    .cursor_next = mem_cursor_next,
    .sync = mem_sync,
    .set_map_size = mem_set_map_size,
};

int tandem_kv_open_mem(const tandem_kv_options *opts, tandem_kv **out, tandem_diag *diag)
{
    TANDEM_ASSERT(out != NULL);
    mem_kv *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        return tandem_diag_set(diag, TANDEM_ENOMEM, "state memory: no memory for the store");
    }
    TANDEM_ASSERT(m->spare_count == 0);
    int rc = kv_init_common(&m->base, &mem_backend, "memory", opts, diag);
    if (rc != TANDEM_OK) {
        free(m);
        return rc;
    }
    TANDEM_ASSERT(m->bytes_used == 0 && m->spare == NULL);
    *out = &m->base;
    return TANDEM_OK;
}
