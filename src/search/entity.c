/*
 * The read API's fixed tables: for each entity the FROM clause and, for
 * each field of the 8.8 API, the SQL expression over the store's columns.
 * These are the only SQL identifiers a search statement can contain.
 *
 * Fields of the 8.8 filters that the store has no data for (batch
 * operations, tags, denied job listeners, ...) are deliberately absent:
 * a filter on them is answered 400 naming the field instead of being
 * silently ignored.
 */
#include <string.h>

#include "base/assert.h"
#include "search/search_int.h"

#define F        SEARCH_F_FILTER
#define S        SEARCH_F_SORT
#define O        SEARCH_F_OUT
#define D        SEARCH_F_DEFAULT
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const pi_states[] = {"ACTIVE", "COMPLETED", "TERMINATED", NULL};
static const char *const incident_states[] = {"ACTIVE", "MIGRATED", "RESOLVED", "PENDING", NULL};
static const char *const job_states[] = {"CANCELED",        "COMPLETED", "CREATED",
                                         "ERROR_THROWN",    "FAILED",    "MIGRATED",
                                         "RETRIES_UPDATED", "TIMED_OUT", NULL};
static const char *const job_kinds[] = {"BPMN_ELEMENT", "EXECUTION_LISTENER", "TASK_LISTENER",
                                        "AD_HOC_SUB_PROCESS", NULL};
static const char *const listener_types[] = {"ASSIGNING",   "CANCELING", "COMPLETING",
                                             "CREATING",    "END",       "START",
                                             "UNSPECIFIED", "UPDATING",  NULL};
static const char *const element_types[] = {"UNSPECIFIED",
                                            "PROCESS",
                                            "SUB_PROCESS",
                                            "EVENT_SUB_PROCESS",
                                            "AD_HOC_SUB_PROCESS",
                                            "AD_HOC_SUB_PROCESS_INNER_INSTANCE",
                                            "START_EVENT",
                                            "INTERMEDIATE_CATCH_EVENT",
                                            "INTERMEDIATE_THROW_EVENT",
                                            "BOUNDARY_EVENT",
                                            "END_EVENT",
                                            "SERVICE_TASK",
                                            "RECEIVE_TASK",
                                            "USER_TASK",
                                            "MANUAL_TASK",
                                            "TASK",
                                            "EXCLUSIVE_GATEWAY",
                                            "INCLUSIVE_GATEWAY",
                                            "PARALLEL_GATEWAY",
                                            "EVENT_BASED_GATEWAY",
                                            "SEQUENCE_FLOW",
                                            "MULTI_INSTANCE_BODY",
                                            "CALL_ACTIVITY",
                                            "BUSINESS_RULE_TASK",
                                            "SCRIPT_TASK",
                                            "SEND_TASK",
                                            "UNKNOWN",
                                            NULL};
static const char *const error_types[] = {"UNSPECIFIED",
                                          "UNKNOWN",
                                          "IO_MAPPING_ERROR",
                                          "JOB_NO_RETRIES",
                                          "EXECUTION_LISTENER_NO_RETRIES",
                                          "TASK_LISTENER_NO_RETRIES",
                                          "AD_HOC_SUB_PROCESS_NO_RETRIES",
                                          "CONDITION_ERROR",
                                          "EXTRACT_VALUE_ERROR",
                                          "CALLED_ELEMENT_ERROR",
                                          "UNHANDLED_ERROR_EVENT",
                                          "MESSAGE_SIZE_EXCEEDED",
                                          "CALLED_DECISION_ERROR",
                                          "DECISION_EVALUATION_ERROR",
                                          "FORM_NOT_FOUND",
                                          "RESOURCE_NOT_FOUND",
                                          NULL};

/* Process instances filtered by their element instances (an element with
 * this id in this state...) and by the message of an active incident. */
static const char group_element[] =
    "EXISTS (SELECT 1 FROM element_instance fe WHERE fe.process_instance_key = "
    "pi.process_instance_key";
static const char group_incident[] =
    "EXISTS (SELECT 1 FROM incident fi WHERE fi.process_instance_key = pi.process_instance_key "
    "AND fi.state = 'ACTIVE'";
#define GROUP_ELEMENT  group_element
#define GROUP_INCIDENT group_incident

