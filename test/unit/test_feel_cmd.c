/*
 * test_feel_cmd.c — `tandemctl feel`: output, warnings, errors with a caret,
 * usage errors.
 */
#include "app/feel_cmd.h"
#include "test.h"

/* Runs the command; returns its exit code and what it printed. */
static int run(int argc, const char **argv, char *out, char *err, size_t size)
{
    FILE *fo = tmpfile(), *fe = tmpfile();
    CHECK(fo != NULL && fe != NULL);
    int code = tandem_feel_cmd(argc, (char **)argv, fo, fe);
    rewind(fo);
    rewind(fe);
    size_t no = fread(out, 1, size - 1, fo), ne = fread(err, 1, size - 1, fe);
    out[no] = '\0';
    err[ne] = '\0';
    fclose(fo);
    fclose(fe);
    return code;
}

static void test_evaluates(void)
{
    char out[1024], err[1024];
    const char *vars = "{\"items\": [{\"price\": 5, \"name\": \"a\"}, "
                       "{\"price\": 11.5, \"name\": \"b\"}]}";
    const char *a[] = {"=items[price > 10].name", "--vars", vars};
    CHECK_EQ_U64(0, run(3, a, out, err, sizeof(out)));
    CHECK_STREQ("[\"b\"]\n", out);
    CHECK_STREQ("", err);

    const char *b[] = {"x + 1"};
    CHECK_EQ_U64(0, run(1, b, out, err, sizeof(out)));
    CHECK_STREQ("null\n", out);
    CHECK_STREQ("warning: no variable found with name 'x'\n", err);

    const char *c[] = {"1 + 2", "--tree"};
    CHECK_EQ_U64(0, run(2, c, out, err, sizeof(out)));
    CHECK_STREQ("(+ 1 2)\n", out);

    const char *d[] = {"-(1)", "--now", "2024-05-01T12:00:00+02:00"};
    CHECK_EQ_U64(0, run(3, d, out, err, sizeof(out)));
    CHECK_STREQ("-1\n", out);
}

static void test_errors(void)
{
    char out[1024], err[1024];
    const char *a[] = {"if x then 1"};
    CHECK_EQ_U64(1, run(1, a, out, err, sizeof(out)));
    CHECK_STREQ("", out);
    CHECK_STREQ("error: 1:12: expected 'else' but found end of input\n  if x then 1\n"
                "             ^\n",
                err);

    const char *b[] = {"x", "--vars", "[1]"};
    CHECK_EQ_U64(1, run(3, b, out, err, sizeof(out)));
    CHECK_CONTAINS(err, "error: --vars: variables must be a JSON object");

    const char *c[] = {"x", "--now", "yesterday"};
    CHECK_EQ_U64(2, run(3, c, out, err, sizeof(out)));
    CHECK_CONTAINS(err, "--now 'yesterday' is not a date-time");

    const char *d[] = {"--bogus"};
    CHECK_EQ_U64(2, run(1, d, out, err, sizeof(out)));
    CHECK_CONTAINS(err, "usage: tandemctl feel");
    CHECK_EQ_U64(2, run(0, d, out, err, sizeof(out)));
}

static const tandem_test cases[] = {
    {"evaluates", test_evaluates},
    {"errors", test_errors},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
