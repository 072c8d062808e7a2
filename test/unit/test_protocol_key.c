/* Keys: Zeebe's layout of partition id and counter. */
#include "test.h"

#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/rand.h"
#include "protocol/key.h"

static void test_zeebe_example(void)
{
    /* The first key of partition 1, as seen in Camunda's API examples. */
    CHECK_EQ_U64(UINT64_C(2251799813685249), tandem_key_encode(1, 1));
    CHECK_EQ_U64(1, tandem_key_partition(UINT64_C(2251799813685249)));
    CHECK_EQ_U64(1, tandem_key_counter(UINT64_C(2251799813685249)));
    CHECK_EQ_U64(UINT64_C(1) << 51, tandem_key_encode(1, 0));
    CHECK_EQ_U64(UINT64_C(2) << 51, tandem_key_encode(2, 0));
    CHECK_EQ_U64(2, tandem_key_partition(tandem_key_encode(2, 12345)));
    CHECK_EQ_U64(12345, tandem_key_counter(tandem_key_encode(2, 12345)));
}

static void test_constants_and_edges(void)
{
    CHECK_EQ_U64(13, TANDEM_KEY_PARTITION_BITS);
    CHECK_EQ_U64(51, TANDEM_KEY_COUNTER_BITS);
    CHECK_EQ_U64(8191, TANDEM_PARTITION_ID_MAX);
    CHECK_EQ_U64(UINT64_C(0x0007FFFFFFFFFFFF), TANDEM_KEY_COUNTER_MAX);
    uint64_t top = tandem_key_encode(TANDEM_PARTITION_ID_MAX, TANDEM_KEY_COUNTER_MAX);
    CHECK_EQ_U64(UINT64_MAX, top);
    CHECK_EQ_U64(8191, tandem_key_partition(top));
    CHECK_EQ_U64(TANDEM_KEY_COUNTER_MAX, tandem_key_counter(top));
    /* Decoding accepts any value, e.g. a key of no partition. */
    CHECK_EQ_U64(0, tandem_key_partition(5));
    CHECK_EQ_U64(5, tandem_key_counter(5));
}

static void test_random_roundtrip(void)
{
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    for (uint64_t i = 0; i < test_iterations(100000); i++) {
        uint32_t partition = 1 + (uint32_t)tandem_rand_below(&r.base, TANDEM_PARTITION_ID_MAX);
        uint64_t counter = tandem_rand_u64(&r.base) & TANDEM_KEY_COUNTER_MAX;
        uint64_t key = tandem_key_encode(partition, counter);
        CHECK_EQ_U64(partition, tandem_key_partition(key));
        CHECK_EQ_U64(counter, tandem_key_counter(key));
    }
}

/* Runs fn in a child and checks that it dies of an assertion (SIGABRT). */
static void expect_abort(void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 2); /* the assertion message is expected */
        }
        fn();
        _exit(0);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "child was not aborted");
}

static void encode_partition_zero(void)
{
    (void)tandem_key_encode(0, 1);
}

static void encode_partition_too_big(void)
{
    (void)tandem_key_encode(TANDEM_PARTITION_ID_MAX + 1, 1);
}

static void encode_counter_too_big(void)
{
    (void)tandem_key_encode(1, TANDEM_KEY_COUNTER_MAX + 1);
}

static void test_encode_asserts_range(void)
{
    expect_abort(encode_partition_zero);
    expect_abort(encode_partition_too_big);
    expect_abort(encode_counter_too_big);
}

static const tandem_test cases[] = {
    {"zeebe_example", test_zeebe_example},
    {"constants_and_edges", test_constants_and_edges},
    {"random_roundtrip", test_random_roundtrip},
    {"encode_asserts_range", test_encode_asserts_range},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
