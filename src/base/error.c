#include "base/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/assert.h"

static const char *const messages[] = {
#define TANDEM_ERROR_MSG_(name, msg) msg,
    TANDEM_ERRORS(TANDEM_ERROR_MSG_)
#undef TANDEM_ERROR_MSG_
};

static const char *const names[] = {
#define TANDEM_ERROR_NAME_(name, msg) #name,
    TANDEM_ERRORS(TANDEM_ERROR_NAME_)
#undef TANDEM_ERROR_NAME_
};

_Static_assert(sizeof(messages) / sizeof(messages[0]) == TANDEM_ERROR_COUNT, "message table");

const char *tandem_strerror(int code)
{
    if (code < 0 || code >= TANDEM_ERROR_COUNT) {
        return "unknown error";
    }
    return messages[code];
}

const char *tandem_errname(int code)
{
    if (code < 0 || code >= TANDEM_ERROR_COUNT) {
        return "TANDEM_EUNKNOWN";
    }
    return names[code];
}

int tandem_from_errno(int err)
{
    switch (err) {
    case 0:
        return TANDEM_OK;
    case ENOSPC:
    case EDQUOT:
        return TANDEM_ENOSPC;
    case EIO:
        return TANDEM_EIO;
    case ENOENT:
        return TANDEM_ENOENT;
    case EEXIST:
        return TANDEM_EEXIST;
    case EACCES:
    case EPERM:
        return TANDEM_EACCES;
    case ENOMEM:
        return TANDEM_ENOMEM;
    default:
        return TANDEM_ESYS;
    }
}

int tandem_diag_vset(tandem_diag *d, int code, const char *fmt, va_list ap)
{
    TANDEM_ASSERT(fmt != NULL);
    if (d != NULL) {
        d->code = code;
        vsnprintf(d->message, sizeof(d->message), fmt, ap);
    }
    return code;
}

int tandem_diag_set(tandem_diag *d, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = tandem_diag_vset(d, code, fmt, ap);
    va_end(ap);
    return rc;
}

void tandem_diag_clear(tandem_diag *d)
{
    if (d != NULL) {
        d->code = 0;
        d->message[0] = '\0';
    }
}

const char *tandem_diag_text(const tandem_diag *d)
{
    TANDEM_ASSERT(d != NULL);
    if (d->message[0] != '\0') {
        return d->message;
    }
    return tandem_strerror(d->code);
}
