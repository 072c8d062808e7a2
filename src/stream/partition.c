/* One partition replica: data directory, journal, state, recovery, apply (see partition.h). */
#include "stream/partition.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/log.h"
#include "state/datadir.h"

#define PARTITION_APPLY_ENTRIES_DEFAULT 1024u

static const char *const default_tables[] = {TANDEM_PARTITION_TABLE_NAME};
static const char last_position_key[] = "last_position";

int tandem_partition_last_position(tandem_kv_txn *txn, uint64_t *out, tandem_diag *diag)
{
    TANDEM_ASSERT(txn != NULL && out != NULL);
    tandem_kv_val v;
    int rc = tandem_kv_get(txn, TANDEM_PARTITION_TABLE, last_position_key,
                           sizeof(last_position_key) - 1, &v, diag);
    if (rc == TANDEM_ENOENT) {
        *out = 0;
        return TANDEM_OK;
    }
    if (rc != TANDEM_OK) {
        return rc;
    }
    if (v.len != 8) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "state table partition: last_position has %zu bytes, not 8", v.len);
    }
    *out = tandem_load_u64(v.data);
    return TANDEM_OK;
}

int tandem_partition_set_last_position(tandem_kv_txn *txn, uint64_t position, tandem_diag *diag)
{
    TANDEM_ASSERT(txn != NULL);
    uint8_t value[8];
    tandem_store_u64(value, position);
    return tandem_kv_put(txn, TANDEM_PARTITION_TABLE, last_position_key,
                         sizeof(last_position_key) - 1, value, sizeof(value), diag);
}

struct tandem_partition {
    tandem_partition_options opts; /* private: strings point into the copies below */
    char *data_root;
    char *cluster_name;
    tandem_datadir *dir;
    tandem_journal *journal;
    tandem_kv *kv;
    uint64_t term;         /* the term this replica appends in */
    uint64_t commit_index; /* entries <= commit_index are committed */
    uint64_t applied_index;
    tandem_buf scratch; /* payload buffer of the apply path */
    bool stopped;
};

void tandem_partition_options_default(tandem_partition_options *opts)
{
    TANDEM_ASSERT(opts != NULL);
    memset(opts, 0, sizeof(*opts));
    opts->ops = tandem_fileops_posix();
    opts->rand = tandem_rand_real();
    tandem_journal_options_default(&opts->journal);
    opts->apply_entries_max = PARTITION_APPLY_ENTRIES_DEFAULT;
    opts->table_names = default_tables;
    opts->table_count = 1;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p != NULL) {
        memcpy(p, s, n);
    }
    return p;
}

static void logf_partition(const tandem_partition *p, enum tandem_log_level level, const char *msg,
                           const char *detail)
{
    char part[16];
    char term[24];
    snprintf(part, sizeof(part), "%u", p->opts.partition_id);
    snprintf(term, sizeof(term), "%llu", (unsigned long long)p->term);
    tandem_log(level, msg, "partition", part, "term", term, "detail", detail, NULL);
}

/* Becomes the (only) leader of a new term, as Raft's election will: the term
 * is durable before anything of it is appended, and a no-op entry opens it. */
static int start_term(tandem_partition *p, tandem_diag *diag)
{
    tandem_journal_meta meta = tandem_journal_meta_get(p->journal);
    uint64_t last_index = tandem_journal_last_index(p->journal);
    uint64_t last_term = 0;
    int rc = tandem_journal_term_at(p->journal, last_index, &last_term);
    if (rc != TANDEM_OK) {
        return tandem_diag_set(diag, rc, "partition %u: term of last entry %llu unreadable",
                               p->opts.partition_id, (unsigned long long)last_index);
    }
    uint64_t term = (meta.term > last_term ? meta.term : last_term) + 1;
    rc = tandem_journal_meta_set(p->journal, term, p->opts.node_id, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    p->term = term;
    uint64_t index = 0;
    rc = tandem_journal_append(p->journal, term, TANDEM_JOURNAL_NOOP, NULL, 0, &index, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    return tandem_partition_flush(p, diag);
}

static int open_state(tandem_partition *p, tandem_diag *diag)
{
    tandem_kv_options kv_opts = {
        .table_names = p->opts.table_names,
        .table_count = p->opts.table_count,
        .map_size_bytes = p->opts.state_map_size_bytes,
    };
    if (p->opts.state_in_memory) {
        return tandem_kv_open_mem(&kv_opts, &p->kv, diag);
    }
    return tandem_kv_open_lmdb(tandem_datadir_state_path(p->dir), &kv_opts, &p->kv, diag);
}

/* The state may lag the journal (crash between flush and state commit) but
 * never lead it, and the journal must still hold what the state lacks. */
static int check_positions(tandem_partition *p, tandem_diag *diag)
{
    uint64_t applied = tandem_kv_applied_position(p->kv);
    uint64_t first = tandem_journal_first_index(p->journal);
    uint64_t last = tandem_journal_last_index(p->journal);
    if (applied > last) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "partition %u: state applied position %llu is ahead of the "
                               "journal's last index %llu (journal in %s lost entries)",
                               p->opts.partition_id, (unsigned long long)applied,
                               (unsigned long long)last, tandem_datadir_journal_path(p->dir));
    }
    if (applied + 1 < first) {
        return tandem_diag_set(diag, TANDEM_ECORRUPT,
                               "partition %u: state applied position %llu but the journal "
                               "starts at index %llu: entries in between are gone",
                               p->opts.partition_id, (unsigned long long)applied,
                               (unsigned long long)first);
    }
    p->applied_index = applied;
    return TANDEM_OK;
}