const char *const search_groups[] = {group_element, group_incident, NULL};

/* processDefinitionName: the BPMN name, else the id (as Camunda shows it). */
static const search_field pi_fields[] = {
    {"processInstanceKey", "pi.process_instance_key", SEARCH_KEY, F | S | O, NULL, NULL},
    {"processDefinitionId", "pi.process_definition_id", SEARCH_STRING, F | S | O, NULL, NULL},
    {"processDefinitionName", "COALESCE(pd.name, pi.process_definition_id)", SEARCH_STRING,
     F | S | O, NULL, NULL},
    {"processDefinitionVersion", "pi.process_definition_version", SEARCH_INT, F | S | O, NULL,
     NULL},
    {"processDefinitionVersionTag", "pi.process_definition_version_tag", SEARCH_STRING, F | S | O,
     NULL, NULL},
    {"startDate", "pi.start_date", SEARCH_DATE, F | S | O, NULL, NULL},
    {"endDate", "pi.end_date", SEARCH_DATE, F | S | O, NULL, NULL},
    {"state", "pi.state", SEARCH_ENUM, F | S | O, pi_states, NULL},
    {"hasIncident", "pi.has_incident", SEARCH_BOOL, F | S | O | D, NULL, NULL},
    {"tenantId", "pi.tenant_id", SEARCH_STRING, F | S | O, NULL, NULL},
    {"processDefinitionKey", "pi.process_definition_key", SEARCH_KEY, F | S | O, NULL, NULL},
    {"parentProcessInstanceKey", "pi.parent_process_instance_key", SEARCH_KEY, F | S | O, NULL,
     NULL},
    {"parentElementInstanceKey", "pi.parent_element_instance_key", SEARCH_KEY, F | S | O, NULL,
     NULL},
    {"variables", "pi.process_instance_key", SEARCH_VARIABLES, F, NULL, NULL},
    {"elementId", "fe.element_id", SEARCH_STRING, F, NULL, GROUP_ELEMENT},
    {"elementInstanceState", "fe.state", SEARCH_ENUM, F, pi_states, GROUP_ELEMENT},
    {"hasElementInstanceIncident", "fe.has_incident", SEARCH_BOOL, F, NULL, GROUP_ELEMENT},
    {"errorMessage", "fi.error_message", SEARCH_STRING, F, NULL, GROUP_INCIDENT},
};

/* hasStartForm: forms are not supported, so never. state: definitions are
 * never deleted here, so ACTIVE (the zod schema of 8.8 requires it). */
static const search_field pd_fields[] = {
    {"processDefinitionKey", "pd.process_definition_key", SEARCH_KEY, F | S | O, NULL, NULL},
    {"name", "pd.name", SEARCH_STRING, F | S | O, NULL, NULL},
    {"resourceName", "pd.resource_name", SEARCH_STRING, F | S | O, NULL, NULL},
    {"version", "pd.version", SEARCH_INT, F | S | O, NULL, NULL},
    {"versionTag", "pd.version_tag", SEARCH_STRING, F | S | O, NULL, NULL},
    {"processDefinitionId", "pd.process_definition_id", SEARCH_STRING, F | S | O, NULL, NULL},
    {"tenantId", "pd.tenant_id", SEARCH_STRING, F | S | O, NULL, NULL},
    {"hasStartForm", "0", SEARCH_BOOL, F | O | D, NULL, NULL},
    {"isLatestVersion",
     "(pd.version = (SELECT MAX(p2.version) FROM process_definition p2 WHERE "
     "p2.process_definition_id = pd.process_definition_id AND p2.tenant_id = pd.tenant_id))",
     SEARCH_BOOL, F, NULL, NULL},
    {"state", "'ACTIVE'", SEARCH_STRING, O, NULL, NULL},
};

