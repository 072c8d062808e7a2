/*
 * inspect.h — `tandemctl journal inspect`: a journal listing for humans,
 * with the records of every data entry decoded and printed.
 */
#ifndef TANDEM_APP_INSPECT_H
#define TANDEM_APP_INSPECT_H

#include <stdio.h>

/* Lists the journal in `dir` (a journal directory, or a partition folder
 * holding `journal/`) to out; errors to err. Returns the process exit code:
 * 0 when the journal would open, 1 when a broker would refuse it or it
 * cannot be read. */
int tandem_inspect_journal(const char *dir, FILE *out, FILE *err);

#endif
