/*
 * test.h — the unit-test runner of tandem.
 *
 * A test file lists its cases and ends with TANDEM_TEST_MAIN(cases). Every
 * case runs in a forked child with an alarm, so a crash, a leak report or a
 * hang fails that case alone. A failed CHECK prints file, line and the
 * expression and ends the case's process with status 1.
 *
 *   static void test_roundtrip(void) { CHECK_EQ_U64(1, 1); }
 *   static const tandem_test cases[] = {{"roundtrip", test_roundtrip}, {NULL, NULL}};
 *   TANDEM_TEST_MAIN(cases)
 *
 * `./test_x name` runs one case. TANDEM_TEST_SEED=N fixes the seed returned by
 * test_seed() (otherwise a fresh one, printed so a failure can be replayed).
 * TANDEM_TEST_ITERATIONS scales test_iterations().
 */
#ifndef TANDEM_TEST_H
#define TANDEM_TEST_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tandem_test {
    const char *name;
    void (*fn)(void);
} tandem_test;

int tandem_test_run(int argc, char **argv, const tandem_test *cases);

#define TANDEM_TEST_MAIN(cases)                                                                    \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        return tandem_test_run(argc, argv, cases);                                                 \
    }

_Noreturn void tandem_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if (!(expr)) {                                                                             \
            tandem_test_fail(__FILE__, __LINE__, "CHECK(%s)", #expr);                              \
        }                                                                                          \
    } while (0)

#define CHECK_MSG(expr, ...)                                                                       \
    do {                                                                                           \
        if (!(expr)) {                                                                             \
            tandem_test_fail(__FILE__, __LINE__, __VA_ARGS__);                                     \
        }                                                                                          \
    } while (0)

/* rc must be TANDEM_OK; prints the error name otherwise. */
#define CHECK_OK(rc)                                                                               \
    do {                                                                                           \
        int rc_ = (rc);                                                                            \
        if (rc_ != 0) {                                                                            \
            tandem_test_fail(__FILE__, __LINE__, "%s returned %s", #rc, tandem_test_errname(rc_)); \
        }                                                                                          \
    } while (0)

#define CHECK_RC(expected, rc)                                                                     \
    do {                                                                                           \
        int e_ = (expected), r_ = (rc);                                                            \
        if (e_ != r_) {                                                                            \
            tandem_test_fail(__FILE__, __LINE__, "%s returned %s, expected %s", #rc,               \
                             tandem_test_errname(r_), tandem_test_errname(e_));                    \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_U64(expected, actual)                                                             \
    do {                                                                                           \
        uint64_t e_ = (uint64_t)(expected), a_ = (uint64_t)(actual);                               \
        if (e_ != a_) {                                                                            \
            tandem_test_fail(__FILE__, __LINE__, "%s == %" PRIu64 ", expected %" PRIu64, #actual,  \
                             a_, e_);                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_I64(expected, actual)                                                             \
    do {                                                                                           \
        int64_t e_ = (int64_t)(expected), a_ = (int64_t)(actual);                                  \
        if (e_ != a_) {                                                                            \
            tandem_test_fail(__FILE__, __LINE__, "%s == %" PRId64 ", expected %" PRId64, #actual,  \
                             a_, e_);                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_STREQ(expected, actual)                                                              \
    do {                                                                                           \
        const char *e_ = (expected), *a_ = (actual);                                               \
        if (a_ == NULL || strcmp(e_, a_) != 0) {                                                   \
            tandem_test_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #actual,         \
                             a_ ? a_ : "(null)", e_);                                              \
        }                                                                                          \
    } while (0)

/* Substring check, for error messages. */
#define CHECK_CONTAINS(haystack, needle)                                                           \
    do {                                                                                           \
        const char *h_ = (haystack), *n_ = (needle);                                               \
        if (h_ == NULL || strstr(h_, n_) == NULL) {                                                \
            tandem_test_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"",                 \
                             h_ ? h_ : "(null)", n_);                                              \
        }                                                                                          \
    } while (0)

const char *tandem_test_errname(int rc);

/* Seed of this run (TANDEM_TEST_SEED or random), printed once. */
uint64_t test_seed(void);

/* `base` scaled by TANDEM_TEST_ITERATIONS/100 (default 100, i.e. base). */
uint64_t test_iterations(uint64_t base);

/* A fresh directory under $TMPDIR (or /tmp), removed with everything in it
 * when the case's process exits. Returns a static string valid for the case. */
const char *test_tmpdir(void);

/* Removes a directory tree; ignores a missing path. */
void test_rmtree(const char *path);

#endif
