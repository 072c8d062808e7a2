/*
 * sim.h — the deterministic simulator of tandem's Raft core.
 *
 * One thread runs N replicas of one partition, each the broker's replica host
 * (raft/raft_host.h: a real tandem_raft core, its journal and snapshot files
 * on its own in-memory faulty disk, base/faultfs.h, and an in-memory
 * tandem_kv state that a crash loses), with a virtual clock in milliseconds
 * and a simulated network. One seed drives
 * every choice (delays, drops, duplicates, partitions, crashes, torn writes,
 * fsync EIO, ENOSPC, proposals, membership changes, leadership transfers), so
 * a run is replayed exactly by its seed.
 *
 * Invariants checked while it runs: at most one leader per term (after every
 * event), no committed entry changed and every new leader holding all
 * committed entries (at every commit and election), equal applied state at
 * equal index (the kv digests, after every applying transaction and every
 * snapshot install), log matching between every pair of live
 * replicas (every 50 ms and at the end). At the end the network heals, every
 * replica restarts, and a last proposal must commit (liveness).
 *
 * Fencing, checked at every delivery: a message from a sender that is not a
 * member (id and incarnation) of the receiver's configuration changes
 * nothing on the receiver; a replica outside the latest committed
 * configuration is never elected. With two regions, every commit is checked
 * against the acknowledgements the simulator delivered (majority and each
 * region).
 *
 * Messages go through the real wire codec (encode at send, decode at
 * delivery). A replica that loses power also loses each message it sent
 * that is still in flight with probability 1/2 (unsent socket buffers). The first violation stops
 * the run; sim_run returns it in the result (never aborts), so tests can also prove that planted
 * bugs are found.
 */
#ifndef TANDEM_SIM_H
#define TANDEM_SIM_H

#include <stdbool.h>
#include <stdint.h>

#define SIM_REPLICAS_MAX 7

enum sim_fault {
    SIM_DROP,        /* message dropped */
    SIM_DUPLICATE,   /* message delivered twice */
    SIM_REORDER,     /* message overtook an earlier one on its link */
    SIM_PARTITION,   /* a symmetric partition started */
    SIM_ONE_WAY,     /* a one-way partition started */
    SIM_CRASH,       /* a replica lost power */
    SIM_TORN_WRITE,  /* an unsynced write was kept torn at a crash */
    SIM_LOST_WRITE,  /* an unsynced write was dropped at a crash */
    SIM_EIO,         /* an fsync failed */
    SIM_ENOSPC,      /* a write failed for lack of space */
    SIM_ELECTION,    /* a new leader was elected */
    SIM_TRANSFER,    /* a leadership transfer was asked for */
    SIM_CONF_CHANGE, /* a membership change was appended */
    SIM_SNAPSHOT,    /* a replica snapshotted its state and compacted its log */
    SIM_CHUNK,       /* a snapshot chunk was sent */
    SIM_INSTALL,     /* a follower installed a snapshot it received */
    SIM_SLOW_FSYNC,  /* an fsync took 50..200 ms */
    SIM_RESUME,      /* a restarted replica resumed a staged partial snapshot */
    /* region scenarios (region_script) */
    SIM_REGION_LOST,     /* a region was lost (its replicas crashed, or cut off one way) */
    SIM_FORCE,           /* a forced reconfiguration was asked of a survivor */
    SIM_FORCE_REFUSED,   /* ... and refused or rejected (another set is being forced) */
    SIM_FORCE_DONE,      /* the forced configuration committed */
    SIM_CRASH_PREPARING, /* a force initiator crashed while freezing the survivors */
    SIM_CRASH_VOTING,    /* ... while collecting votes for the base */
    SIM_CRASH_LEADING,   /* ... after telling the base to lead */
    SIM_FENCED,          /* a message from a fenced replica reached a member */
    SIM_READD,           /* a wiped replica was added back as a learner (new incarnation) */
    SIM_PROMOTE,         /* a re-added learner was promoted to voter */
    SIM_OLD_DISK,        /* a re-added voter restarted on the disk of its old incarnation */
    SIM_FAULT_COUNT
};

