/*
 * raft_int.h — internals of the Raft core shared by its files:
 * raft.c (life cycle, tick, ready), raft_log.c (the in-memory log),
 * raft_election.c (pre-vote, vote, role changes, transfer),
 * raft_replication.c (AppendEntries, heartbeats, commit), raft_config.c
 * (configuration codec and changes), raft_message.c (wire codec),
 * raft_force.c (forced reconfiguration).
 */
#ifndef TANDEM_RAFT_RAFT_INT_H
#define TANDEM_RAFT_RAFT_INT_H

#include "raft/raft.h"

enum raft_progress_state {
    RAFT_PROBE = 1,     /* one AppendEntries at a time until the logs agree */
    RAFT_REPLICATE = 2, /* pipelined, up to the window */
    RAFT_SNAPSHOT = 3,  /* the entries it needs are compacted: send the snapshot */
};

/* What the leader knows of one other member. */
typedef struct raft_progress {
    uint64_t id;
    uint64_t match; /* highest index known durable on the member and equal to ours */
    uint64_t next;  /* next index to send */
    uint8_t state;
    bool probe_sent;      /* PROBE: one message out, wait for an answer or a heartbeat */
    bool recent_active;   /* answered since the last check-quorum */
    bool commit_sent;     /* has been told the current commit index */
    uint64_t snap_index;  /* SNAPSHOT: the snapshot being sent */
    uint64_t snap_offset; /* SNAPSHOT: bytes the member has */
    /* REPLICATE: last index of each AppendEntries in flight, oldest first */
    uint64_t inflight[TANDEM_RAFT_WINDOW_MAX];
    uint32_t inflight_start;
    uint32_t inflight_count;
} raft_progress;

/* A queued message without entries (APPEND messages are made in ready). */
typedef tandem_raft_message raft_msg;

struct tandem_raft {
    tandem_raft_options opts;
    bool loaded;   /* load_done called */
    int error;     /* sticky: out of memory inside an event */
    bool in_ready; /* between ready and advance */

    /* persistent election state */
    uint64_t term;
    uint64_t voted_for;
    bool hard_state_dirty;
    bool vote_hidden; /* TANDEM_RAFT_BUG_VOTE_NOT_PERSISTED: the vote is not reported */

    uint8_t role;
    uint64_t leader;

    /* snapshot: the log up to snap_index is in the host's state snapshot */
    uint64_t snap_index;
    uint64_t snap_term;
    tandem_raft_config snap_conf;      /* configuration in force at snap_index */
    tandem_buf snap_conf_bytes;        /* snap_conf encoded, for SNAPSHOT messages */
    tandem_raft_entry snap_conf_entry; /* points at snap_conf_bytes, for SNAPSHOT messages */

    /* follower: the snapshot being received */
    uint64_t recv_index;
    uint64_t recv_term;
    uint64_t recv_offset; /* bytes received in order so far */
    tandem_raft_config recv_conf;
    bool recv_conf_known; /* false after a restart resumed a staged snapshot */
    uint8_t *chunk;       /* a received chunk the host has not stored yet */
    size_t chunk_len;
    uint64_t chunk_offset;
    bool chunk_pending;
    bool install_pending;  /* the last chunk arrived: the host must install */
    bool install_reported; /* ... and was told so */

    /* log: entries (snap_index, snap_index + log_len], index i at log[i - snap_index - 1] */
    tandem_raft_entry *log; /* payloads owned (malloc), freed on truncate/free */
    uint64_t log_len;
    uint64_t log_cap;
    uint64_t commit;
    uint64_t persisted;     /* durable prefix of the log */
    uint64_t unstable_from; /* first index not yet handed to the host */
    uint64_t truncate_from; /* 0 or the lowest index truncated since the last ready */
    uint64_t leader_match;  /* follower: highest index known to equal the leader's log */

    /* configuration: the latest in the log, at conf_index (0: loaded/bootstrap) */
    tandem_raft_config conf;
    uint64_t conf_index;

    /* timers, in ticks */
    uint32_t election_elapsed;
    uint32_t heartbeat_elapsed;
    uint32_t election_timeout; /* randomised */

    /* campaigns: granted/refused per member slot of conf */
    uint8_t votes[TANDEM_RAFT_MEMBERS_MAX]; /* 0 unknown, 1 granted, 2 refused */

    /* leader */
    raft_progress *progress; /* conf.n_members slots (own slot unused) */
    uint64_t term_start;     /* index of the leader's no-op */
    uint64_t transfer_target;
    uint32_t transfer_elapsed;

