/*
 * Result structs -> response JSON, in the field order of the reference's
 * listing. Built with tandem_buf and the escaping helper of the HTTP core
 * rather than a jansson tree: answers are on the hot path and need no tree.
 * Keys are written as JSON strings; versions, retries and deadlines as
 * numbers.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "gateway/gateway_int.h"

static int put(tandem_buf *out, const char *s)
{
    TANDEM_ASSERT(out != NULL && s != NULL);
    TANDEM_ASSERT(out->len <= out->cap);
    return tandem_buf_append(out, s, strlen(s));
}

static int put_i64(tandem_buf *out, int64_t v)
{
    TANDEM_ASSERT(out != NULL);
    char text[24];
    int n = snprintf(text, sizeof(text), "%" PRId64, v);
    TANDEM_ASSERT(n > 0 && (size_t)n < sizeof(text));
    return tandem_buf_append(out, text, (size_t)n);
}

/* ,"name": */
static int put_name(tandem_buf *out, const char *name, bool first)
{
    TANDEM_ASSERT(out != NULL && name != NULL);
    TANDEM_ASSERT(name[0] != '\0' && strchr(name, '"') == NULL); /* names are our literals */
    int rc = first ? TANDEM_OK : put(out, ",");
    rc = rc != TANDEM_OK ? rc : put(out, "\"");
    rc = rc != TANDEM_OK ? rc : put(out, name);
    return rc != TANDEM_OK ? rc : put(out, "\":");
}

static int field_str(tandem_buf *out, const char *name, const char *value, bool first)
{
    TANDEM_ASSERT(out != NULL && name != NULL);
    TANDEM_ASSERT(value != NULL);
    int rc = put_name(out, name, first);
    return rc != TANDEM_OK ? rc : tandem_http_json_string(out, value);
}

static int field_i64(tandem_buf *out, const char *name, int64_t value, bool first)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(name != NULL);
    int rc = put_name(out, name, first);
    return rc != TANDEM_OK ? rc : put_i64(out, value);
}

static int field_key(tandem_buf *out, const char *name, int64_t key, bool first)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(name != NULL);
    int rc = put_name(out, name, first);
    return rc != TANDEM_OK ? rc : gateway_encode_key(out, key);
}

/* A JSON object given as text by the backend; NULL = {}. */
static int field_object(tandem_buf *out, const char *name, const char *json, bool first)
{
    TANDEM_ASSERT(out != NULL && name != NULL);
    TANDEM_ASSERT(json == NULL || json[0] == '{'); /* the backend's contract */
    int rc = put_name(out, name, first);
    return rc != TANDEM_OK ? rc : put(out, json != NULL ? json : "{}");
}

int gateway_encode_key(tandem_buf *out, int64_t key)
{
    TANDEM_ASSERT(out != NULL);
    int rc = put(out, "\"");
    rc = rc != TANDEM_OK ? rc : put_i64(out, key);
    return rc != TANDEM_OK ? rc : put(out, "\"");
}

static const char *role_name(tandem_gateway_role role)
{
    switch (role) {
    case TANDEM_GATEWAY_ROLE_LEADER:
        return "leader";
    case TANDEM_GATEWAY_ROLE_FOLLOWER:
        return "follower";
    case TANDEM_GATEWAY_ROLE_INACTIVE:
        return "inactive";
    }
    TANDEM_UNREACHABLE();
}

static const char *health_name(tandem_gateway_health health)
{
    switch (health) {
    case TANDEM_GATEWAY_HEALTHY:
        return "healthy";
    case TANDEM_GATEWAY_UNHEALTHY:
        return "unhealthy";
    case TANDEM_GATEWAY_DEAD:
        return "dead";
    }
    TANDEM_UNREACHABLE();
}

