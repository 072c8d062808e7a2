/*
 * crc32c.h — CRC-32C (Castagnoli), the checksum of every journal entry,
 * segment header and snapshot. Uses the SSE4.2 instruction when the CPU has
 * it, a table otherwise; both give identical results (tested).
 */
#ifndef TANDEM_BASE_CRC32C_H
#define TANDEM_BASE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends `crc` (0 to start) over len bytes. crc32c("123456789") = 0xe3069283. */
uint32_t tandem_crc32c(uint32_t crc, const void *data, size_t len);

/* The portable table implementation, exposed for tests. */
uint32_t tandem_crc32c_sw(uint32_t crc, const void *data, size_t len);

#endif
