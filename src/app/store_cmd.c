/*
 * store_cmd.c — `tandemctl store compare|dump`.
 */
#include <string.h>

#include "app/store_cmd.h"
#include "base/assert.h"
#include "export/store.h"

static int usage(FILE *err)
{
    TANDEM_ASSERT(err != NULL);
    fprintf(err, "usage: tandemctl store compare STORE_A STORE_B\n"
                 "       tandemctl store dump STORE\n");
    return 2;
}

static int compare(const char *a, const char *b, FILE *out, FILE *err)
{
    TANDEM_ASSERT(a != NULL && b != NULL);
    tandem_diag d = {0};
    int rc = tandem_store_compare(a, b, out, &d);
    if (rc == 0) {
        fprintf(out, "equal\n");
        return 0;
    }
    if (rc == TANDEM_EMISMATCH) {
        return 1; /* the difference went to out */
    }
    fprintf(err, "error: %s\n", tandem_diag_text(&d));
    return 2;
}

static int dump(const char *path, FILE *out, FILE *err)
{
    TANDEM_ASSERT(path != NULL && out != NULL);
    tandem_diag d = {0};
    int rc = tandem_store_dump(path, out, &d);
    if (rc != 0) {
        fprintf(err, "error: %s\n", tandem_diag_text(&d));
        return 2;
    }
    return fflush(out) == 0 ? 0 : 2;
}

int tandem_store_cmd(int argc, char **argv, FILE *out, FILE *err)
{
    TANDEM_ASSERT(argc >= 0 && (argc == 0 || argv != NULL));
    TANDEM_ASSERT(out != NULL && err != NULL);
    if (argc == 3 && strcmp(argv[0], "compare") == 0) {
        return compare(argv[1], argv[2], out, err);
    }
    if (argc == 2 && strcmp(argv[0], "dump") == 0) {
        return dump(argv[1], out, err);
    }
    return usage(err);
}
