/*
 * tests/test_error.c — engine/core/error.c: status names, the one helper that
 * fills a cs_error (cs_fail + cs_error_locate), and cs_error_format with the
 * offending text and a caret under it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <cidrscope/error.h>

#include "core/error_internal.h"

static void error__strerror_names_every_code(void **state)
{
    (void)state;
    static const struct {
        int code;
        const char *name;
    } t[] = {
        {CS_OK, "CS_OK: "},
        {CS_EINVAL, "CS_EINVAL: "},
        {CS_ENOMEM, "CS_ENOMEM: "},
        {CS_EPARSE, "CS_EPARSE: "},
        {CS_ECORRUPT, "CS_ECORRUPT: "},
        {CS_EVERSION, "CS_EVERSION: "},
        {CS_EIO, "CS_EIO: "},
        {CS_ESTATE, "CS_ESTATE: "},
        {CS_ERANGE, "CS_ERANGE: "},
        {CS_ENOTFOUND, "CS_ENOTFOUND: "},
        {CS_ECONFLICT, "CS_ECONFLICT: "},
        {CS_EBUSY, "CS_EBUSY: "},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const char *s = cs_strerror(t[i].code);
        assert_non_null(s);
        /* "NAME: description", the description not empty */
        assert_int_equal(strncmp(s, t[i].name, strlen(t[i].name)), 0);
        assert_true(strlen(s) > strlen(t[i].name));
    }
    assert_string_equal(cs_strerror(CS_EPARSE), "CS_EPARSE: bad input");
}

static void error__strerror_of_unknown_code_is_not_null(void **state)
{
    (void)state;
    assert_string_equal(cs_strerror(1), "unknown error");
    assert_string_equal(cs_strerror(-12), "unknown error");
    assert_string_equal(cs_strerror(-2147483647 - 1), "unknown error");
}

static void error__clear_resets_every_field(void **state)
{
    (void)state;
    cs_error err;
    memset(&err, 0x7e, sizeof err);
    cs_error_clear(&err);
    assert_int_equal(err.code, 0);
    assert_string_equal(err.message, "");
    assert_string_equal(err.source, "");
    assert_string_equal(err.text, "");
    assert_int_equal(err.line, 0);
    assert_int_equal(err.column, 0);
    assert_int_equal(err.offset, 0);
    assert_int_equal(err.span, 0);
    assert_int_equal(err.text_col, 0);
    cs_error_clear(NULL); /* a no-op */
}

static void error__fail_sets_code_and_message_and_returns_code(void **state)
{
    (void)state;
    cs_error err;
    cs_error_clear(&err);
    err.column = 9;
    assert_int_equal(cs_fail(&err, CS_EPARSE, "octet %d > %d", 256, 255), CS_EPARSE);
    assert_int_equal(err.code, CS_EPARSE);
    assert_string_equal(err.message, "octet 256 > 255");
    assert_int_equal(err.column, 9); /* location left as it was */
    assert_int_equal(cs_fail(NULL, CS_EIO, "ignored"), CS_EIO);
}

