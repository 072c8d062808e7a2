/* Tests of the configuration loader: defaults, every key, environment
 * overrides, every validation rule with its message, printing, the docs. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/rand.h"
#include "cluster/config.h"
#include "test.h"

static int load_env(const char *yaml, char *const *envp, tandem_config *cfg, tandem_diag *d)
{
    return tandem_config_load_buffer(cfg, "config.yaml", yaml, strlen(yaml), envp, d);
}

static int load(const char *yaml, tandem_config *cfg, tandem_diag *d)
{
    return load_env(yaml, NULL, cfg, d);
}

static void load_ok_env(const char *yaml, char *const *envp, tandem_config *cfg)
{
    tandem_diag d = {0};
    int rc = load_env(yaml, envp, cfg, &d);
    CHECK_MSG(rc == TANDEM_OK, "load failed: %s\n--- yaml:\n%s", tandem_diag_text(&d), yaml);
}

static void load_ok(const char *yaml, tandem_config *cfg)
{
    load_ok_env(yaml, NULL, cfg);
}

/* The load fails with TANDEM_ECONFIG and the message is exactly `message`. */
static void expect_error_env(const char *yaml, char *const *envp, const char *message)
{
    tandem_config cfg;
    tandem_diag d = {0};
    CHECK_RC(TANDEM_ECONFIG, load_env(yaml, envp, &cfg, &d));
    CHECK_EQ_I64(TANDEM_ECONFIG, d.code);
    CHECK_STREQ(message, d.message);
    /* A failed load leaves the defaults behind. */
    tandem_config defaults;
    tandem_config_defaults(&defaults);
    CHECK(tandem_config_equal(&defaults, &cfg));
}

static void expect_error(const char *yaml, const char *message)
{
    expect_error_env(yaml, NULL, message);
}

/* The load fails with TANDEM_ECONFIG and the message contains `fragment`. */
static void expect_error_containing(const char *yaml, const char *fragment)
{
    tandem_config cfg;
    tandem_diag d = {0};
    CHECK_RC(TANDEM_ECONFIG, load(yaml, &cfg, &d));
    CHECK_CONTAINS(d.message, fragment);
}

static void test_defaults(void)
{
    tandem_config c;
    tandem_config_defaults(&c);
    CHECK_EQ_U64(0, c.node_id);
    CHECK_EQ_U64(1, c.cluster_size);
    CHECK_EQ_U64(1, c.partition_count);
    CHECK_EQ_U64(1, c.replication_factor);
    CHECK_STREQ("tandem", c.cluster_name);
    CHECK_EQ_U64(1, c.regions);
    CHECK_EQ_U64(0, c.initial_contact_points.count);
    CHECK_EQ_U64(0, c.brokers.count);
    CHECK_STREQ("127.0.0.1", c.host);
    CHECK_STREQ("127.0.0.1", c.advertised_host);
    CHECK_EQ_U64(26502, c.internal_api_port);
    CHECK_EQ_U64(8080, c.rest_port);
    CHECK_EQ_U64(26500, c.grpc_port);
    CHECK_EQ_U64(9600, c.management_port);
    CHECK_STREQ("127.0.0.1", c.management_host);
    CHECK_STREQ("data", c.data_directory);
    CHECK_EQ_U64(128ull << 20, c.log_segment_size_bytes);
    CHECK_EQ_U64(4ull << 20, c.entry_size_bytes_max);
    CHECK_EQ_U64(1ull << 30, c.state_map_size_bytes);
    CHECK_EQ_U64(TANDEM_LOG_INFO, c.log_level);
}

static void test_empty_inputs_give_defaults(void)
{
    static const char *const inputs[] = {"",
                                         "\n",
                                         "# only a comment\n",
                                         "---\n",
                                         "~\n",
                                         "null",
                                         "--- ~\n...\n",
                                         "{}",
                                         "cluster:\n",
                                         "cluster: ~\nnetwork:\n  internalApi:\n"};
    tandem_config defaults;
    tandem_config_defaults(&defaults);
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        tandem_config c;
        memset(&c, 0xab, sizeof(c));
        load_ok(inputs[i], &c);
        CHECK_MSG(tandem_config_equal(&defaults, &c), "input %zu", i);
    }
    /* No file at all: defaults too. */
    tandem_config c;
    tandem_diag d = {0};
    CHECK_OK(tandem_config_load_file(&c, NULL, NULL, &d));
    CHECK(tandem_config_equal(&defaults, &c));
}

static const char full_yaml[] = "cluster:\n"
                                "  nodeId: 2\n"
                                "  clusterSize: 4\n"
                                "  partitionCount: 7\n"
                                "  replicationFactor: 4\n"
                                "  clusterName: prod-eu_1.x\n"
                                "  regions: 2\n"
                                "  initialContactPoints:\n"
                                "    - b0.example:26502\n"
                                "    - \"[fd00::1]:26502\"\n"
                                "  brokers: [b0.example:26502, b1.example:26502, "
                                "b2.example:26502, b3.example:26502]\n"
                                "network:\n"
                                "  host: 0.0.0.0\n"
                                "  advertisedHost: b2.example\n"
                                "  internalApi:\n"
                                "    port: 36502\n"
                                "api:\n"
                                "  rest:\n"
                                "    port: \"18080\"\n"
                                "  grpc:\n"
                                "    port: 36500\n"
                                "management:\n"
                                "  port: 19600\n"
                                "  host: 10.0.0.2\n"
                                "data:\n"
                                "  directory: /var/lib/tandem data\n"
                                "  logSegmentSize: 256MiB\n"
                                "  entrySizeMax: 512 KB\n"
                                "  stateMapSize: 2gb\n"
                                "logging:\n"
                                "  level: debug\n";

