/*
 * Fuzzes the Raft message codec and the core's message handlers. The input
 * is a sequence of chunks, each a 16-bit little-endian length and that many
 * bytes. Every chunk is decoded as it is; then a copy with its length and
 * checksum rewritten (so mutations reach the fields) is decoded, must
 * re-encode to the same bytes, and is stepped, addressed to replica 1, into
 * a three-voter replica that also ticks and hands over its ready after each
 * chunk. Any crash, sanitizer report or abort() below is a bug: bad input
 * must never trip an assertion of the core.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/crc32c.h"
#include "base/rand.h"
#include "journal/journal.h"
#include "raft/raft.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER_BYTES 12

static void require(int ok)
{
    if (!ok) {
        abort();
    }
}

static tandem_raft *new_replica(tandem_seeded_rand *rnd)
{
    tandem_raft_config c;
    memset(&c, 0, sizeof(c));
    c.n_members = 3;
    for (uint32_t i = 0; i < 3; i++) {
        c.members[i] = (tandem_raft_member){i + 1, 0, TANDEM_RAFT_VOTER, 1, 0};
    }
    tandem_buf b = TANDEM_BUF_INIT;
    require(tandem_raft_config_encode(&c, &b) == 0);
    tandem_raft_options o;
    tandem_raft_options_default(&o, 1, &rnd->base);
    tandem_raft *r = NULL;
    require(tandem_raft_new(&o, &r, NULL) == 0);
    require(tandem_raft_load_hard_state(r, 1, TANDEM_RAFT_NONE) == 0);
    tandem_raft_entry e = {1, TANDEM_JOURNAL_CONFIG, (uint32_t)b.len, b.data};
    require(tandem_raft_load_entry(r, &e, NULL) == 0);
    require(tandem_raft_load_done(r, 1, NULL) == 0);
    tandem_buf_free(&b);
    return r;
}

static void drain(tandem_raft *r)
{
    for (int i = 0; i < 4 && tandem_raft_has_ready(r); i++) {
        tandem_raft_update u;
        tandem_raft_ready(r, &u);
        uint64_t last = u.entries_first_index + u.n_entries - 1;
        bool install = u.snapshot_install;
        uint64_t snap = u.snapshot_index;
        tandem_raft_advance(r);
        if (u.n_entries > 0) {
            tandem_raft_persisted(r, last, tandem_raft_term_at(r, last));
        }
        if (install) {
            tandem_raft_snapshot_installed(r, snap);
        }
    }
}

static void one_chunk(tandem_raft *r, const uint8_t *p, size_t len, tandem_raft_entry **st,
                      size_t *cap, tandem_buf *copy, tandem_buf *re)
{
    tandem_raft_message m;
    (void)tandem_raft_message_decode(p, len, &m, st, cap, NULL);
    if (len < HEADER_BYTES) {
        return;
    }
    tandem_buf_reset(copy);
    require(tandem_buf_append(copy, p, len) == 0);
    tandem_store_u32(copy->data + 4, (uint32_t)(len - HEADER_BYTES));
    tandem_store_u32(copy->data + 8,
                     tandem_crc32c(0, copy->data + HEADER_BYTES, len - HEADER_BYTES));
    if (tandem_raft_message_decode(copy->data, copy->len, &m, st, cap, NULL) != 0) {
        return;
    }
    tandem_buf_reset(re);
    require(tandem_raft_message_encode(&m, re) == 0);
    require(re->len == copy->len && memcmp(re->data, copy->data, re->len) == 0);
    m.to = 1;
    m.epoch = 0;
    m.incarnation = 0; /* every member's: fencing would drop the rest */
    (void)tandem_raft_step(r, &m);
    tandem_raft_tick(r);
    drain(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tandem_seeded_rand rnd;
    tandem_seeded_rand_init(&rnd, 7);
    tandem_raft *r = new_replica(&rnd);
    tandem_raft_entry *st = NULL;
    size_t cap = 0;
    tandem_buf copy = TANDEM_BUF_INIT, re = TANDEM_BUF_INIT;
    size_t off = 0;
    for (int chunks = 0; chunks < 64 && off + 2 <= size; chunks++) {
        size_t len = tandem_load_u16(data + off);
        off += 2;
        if (len > size - off) {
            len = size - off;
        }
        one_chunk(r, data + off, len, &st, &cap, &copy, &re);
        off += len;
    }
    /* the whole input as one frame too */
    tandem_raft_message m;
    (void)tandem_raft_message_decode(data, size, &m, &st, &cap, NULL);
    tandem_buf_free(&copy);
    tandem_buf_free(&re);
    free(st);
    tandem_raft_free(r);
    return 0;
}
