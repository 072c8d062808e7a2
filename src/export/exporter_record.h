/*
 * exporter_record.h — the EXPORTER record: an exporter's position carried
 * through the log, so every replica (and a new leader) knows how far each
 * exporter got without asking the store (DESIGN §5).
 *
 * Value type 201 `EXPORTER` is tandem's own (Zeebe keeps exporter positions
 * outside its log), intent 0 `POSITION_UPDATED`, value
 * `{1 = exporter id (string), 2 = position (uint)}` (docs/RECORD_FORMAT.md).
 * The leader appends one per exporter whose position moved, at most about
 * once a second; the apply path (leader rounds and replay alike) stores it in
 * the partition's own state table under "exporter/<id>", so the state holds
 * the same positions however it was built.
 *
 * Ownership: nothing is kept; views in decoded values point into the bytes
 * decoded.
 */
#ifndef TANDEM_EXPORT_EXPORTER_RECORD_H
#define TANDEM_EXPORT_EXPORTER_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "export/exporter.h"
#include "protocol/record.h"
#include "state/kv.h"

/* Appends the value {1 = id, 2 = position} to out. TANDEM_EINVAL for an id
 * that is empty or longer than TANDEM_EXPORTER_ID_LEN_MAX; TANDEM_ENOMEM. */
int tandem_exporter_record_encode(tandem_buf *out, const char *id, uint64_t position,
                                  tandem_diag *diag);

/* Decodes a value: id copied NUL-terminated into id (TANDEM_EXPORTER_ID_LEN_MAX
 * + 1 bytes). TANDEM_ECORRUPT naming the problem for malformed bytes, a
 * missing field or an id out of bounds; never asserts on the bytes. */
int tandem_exporter_record_decode(const uint8_t *value, size_t len,
                                  char id[TANDEM_EXPORTER_ID_LEN_MAX + 1], uint64_t *position,
                                  tandem_diag *diag);

/* Applies an EXPORTER POSITION_UPDATED event to the state (table 0 of the
 * partition) in txn, a write transaction. Other records: nothing. */
int tandem_exporter_record_apply(tandem_kv_txn *txn, const tandem_record *rec, tandem_diag *diag);

/* The position the state holds for exporter id; 0 when none. */
int tandem_exporter_state_position(tandem_kv_txn *txn, const char *id, uint64_t *out,
                                   tandem_diag *diag);

#endif