static const search_field ei_fields[] = {
    {"elementInstanceKey", "ei.element_instance_key", SEARCH_KEY, F | S | O, NULL, NULL},
    {"processInstanceKey", "ei.process_instance_key", SEARCH_KEY, F | S | O, NULL, NULL},
    {"processDefinitionKey", "ei.process_definition_key", SEARCH_KEY, F | S | O, NULL, NULL},
    {"processDefinitionId", "ei.process_definition_id", SEARCH_STRING, F | S | O, NULL, NULL},
    {"startDate", "ei.start_date", SEARCH_DATE, F | S | O, NULL, NULL},
    {"endDate", "ei.end_date", SEARCH_DATE, F | S | O, NULL, NULL},
    {"elementId", "ei.element_id", SEARCH_STRING, F | S | O, NULL, NULL},
    {"elementName", "COALESCE(ei.element_name, ei.element_id)", SEARCH_STRING, F | S | O, NULL,
     NULL},
    {"type", "ei.type", SEARCH_ENUM, F | S | O, element_types, NULL},
    {"state", "ei.state", SEARCH_ENUM, F | S | O, pi_states, NULL},
    {"hasIncident", "ei.has_incident", SEARCH_BOOL, F | O | D, NULL, NULL},
    {"incidentKey", "ei.incident_key", SEARCH_KEY, F | S | O, NULL, NULL},
    {"tenantId", "ei.tenant_id", SEARCH_STRING, F | S | O, NULL, NULL},
    {"elementInstanceScopeKey", "ei.flow_scope_key", SEARCH_KEY, F, NULL, NULL},
};

/* value is written truncated in lists (exec.c); isTruncated is computed. */
static const search_field var_fields[] = {
    {"variableKey", "v.variable_key", SEARCH_KEY, F | S | O, NULL, NULL},
    {"name", "v.name", SEARCH_STRING, F | S | O, NULL, NULL},
    {"value", "v.value", SEARCH_VALUE, F | S | O, NULL, NULL},
    {"tenantId", "v.tenant_id", SEARCH_STRING, F | S | O, NULL, NULL},
    {"scopeKey", "v.scope_key", SEARCH_KEY, F | S | O, NULL, NULL},
    {"processInstanceKey", "v.process_instance_key", SEARCH_KEY, F | S | O, NULL, NULL},
    {"isTruncated", "(length(v.value) > 8191)", SEARCH_BOOL, F, NULL, NULL},
};
_Static_assert(TANDEM_SEARCH_VALUE_CHARS_MAX == 8191, "the isTruncated expression above");

static const search_field inc_fields[] = {
    {"incidentKey", "i.incident_key", SEARCH_KEY, F | S | O, NULL, NULL},
    {"processDefinitionKey", "i.process_definition_key", SEARCH_KEY, F | S | O, NULL, NULL},
    {"processDefinitionId", "i.process_definition_id", SEARCH_STRING, F | S | O, NULL, NULL},
    {"processInstanceKey", "i.process_instance_key", SEARCH_KEY, F | S | O, NULL, NULL},
    {"errorType", "i.error_type", SEARCH_ENUM, F | S | O, error_types, NULL},
    {"errorMessage", "COALESCE(i.error_message, '')", SEARCH_STRING, F | S | O, NULL, NULL},
    {"elementId", "i.element_id", SEARCH_STRING, F | S | O, NULL, NULL},
    {"elementInstanceKey", "i.element_instance_key", SEARCH_KEY, F | S | O, NULL, NULL},
    {"creationTime", "i.creation_time", SEARCH_DATE, F | S | O, NULL, NULL},
    {"state", "i.state", SEARCH_ENUM, F | S | O, incident_states, NULL},
    {"jobKey", "i.job_key", SEARCH_KEY, F | S | O, NULL, NULL},
    {"tenantId", "i.tenant_id", SEARCH_STRING, F | S | O, NULL, NULL},
};

/* The zod schemas of 8.8 require errorCode, errorMessage, deniedReason and
 * isDenied on every job, so they are written as "" / false when empty. */
