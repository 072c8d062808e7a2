/*
 * raft.h — tandem's consensus core: Raft as a pure state machine.
 *
 * One tandem_raft is one replica of one partition. It does no I/O, reads no
 * clock and draws no randomness of its own: the host feeds it events (a
 * message received, a tick of its clock, entries made durable, a proposal, a
 * membership change) and then asks it, with tandem_raft_ready, what to do:
 *
 *   1. persist the term and vote (when `hard_state_changed`), durably, first;
 *   2. then send `messages` (every one of them may depend on that term/vote);
 *   3. truncate the log from `truncate_from` (when non-zero) and append
 *      `entries`, without waiting for fsync, and report each completed fsync
 *      with tandem_raft_persisted;
 *   4. apply committed entries up to `commit_index`.
 *
 * and calls tandem_raft_advance. The core keeps the durability rules itself:
 * a follower acknowledges only entries reported persisted; a leader sends its
 * entries before its own fsync completes and counts itself in the commit
 * quorum only for entries reported persisted; votes are granted only in a
 * ready whose hard state the host persists before sending the grant.
 *
 * Implemented: pre-vote and check-quorum, leader election with priorities,
 * log replication with pipelining (a bounded window of AppendEntries in
 * flight per follower) and batching, commit by the Figure-8 rule, leadership
 * transfer, learners and one-at-a-time membership change through
 * configuration entries (TANDEM_JOURNAL_CONFIG), snapshots sent in chunks
 * with resumption and log compaction, fencing (only members of the
 * configuration, with the incarnation it names, are heard), the region-aware
 * commit rule (while voters span regions, a commit needs a durable ack from
 * each), and forced reconfiguration (tandem_raft_force).
 *
 * Ownership: the core copies every payload it is given. Pointers in a
 * tandem_raft_update and from tandem_raft_entry_at point into the core and
 * are valid until the next call on the same replica. Not thread-safe: one
 * thread drives a replica.
 */
#ifndef TANDEM_RAFT_RAFT_H
#define TANDEM_RAFT_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/rand.h"

#define TANDEM_RAFT_NONE        UINT64_MAX /* no replica (no leader, no vote) */
#define TANDEM_RAFT_MEMBERS_MAX 16
/* Messages with a higher term are dropped, so terms can never overflow. */
#define TANDEM_RAFT_TERM_MAX ((uint64_t)1 << 62)
/* Log indexes stop here for the same reason: a message naming an index
 * above it (or entries that would reach past it) is dropped, so the index
 * after the last one can never wrap. */
#define TANDEM_RAFT_INDEX_MAX ((uint64_t)1 << 62)
/* AppendEntries in flight per follower, and entries/bytes per message. */
#define TANDEM_RAFT_WINDOW_MAX           256
#define TANDEM_RAFT_BATCH_ENTRIES_MAX    4096
#define TANDEM_RAFT_ENTRY_SIZE_BYTES_MAX ((uint32_t)64 << 20)
#define TANDEM_RAFT_OUTBOX_MESSAGES_MAX  4096

enum tandem_raft_role {
    TANDEM_RAFT_FOLLOWER = 1,
    TANDEM_RAFT_PRECANDIDATE = 2,
    TANDEM_RAFT_CANDIDATE = 3,
    TANDEM_RAFT_LEADER = 4,
};

/* A member's role in a configuration. */
enum tandem_raft_member_role {
    TANDEM_RAFT_VOTER = 1,
    TANDEM_RAFT_LEARNER = 2,
};

typedef struct tandem_raft_member {
    uint64_t id;          /* replica id, unique in the cluster */
    uint64_t incarnation; /* random id of the member's data directory (forced reconfiguration) */
    uint8_t role;         /* enum tandem_raft_member_role */
    uint8_t priority;     /* election priority, 0 (lowest) .. 255; higher campaigns sooner */
    uint8_t region;       /* region number, for the region-aware commit rule */
} tandem_raft_member;

/* A configuration: the payload of every TANDEM_JOURNAL_CONFIG entry. */
typedef struct tandem_raft_config {
    uint64_t epoch; /* configuration epoch (raised by forced reconfiguration) */
    uint32_t n_members;
    tandem_raft_member members[TANDEM_RAFT_MEMBERS_MAX];
} tandem_raft_config;