static void test_every_key_parses(void)
{
    tandem_config c;
    load_ok(full_yaml, &c);
    CHECK_EQ_U64(2, c.node_id);
    CHECK_EQ_U64(4, c.cluster_size);
    CHECK_EQ_U64(7, c.partition_count);
    CHECK_EQ_U64(4, c.replication_factor);
    CHECK_STREQ("prod-eu_1.x", c.cluster_name);
    CHECK_EQ_U64(2, c.regions);
    CHECK_EQ_U64(2, c.initial_contact_points.count);
    CHECK_STREQ("b0.example:26502", c.initial_contact_points.items[0]);
    CHECK_STREQ("[fd00::1]:26502", c.initial_contact_points.items[1]);
    CHECK_EQ_U64(4, c.brokers.count);
    CHECK_STREQ("b0.example:26502", c.brokers.items[0]);
    CHECK_STREQ("b3.example:26502", c.brokers.items[3]);
    CHECK_STREQ("0.0.0.0", c.host);
    CHECK_STREQ("b2.example", c.advertised_host);
    CHECK_EQ_U64(36502, c.internal_api_port);
    CHECK_EQ_U64(18080, c.rest_port);
    CHECK_EQ_U64(36500, c.grpc_port);
    CHECK_EQ_U64(19600, c.management_port);
    CHECK_STREQ("10.0.0.2", c.management_host);
    CHECK_STREQ("/var/lib/tandem data", c.data_directory);
    CHECK_EQ_U64(256ull << 20, c.log_segment_size_bytes);
    CHECK_EQ_U64(512ull << 10, c.entry_size_bytes_max);
    CHECK_EQ_U64(2ull << 30, c.state_map_size_bytes);
    CHECK_EQ_U64(TANDEM_LOG_DEBUG, c.log_level);
}

/* Dotted keys, as Spring-based configurations allow, at any level. */
static void test_dotted_keys(void)
{
    tandem_config c;
    load_ok(
        "cluster.partitionCount: 5\nnetwork:\n  internalApi.port: 1234\napi.rest:\n  port: 1235\n",
        &c);
    CHECK_EQ_U64(5, c.partition_count);
    CHECK_EQ_U64(1234, c.internal_api_port);
    CHECK_EQ_U64(1235, c.rest_port);
    expect_error("cluster.nodeId: 0\ncluster:\n  nodeId: 0\n",
                 "config.yaml:3:3: duplicate key \"cluster.nodeId\" (first at 1:1)");
    expect_error("cluster.nodeid: 0\n", "config.yaml:1:1: unknown key \"cluster.nodeid\" (did you "
                                        "mean \"cluster.nodeId\"?)");
    expect_error("cluster.: 0\n", "config.yaml:1:1: unknown key \"cluster.\"");
}

static void test_log_levels(void)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        char yaml[64];
        snprintf(yaml, sizeof(yaml), "logging:\n  level: %s\n", names[i]);
        tandem_config c;
        load_ok(yaml, &c);
        CHECK_EQ_U64((uint64_t)i, c.log_level);
    }
    expect_error("logging:\n  level: verbose\n",
                 "config.yaml:2:10: logging.level: must be one of debug, info, warn, error, got "
                 "\"verbose\"");
    expect_error("logging:\n  level: INFO\n", "config.yaml:2:10: logging.level: must be one of "
                                              "debug, info, warn, error, got \"INFO\"");
}

static void test_booleans(void)
{
    tandem_config c;
    load_ok("management:\n  journalProbe: true\n", &c);
    CHECK(c.management_journal_probe);
    load_ok("management:\n  journalProbe: false\n", &c);
    CHECK(!c.management_journal_probe);
    char *env[] = {"TANDEM_MANAGEMENT_JOURNALPROBE=true", NULL};
    load_ok_env("management:\n  journalProbe: false\n", env, &c);
    CHECK(c.management_journal_probe);
    expect_error("management:\n  journalProbe: yes\n",
                 "config.yaml:2:17: management.journalProbe: expected true or false, got \"yes\"");
    char *bad[] = {"TANDEM_MANAGEMENT_JOURNALPROBE=1", NULL};
    tandem_diag d = {0};
    CHECK_RC(TANDEM_ECONFIG, load_env("", bad, &c, &d));
    CHECK_CONTAINS(d.message, "TANDEM_MANAGEMENT_JOURNALPROBE");
    CHECK_CONTAINS(d.message, "expected true or false, got \"1\"");
}

static void test_sizes_with_units(void)
{
    static const struct {
        const char *text;
        uint64_t bytes;
    } ok[] = {
        {"128MB", 128ull << 20}, {"64KiB", 64ull << 10},    {"65536", 65536},
        {"1 GB", 1ull << 30},    {"4mb", 4ull << 20},       {"2GiB", 2ull << 30},
        {"70000B", 70000},       {"\"96KB\"", 96ull << 10}, {"1024 kib", 1ull << 20},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char yaml[128];
        snprintf(yaml, sizeof(yaml), "data:\n  logSegmentSize: %s\n  entrySizeMax: 1KB\n",
                 ok[i].text);
        tandem_config c;
        load_ok(yaml, &c);
        CHECK_EQ_U64(ok[i].bytes, c.log_segment_size_bytes);
    }
    expect_error("data:\n  logSegmentSize: 1KB\n",
                 "config.yaml:2:19: data.logSegmentSize: must be 64KB..2GB, got 1KB");
    expect_error("data:\n  logSegmentSize: 65535\n",
                 "config.yaml:2:19: data.logSegmentSize: must be 64KB..2GB, got 65535");
    expect_error("data:\n  logSegmentSize: 3GB\n",
                 "config.yaml:2:19: data.logSegmentSize: must be 64KB..2GB, got 3GB");
    expect_error("data:\n  logSegmentSize: -5MB\n",
                 "config.yaml:2:19: data.logSegmentSize: must be 64KB..2GB, got -5MB");
    expect_error("data:\n  stateMapSize: 99999999999999999999TB\n",
                 "config.yaml:2:17: data.stateMapSize: must be 1MB..1TB, got "
                 "99999999999999999999TB");
    expect_error("data:\n  stateMapSize: 17179869184TB\n",
                 "config.yaml:2:17: data.stateMapSize: must be 1MB..1TB, got 17179869184TB");
    expect_error("data:\n  logSegmentSize: 12XB\n",
                 "config.yaml:2:19: data.logSegmentSize: expected a size such as 128MB, 64KiB "
                 "or 65536 (bytes), got \"12XB\"");
    expect_error("data:\n  entrySizeMax: MB\n",
                 "config.yaml:2:17: data.entrySizeMax: expected a size such as 128MB, 64KiB or "
                 "65536 (bytes), got \"MB\"");
    expect_error("data:\n  entrySizeMax: 1.5MB\n",
                 "config.yaml:2:17: data.entrySizeMax: expected a size such as 128MB, 64KiB or "
                 "65536 (bytes), got \"1.5MB\"");
}

