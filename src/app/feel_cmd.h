/*
 * feel_cmd.h — `tandemctl feel`: evaluate one FEEL expression and print the
 * result as JSON, the playground for a condition that does not do what its
 * author meant.
 */
#ifndef TANDEM_APP_FEEL_CMD_H
#define TANDEM_APP_FEEL_CMD_H

#include <stdio.h>

/*
 * argv: EXPRESSION [--vars JSON] [--now DATE-TIME] [--tree] (after "feel").
 * A leading `=` of the expression is dropped, so attribute text can be
 * pasted as is. Prints the result as JSON to out and each warning as
 * "warning: ..." to err; a syntax error prints "error: line:column: ..."
 * with the expression and a caret. Returns the exit code: 0 when evaluated,
 * 1 on an error of the expression or its variables, 2 on bad usage.
 */
int tandem_feel_cmd(int argc, char **argv, FILE *out, FILE *err);

#endif