int tandem_partition_open(const tandem_partition_options *opts, tandem_partition **out,
                          tandem_diag *diag)
{
    TANDEM_ASSERT(opts != NULL && out != NULL);
    TANDEM_ASSERT(opts->ops != NULL && opts->rand != NULL);
    TANDEM_ASSERT(opts->data_root != NULL && opts->cluster_name != NULL);
    TANDEM_ASSERT(opts->table_count >= 1 &&
                  strcmp(opts->table_names[0], TANDEM_PARTITION_TABLE_NAME) == 0);
    int rc = TANDEM_ENOMEM;
    tandem_partition *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return tandem_diag_set(diag, rc, "partition %u: out of memory", opts->partition_id);
    }
    p->opts = *opts;
    if (p->opts.apply_entries_max == 0) {
        p->opts.apply_entries_max = PARTITION_APPLY_ENTRIES_DEFAULT;
    }
    p->data_root = dup_str(opts->data_root);
    p->cluster_name = dup_str(opts->cluster_name);
    if (p->data_root == NULL || p->cluster_name == NULL) {
        tandem_diag_set(diag, rc, "partition %u: out of memory", opts->partition_id);
        goto err_free;
    }
    p->opts.data_root = p->data_root;
    p->opts.cluster_name = p->cluster_name;
    tandem_buf_init(&p->scratch);

    tandem_datadir_config dcfg = {p->data_root, p->cluster_name, opts->node_id, opts->partition_id};
    rc = tandem_datadir_open(opts->ops, opts->rand, &dcfg, &p->dir, diag);
    if (rc != TANDEM_OK) {
        goto err_free;
    }
    rc = tandem_journal_open(opts->ops, tandem_datadir_journal_path(p->dir), &opts->journal,
                             &p->journal, diag);
    if (rc != TANDEM_OK) {
        goto err_dir;
    }
    rc = open_state(p, diag);
    if (rc != TANDEM_OK) {
        goto err_journal;
    }
    rc = check_positions(p, diag);
    if (rc != TANDEM_OK) {
        goto err_kv;
    }
    /* everything in the journal after open is durable, and on one replica
     * durable is committed */
    p->commit_index = tandem_journal_durable_index(p->journal);
    rc = tandem_partition_apply(p, diag);
    if (rc != TANDEM_OK) {
        goto err_kv;
    }
    rc = start_term(p, diag);
    if (rc == TANDEM_OK) {
        rc = tandem_partition_apply(p, diag); /* the no-op that opened the term */
    }
    if (rc != TANDEM_OK) {
        goto err_kv;
    }
    char detail[128];
    snprintf(detail, sizeof(detail), "first=%llu last=%llu applied=%llu",
             (unsigned long long)tandem_journal_first_index(p->journal),
             (unsigned long long)tandem_journal_last_index(p->journal),
             (unsigned long long)p->applied_index);
    logf_partition(p, TANDEM_LOG_INFO, "partition recovered", detail);
    *out = p;
    return TANDEM_OK;

err_kv:
    tandem_kv_close(p->kv);
err_journal:
    tandem_journal_close(p->journal);
err_dir:
    tandem_datadir_close(p->dir);
err_free:
    tandem_buf_free(&p->scratch);
    free(p->data_root);
    free(p->cluster_name);
    free(p);
    return rc;
}

void tandem_partition_close(tandem_partition *p)
{
    if (p == NULL) {
        return;
    }
    tandem_kv_close(p->kv);
    tandem_journal_close(p->journal);
    tandem_datadir_close(p->dir);
    tandem_buf_free(&p->scratch);
    free(p->data_root);
    free(p->cluster_name);
    free(p);
}

int tandem_partition_append(tandem_partition *p, uint8_t kind, const void *payload,
                            size_t payload_size_bytes, uint64_t *index_out, tandem_diag *diag)
{
    TANDEM_ASSERT(p != NULL && index_out != NULL);
    TANDEM_ASSERT(p->term > 0);
    if (p->stopped) {
        return tandem_diag_set(diag, TANDEM_ESTOPPED, "partition %u is stopped",
                               p->opts.partition_id);
    }
    return tandem_journal_append(p->journal, p->term, kind, payload, payload_size_bytes, index_out,
                                 diag);
}

int tandem_partition_flush(tandem_partition *p, tandem_diag *diag)
{
    TANDEM_ASSERT(p != NULL);
    int rc = tandem_journal_flush(p->journal, diag);
    if (rc != TANDEM_OK) {
        p->stopped = true;
        logf_partition(p, TANDEM_LOG_ERROR, "journal flush failed, partition stopped",
                       tandem_diag_text(diag != NULL ? diag : &(tandem_diag){rc, ""}));
        return rc;
    }
    uint64_t durable = tandem_journal_durable_index(p->journal);
    TANDEM_ASSERT(durable >= p->commit_index);
    p->commit_index = durable;
    return TANDEM_OK;
}

