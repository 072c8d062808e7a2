/*
 * feel_cmd.c — `tandemctl feel` (see feel_cmd.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "app/feel_cmd.h"
#include "base/assert.h"
#include "base/buf.h"
#include "feel/feel.h"

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    TANDEM_ASSERT(m >= 1 && m <= 12 && d >= 1 && d <= 31);
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3u : 9u)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    TANDEM_ASSERT(doe < 146097);
    return era * 146097 + (int64_t)doe - 719468;
}

/* Parses YYYY-MM-DDTHH:MM:SS[.fff][Z|+hh:mm|-hh:mm] into ms since the epoch
 * (a missing zone means UTC). Returns 0 or -1. */
static int parse_now(const char *s, int64_t *out_ms)
{
    TANDEM_ASSERT(s != NULL && out_ms != NULL);
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19 ||
        mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 || h < 0 || mi < 0 ||
        sec < 0) {
        return -1;
    }
    const char *p = s + n;
    int64_t ms = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
            if (digits < 3) {
                ms = ms * 10 + (*p - '0');
            }
        }
        for (; digits < 3; digits++) {
            ms *= 10;
        }
    }
    int64_t offset_s = 0;
    if (*p == '+' || *p == '-') {
        int oh, om, k = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || k != 5 || oh > 18 || om > 59) {
            return -1;
        }
        offset_s = (*p == '-' ? -1 : 1) * (oh * 3600 + om * 60);
        p += 6;
    } else if (*p == 'Z') {
        p++;
    }
    if (*p != '\0') {
        return -1;
    }
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *out_ms = ((days * 86400 + h * 3600 + mi * 60 + sec) - offset_s) * 1000 + ms;
    return 0;
}

/* Reads zone rules from the system's tzdata ($TZDIR or /usr/share/zoneinfo).
 * The zone table has checked the name (no "..", no leading '/'). */
static int load_zone_file(void *ctx, const char *name, tandem_buf *out)
{
    TANDEM_ASSERT(name != NULL && out != NULL);
    (void)ctx;
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/%s",
             dir != NULL && dir[0] != '\0' ? dir : "/usr/share/zoneinfo", name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return TANDEM_ENOENT;
    }
    int rc = 0;
    char chunk[4096];
    size_t n;
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rc = out->len + n > (1u << 20) ? TANDEM_ETOOBIG : tandem_buf_append(out, chunk, n);
    }
    if (rc == 0 && ferror(f)) {
        rc = TANDEM_EIO;
    }
    fclose(f);
    return rc;
}

/* "error: 1:5: msg" and the line of the expression with a caret. */
static void print_error(FILE *err, const char *src, const char *msg)
{
    TANDEM_ASSERT(err != NULL && msg != NULL);
    fprintf(err, "error: %s\n", msg);
    unsigned line, col;
    if (sscanf(msg, "%u:%u:", &line, &col) != 2 || line == 0 || col == 0) {
        return;
    }
    const char *start = src;
    for (unsigned l = 1; l < line && start != NULL; l++) {
        start = strchr(start, '\n');
        start = start != NULL ? start + 1 : NULL;
    }
    if (start == NULL) {
        return;
    }
    size_t len = strcspn(start, "\n");
    fprintf(err, "  %.*s\n  %*s^\n", (int)len, start, (int)(col - 1), "");
}

static int usage(FILE *err)
{
    fprintf(err, "usage: tandemctl feel EXPRESSION [--vars JSON] [--now DATE-TIME] [--tree]\n");
    return 2;
}

typedef struct cmd_args {
    const char *src, *vars_json, *now;
    bool tree;
} cmd_args;

/* 0, or -1 on bad usage. */
static int parse_args(int argc, char **argv, cmd_args *a)
{
    TANDEM_ASSERT(argc >= 0 && a != NULL);
    memset(a, 0, sizeof(*a));
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--vars") == 0 && i + 1 < argc) {
            a->vars_json = argv[++i];
        } else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
            a->now = argv[++i];
        } else if (strcmp(argv[i], "--tree") == 0) {
            a->tree = true;
        } else if (a->src == NULL && strncmp(argv[i], "--", 2) != 0) {
            /* "-1", "-(3)" and "- x" are expressions; options start with "--". */
            a->src = argv[i];
        } else {
            return -1;
        }
    }
    return a->src != NULL ? 0 : -1;
}

int tandem_feel_cmd(int argc, char **argv, FILE *out, FILE *err)
{
    TANDEM_ASSERT(argv != NULL && out != NULL && err != NULL);
    cmd_args a;
    if (parse_args(argc, argv, &a) != 0) {
        return usage(err);
    }
    const char *src = a.src, *vars_json = a.vars_json, *now = a.now;
    bool tree = a.tree;
    if (src[0] == '=') {
        src++;
    }
    tandem_feel_eval_opts opts = {0};
    if (now != NULL && parse_now(now, &opts.now_ms) != 0) {
        fprintf(err, "error: --now '%s' is not a date-time like 2024-05-01T12:00:00Z\n", now);
        return 2;
    }
    int code = 1;
    tandem_diag d;
    tandem_diag_clear(&d);
    tandem_feel_expr *expr = NULL;
    tandem_feel_vars *vars = NULL;
    tandem_feel_result r;
    tandem_feel_result_init(&r);
    tandem_buf b = TANDEM_BUF_INIT;
    tandem_feel_zones *zones = NULL;
    if (tandem_feel_zones_new(load_zone_file, NULL, &zones) != 0) {
        fprintf(err, "error: out of memory\n");
        goto done;
    }
    opts.zones = zones;
    if (tandem_feel_compile(src, strlen(src), NULL, &expr, &d) != 0) {
        print_error(err, src, tandem_diag_text(&d));
        goto done;
    }
    if (vars_json != NULL &&
        tandem_feel_vars_from_json(vars_json, strlen(vars_json), &vars, &d) != 0) {
        fprintf(err, "error: --vars: %s\n", tandem_diag_text(&d));
        goto done;
    }
    opts.vars = vars;
    if (tree) {
        if (tandem_feel_expr_dump(expr, &b) != 0) {
            goto done;
        }
        fprintf(out, "%.*s\n", (int)b.len, (const char *)b.data);
        code = 0;
        goto done;
    }
    if (tandem_feel_eval(expr, &opts, &r, &d) != 0) {
        fprintf(err, "error: %s\n", tandem_diag_text(&d));
        goto done;
    }
    for (uint32_t i = 0; i < r.warning_count; i++) {
        fprintf(err, "warning: %s\n", r.warnings[i]);
    }
    if (tandem_feel_result_json(&r, &b) != 0) {
        fprintf(err, "error: out of memory\n");
        goto done;
    }
    fprintf(out, "%.*s\n", (int)b.len, (const char *)b.data);
    code = 0;
done:
    tandem_buf_free(&b);
    tandem_feel_result_free(&r);
    tandem_feel_vars_free(vars);
    tandem_feel_expr_free(expr);
    tandem_feel_zones_free(zones);
    return code;
}