static const search_field job_fields[] = {
    {"jobKey", "j.job_key", SEARCH_KEY, F | S | O, NULL, NULL},
    {"type", "j.type", SEARCH_STRING, F | S | O, NULL, NULL},
    {"worker", "COALESCE(j.worker, '')", SEARCH_STRING, F | S | O, NULL, NULL},
    {"state", "j.state", SEARCH_ENUM, F | S | O, job_states, NULL},
    {"kind", "COALESCE(j.kind, 'BPMN_ELEMENT')", SEARCH_ENUM, F | S | O, job_kinds, NULL},
    {"listenerEventType", "COALESCE(j.listener_event_type, 'UNSPECIFIED')", SEARCH_ENUM, F | S | O,
     listener_types, NULL},
    {"retries", "j.retries", SEARCH_INT, F | S | O, NULL, NULL},
    {"deadline", "j.deadline", SEARCH_DATE, F | S | O, NULL, NULL},
    {"endTime", "j.end_time", SEARCH_DATE, F | S | O, NULL, NULL},
    {"errorCode", "j.error_code", SEARCH_STRING, F | S | O | D, NULL, NULL},
    {"errorMessage", "j.error_message", SEARCH_STRING, F | S | O | D, NULL, NULL},
    {"hasFailedWithRetriesLeft", "j.has_failed_with_retries_left", SEARCH_BOOL, F | O | D, NULL,
     NULL},
    {"isDenied", "0", SEARCH_BOOL, O | D, NULL, NULL},
    {"deniedReason", "NULL", SEARCH_STRING, O | D, NULL, NULL},
    {"elementId", "j.element_id", SEARCH_STRING, F | S | O, NULL, NULL},
    {"elementInstanceKey", "j.element_instance_key", SEARCH_KEY, F | S | O, NULL, NULL},
    {"processInstanceKey", "j.process_instance_key", SEARCH_KEY, F | S | O, NULL, NULL},
    {"processDefinitionKey", "j.process_definition_key", SEARCH_KEY, F | S | O, NULL, NULL},
    {"processDefinitionId", "j.process_definition_id", SEARCH_STRING, F | S | O, NULL, NULL},
    {"customHeaders", "j.custom_headers", SEARCH_OBJECT, O, NULL, NULL},
    {"tenantId", "j.tenant_id", SEARCH_STRING, F | S | O, NULL, NULL},
};

static const search_entity entities[TANDEM_SEARCH_ENTITY_COUNT] = {
    [TANDEM_SEARCH_PROCESS_INSTANCE] =
        {TANDEM_SEARCH_PROCESS_INSTANCE, "Process instance", "process_instance",
         "process_instance pi LEFT JOIN process_definition pd ON pd.process_definition_key = "
         "pi.process_definition_key",
         "pi.process_instance_key", "pi.process_instance_key", true, pi_fields, COUNT(pi_fields)},
    [TANDEM_SEARCH_PROCESS_DEFINITION] = {TANDEM_SEARCH_PROCESS_DEFINITION, "Process definition",
                                          "process_definition", "process_definition pd",
                                          "pd.process_definition_key", NULL, false, pd_fields,
                                          COUNT(pd_fields)},
    [TANDEM_SEARCH_ELEMENT_INSTANCE] = {TANDEM_SEARCH_ELEMENT_INSTANCE, "Element instance",
                                        "element_instance", "element_instance ei",
                                        "ei.element_instance_key", "ei.process_instance_key", false,
                                        ei_fields, COUNT(ei_fields)},
    [TANDEM_SEARCH_VARIABLE] = {TANDEM_SEARCH_VARIABLE, "Variable", "variable", "variable v",
                                "v.variable_key", "v.process_instance_key", false, var_fields,
                                COUNT(var_fields)},
    [TANDEM_SEARCH_INCIDENT] = {TANDEM_SEARCH_INCIDENT, "Incident", "incident", "incident i",
                                "i.incident_key", "i.process_instance_key", false, inc_fields,
                                COUNT(inc_fields)},
    [TANDEM_SEARCH_JOB] = {TANDEM_SEARCH_JOB, "Job", "job", "job j", "j.job_key",
                           "j.process_instance_key", false, job_fields, COUNT(job_fields)},
};

const search_entity *search_entity_get(tandem_search_entity id)
{
    TANDEM_ASSERT(id < TANDEM_SEARCH_ENTITY_COUNT);
    const search_entity *e = &entities[id];
    TANDEM_ASSERT(e->id == id && e->field_count > 0);
    return e;
}

const search_field *search_field_find(const search_entity *e, const char *name)
{
    TANDEM_ASSERT(e != NULL && name != NULL);
    TANDEM_ASSERT(e->fields != NULL);
    for (size_t i = 0; i < e->field_count; i++) {
        if (strcmp(e->fields[i].name, name) == 0) {
            return &e->fields[i];
        }
    }
    return NULL;
}
