/*
 * Deployment distribution between partitions: the records partition 1
 * writes, the sends it returns, the receiving side (same keys and versions,
 * de-duplication, acknowledgement), ACKNOWLEDGED / FINISHED, harmless
 * repeats, re-sends after the retry interval (and after a restart), and
 * instances created on every partition. Each partition is a harness, so
 * every batch is also applied to a follower whose digest must match.
 */
#include "base/rand.h"
#include "test_engine_harness.h"

#define ORDER_V(n)                                                                                 \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "                \
    "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"d" #n "\">"                          \
    "<bpmn:process id=\"order\" isExecutable=\"true\">"                                            \
    "<bpmn:startEvent id=\"start\"/>"                                                              \
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"charge\"/>"                      \
    "<bpmn:serviceTask id=\"charge\"><bpmn:extensionElements>"                                     \
    "<zeebe:taskDefinition type=\"charge-card\" retries=\"3\"/></bpmn:extensionElements>"          \
    "</bpmn:serviceTask>"                                                                          \
    "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"charge\" targetRef=\"end\"/>"                        \
    "<bpmn:endEvent id=\"end\"/></bpmn:process></bpmn:definitions>"

#define PARTS     3u
#define SENDS_MAX 64u

typedef struct sent {
    uint32_t partition_id;
    tandem_record command; /* value views bytes */
    tandem_buf bytes;
} sent;

typedef struct cluster {
    harness parts[PARTS];
    sent sends[SENDS_MAX]; /* sends not yet delivered, oldest first */
    uint32_t send_count;
} cluster;

static void cluster_init(cluster *c)
{
    memset(c, 0, sizeof(*c));
    for (uint32_t i = 0; i < PARTS; i++) {
        harness_init_partition(&c->parts[i], i + 1, PARTS);
    }
}

static void cluster_free(cluster *c)
{
    for (uint32_t i = 0; i < PARTS; i++) {
        harness_free(&c->parts[i]);
    }
    for (uint32_t i = 0; i < c->send_count; i++) {
        tandem_buf_free(&c->sends[i].bytes);
    }
}

static harness *part(cluster *c, uint32_t partition_id)
{
    CHECK(partition_id >= 1 && partition_id <= PARTS);
    return &c->parts[partition_id - 1];
}

/* Keeps the sends of an output (the output is reused by the next call). */
static void keep_sends(cluster *c, const tandem_engine_output *out)
{
    for (uint32_t i = 0; i < out->send_count; i++) {
        CHECK(c->send_count < SENDS_MAX);
        sent *s = &c->sends[c->send_count++];
        tandem_buf_init(&s->bytes);
        s->partition_id = out->sends[i].partition_id;
        CHECK_OK(tandem_buf_append(&s->bytes, out->sends[i].command.value,
                                   out->sends[i].command.value_len));
        s->command = out->sends[i].command;
        s->command.value = s->bytes.data;
    }
}

static void drop_sends(cluster *c)
{
    for (uint32_t i = 0; i < c->send_count; i++) {
        tandem_buf_free(&c->sends[i].bytes);
    }
    c->send_count = 0;
}

/* Delivers the i-th pending send (processing it on its partition) and keeps
 * what that produced. Returns the receiving partition's output. */
static const tandem_engine_output *deliver(cluster *c, uint32_t i)
{
    CHECK(i < c->send_count);
    sent s = c->sends[i];
    memmove(&c->sends[i], &c->sends[i + 1], (c->send_count - i - 1) * sizeof(sent));
    c->send_count--;
    tandem_record cmd = s.command;
    CHECK_EQ_U64(TANDEM_RECORD_COMMAND, cmd.record_type);
    CHECK_EQ_I64(TANDEM_NONE, cmd.request_id);
    const tandem_engine_output *out = process(part(c, s.partition_id), &cmd);
    tandem_buf_free(&s.bytes);
    keep_sends(c, out);
    return out;
}

