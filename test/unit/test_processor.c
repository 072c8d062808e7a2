/*
 * Tests of leader rounds (src/stream/processor.c) on a real partition: the
 * journal on the power-loss file system, the state in memory, the real
 * engine. One batch per command, later commands of a round seeing earlier
 * ones, a command the engine fails on taken out without a trace in the log,
 * empty activations writing nothing, and a failed fsync being fatal.
 */
#include "base/error.h"
#include "base/faultfs.h"
#include "engine/engine.h"
#include "engine/value.h"
#include "journal/journal.h"
#include "protocol/batch.h"
#include "protocol/types.h"
#include "stream/partition.h"
#include "stream/processor.h"
#include "test.h"

static const char one_task[] =
    "<?xml version=\"1.0\"?><bpmn:definitions "
    "xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "
    "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"d\" targetNamespace=\"x\">"
    "<bpmn:process id=\"p\" isExecutable=\"true\">"
    "<bpmn:startEvent id=\"s\"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>"
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"t\"/>"
    "<bpmn:serviceTask id=\"t\"><bpmn:extensionElements><zeebe:taskDefinition type=\"work\"/>"
    "</bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>"
    "</bpmn:serviceTask><bpmn:sequenceFlow id=\"f2\" sourceRef=\"t\" targetRef=\"e\"/>"
    "<bpmn:endEvent id=\"e\"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>"
    "</bpmn:process></bpmn:definitions>";

typedef struct fixture {
    tandem_seeded_rand rand;
    tandem_faultfs *fs;
    tandem_engine *engine;
    tandem_partition *partition;
    tandem_processor *processor;
    const char *tables[40];
} fixture;

/* Replay of committed batches: the same apply path the broker uses. */
static int apply_entry(void *arg, tandem_kv_txn *txn, const tandem_journal_entry *entry,
                       const uint8_t *payload, tandem_diag *diag)
{
    fixture *f = arg;
    return tandem_processor_apply_entry(f->engine, txn, entry, payload, NULL, diag);
}

static void setup(fixture *f)
{
    memset(f, 0, sizeof(*f));
    tandem_seeded_rand_init(&f->rand, test_seed());
    CHECK_OK(tandem_faultfs_new(&f->rand.base, &f->fs));
    tandem_fileops *ops = tandem_faultfs_ops(f->fs);
    CHECK_OK(ops->mkdir(ops, "data"));
    uint32_t n = 0;
    const char *const *engine_tables = tandem_engine_tables(&n);
    CHECK(n + 1 <= 40);
    f->tables[0] = TANDEM_PARTITION_TABLE_NAME;
    for (uint32_t i = 0; i < n; i++) {
        f->tables[1 + i] = engine_tables[i];
    }
    tandem_engine_config ecfg = {.partition_id = 1, .table_base = 1};
    tandem_diag d = {0};
    CHECK_OK(tandem_engine_create(&ecfg, &f->engine, &d));
    tandem_partition_options o;
    tandem_partition_options_default(&o);
    o.ops = ops;
    o.rand = &f->rand.base;
    o.data_root = "data";
    o.cluster_name = "rounds";
    o.partition_id = 1;
    o.table_names = f->tables;
    o.table_count = n + 1;
    o.state_in_memory = true;
    o.apply = apply_entry;
    o.apply_arg = f;
    CHECK_MSG(tandem_partition_open(&o, &f->partition, &d) == TANDEM_OK, "open: %s",
              tandem_diag_text(&d));
    CHECK_OK(tandem_processor_create(f->partition, f->engine, 1u << 20, 1, &f->processor));
}

static void teardown(fixture *f)
{
    tandem_processor_destroy(f->processor);
    tandem_partition_close(f->partition);
    tandem_engine_destroy(f->engine);
    tandem_faultfs_free(f->fs);
}

static void command_item(tandem_item *it, uint8_t value_type, uint16_t intent, uint64_t key)
{
    tandem_item_init(it, TANDEM_ITEM_COMMAND);
    it->command.record_type = TANDEM_RECORD_COMMAND;
    it->command.value_type = value_type;
    it->command.intent = intent;
    it->command.key = key;
    it->command.request_stream_id = 1;
    it->command.request_id = 7;
}

