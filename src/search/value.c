/*
 * Values as the API writes them: RFC 3339 date-times (converted to the
 * store's epoch milliseconds, UTC), keys as strings, and the base64 of the
 * opaque page cursors. Pure functions, no allocation but the output buffer.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "search/search_int.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    TANDEM_ASSERT(m >= 1 && m <= 12);
    TANDEM_ASSERT(d >= 1 && d <= 31);
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    TANDEM_ASSERT(y != NULL && m != NULL && d != NULL);
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
    TANDEM_ASSERT(*m >= 1 && *m <= 12);
}

/* n digits at p into *out; false when any is not a digit. */
static bool digits(const char *p, size_t n, unsigned *out)
{
    TANDEM_ASSERT(p != NULL && out != NULL);
    TANDEM_ASSERT(n > 0 && n <= 9);
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *out = v;
    return true;
}

static bool leap(unsigned y)
{
    TANDEM_ASSERT(y <= 9999); /* four digits parsed */
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int search_date_parse(const char *text, int64_t *out_ms)
{
    TANDEM_ASSERT(text != NULL && out_ms != NULL);
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t len = strlen(text);
    unsigned y, mo, d, h, mi, s;
    if (len < 20 || !digits(text, 4, &y) || text[4] != '-' || !digits(text + 5, 2, &mo) ||
        text[7] != '-' || !digits(text + 8, 2, &d) || (text[10] != 'T' && text[10] != 't') ||
        !digits(text + 11, 2, &h) || text[13] != ':' || !digits(text + 14, 2, &mi) ||
        text[16] != ':' || !digits(text + 17, 2, &s)) {
        return TANDEM_EINVAL;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 ||
        mi > 59 || s > 60) {
        return TANDEM_EINVAL;
    }
    const char *p = text + 19;
    unsigned ms = 0;
    if (*p == '.') {
        p++;
        size_t n = 0;
        while (p[n] >= '0' && p[n] <= '9') {
            if (n < 3) {
                ms = ms * 10 + (unsigned)(p[n] - '0');
            }
            n++;
        }
        if (n == 0 || n > 9) {
            return TANDEM_EINVAL;
        }
        for (size_t i = n; i < 3; i++) {
            ms *= 10;
        }
        TANDEM_ASSERT(ms <= 999);
        p += n;
    }
    int64_t offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        unsigned oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59) {
            return TANDEM_EINVAL;
        }
        offset_min = (int64_t)(oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return TANDEM_EINVAL;
    }
    if (*p != '\0') {
        return TANDEM_EINVAL;
    }
    int64_t days = days_from_civil(y, mo, d);
    int64_t secs = days * 86400 + (int64_t)(h * 3600 + mi * 60 + (s == 60 ? 59 : s));
    *out_ms = (secs - offset_min * 60) * 1000 + ms;
    return TANDEM_OK;
}

void search_date_format(int64_t ms, char *out)
{
    TANDEM_ASSERT(out != NULL);
    /* Years 0..9999 only: the store's dates are record timestamps. */
    const int64_t lo = -62167219200000LL, hi = 253402300799999LL;
    ms = ms < lo ? lo : ms > hi ? hi : ms;
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - days * 86400000;
    TANDEM_ASSERT(rem >= 0 && rem < 86400000);
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    /* Formatted wide, then copied: the clamp above keeps it at 24 bytes,
     * which the compiler cannot see through the calendar arithmetic. */
    char wide[96];
    int n = snprintf(wide, sizeof(wide), "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ", (int)y, m, d,
                     (unsigned)(rem / 3600000), (unsigned)(rem / 60000 % 60),
                     (unsigned)(rem / 1000 % 60), (unsigned)(rem % 1000));
    TANDEM_ASSERT(n == SEARCH_DATE_SIZE - 1);
    memcpy(out, wide, SEARCH_DATE_SIZE);
}

int search_key_parse(const char *text, int64_t *out)
{
    TANDEM_ASSERT(text != NULL && out != NULL);
    size_t len = strlen(text);
    if (len == 0 || len > 25) {
        return TANDEM_EINVAL;
    }
    bool neg = text[0] == '-';
    if (neg && len == 1) {
        return TANDEM_EINVAL;
    }
    uint64_t v = 0;
    for (size_t i = neg ? 1 : 0; i < len; i++) {
        if (!isdigit((unsigned char)text[i])) {
            return TANDEM_EINVAL;
        }
        unsigned dg = (unsigned)(text[i] - '0');
        if (v > (UINT64_MAX - dg) / 10) {
            return TANDEM_ERANGE;
        }
        v = v * 10 + dg;
    }
    if ((!neg && v > (uint64_t)INT64_MAX) || (neg && v > (uint64_t)INT64_MAX + 1)) {
        return TANDEM_ERANGE;
    }
    TANDEM_ASSERT(v <= (uint64_t)INT64_MAX + (neg ? 1u : 0u));
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return TANDEM_OK;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
_Static_assert(sizeof(b64) == 65, "64 digits and the NUL");

int search_base64_encode(const uint8_t *data, size_t len, tandem_buf *out)
{
    TANDEM_ASSERT(data != NULL || len == 0);
    TANDEM_ASSERT(out != NULL);
    char quad[4];
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        v |= i + 1 < len ? (uint32_t)data[i + 1] << 8 : 0;
        v |= i + 2 < len ? data[i + 2] : 0;
        quad[0] = b64[v >> 18 & 63];
        quad[1] = b64[v >> 12 & 63];
        quad[2] = i + 1 < len ? b64[v >> 6 & 63] : '=';
        quad[3] = i + 2 < len ? b64[v & 63] : '=';
        if (tandem_buf_append(out, quad, 4) != TANDEM_OK) {
            return TANDEM_ENOMEM;
        }
    }
    return tandem_buf_append(out, "", 1) == TANDEM_OK ? TANDEM_OK : TANDEM_ENOMEM;
}

static int b64_value(char c)
{
    const char *p = c != '\0' ? strchr(b64, c) : NULL;
    TANDEM_ASSERT(p == NULL || (p >= b64 && p < b64 + 64));
    return p != NULL ? (int)(p - b64) : -1;
}

int search_base64_decode(const char *text, uint8_t *out, size_t cap, size_t *out_len)
{
    TANDEM_ASSERT(text != NULL && out != NULL && out_len != NULL);
    size_t len = strlen(text);
    if (len == 0 || len % 4 != 0) {
        return TANDEM_EINVAL;
    }
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        size_t pad = 0;
        for (size_t k = 0; k < 4; k++) {
            char c = text[i + k];
            if (c == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad > 0 || (v[k] = b64_value(c)) < 0) {
                return TANDEM_EINVAL;
            }
        }
        uint32_t q =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        size_t bytes = 3 - pad;
        if (n + bytes > cap) {
            return TANDEM_ETOOBIG;
        }
        out[n++] = (uint8_t)(q >> 16);
        if (bytes > 1) {
            out[n++] = (uint8_t)(q >> 8);
        }
        if (bytes > 2) {
            out[n++] = (uint8_t)q;
        }
    }
    TANDEM_ASSERT(n <= cap);
    *out_len = n;
    return TANDEM_OK;
}