/* Index of the pending send to `partition_id` of this value type, or fail. */
static uint32_t send_to(cluster *c, uint32_t partition_id, uint8_t value_type)
{
    for (uint32_t i = 0; i < c->send_count; i++) {
        if (c->sends[i].partition_id == partition_id &&
            c->sends[i].command.value_type == value_type) {
            return i;
        }
    }
    tandem_test_fail(__FILE__, __LINE__, "no send of value type %u to partition %u", value_type,
                     partition_id);
}

static uint64_t deploy_on_1(cluster *c, const char *xml, uint64_t *def_key)
{
    const tandem_engine_output *out = deploy1(part(c, 1), "order.bpmn", xml);
    uint32_t created = find_rec(out, TANDEM_RECORD_EVENT, TANDEM_VALUE_DEPLOYMENT,
                                TANDEM_INTENT_DEPLOYMENT_CREATED, 0);
    if (def_key != NULL) {
        *def_key = out->records[find_rec(out, TANDEM_RECORD_EVENT, TANDEM_VALUE_PROCESS,
                                         TANDEM_INTENT_PROCESS_CREATED, 0)]
                       .key;
    }
    keep_sends(c, out);
    return out->records[created].key;
}

static uint64_t count_rows(harness *h, const char *table)
{
    uint32_t n;
    const char *const *names = tandem_engine_tables(&n);
    tandem_kv_txn *t;
    CHECK_OK(tandem_kv_begin_read(h->kv, &t, NULL));
    uint64_t count = UINT64_MAX;
    for (uint32_t i = 0; i < n; i++) {
        if (strcmp(names[i], table) == 0) {
            CHECK_OK(tandem_kv_count(t, i, &count, NULL));
        }
    }
    tandem_kv_abort(t);
    CHECK(count != UINT64_MAX);
    return count;
}

static uint32_t resends(harness *h, uint64_t since_ms, uint64_t now_ms, tandem_engine_output *out,
                        int64_t *next_due_ms)
{
    tandem_kv_txn *t;
    tandem_diag d = {0};
    CHECK_OK(tandem_kv_begin_write(h->kv, &t, &d));
    int rc = tandem_engine_resends(h->engine, t, since_ms, now_ms, out, next_due_ms, &d);
    CHECK_MSG(rc == 0, "resends: %s", d.message);
    CHECK_EQ_U64(0, out->record_count);
    tandem_kv_abort(t);
    return out->send_count;
}

/* ---- Tests ---------------------------------------------------------------- */

static void test_deploy_writes_distribution(void)
{
    cluster c;
    cluster_init(&c);
    uint64_t def_key;
    uint64_t dk = deploy_on_1(&c, ORDER_V(1), &def_key);
    CHECK_STREQ("E PROCESS CREATED\n"
                "E DEPLOYMENT CREATED\n"
                "E COMMAND_DISTRIBUTION STARTED\n"
                "E COMMAND_DISTRIBUTION DISTRIBUTING\n"
                "E COMMAND_DISTRIBUTION DISTRIBUTING\n",
                part(&c, 1)->trace);
    const tandem_engine_output *out = &part(&c, 1)->out;
    /* the answer is still DEPLOYMENT CREATED */
    CHECK_EQ_U64(TANDEM_INTENT_DEPLOYMENT_CREATED, response(out)->intent);
    for (uint32_t n = 0; n < 2; n++) {
        const tandem_record *r =
            &out->records[find_rec(out, TANDEM_RECORD_EVENT, TANDEM_VALUE_COMMAND_DISTRIBUTION,
                                   TANDEM_INTENT_COMMAND_DISTRIBUTION_DISTRIBUTING, n)];
        tandem_command_distribution_value cd;
        CHECK_OK(tandem_command_distribution_value_decode(r->value, r->value_len, &cd, NULL, NULL));
        CHECK_EQ_U64(dk, r->key);
        CHECK_EQ_U64(n + 2, cd.partition_id);
        CHECK_EQ_U64(TANDEM_VALUE_DEPLOYMENT, cd.value_type);
        CHECK_EQ_U64(TANDEM_INTENT_DEPLOYMENT_CREATE, cd.intent);
    }
    /* one send per other partition: the deployment with its keys */
    CHECK_EQ_U64(2, c.send_count);
    for (uint32_t i = 0; i < 2; i++) {
        const sent *s = &c.sends[i];
        CHECK_EQ_U64(i + 2, s->partition_id);
        CHECK_EQ_U64(TANDEM_VALUE_DEPLOYMENT, s->command.value_type);
        CHECK_EQ_U64(TANDEM_INTENT_DEPLOYMENT_CREATE, s->command.intent);
        CHECK_EQ_U64(dk, s->command.key);
        tandem_deployment_value dv;
        CHECK_OK(tandem_deployment_value_decode(s->command.value, s->command.value_len, &dv, NULL,
                                                NULL));
        tandem_value_list it;
        tandem_value_list_init(&it, dv.processes);
        tandem_field f;
        CHECK(tandem_value_list_next(&it, &f));
        tandem_process_value pv;
        CHECK_OK(tandem_process_value_decode(f.data, f.len, &pv, NULL, NULL));
        CHECK_EQ_U64(def_key, pv.process_definition_key);
        CHECK_EQ_I64(1, pv.version);
    }
    CHECK_EQ_U64(1, count_rows(part(&c, 1), "distribution"));
    CHECK_EQ_U64(2, count_rows(part(&c, 1), "distribution_pending"));
    cluster_free(&c);
}