static void test_integers(void)
{
    expect_error("cluster:\n  clusterSize: four\n",
                 "config.yaml:2:16: cluster.clusterSize: expected an integer, got \"four\"");
    expect_error("cluster:\n  clusterSize: 4.0\n",
                 "config.yaml:2:16: cluster.clusterSize: expected an integer, got \"4.0\"");
    expect_error("cluster:\n  clusterSize: \"\"\n",
                 "config.yaml:2:16: cluster.clusterSize: expected an integer, got \"\"");
    expect_error("cluster:\n  clusterSize: 0\n",
                 "config.yaml:2:16: cluster.clusterSize: must be 1..64, got 0");
    expect_error("cluster:\n  clusterSize: 65\n",
                 "config.yaml:2:16: cluster.clusterSize: must be 1..64, got 65");
    expect_error("cluster:\n  nodeId: -1\n",
                 "config.yaml:2:11: cluster.nodeId: must be 0..63, got -1");
    expect_error("cluster:\n  partitionCount: 1025\n",
                 "config.yaml:2:19: cluster.partitionCount: must be 1..1024, got 1025");
    expect_error("cluster:\n  replicationFactor: 10\n",
                 "config.yaml:2:22: cluster.replicationFactor: must be 1..9, got 10");
    expect_error("cluster:\n  regions: 3\n",
                 "config.yaml:2:12: cluster.regions: must be 1..2, got 3");
    expect_error("api:\n  rest:\n    port: 70000\n",
                 "config.yaml:3:11: api.rest.port: must be 1..65535, got 70000");
    expect_error("api:\n  rest:\n    port: 0\n",
                 "config.yaml:3:11: api.rest.port: must be 1..65535, got 0");
    expect_error("api:\n  grpc:\n    port: 18446744073709551616\n",
                 "config.yaml:3:11: api.grpc.port: must be 1..65535, got 18446744073709551616");
    expect_error("cluster:\n  clusterSize: [4]\n",
                 "config.yaml:2:16: cluster.clusterSize: expected an integer, got a list");
    expect_error("cluster:\n  clusterSize:\n    value: 4\n",
                 "config.yaml:3:5: cluster.clusterSize: expected an integer, got a mapping");
    /* Quoted numbers are numbers. */
    tandem_config c;
    load_ok("cluster:\n  partitionCount: '12'\n", &c);
    CHECK_EQ_U64(12, c.partition_count);
}

static void test_strings(void)
{
    tandem_config c;
    load_ok("network:\n  host: \"::1\"\n", &c);
    CHECK_STREQ("::1", c.host);
    CHECK_STREQ("::1", c.advertised_host);
    CHECK_STREQ("::1", c.management_host);
    load_ok("network:\n  host: 0.0.0.0\n  advertisedHost: broker-0.tandem.svc\n", &c);
    CHECK_STREQ("broker-0.tandem.svc", c.advertised_host);
    CHECK_STREQ("0.0.0.0", c.management_host);
    expect_error("cluster:\n  clusterName: \"my cluster\"\n",
                 "config.yaml:2:16: cluster.clusterName: must consist of A-Z a-z 0-9 . _ -, got "
                 "\"my cluster\"");
    expect_error("cluster:\n  clusterName: \"\"\n",
                 "config.yaml:2:16: cluster.clusterName: must not be empty");
    expect_error("cluster:\n  clusterName: "
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
                 "config.yaml:2:16: cluster.clusterName: must be at most 64 bytes long, got 65");
    expect_error("network:\n  host: \"a b\"\n",
                 "config.yaml:2:9: network.host: must be a host name or IP address (letters, "
                 "digits, . - _ :), got \"a b\"");
    expect_error("network:\n  host: ''\n", "config.yaml:2:9: network.host: must not be empty");
    expect_error("data:\n  directory: \"a\\tb\"\n",
                 "config.yaml:2:14: data.directory: must be printable UTF-8 without control "
                 "characters, got \"a\\x09b\"");
    expect_error("data:\n  directory: [a]\n",
                 "config.yaml:2:14: data.directory: expected a string, got a list");
    load_ok("data:\n  directory: \"/srv/données\"\n", &c);
    CHECK_STREQ("/srv/données", c.data_directory);
}

static void test_lists(void)
{
    tandem_config c;
    load_ok("cluster:\n  initialContactPoints: [a:1, 'b:2']\n", &c);
    CHECK_EQ_U64(2, c.initial_contact_points.count);
    CHECK_STREQ("a:1", c.initial_contact_points.items[0]);
    CHECK_STREQ("b:2", c.initial_contact_points.items[1]);
    load_ok("cluster:\n  initialContactPoints: \"a:1, b:2 ,c:3\"\n", &c);
    CHECK_EQ_U64(3, c.initial_contact_points.count);
    CHECK_STREQ("b:2", c.initial_contact_points.items[1]);
    CHECK_STREQ("c:3", c.initial_contact_points.items[2]);
    load_ok("cluster:\n  initialContactPoints:\n  - \"[::1]:26502\"\n", &c);
    CHECK_STREQ("[::1]:26502", c.initial_contact_points.items[0]);
    load_ok("cluster:\n  initialContactPoints: []\n  brokers: ~\n", &c);
    CHECK_EQ_U64(0, c.initial_contact_points.count);
    CHECK_EQ_U64(0, c.brokers.count);

    expect_error("cluster:\n  initialContactPoints: [foo]\n",
                 "config.yaml:2:26: cluster.initialContactPoints: entry 0: expected "
                 "\"host:port\", got \"foo\"");
    expect_error("cluster:\n  initialContactPoints: [a:1, b:0]\n",
                 "config.yaml:2:31: cluster.initialContactPoints: entry 1: port must be "
                 "1..65535 in \"host:port\", got \"b:0\"");
    expect_error_containing("cluster:\n  initialContactPoints: [\"a:70000\"]\n",
                            "entry 0: port must be 1..65535 in \"host:port\", got \"a:70000\"");
    expect_error_containing("cluster:\n  initialContactPoints: [\":80\"]\n",
                            "entry 0: expected \"host:port\", got \":80\"");
    expect_error_containing("cluster:\n  initialContactPoints: [\"::1:80\"]\n",
                            "entry 0: expected \"host:port\" with a host name or IP address");
    expect_error_containing("cluster:\n  initialContactPoints: [\"[zz]:80\"]\n",
                            "entry 0: expected \"host:port\" with a host name or IP address");
    expect_error_containing("cluster:\n  initialContactPoints: \"a:1,,b:2\"\n",
                            "cluster.initialContactPoints: entry 1: expected \"host:port\", "
                            "got \"\"");
    expect_error("cluster:\n  brokers:\n    - a:1\n    - {host: b}\n",
                 "config.yaml:4:7: cluster.brokers: entry 1: expected a \"host:port\" string, "
                 "got a mapping");
    expect_error("cluster:\n  brokers:\n    host: b\n",
                 "config.yaml:3:5: cluster.brokers: expected a list of \"host:port\" strings, got "
                 "a mapping");
    /* Bounded: 65 entries are too many. */
    tandem_buf b = TANDEM_BUF_INIT;
    const char head[] = "cluster:\n  initialContactPoints:\n";
    CHECK_OK(tandem_buf_append(&b, head, strlen(head)));
    for (int i = 0; i < 65; i++) {
        char line[64];
        int n = snprintf(line, sizeof(line), "    - h%d:1\n", i);
        CHECK_OK(tandem_buf_append(&b, line, (size_t)n));
    }
    CHECK_OK(tandem_buf_append(&b, "", 1));
    expect_error((const char *)b.data,
                 "config.yaml:67:7: cluster.initialContactPoints: must have at most 64 entries");
    tandem_buf_free(&b);
}