static int encode_broker(tandem_buf *out, const tandem_gateway_broker *b)
{
    TANDEM_ASSERT(out != NULL && b != NULL);
    TANDEM_ASSERT(b->partition_count <= TANDEM_GATEWAY_PARTITIONS_MAX);
    int rc = put(out, "{");
    rc = rc != TANDEM_OK ? rc : field_i64(out, "nodeId", b->node_id, true);
    rc = rc != TANDEM_OK ? rc : field_str(out, "host", b->host, false);
    rc = rc != TANDEM_OK ? rc : field_i64(out, "port", b->port, false);
    rc = rc != TANDEM_OK ? rc : put(out, ",\"partitions\":[");
    for (uint32_t i = 0; rc == TANDEM_OK && i < b->partition_count; i++) {
        const tandem_gateway_partition *p = &b->partitions[i];
        rc = put(out, i > 0 ? ",{" : "{");
        rc = rc != TANDEM_OK ? rc : field_i64(out, "partitionId", p->partition_id, true);
        rc = rc != TANDEM_OK ? rc : field_str(out, "role", role_name(p->role), false);
        rc = rc != TANDEM_OK ? rc : field_str(out, "health", health_name(p->health), false);
        rc = rc != TANDEM_OK ? rc : put(out, "}");
    }
    rc = rc != TANDEM_OK ? rc : put(out, "]");
    rc = rc != TANDEM_OK ? rc : field_str(out, "version", b->version, false);
    return rc != TANDEM_OK ? rc : put(out, "}");
}

int gateway_encode_topology(tandem_buf *out, const tandem_gateway_topology *t,
                            const char *gateway_version)
{
    TANDEM_ASSERT(out != NULL && t != NULL);
    TANDEM_ASSERT(t->broker_count <= TANDEM_GATEWAY_BROKERS_MAX && gateway_version != NULL);
    int rc = put(out, "{\"brokers\":[");
    for (uint32_t i = 0; rc == TANDEM_OK && i < t->broker_count; i++) {
        rc = i > 0 ? put(out, ",") : TANDEM_OK;
        rc = rc != TANDEM_OK ? rc : encode_broker(out, &t->brokers[i]);
    }
    rc = rc != TANDEM_OK ? rc : put(out, "]");
    rc = rc != TANDEM_OK ? rc : field_i64(out, "clusterSize", t->cluster_size, false);
    rc = rc != TANDEM_OK ? rc : field_i64(out, "partitionsCount", t->partitions_count, false);
    rc = rc != TANDEM_OK ? rc : field_i64(out, "replicationFactor", t->replication_factor, false);
    rc = rc != TANDEM_OK ? rc : field_str(out, "gatewayVersion", gateway_version, false);
    rc = rc != TANDEM_OK
             ? rc
             : field_key(out, "lastCompletedChangeId", t->last_completed_change_id, false);
    return rc != TANDEM_OK ? rc : put(out, "}");
}

int gateway_encode_deployment(tandem_buf *out, const tandem_gateway_deployment *d)
{
    TANDEM_ASSERT(out != NULL && d != NULL);
    TANDEM_ASSERT(d->processes != NULL || d->process_count == 0);
    int rc = put(out, "{");
    rc = rc != TANDEM_OK ? rc : field_str(out, "tenantId", TANDEM_GATEWAY_DEFAULT_TENANT, true);
    rc = rc != TANDEM_OK ? rc : field_key(out, "deploymentKey", d->deployment_key, false);
    rc = rc != TANDEM_OK ? rc : put(out, ",\"deployments\":[");
    for (uint32_t i = 0; rc == TANDEM_OK && i < d->process_count; i++) {
        const tandem_gateway_deployed_process *p = &d->processes[i];
        rc = put(out, i > 0 ? ",{\"processDefinition\":{" : "{\"processDefinition\":{");
        rc = rc != TANDEM_OK
                 ? rc
                 : field_str(out, "processDefinitionId", p->process_definition_id, true);
        rc = rc != TANDEM_OK ? rc : field_i64(out, "processDefinitionVersion", p->version, false);
        rc = rc != TANDEM_OK ? rc : field_str(out, "resourceName", p->resource_name, false);
        rc =
            rc != TANDEM_OK ? rc : field_str(out, "tenantId", TANDEM_GATEWAY_DEFAULT_TENANT, false);
        rc = rc != TANDEM_OK
                 ? rc
                 : field_key(out, "processDefinitionKey", p->process_definition_key, false);
        rc = rc != TANDEM_OK ? rc : put(out, "}}");
    }
    return rc != TANDEM_OK ? rc : put(out, "]}");
}