static void test_single_partition_does_not_distribute(void)
{
    harness h;
    harness_init(&h);
    const tandem_engine_output *out = deploy1(&h, "order.bpmn", ORDER_V(1));
    CHECK_STREQ("E PROCESS CREATED\nE DEPLOYMENT CREATED\n", h.trace);
    CHECK_EQ_U64(0, out->send_count);
    harness_free(&h);
}

static void test_receive_ack_finish(void)
{
    cluster c;
    cluster_init(&c);
    uint64_t def_key;
    uint64_t dk = deploy_on_1(&c, ORDER_V(1), &def_key);
    /* before the deployment arrives, partition 2 does not know the process */
    const tandem_engine_output *out =
        create_pi(part(&c, 2), "order", -1, TANDEM_KEY_NONE, NULL, false, NULL);
    check_rejection(out, TANDEM_REJECTION_NOT_FOUND,
                    "Expected to find process definition with process ID 'order', but none found");

    out = deliver(&c, send_to(&c, 2, TANDEM_VALUE_DEPLOYMENT));
    CHECK_STREQ("E PROCESS CREATED\nE DEPLOYMENT CREATED\n", part(&c, 2)->trace);
    CHECK_EQ_U64(def_key, out->records[1].key); /* partition 1's key, on partition 2 */
    CHECK_EQ_U64(dk, out->records[2].key);
    CHECK_EQ_I64(-1, out->response_index);
    CHECK_EQ_U64(1, out->send_count);
    CHECK_EQ_U64(1, out->sends[0].partition_id);
    CHECK_EQ_U64(TANDEM_VALUE_COMMAND_DISTRIBUTION, out->sends[0].command.value_type);
    CHECK_EQ_U64(TANDEM_INTENT_COMMAND_DISTRIBUTION_ACKNOWLEDGE, out->sends[0].command.intent);
    CHECK_EQ_U64(dk, out->sends[0].command.key);

    /* an instance on partition 2: its own key, partition 1's definition */
    out = create_pi(part(&c, 2), "order", -1, TANDEM_KEY_NONE, NULL, false, NULL);
    const tandem_record *created = response(out);
    CHECK_EQ_U64(TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATED, created->intent);
    tandem_process_instance_creation_value cv;
    CHECK_OK(tandem_process_instance_creation_value_decode(created->value, created->value_len, &cv,
                                                           NULL, NULL));
    CHECK_EQ_U64(def_key, cv.process_definition_key);
    CHECK_EQ_I64(1, cv.version);
    CHECK_EQ_U64(2, tandem_key_partition(cv.process_instance_key));
    /* and by key */
    out = create_pi(part(&c, 2), "", -1, def_key, NULL, false, NULL);
    CHECK_EQ_U64(TANDEM_INTENT_PROCESS_INSTANCE_CREATION_CREATED, response(out)->intent);

    /* partition 2 acknowledges: ACKNOWLEDGED, not yet FINISHED */
    out = deliver(&c, send_to(&c, 1, TANDEM_VALUE_COMMAND_DISTRIBUTION));
    CHECK_STREQ("E COMMAND_DISTRIBUTION ACKNOWLEDGED\n", part(&c, 1)->trace);
    CHECK_EQ_U64(0, out->send_count);
    CHECK_EQ_U64(1, count_rows(part(&c, 1), "distribution_pending"));
    /* partition 3 receives and acknowledges: FINISHED */
    deliver(&c, send_to(&c, 3, TANDEM_VALUE_DEPLOYMENT));
    CHECK_STREQ("E PROCESS CREATED\nE DEPLOYMENT CREATED\n", part(&c, 3)->trace);
    deliver(&c, send_to(&c, 1, TANDEM_VALUE_COMMAND_DISTRIBUTION));
    CHECK_STREQ("E COMMAND_DISTRIBUTION ACKNOWLEDGED\nE COMMAND_DISTRIBUTION FINISHED\n",
                part(&c, 1)->trace);
    CHECK_EQ_U64(0, count_rows(part(&c, 1), "distribution"));
    CHECK_EQ_U64(0, count_rows(part(&c, 1), "distribution_pending"));
    CHECK_EQ_U64(0, c.send_count);
    cluster_free(&c);
}