static void test_env_overrides(void)
{
    tandem_config c;
    char *env[] = {"PATH=/bin",
                   "TANDEM_CLUSTER_CLUSTERSIZE=4",
                   "TANDEM_API_REST_PORT= 18080 ",
                   "TANDEM_CLUSTER_BROKERS=a:1,b:1,c:1,d:1",
                   "TANDEM_DATA_LOGSEGMENTSIZE=64KiB",
                   "TANDEM_DATA_ENTRYSIZEMAX=1KB",
                   "TANDEM_LOGGING_LEVEL=warn",
                   "TANDEM_NETWORK_INTERNALAPI_PORT=1234",
                   "TANDEM_CONFIG=/etc/tandem.yaml",
                   "TANDEM_TEST_SEED=7",
                   "TANDEM_CLUSTER_NODEID=3",
                   "TANDEM_CLUSTER_NODEID=1", /* the first wins, like getenv */
                   NULL};
    /* Environment beats file beats default. */
    load_ok_env("cluster:\n  clusterSize: 2\n  partitionCount: 3\napi:\n  rest:\n    port: 8081\n",
                env, &c);
    CHECK_EQ_U64(4, c.cluster_size);
    CHECK_EQ_U64(3, c.partition_count); /* file */
    CHECK_EQ_U64(1, c.replication_factor);
    CHECK_EQ_U64(18080, c.rest_port);
    CHECK_EQ_U64(26500, c.grpc_port); /* default */
    CHECK_EQ_U64(4, c.brokers.count);
    CHECK_STREQ("d:1", c.brokers.items[3]);
    CHECK_EQ_U64(64ull << 10, c.log_segment_size_bytes);
    CHECK_EQ_U64(1024, c.entry_size_bytes_max);
    CHECK_EQ_U64(TANDEM_LOG_WARN, c.log_level);
    CHECK_EQ_U64(1234, c.internal_api_port);
    CHECK_EQ_U64(3, c.node_id);
    /* Contact points derive from the brokers, without this broker. */
    CHECK_EQ_U64(3, c.initial_contact_points.count);
    CHECK_STREQ("a:1", c.initial_contact_points.items[0]);
    CHECK_STREQ("b:1", c.initial_contact_points.items[1]);
    CHECK_STREQ("c:1", c.initial_contact_points.items[2]);

    /* An empty environment list empties the file's list. */
    char *env_empty[] = {"TANDEM_CLUSTER_INITIALCONTACTPOINTS=", NULL};
    load_ok_env("cluster:\n  initialContactPoints: [x:1]\n", env_empty, &c);
    CHECK_EQ_U64(0, c.initial_contact_points.count);
    /* A string from the environment. */
    char *env_str[] = {"TANDEM_DATA_DIRECTORY=/tmp/x y", "TANDEM_NETWORK_HOST=0.0.0.0",
                       "TANDEM_NETWORK_ADVERTISEDHOST=node-a", NULL};
    load_ok_env("", env_str, &c);
    CHECK_STREQ("/tmp/x y", c.data_directory);
    CHECK_STREQ("node-a", c.advertised_host);
    CHECK_STREQ("0.0.0.0", c.management_host);
}

static void test_env_errors(void)
{
    char *unknown[] = {"TANDEM_CLUSTER_SIZE=4", NULL};
    expect_error_env("", unknown,
                     "environment variable \"TANDEM_CLUSTER_SIZE\" matches no configuration key");
    char *typo[] = {"TANDEM_API_REST_PROT=1", NULL};
    expect_error_env("", typo,
                     "environment variable \"TANDEM_API_REST_PROT\" matches no configuration key "
                     "(did you mean TANDEM_API_REST_PORT?)");
    char *lower[] = {"TANDEM_cluster_clusterSize=4", NULL};
    expect_error_env("", lower,
                     "environment variable \"TANDEM_cluster_clusterSize\" matches no "
                     "configuration key (did you mean TANDEM_CLUSTER_CLUSTERSIZE?)");
    char *no_value[] = {"TANDEM_WHATEVER", NULL};
    expect_error_env("", no_value,
                     "environment variable \"TANDEM_WHATEVER\" matches no configuration key");
    char *bad_port[] = {"TANDEM_API_REST_PORT=70000", NULL};
    expect_error_env("", bad_port,
                     "environment variable TANDEM_API_REST_PORT: api.rest.port: must be 1..65535, "
                     "got 70000");
    char *bad_int[] = {"TANDEM_CLUSTER_CLUSTERSIZE=four", NULL};
    expect_error_env("", bad_int,
                     "environment variable TANDEM_CLUSTER_CLUSTERSIZE: cluster.clusterSize: "
                     "expected an integer, got \"four\"");
    char *bad_list[] = {"TANDEM_CLUSTER_BROKERS=a:1,b", NULL};
    expect_error_env("", bad_list,
                     "environment variable TANDEM_CLUSTER_BROKERS: cluster.brokers: entry 1: "
                     "expected \"host:port\", got \"b\"");
    /* A rule across keys names the variable that set the key. */
    char *rf[] = {"TANDEM_CLUSTER_REPLICATIONFACTOR=3", NULL};
    expect_error_env("cluster:\n  clusterSize: 2\n  initialContactPoints: [a:1]\n", rf,
                     "environment variable TANDEM_CLUSTER_REPLICATIONFACTOR: "
                     "cluster.replicationFactor: must be <= cluster.clusterSize (3 > 2)");
    /* Allowed and foreign variables are ignored. */
    char *fine[] = {"TANDEM_CONFIG=x", "TANDEM_TEST_ITERATIONS=5", "TANDEMX=1", "tandem_x=1", NULL};
    tandem_config c;
    load_ok_env("", fine, &c);
    CHECK(tandem_config_env_allowed("TANDEM_CONFIG=/a"));
    CHECK(tandem_config_env_allowed("TANDEM_TEST_SEED"));
    CHECK(!tandem_config_env_allowed("TANDEM_CONFIGX"));
    CHECK(!tandem_config_env_allowed("TANDEM_TEST"));
    CHECK(!tandem_config_env_allowed("TANDEM_API_REST_PORT=1"));
}

