/*
 * exporter_sqlite.h — the SQLite store (store.h) as an exporter of the
 * framework (exporter.h): open opens the file (creating and migrating it),
 * export writes rows and position in one transaction, position and
 * set_position are the store's, close closes the connection.
 *
 * Ownership: tandem_exporter_sqlite_new returns an impl for
 * tandem_exporters_add with the vtable of tandem_exporter_sqlite_vtable; the
 * framework frees it (destroy). path and id are copied.
 */
#ifndef TANDEM_EXPORT_EXPORTER_SQLITE_H
#define TANDEM_EXPORT_EXPORTER_SQLITE_H

#include "base/error.h"
#include "export/exporter.h"

const tandem_exporter_vtable *tandem_exporter_sqlite_vtable(void);

/* TANDEM_EINVAL for an empty or over-long path or id, TANDEM_ENOMEM. Nothing
 * is opened yet: the exporter's thread opens the file. */
int tandem_exporter_sqlite_new(const char *id, const char *path, void **impl_out,
                               tandem_diag *diag);

#endif