static void test_repeats_are_harmless(void)
{
    cluster c;
    cluster_init(&c);
    uint64_t dk = deploy_on_1(&c, ORDER_V(1), NULL);
    uint32_t i = send_to(&c, 2, TANDEM_VALUE_DEPLOYMENT);
    sent again = c.sends[i];
    tandem_buf_init(&again.bytes);
    CHECK_OK(tandem_buf_append(&again.bytes, c.sends[i].bytes.data, c.sends[i].bytes.len));
    again.command.value = again.bytes.data;
    deliver(&c, i);
    uint64_t rows = count_rows(part(&c, 2), "process");
    /* the same deployment again: nothing created, acknowledged again */
    c.sends[c.send_count++] = again;
    const tandem_engine_output *out = deliver(&c, c.send_count - 1);
    CHECK_EQ_U64(1, out->record_count);
    CHECK_STREQ("", part(&c, 2)->trace);
    CHECK_EQ_U64(rows, count_rows(part(&c, 2), "process"));
    CHECK_EQ_U64(1, out->send_count);
    CHECK_EQ_U64(TANDEM_INTENT_COMMAND_DISTRIBUTION_ACKNOWLEDGE, out->sends[0].command.intent);
    /* two acknowledgements from partition 2 now wait: the first counts, the
     * second is rejected and changes nothing */
    CHECK_EQ_U64(3, c.send_count); /* and the one to partition 3 */
    deliver(&c, send_to(&c, 1, TANDEM_VALUE_COMMAND_DISTRIBUTION));
    CHECK_STREQ("E COMMAND_DISTRIBUTION ACKNOWLEDGED\n", part(&c, 1)->trace);
    out = deliver(&c, send_to(&c, 1, TANDEM_VALUE_COMMAND_DISTRIBUTION));
    CHECK_EQ_U64(2, out->record_count);
    CHECK_EQ_U64(TANDEM_RECORD_COMMAND_REJECTION, out->records[1].record_type);
    CHECK_EQ_U64(TANDEM_REJECTION_NOT_FOUND, out->records[1].rejection_type);
    char want[200], got[300];
    snprintf(want, sizeof(want),
             "Expected to acknowledge the distribution with key '%llu' to partition 2, but it is "
             "not pending",
             (unsigned long long)dk);
    snprintf(got, sizeof(got), "%.*s", (int)out->records[1].rejection_reason_len,
             out->records[1].rejection_reason);
    CHECK_STREQ(want, got);
    CHECK_EQ_U64(1, c.send_count);
    CHECK_EQ_U64(1, count_rows(part(&c, 1), "distribution_pending"));
    cluster_free(&c);
}

