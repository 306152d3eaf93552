/*
 * cidrscope/error.h — status codes and the caller-owned error record.
 *
 * Every fallible library call returns an int: >= 0 is success (a count, or
 * 1/0 for found/not found — a miss is not an error), < 0 is one of the CS_E*
 * codes below. Details go into a caller-owned, nullable `cs_error *err`, always
 * the last argument. The library never prints, exits or aborts on input.
 *
 * Thread-safety: cs_strerror is reentrant; a cs_error is written only by the
 * call it is passed to.
 */
#ifndef CIDRSCOPE_ERROR_H
#define CIDRSCOPE_ERROR_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define CS_API
#else
#define CS_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum cs_status {
    CS_OK = 0,
    CS_EINVAL = -1,    /* bad argument from the caller (NULL, wrong family) */
    CS_ENOMEM = -2,    /* allocation failed; the object is left unchanged or
                          refuses further use (builders) */
    CS_EPARSE = -3,    /* bad input text: err names source, line, column */
    CS_ECORRUPT = -4,  /* an image (file, shm) fails a bound or checksum */
    CS_EVERSION = -5,  /* an image of another format version or layout */
    CS_EIO = -6,       /* a system call failed; message has strerror(errno) */
    CS_ESTATE = -7,    /* object unusable: a builder failed earlier, or a
                          call came in the wrong order */
    CS_ERANGE = -8,    /* a value outside what the structure can hold
                          (more than 2^32-1 entries, a too-long string) */
    CS_ENOTFOUND = -9, /* a named thing (VPC id, shm segment) does not exist */
    CS_ECONFLICT = -10,/* the same id seen twice with different content */
    CS_EBUSY = -11,    /* a resource (reader slot) is exhausted for now */
};

/* Field widths of cs_error; messages are truncated, never overflowed. */
#define CS_ERROR_MSG_CAP 320
#define CS_ERROR_SRC_CAP 256
#define CS_ERROR_TEXT_CAP 96

/*
 * Where and why something failed. `line` and `column` are 1-based, 0 when
 * unknown; `offset` is the byte offset of the offending text in its source,
 * `span` its length in bytes (0 when unknown), so a caller can underline it.
 * `text` holds a copy of the offending line (or a window of it), with
 * `text_col` the 1-based column of the offending text inside `text`.
 */
typedef struct cs_error {
    int code;
    char message[CS_ERROR_MSG_CAP];
    char source[CS_ERROR_SRC_CAP];
    uint64_t line;
    uint32_t column;
    uint64_t offset;
    uint32_t span;
    char text[CS_ERROR_TEXT_CAP];
    uint32_t text_col;
} cs_error;

/* Static name and one-line description of a status code ("CS_EPARSE: bad
 * input"). Never NULL; unknown codes give "unknown error". */
CS_API const char *cs_strerror(int code);

/* Resets *err to "no error" (code 0, empty strings). NULL is a no-op. */
CS_API void cs_error_clear(cs_error *err);

/*
 * Formats `err` as a person reads it, into buf (always NUL-terminated when
 * cap > 0): "source:line:column: message" and, when `text` is known, the
 * offending line and a caret line under it. Returns the length it wanted.
 */
CS_API size_t cs_error_format(const cs_error *err, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