static void deploy_item(tandem_item *it)
{
    command_item(it, TANDEM_VALUE_DEPLOYMENT, TANDEM_INTENT_DEPLOYMENT_CREATE, TANDEM_KEY_NONE);
    tandem_buf one = TANDEM_BUF_INIT;
    tandem_buf list = TANDEM_BUF_INIT;
    tandem_field_writer w;
    tandem_field_writer_init(&w, &one);
    tandem_field_put_cstr(&w, 1, "p.bpmn");
    tandem_field_put_bytes(&w, 2, one_task, sizeof(one_task) - 1);
    CHECK_OK(tandem_field_writer_finish(&w));
    CHECK_OK(tandem_value_list_add_nested(&list, one.data, one.len));
    tandem_deployment_value v;
    tandem_deployment_value_init(&v);
    v.resources = (tandem_sv){(const char *)list.data, list.len};
    CHECK_OK(tandem_deployment_value_encode(&v, &it->payload));
    tandem_buf_free(&one);
    tandem_buf_free(&list);
}

static void create_item(tandem_item *it)
{
    command_item(it, TANDEM_VALUE_PROCESS_INSTANCE_CREATION,
                 TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATE, TANDEM_KEY_NONE);
    tandem_process_instance_creation_value v;
    tandem_process_instance_creation_value_init(&v);
    v.bpmn_process_id = tandem_sv_of("p");
    v.version = -1;
    CHECK_OK(tandem_process_instance_creation_value_encode(&v, &it->payload));
}

static void activate_item(tandem_item *it, const char *type)
{
    command_item(it, TANDEM_VALUE_JOB_BATCH, TANDEM_INTENT_JOB_BATCH_ACTIVATE, TANDEM_KEY_NONE);
    tandem_job_batch_value v;
    tandem_job_batch_value_init(&v);
    v.type = tandem_sv_of(type);
    v.worker = tandem_sv_of("w");
    v.timeout_ms = 30000;
    v.max_jobs_to_activate = 10;
    CHECK_OK(tandem_job_batch_value_encode(&v, &it->payload));
}

static uint64_t last_index(fixture *f)
{
    return tandem_journal_last_index(tandem_partition_journal(f->partition));
}

/* The batch of a journal entry: its first position and record count. */
static void entry_batch(fixture *f, uint64_t index, uint64_t *first, uint32_t *count)
{
    tandem_buf payload = TANDEM_BUF_INIT;
    tandem_journal_entry e;
    CHECK_OK(
        tandem_journal_read(tandem_partition_journal(f->partition), index, &e, &payload, NULL));
    tandem_batch_reader br;
    CHECK_OK(tandem_batch_open(&br, payload.data, payload.len, NULL));
    *first = br.first_position;
    *count = br.count;
    tandem_buf_free(&payload);
}

static void test_round_batches_and_take_out(void)
{
    fixture f;
    setup(&f);
    tandem_item deploy, bad, create, probe;
    deploy_item(&deploy);
    command_item(&bad, TANDEM_VALUE_JOB, TANDEM_INTENT_JOB_COMPLETE, 1);
    bad.command.record_type = TANDEM_RECORD_EVENT; /* not a command: the engine fails on it */
    create_item(&create);
    tandem_item_init(&probe, TANDEM_ITEM_PROBE);
    CHECK_OK(tandem_buf_append(&probe.payload, "hello", 5));
    tandem_item *items[] = {&deploy, &bad, &create, &probe};
    tandem_round_output out;
    tandem_round_output_init(&out);
    uint64_t before = last_index(&f);
    tandem_diag d = {0};
    CHECK_MSG(tandem_processor_round(f.processor, items, 4, 1000, &out, &d) == TANDEM_OK, "%s",
              tandem_diag_text(&d));

    CHECK_OK(deploy.rc);
    CHECK(deploy.has_response);
    CHECK_EQ_U64(TANDEM_INTENT_DEPLOYMENT_CREATED, deploy.response.intent);
    CHECK_RC(TANDEM_ESTATE, bad.rc);
    CHECK_CONTAINS(bad.error, "could not be processed");
    /* the instance sees the deployment processed before it in the same round */
    CHECK_OK(create.rc);
    CHECK(create.has_response);
    CHECK_EQ_U64(TANDEM_RECORD_EVENT, create.response.record_type);
    CHECK_EQ_U64(TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATED, create.response.intent);
    CHECK_OK(probe.rc);

    /* one batch per item that was processed, nothing of the bad one */
    CHECK_EQ_U64(before + 3, last_index(&f));
    CHECK_EQ_U64(deploy.index + 1, create.index);
    CHECK_EQ_U64(create.index + 1, probe.index);
    uint64_t first = 0;
    uint32_t count = 0;
    uint64_t expect = 1;
    for (uint64_t i = deploy.index; i <= probe.index; i++) {
        entry_batch(&f, i, &first, &count);
        CHECK_EQ_U64(expect, first); /* positions run on without a gap */
        expect = first + count;
    }
    CHECK_EQ_U64(expect, tandem_processor_next_position(f.processor));
    CHECK_EQ_U64(deploy.position, 1);
    CHECK_EQ_U64(probe.position, expect - 1);
    /* committed: the state has applied everything appended */
    CHECK_EQ_U64(last_index(&f), tandem_partition_applied_index(f.partition));
    /* the job type of the new instance is reported for long polls */
    CHECK_EQ_U64(1, out.type_count);
    CHECK_STREQ("work", (const char *)out.types.data);

    tandem_item *items2[] = {&deploy};
    tandem_item act;
    activate_item(&act, "work");
    items2[0] = &act;
    CHECK_OK(tandem_processor_round(f.processor, items2, 1, 2000, &out, &d));
    CHECK(act.has_response);
    CHECK_EQ_U64(TANDEM_INTENT_JOB_BATCH_ACTIVATED, act.response.intent);

    tandem_item_free(&deploy);
    tandem_item_free(&bad);
    tandem_item_free(&create);
    tandem_item_free(&probe);
    tandem_item_free(&act);
    tandem_round_output_free(&out);
    teardown(&f);
}