static void test_resend_after_interval(void)
{
    cluster c;
    cluster_init(&c);
    harness *p1 = part(&c, 1);
    uint64_t t0 = p1->now_ms;
    uint64_t dk = deploy_on_1(&c, ORDER_V(1), NULL);
    tandem_buf original = TANDEM_BUF_INIT;
    CHECK_OK(tandem_buf_append(&original, c.sends[0].bytes.data, c.sends[0].bytes.len));
    drop_sends(&c); /* both sends lost */
    tandem_engine_output out;
    tandem_engine_output_init(&out);
    int64_t next = 0;
    CHECK_EQ_U64(0, resends(p1, t0, t0 + 999, &out, &next));
    CHECK_EQ_I64((int64_t)(t0 + 1000), next);
    CHECK_EQ_U64(2, resends(p1, t0 + 999, t0 + 1000, &out, &next));
    CHECK_EQ_I64((int64_t)(t0 + 3000), next);
    for (uint32_t i = 0; i < 2; i++) {
        CHECK_EQ_U64(i + 2, out.sends[i].partition_id);
        CHECK_EQ_U64(dk, out.sends[i].command.key);
        CHECK_EQ_U64(TANDEM_INTENT_DEPLOYMENT_CREATE, out.sends[i].command.intent);
        CHECK_EQ_U64(original.len, out.sends[i].command.value_len);
        CHECK(memcmp(original.data, out.sends[i].command.value, original.len) == 0);
    }
    /* not again until the next retry time: 1 s, then 2, 4, 8, 10, 10 ... */
    CHECK_EQ_U64(0, resends(p1, t0 + 1000, t0 + 2999, &out, &next));
    CHECK_EQ_U64(2, resends(p1, t0 + 2999, t0 + 3000, &out, &next));
    CHECK_EQ_I64((int64_t)(t0 + 7000), next);
    CHECK_EQ_U64(2, resends(p1, t0 + 7000, t0 + 15000, &out, &next));
    CHECK_EQ_I64((int64_t)(t0 + 25000), next);
    CHECK_EQ_U64(0, resends(p1, t0 + 25000, t0 + 34999, &out, &next));
    CHECK_EQ_I64((int64_t)(t0 + 35000), next);
    /* after a restart (since 0) everything pending goes out at once */
    CHECK_EQ_U64(2, resends(p1, 0, t0 + 40000, &out, &next));
    CHECK_EQ_U64(2, resends(p1, 0, t0 + 1, &out, &next)); /* even before the first retry time */
    CHECK_EQ_I64((int64_t)(t0 + 1000), next);
    keep_sends(&c, &out);
    /* partition 2 gets it and acknowledges; then only partition 3 is retried */
    deliver(&c, send_to(&c, 2, TANDEM_VALUE_DEPLOYMENT));
    deliver(&c, send_to(&c, 1, TANDEM_VALUE_COMMAND_DISTRIBUTION));
    CHECK_EQ_U64(1, resends(p1, 0, t0 + 40000, &out, &next));
    CHECK_EQ_U64(3, out.sends[0].partition_id);
    keep_sends(&c, &out);
    drop_sends(&c);
    CHECK_EQ_U64(1, resends(p1, 0, t0 + 50000, &out, &next));
    keep_sends(&c, &out);
    deliver(&c, send_to(&c, 3, TANDEM_VALUE_DEPLOYMENT));
    deliver(&c, send_to(&c, 1, TANDEM_VALUE_COMMAND_DISTRIBUTION));
    CHECK_EQ_U64(0, resends(p1, 0, t0 + 99000, &out, &next));
    CHECK_EQ_I64(INT64_MAX, next);
    tandem_engine_output_free(&out);
    tandem_buf_free(&original);
    cluster_free(&c);
}

