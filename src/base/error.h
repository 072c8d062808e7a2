/*
 * error.h — the one error table of tandem.
 *
 * Every fallible function returns an int: 0 (TANDEM_OK) on success or one of
 * the codes below. errno values and library errors are translated into this
 * table at the boundary where they happen, and the detail that a human needs
 * (file name, offset, key of a configuration entry) goes into a tandem_diag
 * that the caller may pass in.
 *
 * TANDEM_EINCOMPLETE is not an error of the input: a parser returns it when it
 * needs more bytes, distinct from TANDEM_EINVAL / TANDEM_ECORRUPT ("this input
 * is wrong").
 */
#ifndef TANDEM_BASE_ERROR_H
#define TANDEM_BASE_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#define TANDEM_ERRORS(X)                                                                           \
    X(TANDEM_OK, "success")                                                                        \
    X(TANDEM_ENOMEM, "out of memory")                                                              \
    X(TANDEM_EINVAL, "invalid argument")                                                           \
    X(TANDEM_EINCOMPLETE, "incomplete input, more bytes are needed")                               \
    X(TANDEM_ECORRUPT, "data is damaged")                                                          \
    X(TANDEM_EFORMAT, "unsupported format version")                                                \
    X(TANDEM_EIO, "input/output error")                                                            \
    X(TANDEM_ENOSPC, "no space left on device")                                                    \
    X(TANDEM_ENOENT, "no such file or entry")                                                      \
    X(TANDEM_EEXIST, "already exists")                                                             \
    X(TANDEM_EACCES, "permission denied")                                                          \
    X(TANDEM_ESYS, "system call failed")                                                           \
    X(TANDEM_ESTOPPED, "stopped after a failed fsync; restart to recover")                         \
    X(TANDEM_ECONFIG, "invalid configuration")                                                     \
    X(TANDEM_ECLUSTER, "data directory belongs to another cluster or broker")                      \
    X(TANDEM_EFULL, "queue or buffer is full")                                                     \
    X(TANDEM_ERANGE, "value out of range")                                                         \
    X(TANDEM_ETOOBIG, "entry is larger than the limit")                                            \
    X(TANDEM_ESTATE, "operation not allowed in the current state")                                 \
    X(TANDEM_ETIMEDOUT, "timed out")                                                               \
    X(TANDEM_ECLOSED, "closed")                                                                    \
    X(TANDEM_EMISMATCH, "contents differ")

enum tandem_error {
#define TANDEM_ERROR_ENUM_(name, msg) name,
    TANDEM_ERRORS(TANDEM_ERROR_ENUM_)
#undef TANDEM_ERROR_ENUM_
        TANDEM_ERROR_COUNT
};

_Static_assert(TANDEM_OK == 0, "success must be zero");

/* Static message of a code; never NULL (unknown codes give "unknown error"). */
const char *tandem_strerror(int code);

/* Symbolic name of a code ("TANDEM_ECORRUPT"); never NULL. */
const char *tandem_errname(int code);

/* Maps an errno value to the table: ENOSPC/EDQUOT -> TANDEM_ENOSPC, EIO ->
 * TANDEM_EIO, ENOENT -> TANDEM_ENOENT, EEXIST -> TANDEM_EEXIST, EACCES/EPERM
 * -> TANDEM_EACCES, ENOMEM -> TANDEM_ENOMEM, anything else -> TANDEM_ESYS. */
int tandem_from_errno(int err);

/*
 * A diagnostic: a code and a human message with context, filled in by the
 * function that failed. Callers own it (usually on the stack); functions that
 * take a `tandem_diag *` accept NULL when the caller only wants the code.
 */
typedef struct tandem_diag {
    int code;          /* read-only: last code set, 0 when none */
    char message[512]; /* read-only: NUL-terminated, "" when none */
} tandem_diag;

/* Sets code and formatted message (truncated to fit) and returns `code`, so
 * `return tandem_diag_set(d, TANDEM_EIO, "fsync %s: %s", path, strerror(e));`
 * reads naturally. d may be NULL. */
int tandem_diag_set(tandem_diag *d, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int tandem_diag_vset(tandem_diag *d, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Resets a diagnostic to "no error". d may be NULL. */
void tandem_diag_clear(tandem_diag *d);

/* The message if one was set, else the static message of the code. */
const char *tandem_diag_text(const tandem_diag *d);

#endif
