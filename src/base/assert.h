/*
 * assert.h — assertions that stay on in every build.
 *
 * An assertion documents a belief about the program; if it can fire on bad
 * input, that is a bug in the caller of the assertion (bad input gets an error
 * code, never an abort). A failed assertion prints the expression, file and
 * line to stderr and aborts, so a core dump or sanitizer report follows.
 */
#ifndef TANDEM_BASE_ASSERT_H
#define TANDEM_BASE_ASSERT_H

_Noreturn void tandem_assert_fail(const char *expr, const char *file, int line, const char *func);

#define TANDEM_ASSERT(expr)                                                                        \
    ((expr) ? (void)0 : tandem_assert_fail(#expr, __FILE__, __LINE__, __func__))

/* Marks code the program must never reach. */
#define TANDEM_UNREACHABLE() tandem_assert_fail("unreachable", __FILE__, __LINE__, __func__)

#endif