static void test_versions_out_of_order(void)
{
    cluster c;
    cluster_init(&c);
    uint64_t k1, k2;
    deploy_on_1(&c, ORDER_V(1), &k1);
    deploy_on_1(&c, ORDER_V(2), &k2);
    CHECK(k1 != k2);
    CHECK_EQ_U64(4, c.send_count);
    /* version 2 reaches partition 2 first, version 1 later */
    deliver(&c, 2);
    deliver(&c, 0);
    const tandem_engine_output *out =
        create_pi(part(&c, 2), "order", -1, TANDEM_KEY_NONE, NULL, false, NULL);
    tandem_process_instance_creation_value cv;
    CHECK_OK(tandem_process_instance_creation_value_decode(
        response(out)->value, response(out)->value_len, &cv, NULL, NULL));
    CHECK_EQ_U64(k2, cv.process_definition_key);
    CHECK_EQ_I64(2, cv.version);
    out = create_pi(part(&c, 2), "order", 1, TANDEM_KEY_NONE, NULL, false, NULL);
    CHECK_OK(tandem_process_instance_creation_value_decode(
        response(out)->value, response(out)->value_len, &cv, NULL, NULL));
    CHECK_EQ_U64(k1, cv.process_definition_key);
    /* a redeploy of version 2's bytes is a duplicate on partition 1 and
     * still distributed; partition 2 creates nothing new */
    deploy_on_1(&c, ORDER_V(2), NULL);
    CHECK_STREQ("E DEPLOYMENT CREATED\n"
                "E COMMAND_DISTRIBUTION STARTED\n"
                "E COMMAND_DISTRIBUTION DISTRIBUTING\n"
                "E COMMAND_DISTRIBUTION DISTRIBUTING\n",
                part(&c, 1)->trace);
    uint64_t processes = count_rows(part(&c, 2), "process");
    deliver(&c, send_to(&c, 2, TANDEM_VALUE_DEPLOYMENT));
    CHECK_STREQ("E DEPLOYMENT CREATED\n", part(&c, 2)->trace);
    CHECK_EQ_U64(processes, count_rows(part(&c, 2), "process"));
    cluster_free(&c);
}

static void test_receiving_rejections(void)
{
    cluster c;
    cluster_init(&c);
    uint64_t dk = deploy_on_1(&c, ORDER_V(1), NULL);
    /* a distributed deployment keyed by the receiver's own partition */
    sent s = c.sends[0];
    tandem_record cmd = s.command;
    cmd.key = tandem_key_encode(2, 99);
    const tandem_engine_output *out = process(part(&c, 2), &cmd);
    CHECK_EQ_U64(2, out->record_count);
    CHECK_EQ_U64(TANDEM_RECORD_COMMAND_REJECTION, out->records[1].record_type);
    CHECK_EQ_U64(0, out->send_count);
    char got[300];
    snprintf(got, sizeof(got), "%.*s", (int)out->records[1].rejection_reason_len,
             out->records[1].rejection_reason);
    CHECK_CONTAINS(got, "it is not from another partition of the cluster");
    /* a process list naming a resource that is not there */
    tandem_deployment_value dv;
    CHECK_OK(tandem_deployment_value_decode(s.command.value, s.command.value_len, &dv, NULL, NULL));
    dv.resources = (tandem_sv){"", 0};
    tandem_buf bad = TANDEM_BUF_INIT;
    CHECK_OK(tandem_deployment_value_encode(&dv, &bad));
    cmd = s.command;
    cmd.value = bad.data;
    cmd.value_len = bad.len;
    out = process(part(&c, 2), &cmd);
    CHECK_EQ_U64(TANDEM_RECORD_COMMAND_REJECTION, out->records[1].record_type);
    snprintf(got, sizeof(got), "%.*s", (int)out->records[1].rejection_reason_len,
             out->records[1].rejection_reason);
    CHECK_CONTAINS(got, "its process 1 is malformed or has no resource");
    CHECK_EQ_U64(0, out->send_count);
    /* an acknowledgement of an unknown distribution */
    tandem_command_distribution_value cd;
    tandem_command_distribution_value_init(&cd);
    cd.partition_id = 2;
    tandem_buf ack = TANDEM_BUF_INIT;
    CHECK_OK(tandem_command_distribution_value_encode(&cd, &ack));
    cmd = command(TANDEM_VALUE_COMMAND_DISTRIBUTION, TANDEM_INTENT_COMMAND_DISTRIBUTION_ACKNOWLEDGE,
                  dk + 100, &ack);
    out = process(part(&c, 1), &cmd);
    CHECK_EQ_U64(TANDEM_REJECTION_NOT_FOUND, response(out)->rejection_type);
    /* a malformed acknowledgement */
    tandem_buf junk = TANDEM_BUF_INIT;
    tandem_field_writer w;
    tandem_field_writer_init(&w, &junk);
    tandem_field_put_cstr(&w, 1, "two"); /* a partition id must be a number */
    CHECK_OK(tandem_field_writer_finish(&w));
    cmd = command(TANDEM_VALUE_COMMAND_DISTRIBUTION, TANDEM_INTENT_COMMAND_DISTRIBUTION_ACKNOWLEDGE,
                  dk, &junk);
    out = process(part(&c, 1), &cmd);
    CHECK_EQ_U64(TANDEM_REJECTION_INVALID_ARGUMENT, response(out)->rejection_type);
    CHECK_EQ_U64(2, count_rows(part(&c, 1), "distribution_pending"));
    tandem_buf_free(&bad);
    tandem_buf_free(&ack);
    tandem_buf_free(&junk);
    cluster_free(&c);
}