/* Encodes a configuration into b (appended; docs/RAFT.md has the layout). */
int tandem_raft_config_encode(const tandem_raft_config *c, tandem_buf *b);
/* Decodes; TANDEM_ECORRUPT / TANDEM_EFORMAT with the reason in diag for bad
 * bytes (duplicate ids, bad roles, too many members, trailing bytes). */
int tandem_raft_config_decode(const uint8_t *data, size_t size, tandem_raft_config *out,
                              tandem_diag *diag);
/* The member with this id, or NULL; valid as long as c. */
const tandem_raft_member *tandem_raft_config_find(const tandem_raft_config *c, uint64_t id);

/* A log entry as the core hands it out or takes it in. */
typedef struct tandem_raft_entry {
    uint64_t term;
    uint8_t kind;           /* enum tandem_journal_kind */
    uint32_t size_bytes;    /* payload size */
    const uint8_t *payload; /* size_bytes bytes (NULL when 0); see each call for lifetime */
} tandem_raft_entry;

enum tandem_raft_msg_type {
    TANDEM_RAFT_MSG_APPEND = 1,
    TANDEM_RAFT_MSG_APPEND_RESP = 2,
    TANDEM_RAFT_MSG_PREVOTE = 3,
    TANDEM_RAFT_MSG_PREVOTE_RESP = 4,
    TANDEM_RAFT_MSG_VOTE = 5,
    TANDEM_RAFT_MSG_VOTE_RESP = 6,
    TANDEM_RAFT_MSG_HEARTBEAT = 7,
    TANDEM_RAFT_MSG_HEARTBEAT_RESP = 8,
    TANDEM_RAFT_MSG_TIMEOUT_NOW = 9,
    TANDEM_RAFT_MSG_SNAPSHOT = 10,
    TANDEM_RAFT_MSG_SNAPSHOT_RESP = 11,
    /* forced reconfiguration (raft_force.c; docs/RAFT.md "Forced reconfiguration") */
    TANDEM_RAFT_MSG_FORCE = 12,      /* initiator -> survivor: freeze for this member set */
    TANDEM_RAFT_MSG_FORCE_RESP = 13, /* survivor -> initiator: frozen, with its log */
    TANDEM_RAFT_MSG_FORCE_VOTE = 14, /* initiator -> survivor: vote for the base in a new term */
    TANDEM_RAFT_MSG_FORCE_VOTE_RESP = 15, /* survivor -> initiator: vote persisted (or refused) */
    TANDEM_RAFT_MSG_FORCE_WON = 16,       /* initiator -> base: every survivor voted; lead */
};

/* Message flags. */
#define TANDEM_RAFT_FLAG_REJECT   0x01u /* responses: refused */
#define TANDEM_RAFT_FLAG_TRANSFER 0x02u /* VOTE: campaign of a leadership transfer */
#define TANDEM_RAFT_FLAG_LAST     0x04u /* SNAPSHOT: the chunk ends the snapshot */
#define TANDEM_RAFT_FLAG_DONE     0x08u /* FORCE_RESP, FORCE_VOTE_RESP: the set is in force already */

/* Largest snapshot chunk a message carries. */
#define TANDEM_RAFT_CHUNK_SIZE_BYTES_MAX ((uint32_t)1 << 20)

/*
 * A message. Field meanings per type (docs/RAFT.md has the wire layout):
 *   APPEND          index/log_term = previous entry; commit; entries
 *   APPEND_RESP     accepted: index = durable match, hint = last accepted index;
 *                   rejected: index = refused previous index, hint/log_term = where
 *                   the logs may agree
 *   [PRE]VOTE       index/log_term = candidate's last entry (term is the
 *                   term campaigned for)
 *   [PRE]VOTE_RESP  REJECT flag when refused
 *   HEARTBEAT       commit
 *   HEARTBEAT_RESP  index = durable match
 *   TIMEOUT_NOW     (none)
 *   SNAPSHOT        index/log_term = last entry in the snapshot; hint = byte
 *                   offset of chunk; entries[0] = the snapshot's configuration
 *                   (a CONFIG entry); LAST flag on the final chunk
 *   SNAPSHOT_RESP   index = snapshot index; hint = next byte offset wanted
 *   FORCE           entries[0] = the forced configuration (a CONFIG entry)
 *   FORCE_RESP      term = the survivor's term; index/log_term = its last entry;
 *                   REJECT: frozen for another set; DONE: the set is in force
 *   FORCE_VOTE      term = the new term; hint = the base; index/log_term = the
 *                   base's last entry; entries[0] = the forced configuration
 *   FORCE_VOTE_RESP term = the new term; REJECT when refused
 *   FORCE_WON       as FORCE_VOTE, sent to the base only
 *
 * Every message carries the sender's configuration epoch and the incarnation
 * id of its data directory; a replica drops messages from senders that are
 * not members (id and incarnation) of its configuration (fencing).
 *
 * SNAPSHOT messages in an update carry no chunk: the host fills `chunk`,
 * `chunk_size_bytes` and the LAST flag from its snapshot `index` at offset
 * `hint` (any size up to TANDEM_RAFT_CHUNK_SIZE_BYTES_MAX) before sending.
 */
