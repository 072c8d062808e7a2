/*
 * types.h — the numbers that classify a record, and their names for humans.
 *
 * Record types, value types, intents and rejection types use Zeebe's numbers
 * (Zeebe's protocol.xml and intent enums), so logs, exports and tools line up
 * with what Camunda users know. An intent number means something only together
 * with its value type (JOB 2 is COMPLETED, TIMER 2 is TRIGGERED).
 *
 * The numbers are open-ended: a newer broker may write a value type or intent
 * this build does not know, and such records must still be read, copied and
 * printed. The name lookups therefore never fail: a known number gives its
 * static name, an unknown one gives "UNKNOWN(n)" formatted into a
 * tandem_name_buf that the caller owns. The returned pointer is either a
 * static string or `scratch->text`, so it is valid as long as `scratch`.
 */
#ifndef TANDEM_PROTOCOL_TYPES_H
#define TANDEM_PROTOCOL_TYPES_H

#include <stdbool.h>
#include <stdint.h>

/* ---- Record types ------------------------------------------------------- */

enum tandem_record_type {
    TANDEM_RECORD_EVENT = 0,
    TANDEM_RECORD_COMMAND = 1,
    TANDEM_RECORD_COMMAND_REJECTION = 2,
};
#define TANDEM_RECORD_TYPE_COUNT 3

/* ---- Rejection types ---------------------------------------------------- */

enum tandem_rejection_type {
    TANDEM_REJECTION_INVALID_ARGUMENT = 0,
    TANDEM_REJECTION_NOT_FOUND = 1,
    TANDEM_REJECTION_ALREADY_EXISTS = 2,
    TANDEM_REJECTION_INVALID_STATE = 3,
    TANDEM_REJECTION_PROCESSING_ERROR = 4,
    TANDEM_REJECTION_EXCEEDED_BATCH_RECORD_SIZE = 5,
    TANDEM_REJECTION_UNAUTHORIZED = 6,
    TANDEM_REJECTION_FORBIDDEN = 7,
    /* Not a rejection (Zeebe's SBE null value for the uint8 field). */
    TANDEM_REJECTION_NONE = 255,
};
#define TANDEM_REJECTION_TYPE_COUNT 8

/* ---- Value types -------------------------------------------------------- */

#define TANDEM_VALUE_TYPES(X)                                                                      \
    X(JOB, 0)                                                                                      \
    X(DEPLOYMENT, 4)                                                                               \
    X(PROCESS_INSTANCE, 5)                                                                         \
    X(INCIDENT, 6)                                                                                 \
    X(MESSAGE, 10)                                                                                 \
    X(MESSAGE_SUBSCRIPTION, 11)                                                                    \
    X(PROCESS_MESSAGE_SUBSCRIPTION, 12)                                                            \
    X(JOB_BATCH, 14)                                                                               \
    X(TIMER, 15)                                                                                   \
    X(MESSAGE_START_EVENT_SUBSCRIPTION, 16)                                                        \
    X(VARIABLE, 17)                                                                                \
    X(VARIABLE_DOCUMENT, 18)                                                                       \
    X(PROCESS_INSTANCE_CREATION, 19)                                                               \
    X(ERROR, 20)                                                                                   \
    X(PROCESS_INSTANCE_RESULT, 21)                                                                 \
    X(PROCESS, 22)                                                                                 \
    X(DEPLOYMENT_DISTRIBUTION, 23)                                                                 \
    X(PROCESS_EVENT, 24)                                                                           \
    X(DECISION, 25)                                                                                \
    X(DECISION_REQUIREMENTS, 26)                                                                   \
    X(DECISION_EVALUATION, 27)                                                                     \
    X(PROCESS_INSTANCE_MODIFICATION, 28)                                                           \
    X(ESCALATION, 29)                                                                              \
    X(SIGNAL_SUBSCRIPTION, 30)                                                                     \
    X(SIGNAL, 31)                                                                                  \
    X(RESOURCE_DELETION, 32)                                                                       \
    X(COMMAND_DISTRIBUTION, 33)                                                                    \
    X(PROCESS_INSTANCE_BATCH, 34)                                                                  \
    X(MESSAGE_BATCH, 35)                                                                           \
    X(FORM, 36)                                                                                    \
    X(USER_TASK, 37)                                                                               \
    X(PROCESS_INSTANCE_MIGRATION, 38)                                                              \
    X(COMPENSATION_SUBSCRIPTION, 39)                                                               \
    X(MESSAGE_CORRELATION, 40)                                                                     \
    X(USER, 41)                                                                                    \
    X(CLOCK, 42)                                                                                   \
    X(AUTHORIZATION, 43)                                                                           \
    X(ROLE, 44)                                                                                    \
    X(TENANT, 45)                                                                                  \
    X(GROUP, 46)                                                                                   \
    X(MAPPING, 47)                                                                                 \
    X(IDENTITY_SETUP, 48)                                                                          \
    X(RESOURCE, 49)                                                                                \
    X(BATCH_OPERATION_CREATION, 50)                                                                \
    X(BATCH_OPERATION_EXECUTION, 51)                                                               \
    X(BATCH_OPERATION_CHUNK, 52)                                                                   \
    X(AD_HOC_SUB_PROCESS_ACTIVITY_ACTIVATION, 53)                                                  \
    X(BATCH_OPERATION_LIFECYCLE_MANAGEMENT, 54)                                                    \
    X(BATCH_OPERATION_PARTITION_LIFECYCLE, 55)                                                     \
    X(ASYNC_REQUEST, 56)                                                                           \
    X(PROBE, 200)                                                                                  \
    X(EXPORTER, 201)                                                                               \
    X(SCALE, 253)                                                                                  \
    X(CHECKPOINT, 254)

