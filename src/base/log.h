/*
 * log.h — structured logs: one line per event, key=value pairs.
 *
 *   level=info ts=2026-11-30T15:14:09.123Z msg="journal opened" partition=1 term=3 entries=42
 *
 * The fields "partition" and "term" are on every line that concerns a
 * partition (DESIGN §7); callers pass them as ordinary fields. Values with
 * spaces, quotes or '=' are quoted and escaped by the formatter, so callers
 * pass raw values through tandem_log_kv. Lines go to stderr (or the sink set
 * with tandem_log_set_sink) with one write each, so threads never interleave.
 */
#ifndef TANDEM_BASE_LOG_H
#define TANDEM_BASE_LOG_H

#include <stdio.h>

enum tandem_log_level {
    TANDEM_LOG_DEBUG = 0,
    TANDEM_LOG_INFO = 1,
    TANDEM_LOG_WARN = 2,
    TANDEM_LOG_ERROR = 3,
};

/* Lines below `level` are dropped. Default TANDEM_LOG_INFO. */
void tandem_log_set_level(enum tandem_log_level level);
/* Parses "debug" | "info" | "warn" | "error"; -1 when unknown. */
int tandem_log_level_parse(const char *name);
/* Where lines go; NULL restores stderr. The stream must outlive its use. */
void tandem_log_set_sink(FILE *sink);

/*
 * Logs msg followed by pairs of (key, value) strings, terminated by NULL:
 *   tandem_log(TANDEM_LOG_INFO, "broker started", "node", "0", "port", "9600", NULL);
 */
void tandem_log(enum tandem_log_level level, const char *msg, ...);

/* Like tandem_log, but every value is a printf format applied to the
 * following argument list: pairs of key and already-formatted value are
 * awkward in C, so this form takes ("key=%d key2=%s", args...) and the
 * formatter quotes nothing: use it only for numbers and simple tokens. */
void tandem_logf(enum tandem_log_level level, const char *msg, const char *fields_fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
