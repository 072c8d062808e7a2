/*
 * backend.h — the broker's side of the REST gateway: each gateway request
 * becomes an engine command on the partition that owns it (deployments and
 * new instances on partition 1 until deployment distribution exists, job and
 * instance commands on the partition of their key, activations over every
 * partition), queued for the I/O thread; the answer goes back to the gateway
 * after the command's batch is committed. Results of instances created with
 * awaitCompletion arrive later, in round reports.
 */
#ifndef TANDEM_APP_BACKEND_H
#define TANDEM_APP_BACKEND_H

#include "gateway/gateway.h"

struct broker;
struct round_report;

/* Fills the backend vtable for the broker; b must outlive the gateway. */
void broker_backend_init(struct broker *b, tandem_gateway_backend *out);

/* Loop: hands awaited results and "jobs available" of a round to the gateway. */
void broker_backend_report(struct broker *b, const struct round_report *r);

/* Loop: answers every parked awaitCompletion call (shutdown). */
void broker_backend_close(struct broker *b);

#endif