enum tandem_value_type {
#define TANDEM_VALUE_TYPE_ENUM_(name, num) TANDEM_VALUE_##name = num,
    TANDEM_VALUE_TYPES(TANDEM_VALUE_TYPE_ENUM_)
#undef TANDEM_VALUE_TYPE_ENUM_
};

/* ---- Intents, per value type ---------------------------------------------
 * X(value type, intent, number). Only what the engine uses or a user is
 * likely to meet in a log; intents newer than 8.8 are left out and print as
 * UNKNOWN(n). */

#define TANDEM_INTENTS(X)                                                                          \
    X(JOB, CREATED, 0)                                                                             \
    X(JOB, COMPLETE, 1)                                                                            \
    X(JOB, COMPLETED, 2)                                                                           \
    X(JOB, TIME_OUT, 3)                                                                            \
    X(JOB, TIMED_OUT, 4)                                                                           \
    X(JOB, FAIL, 5)                                                                                \
    X(JOB, FAILED, 6)                                                                              \
    X(JOB, UPDATE_RETRIES, 7)                                                                      \
    X(JOB, RETRIES_UPDATED, 8)                                                                     \
    X(JOB, CANCEL, 9)                                                                              \
    X(JOB, CANCELED, 10)                                                                           \
    X(JOB, THROW_ERROR, 11)                                                                        \
    X(JOB, ERROR_THROWN, 12)                                                                       \
    X(JOB, RECUR_AFTER_BACKOFF, 13)                                                                \
    X(JOB, RECURRED_AFTER_BACKOFF, 14)                                                             \
    X(JOB, YIELD, 15)                                                                              \
    X(JOB, YIELDED, 16)                                                                            \
    X(JOB, UPDATE_TIMEOUT, 17)                                                                     \
    X(JOB, TIMEOUT_UPDATED, 18)                                                                    \
    X(JOB, MIGRATED, 19)                                                                           \
    X(JOB, UPDATE, 20)                                                                             \
    X(JOB_BATCH, ACTIVATE, 0)                                                                      \
    X(JOB_BATCH, ACTIVATED, 1)                                                                     \
    X(DEPLOYMENT, CREATE, 0)                                                                       \
    X(DEPLOYMENT, CREATED, 1)                                                                      \
    X(DEPLOYMENT, DISTRIBUTE, 2)                                                                   \
    X(DEPLOYMENT, DISTRIBUTED, 3)                                                                  \
    X(DEPLOYMENT, FULLY_DISTRIBUTED, 4)                                                            \
    X(DEPLOYMENT, REQUEST, 5)                                                                      \
    X(DEPLOYMENT, REDEPLOY, 6)                                                                     \
    X(PROCESS, CREATED, 0)                                                                         \
    X(PROCESS, DELETING, 1)                                                                        \
    X(PROCESS, DELETED, 2)                                                                         \
    X(PROCESS_INSTANCE, CANCEL, 0)                                                                 \
    X(PROCESS_INSTANCE, SEQUENCE_FLOW_TAKEN, 1)                                                    \
    X(PROCESS_INSTANCE, ELEMENT_ACTIVATING, 2)                                                     \
    X(PROCESS_INSTANCE, ELEMENT_ACTIVATED, 3)                                                      \
    X(PROCESS_INSTANCE, ELEMENT_COMPLETING, 4)                                                     \
    X(PROCESS_INSTANCE, ELEMENT_COMPLETED, 5)                                                      \
    X(PROCESS_INSTANCE, ELEMENT_TERMINATING, 6)                                                    \
    X(PROCESS_INSTANCE, ELEMENT_TERMINATED, 7)                                                     \
    X(PROCESS_INSTANCE, ACTIVATE_ELEMENT, 8)                                                       \
    X(PROCESS_INSTANCE, COMPLETE_ELEMENT, 9)                                                       \
    X(PROCESS_INSTANCE, TERMINATE_ELEMENT, 10)                                                     \
    X(PROCESS_INSTANCE, ELEMENT_MIGRATED, 11)                                                      \
    X(PROCESS_INSTANCE, COMPLETE_EXECUTION_LISTENER, 12)                                           \
    X(PROCESS_INSTANCE, ANCESTOR_MIGRATED, 13)                                                     \
    X(PROCESS_INSTANCE, CONTINUE_TERMINATING_ELEMENT, 14)                                          \
    X(PROCESS_INSTANCE_CREATION, CREATE, 0)                                                        \
    X(PROCESS_INSTANCE_CREATION, CREATED, 1)                                                       \
    X(PROCESS_INSTANCE_CREATION, CREATE_WITH_AWAITING_RESULT, 2)                                   \
    X(PROCESS_INSTANCE_RESULT, COMPLETED, 0)                                                       \
    X(INCIDENT, CREATED, 0)                                                                        \
    X(INCIDENT, RESOLVE, 1)                                                                        \
    X(INCIDENT, RESOLVED, 2)                                                                       \
    X(INCIDENT, MIGRATED, 3)                                                                       \
    X(VARIABLE, CREATED, 0)                                                                        \
    X(VARIABLE, UPDATED, 1)                                                                        \
    X(VARIABLE, MIGRATED, 2)                                                                       \
    X(VARIABLE_DOCUMENT, UPDATE, 0)                                                                \
    X(VARIABLE_DOCUMENT, UPDATED, 1)                                                               \
    X(VARIABLE_DOCUMENT, UPDATING, 2)                                                              \
    X(MESSAGE, PUBLISH, 0)                                                                         \
    X(MESSAGE, PUBLISHED, 1)                                                                       \
    X(MESSAGE, EXPIRE, 2)                                                                          \
    X(MESSAGE, EXPIRED, 3)                                                                         \
    X(MESSAGE_SUBSCRIPTION, CREATE, 0)                                                             \
    X(MESSAGE_SUBSCRIPTION, CREATED, 1)                                                            \
    X(MESSAGE_SUBSCRIPTION, CORRELATE, 2)                                                          \
    X(MESSAGE_SUBSCRIPTION, CORRELATED, 3)                                                         \
    X(MESSAGE_SUBSCRIPTION, REJECT, 4)                                                             \
    X(MESSAGE_SUBSCRIPTION, REJECTED, 5)                                                           \
    X(MESSAGE_SUBSCRIPTION, DELETE, 6)                                                             \
    X(MESSAGE_SUBSCRIPTION, DELETED, 7)                                                            \
    X(MESSAGE_SUBSCRIPTION, CORRELATING, 8)                                                        \
    X(MESSAGE_SUBSCRIPTION, MIGRATE, 9)                                                            \
    X(MESSAGE_SUBSCRIPTION, MIGRATED, 10)                                                          \
    X(PROCESS_MESSAGE_SUBSCRIPTION, CREATING, 0)                                                   \
    X(PROCESS_MESSAGE_SUBSCRIPTION, CREATE, 1)                                                     \
    X(PROCESS_MESSAGE_SUBSCRIPTION, CREATED, 2)                                                    \
    X(PROCESS_MESSAGE_SUBSCRIPTION, CORRELATE, 3)                                                  \
    X(PROCESS_MESSAGE_SUBSCRIPTION, CORRELATED, 4)                                                 \
    X(PROCESS_MESSAGE_SUBSCRIPTION, DELETING, 5)                                                   \
    X(PROCESS_MESSAGE_SUBSCRIPTION, DELETE, 6)                                                     \
    X(PROCESS_MESSAGE_SUBSCRIPTION, DELETED, 7)                                                    \
    X(PROCESS_MESSAGE_SUBSCRIPTION, MIGRATING, 8)                                                  \
    X(PROCESS_MESSAGE_SUBSCRIPTION, MIGRATE, 9)                                                    \
    X(PROCESS_MESSAGE_SUBSCRIPTION, MIGRATED, 10)                                                  \
    X(MESSAGE_START_EVENT_SUBSCRIPTION, CREATED, 0)                                                \
    X(MESSAGE_START_EVENT_SUBSCRIPTION, CORRELATED, 1)                                             \
    X(MESSAGE_START_EVENT_SUBSCRIPTION, DELETED, 2)                                                \
    X(TIMER, CREATED, 0)                                                                           \
    X(TIMER, TRIGGER, 1)                                                                           \
    X(TIMER, TRIGGERED, 2)                                                                         \
    X(TIMER, CANCEL, 3)                                                                            \
    X(TIMER, CANCELED, 4)                                                                          \
    X(TIMER, MIGRATED, 5)                                                                          \
    X(COMMAND_DISTRIBUTION, STARTED, 0)                                                            \
    X(COMMAND_DISTRIBUTION, DISTRIBUTING, 1)                                                       \
    X(COMMAND_DISTRIBUTION, ACKNOWLEDGE, 2)                                                        \
    X(COMMAND_DISTRIBUTION, ACKNOWLEDGED, 3)                                                       \
    X(COMMAND_DISTRIBUTION, FINISHED, 4)                                                           \
    X(COMMAND_DISTRIBUTION, ENQUEUED, 5)                                                           \
    X(COMMAND_DISTRIBUTION, CONTINUATION_REQUESTED, 6)                                             \
    X(COMMAND_DISTRIBUTION, CONTINUATION_COMPLETED, 7)                                             \
    X(COMMAND_DISTRIBUTION, FINISH, 8)                                                             \
    X(USER_TASK, CREATING, 0)                                                                      \
    X(USER_TASK, CREATED, 1)                                                                       \
    X(USER_TASK, COMPLETE, 2)                                                                      \
    X(USER_TASK, COMPLETING, 3)                                                                    \
    X(USER_TASK, COMPLETED, 4)                                                                     \
    X(USER_TASK, CANCELING, 5)                                                                     \
    X(USER_TASK, CANCELED, 6)                                                                      \
    X(USER_TASK, ASSIGN, 7)                                                                        \
    X(USER_TASK, ASSIGNING, 8)                                                                     \
    X(USER_TASK, ASSIGNED, 9)                                                                      \
    X(USER_TASK, CLAIM, 10)                                                                        \
    X(USER_TASK, UPDATE, 11)                                                                       \
    X(USER_TASK, UPDATING, 12)                                                                     \
    X(USER_TASK, UPDATED, 13)                                                                      \
    X(USER_TASK, MIGRATED, 14)                                                                     \
    X(SIGNAL, BROADCAST, 0)                                                                        \
    X(SIGNAL, BROADCASTED, 1)                                                                      \
    X(ERROR, CREATED, 0)                                                                           \
    X(CLOCK, PIN, 0)                                                                               \
    X(CLOCK, PINNED, 1)                                                                            \
    X(CLOCK, RESET, 2)                                                                             \
    X(CLOCK, RESETTED, 3)                                                                          \
    X(PROBE, APPENDED, 0)                                                                          \
    X(EXPORTER, POSITION_UPDATED, 0)

