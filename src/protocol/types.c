#include "protocol/types.h"

#include <stdio.h>
#include <string.h>

#include "base/assert.h"

#define VALUE_TYPE_SLOTS 256

static const char *const record_type_names[TANDEM_RECORD_TYPE_COUNT] = {
    [TANDEM_RECORD_EVENT] = "EVENT",
    [TANDEM_RECORD_COMMAND] = "COMMAND",
    [TANDEM_RECORD_COMMAND_REJECTION] = "COMMAND_REJECTION",
};

static const char *const rejection_type_names[TANDEM_REJECTION_TYPE_COUNT] = {
    [TANDEM_REJECTION_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
    [TANDEM_REJECTION_NOT_FOUND] = "NOT_FOUND",
    [TANDEM_REJECTION_ALREADY_EXISTS] = "ALREADY_EXISTS",
    [TANDEM_REJECTION_INVALID_STATE] = "INVALID_STATE",
    [TANDEM_REJECTION_PROCESSING_ERROR] = "PROCESSING_ERROR",
    [TANDEM_REJECTION_EXCEEDED_BATCH_RECORD_SIZE] = "EXCEEDED_BATCH_RECORD_SIZE",
    [TANDEM_REJECTION_UNAUTHORIZED] = "UNAUTHORIZED",
    [TANDEM_REJECTION_FORBIDDEN] = "FORBIDDEN",
};

/* Value types are a uint8 on the wire, so a full table indexes them directly. */
static const char *const value_type_names[VALUE_TYPE_SLOTS] = {
#define VALUE_TYPE_NAME_(name, num) [num] = #name,
    TANDEM_VALUE_TYPES(VALUE_TYPE_NAME_)
#undef VALUE_TYPE_NAME_
};

typedef struct intent_entry {
    uint8_t value_type;
    uint16_t intent;
    const char *name;
} intent_entry;

/* A flat table: about 130 entries, so a scan costs less than building an index. */
static const intent_entry intents[] = {
#define INTENT_ENTRY_(vt, name, num) {TANDEM_VALUE_##vt, num, #name},
    TANDEM_INTENTS(INTENT_ENTRY_)
#undef INTENT_ENTRY_
};
#define INTENT_COUNT (sizeof(intents) / sizeof(intents[0]))

static const char *unknown(unsigned n, tandem_name_buf *scratch)
{
    TANDEM_ASSERT(scratch != NULL);
    int len = snprintf(scratch->text, sizeof(scratch->text), "UNKNOWN(%u)", n);
    TANDEM_ASSERT(len > 0 && (size_t)len < sizeof(scratch->text));
    return scratch->text;
}

const char *tandem_record_type_name(unsigned record_type, tandem_name_buf *scratch)
{
    TANDEM_ASSERT(scratch != NULL);
    if (record_type < TANDEM_RECORD_TYPE_COUNT) {
        return record_type_names[record_type];
    }
    return unknown(record_type, scratch);
}

const char *tandem_rejection_type_name(unsigned rejection_type, tandem_name_buf *scratch)
{
    TANDEM_ASSERT(scratch != NULL);
    if (rejection_type < TANDEM_REJECTION_TYPE_COUNT) {
        TANDEM_ASSERT(rejection_type_names[rejection_type] != NULL);
        return rejection_type_names[rejection_type];
    }
    if (rejection_type == TANDEM_REJECTION_NONE) {
        return "NONE";
    }
    return unknown(rejection_type, scratch);
}

bool tandem_value_type_known(unsigned value_type)
{
    _Static_assert(sizeof(value_type_names) / sizeof(value_type_names[0]) == UINT8_MAX + 1,
                   "one slot per uint8 value type");
    return value_type < VALUE_TYPE_SLOTS && value_type_names[value_type] != NULL;
}

const char *tandem_value_type_name(unsigned value_type, tandem_name_buf *scratch)
{
    TANDEM_ASSERT(scratch != NULL);
    if (tandem_value_type_known(value_type)) {
        return value_type_names[value_type];
    }
    return unknown(value_type, scratch);
}

static const intent_entry *find_intent(unsigned value_type, unsigned intent)
{
    _Static_assert(INTENT_COUNT > 0 && INTENT_COUNT < 1000, "intent table size");
    for (size_t i = 0; i < INTENT_COUNT; i++) {
        if (intents[i].value_type == value_type && intents[i].intent == intent) {
            TANDEM_ASSERT(intents[i].name != NULL);
            return &intents[i];
        }
    }
    return NULL;
}

bool tandem_intent_known(unsigned value_type, unsigned intent)
{
    return find_intent(value_type, intent) != NULL;
}

const char *tandem_intent_name(unsigned value_type, unsigned intent, tandem_name_buf *scratch)
{
    TANDEM_ASSERT(scratch != NULL);
    const intent_entry *e = find_intent(value_type, intent);
    return e != NULL ? e->name : unknown(intent, scratch);
}

int tandem_record_type_parse(const char *name)
{
    TANDEM_ASSERT(name != NULL);
    for (int i = 0; i < TANDEM_RECORD_TYPE_COUNT; i++) {
        if (strcmp(record_type_names[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

int tandem_value_type_parse(const char *name)
{
    TANDEM_ASSERT(name != NULL);
    for (int i = 0; i < VALUE_TYPE_SLOTS; i++) {
        if (value_type_names[i] != NULL && strcmp(value_type_names[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

int tandem_intent_parse(unsigned value_type, const char *name)
{
    TANDEM_ASSERT(name != NULL);
    for (size_t i = 0; i < INTENT_COUNT; i++) {
        if (intents[i].value_type == value_type && strcmp(intents[i].name, name) == 0) {
            return intents[i].intent;
        }
    }
    return -1;
}
