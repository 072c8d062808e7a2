/*
 * tandem — the broker binary.
 *
 *   tandem broker [--config FILE] [--print-config]
 *   tandem dev [--print-config]
 *   tandem version
 *
 * `dev` is the embedded default cluster `make run` starts: one broker with
 * the built-in defaults (data under ./data, REST on 8080 and management on
 * 9600 of 127.0.0.1), environment overrides still applied.
 *
 * The configuration is the YAML file (if given) with TANDEM_* environment
 * overrides on top (docs/CONFIGURATION.md). Exit status: 0 after a clean
 * stop (SIGTERM/SIGINT), 2 for usage or configuration errors, 1 when the
 * broker could not start or stopped on a failure.
 */
#include <stdio.h>
#include <string.h>

#include "app/broker.h"
#include "base/buf.h"
#include "base/log.h"
#include "cluster/config.h"

extern char **environ;

static int usage(FILE *out)
{
    fprintf(out, "usage: tandem broker [--config FILE] [--print-config]\n"
                 "       tandem dev [--print-config]\n"
                 "       tandem version\n");
    return out == stderr ? 2 : 0;
}

static int load_config(const char *path, tandem_config *cfg, tandem_diag *diag)
{
    if (path != NULL) {
        return tandem_config_load_file(cfg, path, environ, diag);
    }
    return tandem_config_load_buffer(cfg, "(defaults)", "", 0, environ, diag);
}

static int cmd_broker(int argc, char **argv, int allow_config)
{
    const char *path = NULL;
    int print_config = 0;
    for (int i = 0; i < argc; i++) {
        if (allow_config && strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--print-config") == 0) {
            print_config = 1;
        } else {
            fprintf(stderr, "tandem broker: unknown argument \"%s\"\n", argv[i]);
            return usage(stderr);
        }
    }
    static tandem_config cfg; /* large; one per process */
    tandem_diag diag;
    tandem_diag_clear(&diag);
    if (load_config(path, &cfg, &diag) != TANDEM_OK) {
        fprintf(stderr, "tandem: configuration error: %s\n", tandem_diag_text(&diag));
        return 2;
    }
    if (print_config) {
        tandem_buf out = TANDEM_BUF_INIT;
        int rc = tandem_config_print(&cfg, &out);
        if (rc == TANDEM_OK) {
            fwrite(out.data, 1, out.len, stdout);
        }
        tandem_buf_free(&out);
        return rc == TANDEM_OK ? 0 : 1;
    }
    int rc = tandem_broker_run(&cfg, &diag);
    if (rc != TANDEM_OK) {
        tandem_log(TANDEM_LOG_ERROR, "broker failed", "error", tandem_errname(rc), "detail",
                   tandem_diag_text(&diag), NULL);
        fprintf(stderr, "tandem: %s\n", tandem_diag_text(&diag));
        return 1;
    }
    tandem_log(TANDEM_LOG_INFO, "broker stopped", NULL);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        return usage(stderr);
    }
    if (strcmp(argv[1], "broker") == 0) {
        return cmd_broker(argc - 2, argv + 2, 1);
    }
    if (strcmp(argv[1], "dev") == 0) {
        return cmd_broker(argc - 2, argv + 2, 0);
    }
    if (strcmp(argv[1], "version") == 0) {
        printf("tandem %s\n", TANDEM_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        return usage(stdout);
    }
    fprintf(stderr, "tandem: unknown command \"%s\"\n", argv[1]);
    return usage(stderr);
}