    /* outbox: messages queued by events; APPEND messages are added by ready */
    raft_msg *out;
    size_t out_len;
    size_t out_cap;
    uint64_t dropped_messages; /* outbox overflow */

    /* forced reconfiguration as its initiator (raft_force.c) */
    uint8_t force_state;                             /* enum tandem_raft_force_state */
    tandem_raft_config force_conf;                   /* the target, epoch set */
    tandem_buf force_bytes;                          /* force_conf encoded */
    tandem_raft_entry force_entry;                   /* points at force_bytes, for messages */
    uint8_t force_seen[TANDEM_RAFT_MEMBERS_MAX];     /* per member: answered this phase */
    uint64_t force_term_of[TANDEM_RAFT_MEMBERS_MAX]; /* PREPARING: each survivor's term */
    uint64_t force_index_of[TANDEM_RAFT_MEMBERS_MAX];
    uint64_t force_log_term_of[TANDEM_RAFT_MEMBERS_MAX];
    uint64_t force_new_term; /* VOTING, LEADING: the term the base leads */
    uint64_t force_base;
    uint64_t force_base_index; /* the base's last entry, as it reported it */
    uint64_t force_base_log_term;
    uint32_t force_elapsed; /* ticks in the current phase */
    /* forced reconfiguration as a survivor: frozen for frozen_conf */
    bool frozen;
    tandem_raft_config frozen_conf;
    uint32_t frozen_elapsed;

    uint64_t reported_commit;
    uint8_t reported_role;
    uint64_t reported_leader;
};

/* raft_log.c */
uint64_t raft_last_index(const tandem_raft *r);
uint64_t raft_last_term(const tandem_raft *r);
uint64_t raft_term_at(const tandem_raft *r, uint64_t index);
tandem_raft_entry *raft_entry_ptr(const tandem_raft *r, uint64_t index);
void raft_log_drop_prefix(tandem_raft *r, uint64_t index);
int raft_log_append(tandem_raft *r, uint64_t term, uint8_t kind, const void *payload,
                    size_t size_bytes);
void raft_log_truncate(tandem_raft *r, uint64_t from);
void raft_log_free(tandem_raft *r);
bool raft_log_up_to_date(const tandem_raft *r, uint64_t last_index, uint64_t last_term);

/* raft_config.c */
int raft_conf_refresh(tandem_raft *r, tandem_diag *diag);
int raft_conf_slot(const tandem_raft *r, uint64_t id);
bool raft_is_voter(const tandem_raft *r, uint64_t id);
uint32_t raft_voter_count(const tandem_raft *r);
int raft_progress_rebuild(tandem_raft *r);
int raft_conf_at(const tandem_raft *r, uint64_t index, tandem_raft_config *out);
bool raft_may_campaign(const tandem_raft *r);

/* raft_force.c */
void raft_force_step(tandem_raft *r, const tandem_raft_message *m);
void raft_force_tick(tandem_raft *r);
void raft_force_settle(tandem_raft *r);

/* raft.c */
void raft_send(tandem_raft *r, const raft_msg *m);
void raft_reset_election_timeout(tandem_raft *r);

/* raft_election.c */
void raft_become_follower(tandem_raft *r, uint64_t term, uint64_t leader);
void raft_become_leader(tandem_raft *r);
void raft_campaign(tandem_raft *r, bool pre, bool transfer);
void raft_recv_vote(tandem_raft *r, const tandem_raft_message *m);
void raft_recv_vote_resp(tandem_raft *r, const tandem_raft_message *m);
void raft_recv_timeout_now(tandem_raft *r, const tandem_raft_message *m);
bool raft_in_lease(const tandem_raft *r);

/* raft_replication.c */
void raft_recv_append(tandem_raft *r, const tandem_raft_message *m);
void raft_recv_append_resp(tandem_raft *r, const tandem_raft_message *m);
void raft_recv_heartbeat(tandem_raft *r, const tandem_raft_message *m);
void raft_recv_heartbeat_resp(tandem_raft *r, const tandem_raft_message *m);
void raft_recv_snapshot(tandem_raft *r, const tandem_raft_message *m);
void raft_recv_snapshot_resp(tandem_raft *r, const tandem_raft_message *m);
void raft_send_snapshot(tandem_raft *r, raft_progress *p);
int raft_snap_conf_set(tandem_raft *r, const tandem_raft_config *c);
void raft_send_heartbeats(tandem_raft *r);
void raft_send_ack(tandem_raft *r);
void raft_maybe_commit(tandem_raft *r);
int raft_make_appends(tandem_raft *r);
raft_progress *raft_progress_of(tandem_raft *r, uint64_t id);
void raft_maybe_send_timeout_now(tandem_raft *r);

#endif
