/*
 * engine/core/error.c — status names and the cs_error record.
 *
 * Does: names every CS_E* code, fills a caller-owned cs_error through one
 * helper (cs_fail + cs_error_locate), formats it for people with the
 * offending text and a caret under it (in the manner of jq's locfile).
 * Does not: allocate, print, or keep any state. Thread-safe.
 * Tests: tests/test_error.c.
 */
#include "core/error_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *cs_strerror(int code)
{
    switch (code) {
    case CS_OK: return "CS_OK: success";
    case CS_EINVAL: return "CS_EINVAL: invalid argument";
    case CS_ENOMEM: return "CS_ENOMEM: out of memory";
    case CS_EPARSE: return "CS_EPARSE: bad input";
    case CS_ECORRUPT: return "CS_ECORRUPT: corrupt or truncated image";
    case CS_EVERSION: return "CS_EVERSION: incompatible image format or layout";
    case CS_EIO: return "CS_EIO: system call failed";
    case CS_ESTATE: return "CS_ESTATE: object unusable in this state";
    case CS_ERANGE: return "CS_ERANGE: value out of range";
    case CS_ENOTFOUND: return "CS_ENOTFOUND: not found";
    case CS_ECONFLICT: return "CS_ECONFLICT: conflicting definitions";
    case CS_EBUSY: return "CS_EBUSY: resource exhausted";
    default: return "unknown error";
    }
}

void cs_error_clear(cs_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

int cs_fail(cs_error *err, int code, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

void cs_error_source(cs_error *err, const char *source)
{
    if (!err)
        return;
    if (!source) {
        err->source[0] = '\0';
        return;
    }
    snprintf(err->source, sizeof err->source, "%s", source);
}

void cs_error_locate(cs_error *err, const char *source, uint64_t line,
                     uint32_t column, uint64_t offset, uint32_t span,
                     const char *line_text, size_t line_len)
{
    if (!err)
        return;
    if (source)
        cs_error_source(err, source);
    err->line = line;
    err->column = column;
    err->offset = offset;
    err->span = span;
    err->text[0] = '\0';
    err->text_col = 0;
    if (!line_text || column == 0)
        return;
    /* Keep a window of the line that shows the offending column: a 2 GB line
     * must not be copied, and the caret must still land under the text. */
    size_t cap = sizeof err->text - 1;
    size_t col0 = column - 1;
    size_t start = 0;
    if (col0 > cap / 2 && line_len > cap)
        start = col0 - cap / 2;
    if (start > line_len)
        start = line_len;
    size_t n = line_len - start < cap ? line_len - start : cap;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)line_text[start + i];
        if (c == '\n' || c == '\r')
            break;
        /* Control bytes (a NUL, a tab) print as '?' or ' ' so the caret
         * column stays right on any terminal. */
        err->text[j++] = c == '\t' ? ' ' : (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    err->text[j] = '\0';
    err->text_col = (uint32_t)(col0 - start + 1);
}

size_t cs_error_format(const cs_error *err, char *buf, size_t cap)
{
    if (!err) {
        if (cap)
            buf[0] = '\0';
        return 0;
    }
    char loc[CS_ERROR_SRC_CAP + 48];
    size_t ln = 0;
    if (err->source[0] && err->line)
        ln = (size_t)snprintf(loc, sizeof loc, "%s:%llu:%u: ", err->source,
                              (unsigned long long)err->line, err->column);
    else if (err->source[0])
        ln = (size_t)snprintf(loc, sizeof loc, "%s: ", err->source);
    else if (err->line)
        ln = (size_t)snprintf(loc, sizeof loc, "line %llu, column %u: ",
                              (unsigned long long)err->line, err->column);
    if (ln >= sizeof loc)
        ln = sizeof loc - 1;
    loc[ln] = '\0';
    char caret[CS_ERROR_TEXT_CAP + 8];
    caret[0] = '\0';
    if (err->text[0] && err->text_col) {
        size_t pad = err->text_col - 1, w = err->span ? err->span : 1;
        size_t k = 0;
        for (size_t i = 0; i < pad && k < CS_ERROR_TEXT_CAP; i++)
            caret[k++] = ' ';
        for (size_t i = 0; i < w && k < CS_ERROR_TEXT_CAP; i++)
            caret[k++] = '^';
        caret[k] = '\0';
        int n = snprintf(buf, cap, "%s%s\n    %s\n    %s", loc, err->message,
                         err->text, caret);
        return n < 0 ? 0 : (size_t)n;
    }
    int n = snprintf(buf, cap, "%s%s", loc, err->message);
    return n < 0 ? 0 : (size_t)n;
}