/* Applies (applied, upto] in one state transaction. */
static int apply_range(tandem_partition *p, uint64_t upto, tandem_diag *diag)
{
    tandem_kv_txn *txn = NULL;
    int rc = tandem_kv_begin_write(p->kv, &txn, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    TANDEM_ASSERT(tandem_kv_txn_applied_position(txn) == p->applied_index);
    for (uint64_t i = p->applied_index + 1; i <= upto; i++) {
        tandem_journal_entry entry;
        rc = tandem_journal_read(p->journal, i, &entry, &p->scratch, diag);
        if (rc != TANDEM_OK) {
            goto err_abort;
        }
        TANDEM_ASSERT(entry.index == i);
        if (p->opts.apply != NULL) {
            rc = p->opts.apply(p->opts.apply_arg, txn, &entry, p->scratch.data, diag);
            if (rc != TANDEM_OK) {
                goto err_abort;
            }
        }
    }
    rc = tandem_kv_commit(txn, upto, diag);
    if (rc != TANDEM_OK) {
        return rc; /* commit ends the transaction either way */
    }
    p->applied_index = upto;
    TANDEM_ASSERT(tandem_kv_applied_position(p->kv) == upto);
    return TANDEM_OK;

err_abort:
    tandem_kv_abort(txn);
    return rc;
}

int tandem_partition_apply(tandem_partition *p, tandem_diag *diag)
{
    TANDEM_ASSERT(p != NULL);
    TANDEM_ASSERT(p->applied_index <= p->commit_index);
    if (p->stopped) {
        return tandem_diag_set(diag, TANDEM_ESTOPPED, "partition %u is stopped",
                               p->opts.partition_id);
    }
    while (p->applied_index < p->commit_index) {
        uint64_t upto = p->commit_index;
        if (upto - p->applied_index > p->opts.apply_entries_max) {
            upto = p->applied_index + p->opts.apply_entries_max;
        }
        int rc = apply_range(p, upto, diag);
        if (rc != TANDEM_OK) {
            p->stopped = true;
            return rc;
        }
    }
    return TANDEM_OK;
}

int tandem_partition_round_begin(tandem_partition *p, tandem_kv_txn **txn, tandem_diag *diag)
{
    TANDEM_ASSERT(p != NULL && txn != NULL);
    if (p->stopped) {
        return tandem_diag_set(diag, TANDEM_ESTOPPED, "partition %u is stopped",
                               p->opts.partition_id);
    }
    /* a round starts from a state that has applied everything committed */
    int rc = tandem_partition_apply(p, diag);
    if (rc != TANDEM_OK) {
        return rc;
    }
    TANDEM_ASSERT(p->applied_index == tandem_journal_last_index(p->journal));
    return tandem_kv_begin_write(p->kv, txn, diag);
}

int tandem_partition_round_commit(tandem_partition *p, tandem_kv_txn *txn, tandem_diag *diag)
{
    TANDEM_ASSERT(p != NULL && txn != NULL);
    TANDEM_ASSERT(tandem_kv_txn_applied_position(txn) == p->applied_index);
    int rc = tandem_partition_flush(p, diag);
    if (rc != TANDEM_OK) {
        tandem_kv_abort(txn);
        return rc;
    }
    uint64_t last = tandem_journal_last_index(p->journal);
    TANDEM_ASSERT(p->commit_index == last);
    rc = tandem_kv_commit(txn, last, diag);
    if (rc != TANDEM_OK) {
        p->stopped = true;
        logf_partition(p, TANDEM_LOG_ERROR, "state commit failed, partition stopped",
                       tandem_diag_text(diag != NULL ? diag : &(tandem_diag){rc, ""}));
        return rc;
    }
    p->applied_index = last;
    return TANDEM_OK;
}

void tandem_partition_round_abort(tandem_partition *p, tandem_kv_txn *txn)
{
    TANDEM_ASSERT(p != NULL);
    TANDEM_ASSERT(tandem_journal_last_index(p->journal) == p->applied_index);
    tandem_kv_abort(txn);
}

uint64_t tandem_partition_id(const tandem_partition *p)
{
    return p->opts.partition_id;
}

uint64_t tandem_partition_commit_index(const tandem_partition *p)
{
    return p->commit_index;
}

uint64_t tandem_partition_applied_index(const tandem_partition *p)
{
    return p->applied_index;
}

uint64_t tandem_partition_term(const tandem_partition *p)
{
    return p->term;
}

tandem_journal *tandem_partition_journal(tandem_partition *p)
{
    return p->journal;
}

tandem_kv *tandem_partition_kv(tandem_partition *p)
{
    return p->kv;
}

const char *tandem_partition_incarnation_hex(const tandem_partition *p)
{
    return tandem_datadir_incarnation_hex(p->dir);
}