static void test_cluster_rules(void)
{
    expect_error("cluster:\n  clusterSize: 3\n  replicationFactor: 4\n",
                 "config.yaml:3:3: cluster.replicationFactor: must be <= cluster.clusterSize "
                 "(4 > 3)");
    expect_error("cluster:\n  clusterSize: 3\n  regions: 2\n  replicationFactor: 4\n",
                 "config.yaml:2:3: cluster.clusterSize: dual-region mode (cluster.regions: 2) "
                 "needs an even clusterSize >= 4, got 3");
    expect_error("cluster:\n  regions: 2\n",
                 "cluster.clusterSize: dual-region mode (cluster.regions: 2) needs an even "
                 "clusterSize >= 4, got 1");
    expect_error("cluster:\n  clusterSize: 2\n  regions: 2\n",
                 "config.yaml:2:3: cluster.clusterSize: dual-region mode (cluster.regions: 2) "
                 "needs an even clusterSize >= 4, got 2");
    expect_error("cluster:\n  clusterSize: 6\n  regions: 2\n  replicationFactor: 3\n",
                 "config.yaml:4:3: cluster.replicationFactor: dual-region mode needs "
                 "replicationFactor 4, got 3");
    expect_error("cluster:\n  clusterSize: 4\n  regions: 2\n",
                 "cluster.replicationFactor: dual-region mode needs replicationFactor 4, got 1");
    expect_error("cluster:\n  nodeId: 5\n  clusterSize: 4\n  initialContactPoints: [a:1]\n",
                 "config.yaml:2:3: cluster.nodeId: must be < clusterSize (5 >= 4)");
    expect_error("cluster:\n  nodeId: 1\n", "config.yaml:2:3: cluster.nodeId: must be < "
                                            "clusterSize (1 >= 1)");
    expect_error("cluster:\n  clusterSize: 3\n",
                 "cluster.initialContactPoints: a cluster of 3 brokers needs cluster.brokers or "
                 "cluster.initialContactPoints");
    expect_error("cluster:\n  clusterSize: 3\n  brokers: [a:1, b:1]\n",
                 "config.yaml:3:3: cluster.brokers: must list one address per broker "
                 "(cluster.clusterSize 3), got 2");
    expect_error("cluster:\n  clusterSize: 3\n  brokers: [a:1, b:1, a:1]\n",
                 "config.yaml:3:3: cluster.brokers: entries 0 and 2 are both \"a:1\"");
    expect_error("cluster:\n  clusterSize: 2\n  brokers: [a:1, b:1]\nnetwork:\n  host: 0.0.0.0\n",
                 "network.advertisedHost: must be an address other brokers can reach when "
                 "clusterSize > 1, got \"0.0.0.0\" (set network.advertisedHost)");
    /* A valid dual-region cluster of each even size. */
    for (uint32_t size = 4; size <= 16; size += 2) {
        char yaml[256];
        snprintf(yaml, sizeof(yaml),
                 "cluster:\n  clusterSize: %u\n  regions: 2\n  replicationFactor: 4\n"
                 "  nodeId: %u\n  initialContactPoints: [a:1]\n",
                 (unsigned)size, (unsigned)size - 1);
        tandem_config c;
        load_ok(yaml, &c);
        CHECK_EQ_U64(size, c.cluster_size);
    }
}

static void test_port_clashes(void)
{
    expect_error("api:\n  rest:\n    port: 26502\n",
                 "config.yaml:3:5: api.rest.port: clashes with network.internalApi.port (both "
                 "26502)");
    expect_error("network:\n  internalApi:\n    port: 8080\n",
                 "config.yaml:3:5: network.internalApi.port: clashes with api.rest.port (both "
                 "8080)");
    expect_error("api:\n  grpc:\n    port: 9000\nmanagement:\n  port: 9000\n",
                 "config.yaml:5:3: management.port: clashes with api.grpc.port (both 9000)");
    char *env[] = {"TANDEM_MANAGEMENT_PORT=8080", NULL};
    expect_error_env("", env,
                     "environment variable TANDEM_MANAGEMENT_PORT: management.port: clashes with "
                     "api.rest.port (both 8080)");
}

static void test_data_rules(void)
{
    expect_error("data:\n  logSegmentSize: 4MB\n",
                 "data.entrySizeMax: must be smaller than data.logSegmentSize (4MB >= 4MB)");
    expect_error("data:\n  entrySizeMax: 128MB\n",
                 "config.yaml:2:3: data.entrySizeMax: must be smaller than data.logSegmentSize "
                 "(128MB >= 128MB)");
    tandem_config c;
    load_ok("data:\n  logSegmentSize: 4MB\n  entrySizeMax: 1MB\n", &c);
    CHECK_EQ_U64(1ull << 20, c.entry_size_bytes_max);
}

static void test_exporter_rules(void)
{
    tandem_config c;
    load_ok("", &c);
    CHECK(c.exporter_sqlite_enabled);
    CHECK_STREQ("store.sqlite", c.exporter_sqlite_path);
    CHECK(!c.exporter_secondary_enabled);
    CHECK_EQ_U64(100000, c.exporters_retained_entries_max);
    expect_error("exporters:\n  secondary:\n    enabled: true\n    path: store.sqlite\n",
                 "config.yaml:4:5: exporters.secondary.path: is the same file as "
                 "exporters.sqlite.path (\"store.sqlite\")");
    /* the same file is fine while one of the two is off */
    load_ok("exporters:\n  secondary:\n    path: store.sqlite\n", &c);
    expect_error_containing("exporters:\n  maxRetainedEntries: -1\n",
                            "exporters.maxRetainedEntries: must be 0..4294967295");
    expect_error_containing("exporters:\n  sqlite:\n    path: \"\"\n",
                            "exporters.sqlite.path: must not be empty");
    char *env[] = {"TANDEM_EXPORTERS_SQLITE_ENABLED=false", "TANDEM_EXPORTERS_MAXRETAINEDENTRIES=0",
                   NULL};
    load_ok_env("", env, &c);
    CHECK(!c.exporter_sqlite_enabled);
    CHECK_EQ_U64(0, c.exporters_retained_entries_max);
}