static void error__fail_truncates_long_messages(void **state)
{
    (void)state;
    char longmsg[1000];
    memset(longmsg, 'm', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = '\0';
    cs_error err;
    cs_error_clear(&err);
    cs_fail(&err, CS_ERANGE, "%s", longmsg);
    assert_int_equal(strlen(err.message), CS_ERROR_MSG_CAP - 1);
}

static void error__source_is_set_and_truncated(void **state)
{
    (void)state;
    cs_error err;
    cs_error_clear(&err);
    cs_error_source(&err, "vpcs.csv");
    assert_string_equal(err.source, "vpcs.csv");
    char longsrc[600];
    memset(longsrc, 's', sizeof longsrc - 1);
    longsrc[sizeof longsrc - 1] = '\0';
    cs_error_source(&err, longsrc);
    assert_int_equal(strlen(err.source), CS_ERROR_SRC_CAP - 1);
    cs_error_source(&err, NULL);
    assert_string_equal(err.source, "");
    cs_error_source(NULL, "x");
}

static void error__format_message_alone(void **state)
{
    (void)state;
    cs_error err;
    cs_error_clear(&err);
    cs_fail(&err, CS_EPARSE, "empty input");
    char buf[256];
    size_t n = cs_error_format(&err, buf, sizeof buf);
    assert_string_equal(buf, "empty input");
    assert_int_equal(n, strlen(buf));
}

static void error__format_names_source_line_and_column(void **state)
{
    (void)state;
    cs_error err;
    cs_error_clear(&err);
    cs_fail(&err, CS_EPARSE, "octet 256 > 255");
    cs_error_locate(&err, "vpcs.csv", 3, 7, 41, 3, NULL, 0);
    char buf[256];
    cs_error_format(&err, buf, sizeof buf);
    assert_string_equal(buf, "vpcs.csv:3:7: octet 256 > 255");
    /* source without a line */
    err.line = 0;
    cs_error_format(&err, buf, sizeof buf);
    assert_string_equal(buf, "vpcs.csv: octet 256 > 255");
    /* line without a source */
    err.line = 3;
    err.source[0] = '\0';
    cs_error_format(&err, buf, sizeof buf);
    assert_string_equal(buf, "line 3, column 7: octet 256 > 255");
}

static void error__format_draws_caret_under_span(void **state)
{
    (void)state;
    static const char line[] = "prefixes,10.0.0.256/32,vpc-1";
    cs_error err;
    cs_error_clear(&err);
    cs_fail(&err, CS_EPARSE, "octet 256 > 255");
    cs_error_locate(&err, "in.csv", 2, 17, 40, 3, line, strlen(line));
    assert_string_equal(err.text, line);
    assert_int_equal(err.text_col, 17);
    char buf[512];
    size_t n = cs_error_format(&err, buf, sizeof buf);
    assert_string_equal(buf, "in.csv:2:17: octet 256 > 255\n"
                             "    prefixes,10.0.0.256/32,vpc-1\n"
                             "                    ^^^");
    assert_int_equal(n, strlen(buf));
    /* span 0 still draws one caret: a missing thing at the end of a line */
    cs_error_locate(&err, NULL, 2, 29, 52, 0, line, strlen(line));
    cs_error_format(&err, buf, sizeof buf);
    char last[64];
    memset(last, ' ', 4 + 28);
    memcpy(last + 4 + 28, "^", 2);
    const char *nl = strrchr(buf, '\n');
    assert_non_null(nl);
    assert_string_equal(nl + 1, last);
}

static void error__locate_windows_long_lines(void **state)
{
    (void)state;
    char line[3000];
    for (size_t i = 0; i < sizeof line; i++)
        line[i] = (char)('a' + i % 26);
    cs_error err;
    cs_error_clear(&err);
    cs_error_locate(&err, NULL, 1, 2500, 2499, 4, line, sizeof line);
    assert_int_equal(strlen(err.text), CS_ERROR_TEXT_CAP - 1);
    assert_true(err.text_col >= 1 && err.text_col < CS_ERROR_TEXT_CAP);
    /* the caret column still lands on the offending byte */
    assert_int_equal(err.text[err.text_col - 1], line[2499]);
    assert_int_equal(err.column, 2500);
    assert_int_equal(err.offset, 2499);
    assert_int_equal(err.span, 4);
}

static void error__locate_shows_control_bytes_safely(void **state)
{
    (void)state;
    static const char line[] = "a\tb\0c\x7f" "d\nnext line";
    cs_error err;
    cs_error_clear(&err);
    cs_error_locate(&err, NULL, 1, 4, 3, 1, line, sizeof line - 1);
    /* tab as space, NUL and DEL as '?', cut at the line break */
    assert_string_equal(err.text, "a b?c?d");
    assert_int_equal(err.text_col, 4);
    /* no text, or column 0: nothing to draw */
    cs_error_locate(&err, NULL, 1, 0, 0, 0, line, sizeof line - 1);
    assert_string_equal(err.text, "");
    cs_error_locate(&err, NULL, 1, 4, 3, 1, NULL, 0);
    assert_string_equal(err.text, "");
    cs_error_locate(NULL, "x", 1, 1, 0, 1, line, 3);
}

static void error__format_truncates_and_returns_wanted_length(void **state)
{
    (void)state;
    static const char line[] = "10.0.0.0/33";
    cs_error err;
    cs_error_clear(&err);
    cs_fail(&err, CS_EPARSE, "prefix length 33 out of range 0..32 for IPv4");
    cs_error_locate(&err, "f", 1, 10, 9, 2, line, strlen(line));
    char full[512];
    size_t want = cs_error_format(&err, full, sizeof full);
    assert_int_equal(want, strlen(full));
    for (size_t cap = 1; cap <= want + 1; cap++) {
        char *buf = malloc(cap); /* exact size: a sanitizer sees any overflow */
        assert_non_null(buf);
        assert_int_equal(cs_error_format(&err, buf, cap), want);
        assert_int_equal(strlen(buf), cap - 1 < want ? cap - 1 : want);
        assert_int_equal(strncmp(buf, full, strlen(buf)), 0);
        free(buf);
    }
    assert_int_equal(cs_error_format(&err, NULL, 0), want);
    char one = 'x';
    assert_int_equal(cs_error_format(NULL, &one, 1), 0);
    assert_int_equal(one, '\0');
}

static void error__format_never_overflows_on_full_fields(void **state)
{
    (void)state;
    cs_error err;
    memset(&err, 'z', sizeof err);
    err.message[CS_ERROR_MSG_CAP - 1] = '\0';
    err.source[CS_ERROR_SRC_CAP - 1] = '\0';
    err.text[CS_ERROR_TEXT_CAP - 1] = '\0';
    err.line = UINT64_MAX;
    err.column = UINT32_MAX;
    err.span = UINT32_MAX;     /* caret capped at the text window */
    err.text_col = UINT32_MAX; /* a record filled by someone careless */
    size_t want = cs_error_format(&err, NULL, 0);
    char *buf = malloc(want + 1);
    assert_non_null(buf);
    assert_int_equal(cs_error_format(&err, buf, want + 1), want);
    assert_int_equal(strlen(buf), want);
    free(buf);
    char small[16];
    assert_int_equal(cs_error_format(&err, small, sizeof small), want);
    assert_int_equal(strlen(small), sizeof small - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(error__strerror_names_every_code),
        cmocka_unit_test(error__strerror_of_unknown_code_is_not_null),
        cmocka_unit_test(error__clear_resets_every_field),
        cmocka_unit_test(error__fail_sets_code_and_message_and_returns_code),
        cmocka_unit_test(error__fail_truncates_long_messages),
        cmocka_unit_test(error__source_is_set_and_truncated),
        cmocka_unit_test(error__format_message_alone),
        cmocka_unit_test(error__format_names_source_line_and_column),
        cmocka_unit_test(error__format_draws_caret_under_span),
        cmocka_unit_test(error__locate_windows_long_lines),
        cmocka_unit_test(error__locate_shows_control_bytes_safely),
        cmocka_unit_test(error__format_truncates_and_returns_wanted_length),
        cmocka_unit_test(error__format_never_overflows_on_full_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