typedef struct tandem_raft_message {
    uint8_t type;  /* enum tandem_raft_msg_type */
    uint8_t flags; /* TANDEM_RAFT_FLAG_* */
    uint64_t from;
    uint64_t to;
    uint64_t term;
    uint64_t epoch;       /* sender's configuration epoch */
    uint64_t incarnation; /* sender's data directory incarnation */
    uint64_t index;
    uint64_t log_term;
    uint64_t commit;
    uint64_t hint;
    uint32_t n_entries;
    const tandem_raft_entry *entries; /* n_entries (APPEND, SNAPSHOT) */
    uint32_t chunk_size_bytes;
    const uint8_t *chunk; /* SNAPSHOT only */
} tandem_raft_message;

/* Wire codec: a versioned, checksummed frame. encode appends to b. */
#define TANDEM_RAFT_MSG_VERSION 2
int tandem_raft_message_encode(const tandem_raft_message *m, tandem_buf *b);
/*
 * Decodes one frame of exactly `size` bytes. On success *m refers into
 * `data` (payloads) and into *entries_storage (the entry array, grown as
 * needed; the caller owns it and frees it with free()), both valid as long
 * as they are. Bad bytes give TANDEM_ECORRUPT (checksum, bounds, unknown
 * type), TANDEM_EFORMAT (newer version) or TANDEM_EINCOMPLETE (shorter than
 * the frame's length), with the reason in diag; never a crash.
 */
int tandem_raft_message_decode(const uint8_t *data, size_t size, tandem_raft_message *m,
                               tandem_raft_entry **entries_storage, size_t *entries_capacity,
                               tandem_diag *diag);

/* Test-only switches that plant known bugs, so tests can prove the
 * simulator catches them. Always 0 in production. */
#define TANDEM_RAFT_BUG_ACK_BEFORE_FSYNC      0x01u /* followers acknowledge unsynced entries */
#define TANDEM_RAFT_BUG_VOTE_NOT_PERSISTED    0x02u /* granting a vote does not persist it */
#define TANDEM_RAFT_BUG_NO_FIGURE8            0x04u /* commit entries of older terms by count */
#define TANDEM_RAFT_BUG_COMMIT_WITHOUT_QUORUM 0x08u /* commit what any one replica has */
#define TANDEM_RAFT_BUG_NO_FENCING            0x10u /* accept messages from non-members */
#define TANDEM_RAFT_BUG_FORCE_SAME_TERM       0x20u /* forced configuration in the current term */
#define TANDEM_RAFT_BUG_NO_REGION_RULE        0x40u /* commit with acks from one region */

typedef struct tandem_raft_options {
    uint64_t id;              /* this replica */
    uint64_t incarnation;     /* its data directory's incarnation id (0 when there is none) */
    uint32_t election_ticks;  /* base election timeout (randomised in [t, 2t)) */
    uint32_t heartbeat_ticks; /* < election_ticks */
    uint32_t window_messages; /* AppendEntries in flight per follower, 1..WINDOW_MAX */
    uint32_t batch_entries;   /* entries per AppendEntries, 1..BATCH_ENTRIES_MAX */
    uint32_t batch_bytes;     /* payload bytes per AppendEntries (at least one entry) */
    uint32_t uncommitted_max; /* proposals refused (TANDEM_EFULL) past this many */
    tandem_rand *rand;        /* election jitter; must outlive the replica */
    uint32_t bugs;            /* TANDEM_RAFT_BUG_*; tests only */
} tandem_raft_options;

void tandem_raft_options_default(tandem_raft_options *o, uint64_t id, tandem_rand *rand);

typedef struct tandem_raft tandem_raft;

/* Creates an empty replica; TANDEM_EINVAL (diag says which) for bad options.
 * *out is freed with tandem_raft_free. */
int tandem_raft_new(const tandem_raft_options *opts, tandem_raft **out, tandem_diag *diag);
void tandem_raft_free(tandem_raft *r);

