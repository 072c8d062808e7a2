/*
 * store_cmd.h — `tandemctl store`: the checker an operator (and the crash
 * tests) use on secondary stores. `compare A B` says whether two stores hold
 * the same rows and names the first difference; `dump FILE` prints every row
 * as a JSON line in a stable order, for diffing and for eyes.
 */
#ifndef TANDEM_APP_STORE_CMD_H
#define TANDEM_APP_STORE_CMD_H

#include <stdio.h>

/*
 * argv: `compare A B` or `dump FILE` (after "store"). compare prints
 * "equal" or the first difference to out; dump prints the rows to out.
 * Errors ("error: ...") go to err. Returns the exit code: 0 when equal or
 * dumped, 1 when the stores differ, 2 on bad usage or a file that cannot be
 * read as a store (missing, damaged, newer schema).
 */
int tandem_store_cmd(int argc, char **argv, FILE *out, FILE *err);

#endif