/* TANDEM_INTENT_JOB_COMPLETED, TANDEM_INTENT_TIMER_TRIGGER, ... */
enum tandem_intent {
#define TANDEM_INTENT_ENUM_(vt, name, num) TANDEM_INTENT_##vt##_##name = num,
    TANDEM_INTENTS(TANDEM_INTENT_ENUM_)
#undef TANDEM_INTENT_ENUM_
};

/* ---- Names -------------------------------------------------------------- */

/* Scratch space for "UNKNOWN(n)" of any uint32 n; owned by the caller. */
typedef struct tandem_name_buf {
    char text[24];
} tandem_name_buf;

/* "EVENT", "COMMAND", "COMMAND_REJECTION", or "UNKNOWN(n)" in scratch. */
const char *tandem_record_type_name(unsigned record_type, tandem_name_buf *scratch);
/* "NOT_FOUND", ..., "NONE" for TANDEM_REJECTION_NONE, or "UNKNOWN(n)" in scratch. */
const char *tandem_rejection_type_name(unsigned rejection_type, tandem_name_buf *scratch);
/* "JOB", "PROCESS_INSTANCE", ..., or "UNKNOWN(n)" in scratch. */
const char *tandem_value_type_name(unsigned value_type, tandem_name_buf *scratch);
/* The intent's name within its value type ("COMPLETED"), or "UNKNOWN(n)" in
 * scratch when the value type or the intent is not in the table. */
const char *tandem_intent_name(unsigned value_type, unsigned intent, tandem_name_buf *scratch);

/* True when the number has a name in the tables above. */
bool tandem_value_type_known(unsigned value_type);
bool tandem_intent_known(unsigned value_type, unsigned intent);

/* Reverse lookups for tools (exact, upper-case names): the number, or -1 when
 * the name is unknown. */
int tandem_record_type_parse(const char *name);
int tandem_value_type_parse(const char *name);
int tandem_intent_parse(unsigned value_type, const char *name);

#endif
