#include "base/crc32c.h"

#include <stdbool.h>
#include <string.h>

#include "base/assert.h"

#define CRC32C_POLY 0x82f63b78u

static uint32_t table[8][256];
static bool table_ready;
static int hw_state; /* 0 unknown, 1 yes, -1 no */

static void table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        }
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        for (int t = 1; t < 8; t++) {
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
        }
    }
    table_ready = true;
}

uint32_t tandem_crc32c_sw(uint32_t crc, const void *data, size_t len)
{
    TANDEM_ASSERT(data != NULL || len == 0);
    if (!table_ready) {
        table_init(); /* idempotent: racing threads write identical values */
    }
    const uint8_t *p = data;
    crc = ~crc;
    while (len >= 8) {
        uint32_t lo;
        uint32_t hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
        lo ^= crc;
        crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
              table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
              table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len-- > 0) {
        crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
    }
    return ~crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p,
                                                            size_t len)
{
    uint64_t c = ~crc;
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        len -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (len-- > 0) {
        c32 = __builtin_ia32_crc32qi(c32, *p++);
    }
    return ~c32;
}

static bool have_hw(void)
{
    if (hw_state == 0) {
        __builtin_cpu_init();
        hw_state = __builtin_cpu_supports("sse4.2") ? 1 : -1;
    }
    return hw_state > 0;
}
#else
static bool have_hw(void)
{
    (void)hw_state;
    return false;
}
#endif

uint32_t tandem_crc32c(uint32_t crc, const void *data, size_t len)
{
    TANDEM_ASSERT(data != NULL || len == 0);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (have_hw()) {
        return crc32c_hw(crc, data, len);
    }
#else
    (void)have_hw;
#endif
    return tandem_crc32c_sw(crc, data, len);
}