/* Random delivery order, losses and repeats: every partition ends with the
 * same processes, partition 1 finishes, and every partition's follower
 * matches (the harness checks digests after each command). */
static void test_random_delivery(void)
{
    uint64_t seed = test_seed();
    uint64_t rounds = test_iterations(20);
    for (uint64_t round = 0; round < rounds; round++) {
        cluster c;
        cluster_init(&c);
        tandem_seeded_rand sr;
        tandem_seeded_rand_init(&sr, seed + round);
        tandem_rand *r = &sr.base;
        deploy_on_1(&c, ORDER_V(1), NULL);
        deploy_on_1(&c, ORDER_V(2), NULL);
        uint64_t since = part(&c, 1)->now_ms;
        tandem_engine_output out;
        tandem_engine_output_init(&out);
        for (uint32_t step = 0; step < 400 && count_rows(part(&c, 1), "distribution") > 0; step++) {
            uint32_t dice = (uint32_t)tandem_rand_below(r, 10);
            if (c.send_count > 0 && dice < 6) {
                deliver(&c, (uint32_t)tandem_rand_below(r, c.send_count));
            } else if (c.send_count > 0 && dice < 8) {
                uint32_t i = (uint32_t)tandem_rand_below(r, c.send_count);
                tandem_buf_free(&c.sends[i].bytes);
                memmove(&c.sends[i], &c.sends[i + 1], (c.send_count - i - 1) * sizeof(sent));
                c.send_count--; /* lost */
            } else if (c.send_count + 4 <= SENDS_MAX) {
                for (uint32_t p = 0; p < PARTS; p++) {
                    part(&c, p + 1)->now_ms += 1500;
                }
                uint64_t now = part(&c, 1)->now_ms;
                resends(part(&c, 1), since, now, &out, NULL);
                since = now;
                keep_sends(&c, &out);
            }
        }
        CHECK_MSG(count_rows(part(&c, 1), "distribution") == 0,
                  "seed %llu round %llu: distribution did not finish", (unsigned long long)seed,
                  (unsigned long long)round);
        for (uint32_t p = 1; p <= PARTS; p++) {
            CHECK_EQ_U64(2, count_rows(part(&c, p), "process"));
            CHECK_EQ_U64(2, count_rows(part(&c, p), "deployment"));
        }
        tandem_engine_output_free(&out);
        cluster_free(&c);
    }
}

static const tandem_test cases[] = {
    {"deploy_writes_distribution", test_deploy_writes_distribution},
    {"single_partition_does_not_distribute", test_single_partition_does_not_distribute},
    {"receive_ack_finish", test_receive_ack_finish},
    {"repeats_are_harmless", test_repeats_are_harmless},
    {"resend_after_interval", test_resend_after_interval},
    {"versions_out_of_order", test_versions_out_of_order},
    {"receiving_rejections", test_receiving_rejections},
    {"random_delivery", test_random_delivery},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
