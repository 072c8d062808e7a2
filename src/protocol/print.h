/*
 * print.h — records as one line of text for humans: `tandemctl journal
 * inspect`, test failures, debugging.
 *
 *   pos=12 src=11 key=2251799813685249(p1:1) ts=2025-01-02T03:04:05.678Z partition=1
 *   COMMAND JOB COMPLETE value={1="worker-a" 2=3 4={1=true}}        (one line)
 *
 * The value is printed generically from its self-describing encoding:
 * tag=value, nested values in braces, strings quoted with C-style escapes
 * (anything outside printable ASCII as \xNN), bytes as x'00ff', fixed64 as
 * 0x + 16 hex digits. Strings and bytes longer than TANDEM_PRINT_BYTES_MAX are
 * cut there and followed by ...(N bytes). Optional envelope parts (rejection,
 * request, references, record and broker version, unknown envelope fields)
 * appear only when set. Malformed value bytes are shown as
 * <malformed: reason at byte n>, never an abort, so the printer is safe on
 * records that did not come through a decoder.
 */
#ifndef TANDEM_PROTOCOL_PRINT_H
#define TANDEM_PROTOCOL_PRINT_H

#include <stddef.h>
#include <stdio.h>

#include "base/buf.h"
#include "protocol/record.h"

#define TANDEM_PRINT_BYTES_MAX 128

/* Appends the record's line, '\n' included, to `out` (caller owns it).
 * 0 or TANDEM_ENOMEM (then `out` may hold part of the line). */
int tandem_record_format(const tandem_record *rec, tandem_buf *out);

/* Writes the record's line to `f`. 0, TANDEM_ENOMEM, or TANDEM_EIO when the
 * stream refuses the write. */
int tandem_record_print(const tandem_record *rec, FILE *f);

/* Appends a field sequence as "{tag=value ...}" (no newline). 0 or TANDEM_ENOMEM. */
int tandem_fields_format(const void *data, size_t len, tandem_buf *out);

#endif