static void test_empty_activation_writes_nothing(void)
{
    fixture f;
    setup(&f);
    tandem_item act;
    activate_item(&act, "nobody");
    tandem_item *items[] = {&act};
    tandem_round_output out;
    tandem_round_output_init(&out);
    uint64_t before = last_index(&f);
    CHECK_OK(tandem_processor_round(f.processor, items, 1, 1000, &out, NULL));
    CHECK_OK(act.rc);
    CHECK(!act.has_response);
    CHECK_EQ_U64(before, last_index(&f));
    tandem_item_free(&act);
    tandem_round_output_free(&out);
    teardown(&f);
}

static void test_failed_fsync_is_fatal(void)
{
    fixture f;
    setup(&f);
    tandem_item deploy;
    deploy_item(&deploy);
    tandem_item *items[] = {&deploy};
    tandem_round_output out;
    tandem_round_output_init(&out);
    tandem_faultfs_fail_sync(f.fs, 1);
    tandem_diag d = {0};
    CHECK_RC(TANDEM_EIO, tandem_processor_round(f.processor, items, 1, 1000, &out, &d));
    /* nothing of the round is committed, and the partition takes no more rounds */
    CHECK(tandem_partition_applied_index(f.partition) < last_index(&f));
    tandem_item again;
    create_item(&again);
    items[0] = &again;
    CHECK_RC(TANDEM_ESTOPPED, tandem_processor_round(f.processor, items, 1, 2000, &out, &d));
    tandem_item_free(&deploy);
    tandem_item_free(&again);
    tandem_round_output_free(&out);
    teardown(&f);
}

static void test_timestamps_never_go_back(void)
{
    fixture f;
    setup(&f);
    tandem_item a, b;
    deploy_item(&a);
    create_item(&b);
    tandem_item *items[] = {&a};
    tandem_round_output out;
    tandem_round_output_init(&out);
    CHECK_OK(tandem_processor_round(f.processor, items, 1, 5000, &out, NULL));
    items[0] = &b;
    CHECK_OK(tandem_processor_round(f.processor, items, 1, 1000, &out, NULL)); /* clock went back */
    CHECK_EQ_U64(5000, a.response.timestamp_ms);
    CHECK_EQ_U64(5000, b.response.timestamp_ms);
    tandem_item_free(&a);
    tandem_item_free(&b);
    tandem_round_output_free(&out);
    teardown(&f);
}

static const tandem_test cases[] = {
    {"round_batches_and_take_out", test_round_batches_and_take_out},
    {"empty_activation_writes_nothing", test_empty_activation_writes_nothing},
    {"failed_fsync_is_fatal", test_failed_fsync_is_fatal},
    {"timestamps_never_go_back", test_timestamps_never_go_back},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