/*
 * Restoring from disk, before the first event: the term/vote, then every
 * entry of the journal from index 1 in order (load_entry), then
 * load_done with an index known committed (e.g. the applied position of the
 * state, or 1 for the bootstrap configuration written identically on every
 * replica). Entries loaded count as persisted. A replica whose log holds no
 * configuration (a new member) never campaigns; it waits for a leader. The payload is copied.
 * load_entry gives TANDEM_ECORRUPT for a configuration entry that does not
 * decode or a term above TANDEM_RAFT_TERM_MAX, TANDEM_EINVAL for a term lower
 * than the previous entry's; load_hard_state TANDEM_ECORRUPT for such a term.
 */
int tandem_raft_load_hard_state(tandem_raft *r, uint64_t term, uint64_t voted_for);
int tandem_raft_load_entry(tandem_raft *r, const tandem_raft_entry *e, tandem_diag *diag);
int tandem_raft_load_done(tandem_raft *r, uint64_t commit_index, tandem_diag *diag);

/* A snapshot of the state up to `index` (entry term `term`, configuration
 * `conf` in force there) is on disk: called before load_entry, which then
 * takes the entries after index. TANDEM_ECORRUPT for an index above
 * TANDEM_RAFT_INDEX_MAX or a term above TANDEM_RAFT_TERM_MAX. */
int tandem_raft_load_snapshot(tandem_raft *r, uint64_t index, uint64_t term,
                              const tandem_raft_config *conf);

/* The host holds `size_bytes` bytes of snapshot `index` (entry term `term`)
 * staged from before a restart: the core asks the leader to go on from
 * there instead of from 0 when that snapshot is sent again. Called before
 * load_done; forgotten at load_done when index is not above the snapshot
 * index. TANDEM_ERANGE for an index or term past the bounds. */
int tandem_raft_load_partial_snapshot(tandem_raft *r, uint64_t index, uint64_t term,
                                      uint64_t size_bytes);

/* Events. Each returns 0 or an error; none may be called between ready and
 * advance. step ignores messages not addressed to this replica and,
 * whatever their term, messages from senders that are not members (id and
 * incarnation) of the configuration in force (fencing), and messages whose
 * indexes pass TANDEM_RAFT_INDEX_MAX. */
int tandem_raft_step(tandem_raft *r, const tandem_raft_message *m);
void tandem_raft_tick(tandem_raft *r);
/* The log is durable up to `index`, whose entry has `term` (a report for an
 * entry since replaced is ignored). */
void tandem_raft_persisted(tandem_raft *r, uint64_t index, uint64_t term);
/* Appends an entry (leader only: TANDEM_ESTATE otherwise or during a
 * transfer; TANDEM_EFULL past uncommitted_max; TANDEM_ETOOBIG). *index_out
 * gets its index. */
int tandem_raft_propose(tandem_raft *r, uint8_t kind, const void *payload, size_t size_bytes,
                        uint64_t *index_out);
/*
 * Proposes a new configuration (leader only). Refused with TANDEM_ESTATE and
 * a reason in diag while an earlier change is uncommitted or before the
 * leader committed an entry of its term; TANDEM_EINVAL when it changes more
 * than one voter, adds a voter that was not a learner, or promotes a learner
 * that has not caught up to the commit index.
 */
int tandem_raft_change_config(tandem_raft *r, const tandem_raft_config *next, uint64_t *index_out,
                              tandem_diag *diag);
/*
 * Forced reconfiguration (docs/RAFT.md has the protocol and its safety
 * argument): when no quorum is left, the operator names the survivors on one
 * of them. `survivors` lists them (ids, incarnations, regions, priorities as
 * in the configuration in force; every one becomes a voter; its epoch is
 * ignored: the new configuration gets the current epoch + 1). The replica
 * then drives the change by messages: every survivor must freeze and answer,
 * the survivor with the most complete log becomes the base, every survivor
 * votes for it in a new term, and the base leads that term with the forced
 * configuration as its first entry. Progress is read with
 * tandem_raft_force_state. Returns TANDEM_EINVAL (diag says why) for a set
 * that does not contain this replica or names a non-member, TANDEM_ESTATE
 * while a force to another set is in progress here or froze this replica.
 * Repeating the call with the same set is harmless, and a set already in
 * force is reported done at once.
 */
int tandem_raft_force(tandem_raft *r, const tandem_raft_config *survivors, tandem_diag *diag);

