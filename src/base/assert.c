#include "base/assert.h"

#include <stdio.h>
#include <stdlib.h>

_Noreturn void tandem_assert_fail(const char *expr, const char *file, int line, const char *func)
{
    fprintf(stderr, "level=fatal msg=\"assertion failed\" expr=\"%s\" at=%s:%d func=%s\n", expr,
            file, line, func);
    fflush(stderr);
    abort();
}