const char *sim_fault_name(int fault);

typedef struct sim_options {
    uint64_t seed;
    uint32_t replicas;     /* replicas that exist, 1..SIM_REPLICAS_MAX */
    uint32_t voters;       /* of which the first `voters` start as voters; the rest empty */
    uint32_t duration_ms;  /* faulty phase; a quiet phase follows */
    uint32_t delay_min_ms; /* network delay */
    uint32_t delay_max_ms;
    uint32_t drop_per_mille;
    uint32_t duplicate_per_mille;
    uint32_t partition_every_ms;           /* mean time between partitions (0: none) */
    uint32_t partition_max_ms;             /* a partition lasts 10..max ms */
    uint32_t crash_every_ms;               /* mean time between crashes (0: none) */
    uint32_t crash_after_vote_per_mille;   /* crash after a term/vote write, or on winning */
    uint32_t crash_after_commit_per_mille; /* a leader crashes as its commit index advances */
    uint32_t restart_min_ms;               /* a crashed replica restarts after [min, max] */
    uint32_t restart_max_ms;
    uint32_t eio_every_ms;         /* mean time between fsync failures (0: none) */
    uint32_t enospc_every_ms;      /* mean time between write failures (0: none) */
    uint32_t transfer_every_ms;    /* mean time between leadership transfers (0: none) */
    uint32_t membership_every_ms;  /* mean time between membership changes (0: none) */
    uint32_t snapshot_every_ms;    /* mean time between snapshots (0: none) */
    uint32_t slow_fsync_per_mille; /* fsyncs that take 50..200 ms */
    bool priorities;               /* voters get random election priorities 0..3 */
    uint32_t propose_every_ms;     /* mean time between proposals */
    uint32_t batch_entries;        /* core option: entries per AppendEntries */
    uint32_t window_messages;      /* core option: AppendEntries in flight per follower */
    uint32_t chunk_size_bytes;     /* host option: snapshot bytes per message */
    uint32_t bugs;                 /* TANDEM_RAFT_BUG_* planted in every replica */
    /* regions: 1 puts every replica in region 0; 2 puts replica i in region
     * (i - 1) % 2 and checks, at every commit, that the leader holds durable
     * acknowledgements (counted by the simulator from the messages it
     * delivered) from a majority and from each region with voters */
    uint32_t regions;
    /* region scenario (needs 4 replicas, 4 voters, 2 regions): region 1
     * (replicas 2 and 4) is lost at loss_ms and the survivors are forced
     * down to region 0, retried every 250 ms on a random survivor until the
     * forced configuration commits; SIM_SCRIPT_* flags add variations */
    uint32_t region_script;
    uint32_t loss_ms;
    uint32_t force_crash_per_mille; /* a force initiator crashes at a ready */
} sim_options;

#define SIM_SCRIPT_LOSS     0x01u /* lose region 1 and force region 0 */
#define SIM_SCRIPT_STALE    0x02u /* then region 1 returns with its old data */
#define SIM_SCRIPT_RACE     0x04u /* a second, different force races the first */
#define SIM_SCRIPT_FAILBACK 0x08u /* region 1 wiped and re-added one replica at a time */
#define SIM_SCRIPT_ONE_WAY  0x10u /* region 1 stays up, cut off one way, during the force */
/* with FAILBACK: replica 2, once a voter again, restarts on its old disk
 * (the old incarnation); it is removed (or, when no leader can commit,
 * forced out again), wiped and re-added */
#define SIM_SCRIPT_OLD_DISK 0x20u

void sim_options_default(sim_options *o, uint64_t seed);

typedef struct sim_result {
    bool failed;
    char message[512]; /* the violation, with time and replica */
    uint64_t faults[SIM_FAULT_COUNT];
    uint64_t committed; /* highest index committed anywhere */
    uint64_t end_ms;    /* virtual time reached */
} sim_result;

/* Runs one seed. Returns 0, or an error code when the simulator itself
 * could not run (out of memory); violations are reported in *res. */
int sim_run(const sim_options *o, sim_result *res);

#endif