static void test_unknown_keys(void)
{
    expect_error("cluster:\n  clustersize: 4\n",
                 "config.yaml:2:3: unknown key \"cluster.clustersize\" (did you mean "
                 "\"cluster.clusterSize\"?)");
    expect_error("cluster:\n    nodeId: 0\n    replicationFactr: 1\n",
                 "config.yaml:3:5: unknown key \"cluster.replicationFactr\" (did you mean "
                 "\"cluster.replicationFactor\"?)");
    expect_error("clustr:\n  nodeId: 1\n",
                 "config.yaml:1:1: unknown key \"clustr\" (did you mean \"cluster\"?)");
    expect_error("zeebe:\n  broker: {}\n", "config.yaml:1:1: unknown key \"zeebe\"");
    expect_error("network:\n  internalApi:\n    prot: 1\n",
                 "config.yaml:3:5: unknown key \"network.internalApi.prot\" (did you mean "
                 "\"network.internalApi.port\"?)");
    expect_error("api:\n  rest:\n    port:\n      value: 1\n",
                 "config.yaml:4:7: api.rest.port: expected an integer, got a mapping");
    expect_error("cluster:\n  \"x\\0y\": 1\n", "config.yaml:2:3: unknown key \"cluster.x\"");
    expect_error("cluster: 5\n",
                 "config.yaml:1:10: cluster: expected a mapping of keys, got \"5\"");
    expect_error("network:\n  internalApi: [1]\n",
                 "config.yaml:2:16: network.internalApi: expected a mapping of keys, got a list");
    expect_error("? [a]\n: 1\n", "config.yaml:1:3: keys must be strings, got a list");
    /* A long key is unknown, and the message stays bounded. */
    char yaml[600];
    memset(yaml, 'k', 500);
    memcpy(yaml + 500, ": 1\n", 5);
    expect_error_containing(yaml, "config.yaml:1:1: unknown key \"kkkkk");
}

static void test_duplicates(void)
{
    expect_error("cluster:\n  nodeId: 0\n  nodeId: 0\n",
                 "config.yaml:3:3: duplicate key \"cluster.nodeId\" (first at 2:3)");
    expect_error("cluster:\n  nodeId: 0\nnetwork: {}\ncluster:\n  clusterSize: 1\n",
                 "config.yaml:4:1: duplicate key \"cluster\" (first at 1:1)");
    expect_error("api:\n  rest: {port: 1000}\n  rest: {port: 1001}\n",
                 "config.yaml:3:3: duplicate key \"api.rest\" (first at 2:3)");
}

static void test_malformed_yaml(void)
{
    expect_error("cluster:\n  nodeId: 0\n clusterSize: 1\n",
                 "config.yaml:3:2: malformed YAML: did not find expected key (while parsing a "
                 "block mapping at 1:1)");
    expect_error("cluster: {nodeId: 0\n",
                 "config.yaml:2:1: malformed YAML: did not find expected ',' or '}' (while "
                 "parsing a flow mapping at 1:10)");
    expect_error("cluster:\n  nodeId: 1: 2\n",
                 "config.yaml:2:12: malformed YAML: mapping values are not allowed in this "
                 "context");
    expect_error_containing("cluster:\n\tnodeId: 1\n",
                            "config.yaml:2:1: malformed YAML: found character that cannot start "
                            "any token");
    expect_error_containing("cluster:\n  clusterName: \"abc\n",
                            "malformed YAML: found unexpected end of stream");
    expect_error(
        "cluster: \xff\n",
        "config.yaml: at byte offset 9: malformed YAML: invalid leading UTF-8 octet (0xff)");
    expect_error("a: &x 1\nb: *x\n", "config.yaml:1:1: unknown key \"a\"");
    expect_error("cluster:\n  nodeId: &n 0\n  clusterSize: *n\n",
                 "config.yaml:3:16: aliases (*name) are not supported");
    expect_error("cluster: {}\n---\ncluster: {}\n",
                 "config.yaml:2:1: only one YAML document is allowed");
    /* The buffer need not be NUL-terminated, and a NUL inside is an error. */
    tandem_config c;
    tandem_diag d = {0};
    CHECK_RC(TANDEM_ECONFIG,
             tandem_config_load_buffer(&c, "x.yaml", "cluster: {}\0zz", 15, NULL, &d));
    CHECK_CONTAINS(d.message, "x.yaml: at byte offset 11: malformed YAML: control characters "
                              "are not allowed (0x00)");
    CHECK_OK(tandem_config_load_buffer(&c, "x.yaml", "logging: {level: warn}xyz", 22, NULL, &d));
    CHECK_EQ_U64(TANDEM_LOG_WARN, c.log_level);
}

static void test_top_level_not_mapping(void)
{
    expect_error("- a\n- b\n", "config.yaml:1:1: the top level must be a mapping of keys (like "
                               "\"cluster:\"), got a list");
    expect_error("hello\n", "config.yaml:1:1: the top level must be a mapping of keys (like "
                            "\"cluster:\"), got \"hello\"");
    expect_error("'~'\n", "config.yaml:1:1: the top level must be a mapping of keys (like "
                          "\"cluster:\"), got \"~\"");
}

static void check_round_trip(const tandem_config *c)
{
    tandem_buf out = TANDEM_BUF_INIT;
    CHECK_OK(tandem_config_print(c, &out));
    CHECK_OK(tandem_buf_append(&out, "", 1));
    tandem_config back;
    memset(&back, 0x5a, sizeof(back));
    tandem_diag d = {0};
    int rc = tandem_config_load_buffer(&back, "printed.yaml", out.data, out.len - 1, NULL, &d);
    CHECK_MSG(rc == TANDEM_OK, "reload failed: %s\n%s", tandem_diag_text(&d), (char *)out.data);
    if (!tandem_config_equal(c, &back)) {
        tandem_buf again = TANDEM_BUF_INIT;
        CHECK_OK(tandem_config_print(&back, &again));
        CHECK_OK(tandem_buf_append(&again, "", 1));
        CHECK_MSG(false, "round trip differs:\n%s\n--- loaded back:\n%s", (char *)out.data,
                  (char *)again.data);
    }
    tandem_buf_free(&out);
}

