/*
 * broker.h — the `tandem broker` process: one libuv loop that owns the
 * management server, signals and timers, and one I/O thread that owns the
 * partitions (journal appends, group-committed fsyncs, state applies) and
 * reports completions to the loop through uv_async (DESIGN §6).
 *
 * Life cycle: run opens every partition this node replicates (recovering
 * journal and state), starts the I/O thread and the management server, marks
 * the broker ready, and serves until SIGTERM/SIGINT — then it stops taking
 * requests, lets the I/O thread finish what it holds, closes the partitions
 * and returns 0. A failed fsync or state commit on the I/O thread is fatal:
 * the broker logs it, stops, and run returns that error (never retried).
 */
#ifndef TANDEM_APP_BROKER_H
#define TANDEM_APP_BROKER_H

#include "base/error.h"
#include "cluster/config.h"

/* Runs a broker until it is told to stop. cfg is borrowed for the duration. */
int tandem_broker_run(const tandem_config *cfg, tandem_diag *diag);

#endif