int gateway_encode_instance(tandem_buf *out, const tandem_gateway_instance *pi)
{
    TANDEM_ASSERT(out != NULL && pi != NULL);
    TANDEM_ASSERT(pi->process_definition_id != NULL);
    int rc = put(out, "{");
    rc = rc != TANDEM_OK ? rc
                         : field_str(out, "processDefinitionId", pi->process_definition_id, true);
    rc = rc != TANDEM_OK ? rc : field_i64(out, "processDefinitionVersion", pi->version, false);
    rc = rc != TANDEM_OK ? rc : field_str(out, "tenantId", TANDEM_GATEWAY_DEFAULT_TENANT, false);
    rc = rc != TANDEM_OK ? rc : field_object(out, "variables", pi->variables_json, false);
    rc = rc != TANDEM_OK
             ? rc
             : field_key(out, "processDefinitionKey", pi->process_definition_key, false);
    rc = rc != TANDEM_OK ? rc
                         : field_key(out, "processInstanceKey", pi->process_instance_key, false);
    return rc != TANDEM_OK ? rc : put(out, "}");
}

static int encode_job(tandem_buf *out, const tandem_gateway_job *j)
{
    TANDEM_ASSERT(out != NULL && j != NULL);
    TANDEM_ASSERT(j->type != NULL && j->process_definition_id != NULL && j->element_id != NULL);
    int rc = put(out, "{");
    rc = rc != TANDEM_OK ? rc : field_str(out, "type", j->type, true);
    rc = rc != TANDEM_OK ? rc
                         : field_str(out, "processDefinitionId", j->process_definition_id, false);
    rc = rc != TANDEM_OK
             ? rc
             : field_i64(out, "processDefinitionVersion", j->process_definition_version, false);
    rc = rc != TANDEM_OK ? rc : field_str(out, "elementId", j->element_id, false);
    rc = rc != TANDEM_OK ? rc : field_object(out, "customHeaders", j->custom_headers_json, false);
    rc = rc != TANDEM_OK ? rc : field_str(out, "worker", j->worker != NULL ? j->worker : "", false);
    rc = rc != TANDEM_OK ? rc : field_i64(out, "retries", j->retries, false);
    rc = rc != TANDEM_OK ? rc : field_i64(out, "deadline", j->deadline_ms, false);
    rc = rc != TANDEM_OK ? rc : field_object(out, "variables", j->variables_json, false);
    rc = rc != TANDEM_OK ? rc : field_str(out, "tenantId", TANDEM_GATEWAY_DEFAULT_TENANT, false);
    rc = rc != TANDEM_OK ? rc : field_key(out, "jobKey", j->job_key, false);
    rc =
        rc != TANDEM_OK ? rc : field_key(out, "processInstanceKey", j->process_instance_key, false);
    rc = rc != TANDEM_OK ? rc
                         : field_key(out, "processDefinitionKey", j->process_definition_key, false);
    rc =
        rc != TANDEM_OK ? rc : field_key(out, "elementInstanceKey", j->element_instance_key, false);
    rc = rc != TANDEM_OK ? rc : field_str(out, "kind", "BPMN_ELEMENT", false);
    rc = rc != TANDEM_OK ? rc : field_str(out, "listenerEventType", "UNSPECIFIED", false);
    return rc != TANDEM_OK ? rc : put(out, "}");
}

int gateway_encode_jobs(tandem_buf *out, const tandem_gateway_job *jobs, size_t count)
{
    TANDEM_ASSERT(out != NULL);
    TANDEM_ASSERT(jobs != NULL || count == 0);
    int rc = put(out, "{\"jobs\":[");
    for (size_t i = 0; rc == TANDEM_OK && i < count; i++) {
        rc = i > 0 ? put(out, ",") : TANDEM_OK;
        rc = rc != TANDEM_OK ? rc : encode_job(out, &jobs[i]);
    }
    return rc != TANDEM_OK ? rc : put(out, "]}");
}
