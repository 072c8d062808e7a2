/*
 * test_store_cmd.c — `tandemctl store compare|dump`: exit codes, the first
 * difference, dump lines, errors for files that are not stores.
 */
#include <sqlite3.h>

#include "app/store_cmd.h"
#include "export/store.h"
#include "test.h"

static int run(int argc, const char **argv, char *out, char *err, size_t size)
{
    FILE *fo = tmpfile(), *fe = tmpfile();
    CHECK(fo != NULL && fe != NULL);
    int code = tandem_store_cmd(argc, (char **)argv, fo, fe);
    rewind(fo);
    rewind(fe);
    size_t no = fread(out, 1, size - 1, fo), ne = fread(err, 1, size - 1, fe);
    out[no] = '\0';
    err[ne] = '\0';
    fclose(fo);
    fclose(fe);
    return code;
}

/* A store with one variable row (written through SQL: the mapping has its
 * own tests in test_store.c). */
static void make_store(const char *path, const char *value)
{
    tandem_store *s = NULL;
    tandem_diag d = {0};
    CHECK_MSG(tandem_store_open(path, false, &s, &d) == 0, "%s", d.message);
    char sql[256];
    snprintf(sql, sizeof(sql), "INSERT INTO variable VALUES (7, 'n', '%s', 5, 5, '<default>', 3)",
             value);
    CHECK(sqlite3_exec(tandem_store_db(s), sql, NULL, NULL, NULL) == SQLITE_OK);
    tandem_store_close(s);
}

static void test_compare_and_dump(void)
{
    char a[512], b[512], out[4096], err[1024];
    snprintf(a, sizeof(a), "%s/a.db", test_tmpdir());
    snprintf(b, sizeof(b), "%s/b.db", test_tmpdir());
    make_store(a, "1");
    make_store(b, "1");
    const char *cmp[] = {"compare", a, b};
    CHECK_EQ_U64(0, run(3, cmp, out, err, sizeof(out)));
    CHECK_STREQ("equal\n", out);
    CHECK_STREQ("", err);

    tandem_store *s = NULL;
    CHECK_OK(tandem_store_open(b, false, &s, NULL));
    CHECK(sqlite3_exec(tandem_store_db(s), "UPDATE variable SET value = '\"two\"'", NULL, NULL,
                       NULL) == SQLITE_OK);
    tandem_store_close(s);
    CHECK_EQ_U64(1, run(3, cmp, out, err, sizeof(out)));
    CHECK_STREQ("table variable: row variable_key 7: column value: '1' vs '\"two\"'\n", out);

    const char *dump[] = {"dump", b};
    CHECK_EQ_U64(0, run(2, dump, out, err, sizeof(out)));
    CHECK_STREQ(
        "{\"table\":\"variable\",\"variable_key\":7,\"name\":\"n\",\"value\":\"\\\"two\\\"\","
        "\"scope_key\":5,\"process_instance_key\":5,\"tenant_id\":\"<default>\","
        "\"position\":3}\n",
        out);
}

static void test_errors(void)
{
    char path[512], out[1024], err[1024];
    snprintf(path, sizeof(path), "%s/nothing.db", test_tmpdir());
    const char *dump[] = {"dump", path};
    CHECK_EQ_U64(2, run(2, dump, out, err, sizeof(out)));
    CHECK_CONTAINS(err, "error: store ");
    CHECK_CONTAINS(err, "nothing.db");

    snprintf(path, sizeof(path), "%s/text.db", test_tmpdir());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    for (int i = 0; i < 200; i++) {
        fputs("this is not a database at all\n", f);
    }
    CHECK(fclose(f) == 0);
    const char *cmp[] = {"compare", path, path};
    CHECK_EQ_U64(2, run(3, cmp, out, err, sizeof(out)));
    CHECK_CONTAINS(err, "not a SQLite database");

    const char *bad[] = {"compare", path};
    CHECK_EQ_U64(2, run(2, bad, out, err, sizeof(out)));
    CHECK_CONTAINS(err, "usage: tandemctl store compare STORE_A STORE_B");
    CHECK_EQ_U64(2, run(0, bad, out, err, sizeof(out)));
}

static const tandem_test cases[] = {
    {"compare_and_dump", test_compare_and_dump},
    {"errors", test_errors},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