static void test_print_round_trip(void)
{
    tandem_config c;
    tandem_config_defaults(&c);
    check_round_trip(&c);
    load_ok(full_yaml, &c);
    check_round_trip(&c);

    tandem_buf out = TANDEM_BUF_INIT;
    CHECK_OK(tandem_config_print(&c, &out));
    CHECK_OK(tandem_buf_append(&out, "", 1));
    const char *text = (const char *)out.data;
    CHECK_CONTAINS(text, "cluster:\n  nodeId: 2\n  clusterSize: 4\n");
    CHECK_CONTAINS(text, "network:\n  host: 0.0.0.0\n  advertisedHost: b2.example\n"
                         "  internalApi:\n    port: 36502\napi:\n  rest:\n    port: 18080\n");
    CHECK_CONTAINS(text, "  logSegmentSize: 256MB\n  entrySizeMax: 512KB\n  stateMapSize: 2GB\n");
    CHECK_CONTAINS(text, "  brokers:\n  - b0.example:26502\n");
    CHECK_CONTAINS(text, "logging:\n  level: debug\n");
    tandem_buf_free(&out);

    /* Values that YAML would read as something else must come back as text. */
    load_ok("cluster:\n  clusterName: '123'\ndata:\n  directory: 'null'\n", &c);
    check_round_trip(&c);
    load_ok("data:\n  directory: '- a: b # c'\n", &c);
    check_round_trip(&c);
    load_ok("data:\n  directory: ' x'\n  logSegmentSize: 65537\n  entrySizeMax: 1025\n", &c);
    CHECK_STREQ(" x", c.data_directory);
    check_round_trip(&c);
}

/* Random valid configurations survive print and load. */
static void test_print_round_trip_random(void)
{
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    tandem_rand *rnd = &r.base;
    uint64_t n = test_iterations(300);
    for (uint64_t it = 0; it < n; it++) {
        tandem_config c;
        tandem_config_defaults(&c);
        bool dual = tandem_rand_chance(rnd, 1, 2);
        c.regions = dual ? 2 : 1;
        c.cluster_size = dual ? 4 + 2 * (uint32_t)tandem_rand_below(rnd, 30)
                              : 1 + (uint32_t)tandem_rand_below(rnd, 64);
        c.replication_factor =
            dual ? 4
                 : 1 + (uint32_t)tandem_rand_below(rnd, c.cluster_size < 9 ? c.cluster_size : 9);
        c.node_id = (uint32_t)tandem_rand_below(rnd, c.cluster_size);
        c.partition_count = 1 + (uint32_t)tandem_rand_below(rnd, 1024);
        if (c.cluster_size > 1 || tandem_rand_chance(rnd, 1, 2)) {
            c.brokers.count = c.cluster_size;
            for (uint32_t i = 0; i < c.cluster_size; i++) {
                snprintf(c.brokers.items[i], sizeof(c.brokers.items[i]), "broker-%u.r%u:%u",
                         (unsigned)i, (unsigned)(i % 2), 1000 + (unsigned)i);
            }
            /* An effective config has its contact points filled in. */
            uint32_t contacts = 1 + (uint32_t)tandem_rand_below(rnd, c.cluster_size);
            for (uint32_t i = 0; i < contacts; i++) {
                memcpy(c.initial_contact_points.items[i], c.brokers.items[i],
                       sizeof(c.brokers.items[i]));
            }
            c.initial_contact_points.count = contacts;
        }
        /* within 64KB..2GB, the key's range */
        c.log_segment_size_bytes =
            (64u << 10) + tandem_rand_below(rnd, (1ull << 31) - (64u << 10) + 1);
        uint64_t entry_max =
            c.log_segment_size_bytes < (1u << 30) ? c.log_segment_size_bytes : (1u << 30);
        c.entry_size_bytes_max = 1024 + tandem_rand_below(rnd, entry_max - 1024);
        c.state_map_size_bytes = (1ull << 20) * (1 + tandem_rand_below(rnd, 1u << 20));
        c.rest_port = (uint16_t)(30000 + tandem_rand_below(rnd, 1000));
        c.log_level = (enum tandem_log_level)tandem_rand_below(rnd, 4);
        snprintf(c.advertised_host, sizeof(c.advertised_host), "node%u.example",
                 (unsigned)c.node_id);
        snprintf(c.data_directory, sizeof(c.data_directory), "/data/%" PRIu64 " ü", it);
        check_round_trip(&c);
    }
}

/* docs/CONFIGURATION.md, found from this source file's path. */
static char *read_doc(void)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s", __FILE__);
    char *slash = strrchr(path, '/');
    CHECK(slash != NULL);
    snprintf(slash, sizeof(path) - (size_t)(slash - path), "/../../docs/CONFIGURATION.md");
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "cannot open %s: %s", path, strerror(errno));
    static char text[256 * 1024];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    CHECK(n > 0 && n < sizeof(text) - 1);
    text[n] = '\0';
    return text;
}

static void test_doc_table_matches_schema(void)
{
    const char *doc = read_doc();
    tandem_buf table = TANDEM_BUF_INIT;
    CHECK_OK(tandem_config_doc_table(&table));
    CHECK_OK(tandem_buf_append(&table, "", 1));
    /* Every line of the generated table is in the doc, verbatim. */
    char *text = (char *)table.data;
    size_t lines = 0;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        CHECK_MSG(strstr(doc, line) != NULL, "docs/CONFIGURATION.md lacks the line:\n%s", line);
        lines++;
    }
    CHECK_EQ_U64(tandem_config_key_count() + 2, lines);
    tandem_buf_free(&table);
    for (size_t i = 0; i < tandem_config_key_count(); i++) {
        tandem_config_key_info info;
        tandem_config_key_describe(i, &info);
        char needle[128];
        snprintf(needle, sizeof(needle), "`%s`", info.path);
        CHECK_CONTAINS(doc, needle);
        CHECK_CONTAINS(doc, info.env);
    }
}

