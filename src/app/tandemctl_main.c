/*
 * tandemctl — the operator's tool.
 *
 *   tandemctl journal inspect DIR   list a journal (or a partition folder's journal):
 *                                   segments, entries, the records in each data
 *                                   entry, and any damage with file and offset.
 *                                   Read-only; exit 0 when the journal would open,
 *                                   1 when a broker would refuse it.
 *   tandemctl state digest DIR      digest of a partition folder's state (broker
 *                                   stopped) and of a replay of its whole journal
 *                                   into a fresh state; exit 0 when equal.
 *   tandemctl feel EXPR [--vars JSON] [--now DATE-TIME] [--tree]
 *                                   evaluate a FEEL expression, print JSON.
 *   tandemctl store compare A B     compare two secondary stores row by row; exit 0
 *                                   when equal, 1 with the first difference.
 *   tandemctl store dump FILE       every row of a store as JSON lines, stable order.
 *   tandemctl version
 */
#include <stdio.h>
#include <string.h>

#include "app/broker_int.h"
#include "app/feel_cmd.h"
#include "app/store_cmd.h"
#include "app/inspect.h"

static int usage(FILE *out)
{
    fprintf(out, "usage: tandemctl journal inspect DIR\n"
                 "       tandemctl state digest DIR\n"
                 "       tandemctl feel EXPRESSION [--vars JSON] [--now DATE-TIME] [--tree]\n"
                 "       tandemctl store compare STORE_A STORE_B\n"
                 "       tandemctl store dump STORE\n"
                 "       tandemctl version\n");
    return out == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "version") == 0) {
        printf("tandemctl %s\n", TANDEM_VERSION);
        return 0;
    }
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
        return usage(stdout);
    }
    if (argc == 4 && strcmp(argv[1], "journal") == 0 && strcmp(argv[2], "inspect") == 0) {
        return tandem_inspect_journal(argv[3], stdout, stderr);
    }
    if (argc == 4 && strcmp(argv[1], "state") == 0 && strcmp(argv[2], "digest") == 0) {
        return broker_state_digests(argv[3], stdout, stderr);
    }
    if (argc >= 2 && strcmp(argv[1], "feel") == 0) {
        return tandem_feel_cmd(argc - 2, argv + 2, stdout, stderr);
    }
    if (argc >= 2 && strcmp(argv[1], "store") == 0) {
        return tandem_store_cmd(argc - 2, argv + 2, stdout, stderr);
    }
    return usage(stderr);
}
