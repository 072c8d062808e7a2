#include "test.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"

static const char *current_case = "?";
static char tmpdir_path[4096];

_Noreturn void tandem_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL %s at %s:%d: ", current_case, file, line);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    fflush(stderr);
    exit(1);
}

const char *tandem_test_errname(int rc)
{
    return tandem_errname(rc);
}

uint64_t test_seed(void)
{
    static uint64_t seed;
    static int have;
    if (!have) {
        const char *env = getenv("TANDEM_TEST_SEED");
        if (env != NULL && *env != '\0') {
            seed = strtoull(env, NULL, 0);
        } else if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
            seed = (uint64_t)getpid();
        }
        have = 1;
        fprintf(stderr, "seed %s: TANDEM_TEST_SEED=%" PRIu64 "\n", current_case, seed);
    }
    return seed;
}

uint64_t test_iterations(uint64_t base)
{
    const char *env = getenv("TANDEM_TEST_ITERATIONS");
    uint64_t pct = 100;
    if (env != NULL && *env != '\0') {
        pct = strtoull(env, NULL, 10);
    }
    uint64_t n = base * pct / 100;
    return n == 0 ? 1 : n;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void test_rmtree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void tmpdir_cleanup(void)
{
    if (tmpdir_path[0] != '\0') {
        test_rmtree(tmpdir_path);
        tmpdir_path[0] = '\0';
    }
}

const char *test_tmpdir(void)
{
    if (tmpdir_path[0] == '\0') {
        const char *base = getenv("TMPDIR");
        if (base == NULL || *base == '\0') {
            base = "/tmp";
        }
        snprintf(tmpdir_path, sizeof(tmpdir_path), "%s/tandem-test-XXXXXX", base);
        if (mkdtemp(tmpdir_path) == NULL) {
            tandem_test_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
        }
        atexit(tmpdir_cleanup);
    }
    return tmpdir_path;
}

static int run_case(const tandem_test *t, unsigned timeout_s)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        current_case = t->name;
        alarm(timeout_s);
        t->fn();
        exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return 1;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return 0;
    }
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "FAIL %s: killed by signal %d%s\n", t->name, WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
    }
    return 1;
}

int tandem_test_run(int argc, char **argv, const tandem_test *cases)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    unsigned timeout_s = 300;
    const char *env = getenv("TANDEM_TEST_TIMEOUT");
    if (env != NULL && *env != '\0') {
        timeout_s = (unsigned)strtoul(env, NULL, 10);
    }
    int failed = 0;
    int ran = 0;
    for (const tandem_test *t = cases; t->name != NULL; t++) {
        if (only != NULL && strcmp(only, t->name) != 0) {
            continue;
        }
        ran++;
        int rc = run_case(t, timeout_s);
        printf("%s %s\n", rc == 0 ? "ok  " : "FAIL", t->name);
        failed += rc != 0;
    }
    if (ran == 0) {
        fprintf(stderr, "no test case matched\n");
        return 1;
    }
    printf("%d of %d cases passed\n", ran - failed, ran);
    return failed == 0 ? 0 : 1;
}