static void test_schema_describe(void)
{
    CHECK_EQ_U64(26, tandem_config_key_count());
    for (size_t i = 0; i < tandem_config_key_count(); i++) {
        tandem_config_key_info a;
        tandem_config_key_describe(i, &a);
        CHECK(strncmp(a.env, "TANDEM_", 7) == 0);
        CHECK(!tandem_config_env_allowed(a.env));
        for (const char *p = a.env; *p; p++) {
            CHECK((*p >= 'A' && *p <= 'Z') || *p == '_' || (*p >= '0' && *p <= '9'));
        }
        for (size_t j = 0; j < i; j++) {
            tandem_config_key_info b;
            tandem_config_key_describe(j, &b);
            CHECK(strcmp(a.env, b.env) != 0);
            CHECK(strcmp(a.path, b.path) != 0);
        }
    }
    tandem_config_key_info info;
    tandem_config_key_describe(1, &info);
    CHECK_STREQ("cluster.clusterSize", info.path);
    CHECK_STREQ("TANDEM_CLUSTER_CLUSTERSIZE", info.env);
    CHECK_STREQ("integer", info.type);
    CHECK_STREQ("1", info.default_text);
    CHECK_STREQ("1..64; dual-region: even and >= 4", info.rule);
    tandem_config_key_describe(10, &info);
    CHECK_STREQ("network.internalApi.port", info.path);
    CHECK_STREQ("TANDEM_NETWORK_INTERNALAPI_PORT", info.env);
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(text, 1, len, f) == len);
    CHECK(fclose(f) == 0);
}

static void test_load_file(void)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/tandem.yaml", test_tmpdir());
    const char yaml[] = "cluster:\n  partitionCount: 3\n  clustersize: 2\n";
    write_file(path, yaml, strlen(yaml));
    tandem_config c;
    tandem_diag d = {0};
    CHECK_RC(TANDEM_ECONFIG, tandem_config_load_file(&c, path, NULL, &d));
    char expected[4200];
    snprintf(expected, sizeof(expected),
             "%s:3:3: unknown key \"cluster.clustersize\" (did you mean \"cluster.clusterSize\"?)",
             path);
    CHECK_STREQ(expected, d.message);

    write_file(path, yaml, 29);
    char *env[] = {"TANDEM_CLUSTER_PARTITIONCOUNT=5", NULL};
    CHECK_OK(tandem_config_load_file(&c, path, env, &d));
    CHECK_EQ_U64(5, c.partition_count);
    CHECK_OK(tandem_config_load_file(&c, path, NULL, &d));
    CHECK_EQ_U64(3, c.partition_count);

    char missing[4200];
    snprintf(missing, sizeof(missing), "%s/none.yaml", test_tmpdir());
    CHECK_RC(TANDEM_ENOENT, tandem_config_load_file(&c, missing, NULL, &d));
    CHECK_CONTAINS(d.message, missing);
    CHECK_CONTAINS(d.message, "cannot read the configuration file: no such file or entry");

    static char big[TANDEM_CONFIG_FILE_SIZE_BYTES_MAX + 2];
    memset(big, '#', sizeof(big));
    write_file(path, big, sizeof(big));
    CHECK_RC(TANDEM_ETOOBIG, tandem_config_load_file(&c, path, NULL, &d));
    CHECK_CONTAINS(d.message, "configuration file is larger than 1048576 bytes");
}

/* config/tandem.yaml (what `make run` uses) loads and is the defaults. */
static void test_default_file(void)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s", __FILE__);
    char *slash = strrchr(path, '/');
    CHECK(slash != NULL);
    snprintf(slash, sizeof(path) - (size_t)(slash - path), "/../../config/tandem.yaml");
    tandem_config c, defaults;
    tandem_diag d = {0};
    int rc = tandem_config_load_file(&c, path, NULL, &d);
    CHECK_MSG(rc == TANDEM_OK, "%s", tandem_diag_text(&d));
    tandem_config_defaults(&defaults);
    CHECK(tandem_config_equal(&defaults, &c));
}

/* Damaged variants of a valid file load or fail with a message; never
 * crash (the fuzz target does the same at scale). */
static void test_mutations_never_crash(void)
{
    tandem_seeded_rand r;
    tandem_seeded_rand_init(&r, test_seed());
    uint64_t n = test_iterations(2000);
    size_t base_len = strlen(full_yaml);
    for (uint64_t it = 0; it < n; it++) {
        char text[sizeof(full_yaml)];
        memcpy(text, full_yaml, base_len);
        size_t len = base_len;
        unsigned edits = 1 + (unsigned)tandem_rand_below(&r.base, 4);
        for (unsigned e = 0; e < edits; e++) {
            size_t at = (size_t)tandem_rand_below(&r.base, len);
            uint64_t kind = tandem_rand_below(&r.base, 3);
            if (kind == 0) {
                text[at] = (char)tandem_rand_below(&r.base, 256);
            } else if (kind == 1) {
                len = at; /* cut */
            } else {
                static const char specials[] = ":-[]{}&*!|>'\"%@`#, \n\t";
                text[at] = specials[tandem_rand_below(&r.base, sizeof(specials) - 1)];
            }
            if (len == 0) {
                break;
            }
        }
        tandem_config c;
        tandem_diag d = {0};
        int rc = tandem_config_load_buffer(&c, "m.yaml", text, len, NULL, &d);
        CHECK(rc == TANDEM_OK || rc == TANDEM_ECONFIG);
        CHECK(rc == TANDEM_OK || strlen(d.message) > 0);
    }
}

static const tandem_test cases[] = {
    {"defaults", test_defaults},
    {"empty_inputs_give_defaults", test_empty_inputs_give_defaults},
    {"every_key_parses", test_every_key_parses},
    {"dotted_keys", test_dotted_keys},
    {"log_levels", test_log_levels},
    {"booleans", test_booleans},
    {"sizes_with_units", test_sizes_with_units},
    {"integers", test_integers},
    {"strings", test_strings},
    {"lists", test_lists},
    {"env_overrides", test_env_overrides},
    {"env_errors", test_env_errors},
    {"cluster_rules", test_cluster_rules},
    {"port_clashes", test_port_clashes},
    {"data_rules", test_data_rules},
    {"unknown_keys", test_unknown_keys},
    {"duplicates", test_duplicates},
    {"malformed_yaml", test_malformed_yaml},
    {"top_level_not_mapping", test_top_level_not_mapping},
    {"print_round_trip", test_print_round_trip},
    {"print_round_trip_random", test_print_round_trip_random},
    {"doc_table_matches_schema", test_doc_table_matches_schema},
    {"exporter_rules", test_exporter_rules},
    {"schema_describe", test_schema_describe},
    {"load_file", test_load_file},
    {"default_file", test_default_file},
    {"mutations_never_crash", test_mutations_never_crash},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
