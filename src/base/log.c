#include "base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/assert.h"

static enum tandem_log_level min_level = TANDEM_LOG_INFO;
static FILE *log_sink;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void tandem_log_set_level(enum tandem_log_level level)
{
    TANDEM_ASSERT(level >= TANDEM_LOG_DEBUG && level <= TANDEM_LOG_ERROR);
    min_level = level;
}

int tandem_log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

void tandem_log_set_sink(FILE *sink)
{
    pthread_mutex_lock(&log_lock);
    log_sink = sink;
    pthread_mutex_unlock(&log_lock);
}

typedef struct line {
    char text[2048];
    size_t len;
} line;

static void put(line *l, const char *s, size_t n)
{
    size_t room = sizeof(l->text) - 2 - l->len; /* keep room for "\n\0" */
    if (n > room) {
        n = room;
    }
    memcpy(l->text + l->len, s, n);
    l->len += n;
}

static void put_str(line *l, const char *s)
{
    put(l, s, strlen(s));
}

static int needs_quotes(const char *v)
{
    if (*v == '\0') {
        return 1;
    }
    for (const char *p = v; *p != '\0'; p++) {
        if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p < 0x20) {
            return 1;
        }
    }
    return 0;
}

static void put_value(line *l, const char *v)
{
    if (v == NULL) {
        v = "(null)";
    }
    if (!needs_quotes(v)) {
        put_str(l, v);
        return;
    }
    put(l, "\"", 1);
    for (const char *p = v; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            put(l, "\\", 1);
            put(l, p, 1);
        } else if (*p == '\n') {
            put(l, "\\n", 2);
        } else if ((unsigned char)*p < 0x20) {
            put(l, "?", 1);
        } else {
            put(l, p, 1);
        }
    }
    put(l, "\"", 1);
}

static void begin(line *l, enum tandem_log_level level, const char *msg)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[64];
    snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    l->len = 0;
    put_str(l, "level=");
    put_str(l, level_names[level]);
    put_str(l, " ts=");
    put_str(l, stamp);
    put_str(l, " msg=");
    put_value(l, msg);
}

static void finish(line *l)
{
    l->text[l->len++] = '\n';
    l->text[l->len] = '\0';
    pthread_mutex_lock(&log_lock);
    FILE *out = log_sink != NULL ? log_sink : stderr;
    fwrite(l->text, 1, l->len, out);
    fflush(out);
    pthread_mutex_unlock(&log_lock);
}

void tandem_log(enum tandem_log_level level, const char *msg, ...)
{
    TANDEM_ASSERT(msg != NULL);
    if (level < min_level) {
        return;
    }
    line l;
    begin(&l, level, msg);
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (key == NULL) {
            break;
        }
        const char *value = va_arg(ap, const char *);
        put(&l, " ", 1);
        put_str(&l, key);
        put(&l, "=", 1);
        put_value(&l, value);
    }
    va_end(ap);
    finish(&l);
}

void tandem_logf(enum tandem_log_level level, const char *msg, const char *fields_fmt, ...)
{
    TANDEM_ASSERT(msg != NULL && fields_fmt != NULL);
    if (level < min_level) {
        return;
    }
    line l;
    begin(&l, level, msg);
    char fields[1024];
    va_list ap;
    va_start(ap, fields_fmt);
    vsnprintf(fields, sizeof(fields), fields_fmt, ap);
    va_end(ap);
    if (fields[0] != '\0') {
        put(&l, " ", 1);
        put_str(&l, fields);
    }
    finish(&l);
}