enum tandem_raft_force_state {
    TANDEM_RAFT_FORCE_NONE = 0,      /* no force asked on this replica (or it restarted) */
    TANDEM_RAFT_FORCE_PREPARING = 1, /* freezing the survivors and collecting their logs */
    TANDEM_RAFT_FORCE_VOTING = 2,    /* collecting the survivors' votes for the base */
    TANDEM_RAFT_FORCE_LEADING = 3,   /* the base was told to lead; waiting for its configuration */
    TANDEM_RAFT_FORCE_DONE = 4,      /* the forced configuration is in this replica's log */
    TANDEM_RAFT_FORCE_REJECTED = 5,  /* a survivor is frozen for, or in, another set */
    TANDEM_RAFT_FORCE_TIMED_OUT = 6, /* a survivor did not answer in time; repeat the request */
};
uint8_t tandem_raft_force_state(const tandem_raft *r);

/* Hands leadership to a voter: the leader stops taking proposals, brings the
 * target up to date, and tells it to campaign at once. Aborted after an
 * election timeout. TANDEM_ESTATE when not leader, TANDEM_EINVAL for a
 * non-voter or itself. */
int tandem_raft_transfer(tandem_raft *r, uint64_t target);

/*
 * The host saved a snapshot of the applied state at `index` (<= commit):
 * the core forgets the entries up to index (it sends the snapshot to
 * followers that need them), and the host may compact its journal below
 * index + 1. TANDEM_ERANGE unless snapshot index < index <= commit index.
 */
int tandem_raft_compact(tandem_raft *r, uint64_t index);
/* The snapshot of the last update (`snapshot_install`) is installed and
 * durable, and the journal reset to start after it. */
void tandem_raft_snapshot_installed(tandem_raft *r, uint64_t index);

/* What the host must do; see the file comment for the order. */
typedef struct tandem_raft_update {
    bool hard_state_changed;
    uint64_t term;
    uint64_t voted_for;
    uint64_t truncate_from; /* 0: nothing to truncate */
    uint64_t entries_first_index;
    size_t n_entries;
    const tandem_raft_entry *entries;
    size_t n_messages;
    const tandem_raft_message *messages;
    uint64_t commit_index; /* apply up to here */
    uint8_t role;          /* enum tandem_raft_role */
    uint64_t leader;       /* TANDEM_RAFT_NONE when unknown */
    /* Follower receiving a snapshot: store this chunk of snapshot
     * `snapshot_index` at `snapshot_offset` (0 starts a new one). When
     * `snapshot_install`, the snapshot is complete: install it as the state,
     * reset the journal to start at snapshot_index + 1 (previous term
     * snapshot_term), then call tandem_raft_snapshot_installed. */
    uint64_t snapshot_index;
    uint64_t snapshot_term;
    uint64_t snapshot_offset;
    const uint8_t *snapshot_chunk; /* NULL when there is no chunk */
    size_t snapshot_chunk_size_bytes;
    bool snapshot_install;
    const tandem_raft_config *snapshot_config;
} tandem_raft_update;

/* True when ready would return something to do. */
bool tandem_raft_has_ready(const tandem_raft *r);
void tandem_raft_ready(tandem_raft *r, tandem_raft_update *u);
void tandem_raft_advance(tandem_raft *r);

/* Read-only views. */
uint8_t tandem_raft_role(const tandem_raft *r);
uint64_t tandem_raft_term(const tandem_raft *r);
uint64_t tandem_raft_leader(const tandem_raft *r);
uint64_t tandem_raft_commit_index(const tandem_raft *r);
uint64_t tandem_raft_last_index(const tandem_raft *r);
uint64_t tandem_raft_persisted_index(const tandem_raft *r);
uint64_t tandem_raft_snapshot_index(const tandem_raft *r);
/* The configuration in force at the snapshot index, to save with the
 * snapshot; valid until the next call. */
const tandem_raft_config *tandem_raft_snapshot_config(const tandem_raft *r);
/* Term at index (0 for index 0 or outside the log). */
uint64_t tandem_raft_term_at(const tandem_raft *r, uint64_t index);
/* The entry at index, or TANDEM_ERANGE; e->payload valid until the next call. */
int tandem_raft_entry_at(const tandem_raft *r, uint64_t index, tandem_raft_entry *e);
/* The configuration in force (the latest in the log); valid until the next call. */
const tandem_raft_config *tandem_raft_config_current(const tandem_raft *r);

#endif
