/*
 * tests/test_prefix_lines.c — engine/core/prefix_lines.c: many prefixes or
 * addresses from one text buffer (cs_prefix_parse_lines, the Python
 * binding's single crossing per bulk call).
 *
 * Line splitting (CRLF, no final newline, empty input), addresses mode, the
 * first bad item stopping the call with its item number and column, a blank
 * item, too many items, NULL arguments, and a differential check against
 * cs_prefix_parse item by item on seeded random prefixes (seed printed;
 * CS_SEED=N reproduces).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cidrscope/prefix.h>

static void prefix_lines__splits_on_newlines_crlf_and_a_missing_last_one(void **state)
{
    (void)state;
    cs_prefix out[4];
    cs_error err;
    cs_error_clear(&err);
    const char *t = "10.0.0.0/8\r\n2001:db8::/32\n192.168.1.0/24";
    assert_int_equal(cs_prefix_parse_lines(t, strlen(t), 0, false, out, 4, &err), 3);
    char buf[CS_PREFIX_STRCAP];
    cs_prefix_format(&out[0], buf, sizeof buf);
    assert_string_equal(buf, "10.0.0.0/8");
    cs_prefix_format(&out[1], buf, sizeof buf);
    assert_string_equal(buf, "2001:db8::/32");
    cs_prefix_format(&out[2], buf, sizeof buf);
    assert_string_equal(buf, "192.168.1.0/24");
    /* a final newline ends the last item; it does not start an empty one */
    assert_int_equal(cs_prefix_parse_lines("10.0.0.0/8\n", 11, 0, false, out, 1, &err), 1);
    assert_int_equal(cs_prefix_parse_lines("", 0, 0, false, out, 0, &err), 0);
    assert_int_equal(cs_prefix_parse_lines(NULL, 0, 0, false, NULL, 0, &err), 0);
}

static void prefix_lines__addresses_mode_takes_bare_addresses_only(void **state)
{
    (void)state;
    cs_prefix out[2];
    cs_error err;
    cs_error_clear(&err);
    const char *t = "10.1.2.3\n::1";
    assert_int_equal(cs_prefix_parse_lines(t, strlen(t), 0, true, out, 2, &err), 2);
    assert_int_equal(out[0].len, 32);
    assert_int_equal(out[1].len, 128);
    assert_int_equal(out[1].family, CS_AF_V6);
    assert_int_equal(cs_prefix_parse_lines("10.0.0.0/8", 10, 0, true, out, 2, &err), CS_EPARSE);
}

static void prefix_lines__a_bad_item_names_its_line_and_column(void **state)
{
    (void)state;
    cs_prefix out[4];
    cs_error err;
    cs_error_clear(&err);
    const char *t = "10.0.0.0/8\n10.0.0.0/16\n10.0.0.1/8\n10.0.0.0/24";
    assert_int_equal(cs_prefix_parse_lines(t, strlen(t), 0, false, out, 4, &err), CS_EPARSE);
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 1);
    assert_non_null(strstr(err.message, "10.0.0.0/8"));     /* the canonical form */
    /* lenient: host bits cleared, every item parsed */
    assert_int_equal(cs_prefix_parse_lines(t, strlen(t), CS_PARSE_LENIENT, false, out, 4, &err), 4);
    assert_int_equal(cs_prefix_parse_lines("10.0.0.0/8\n\n10.0.0.0/8", 22, 0, false, out, 4, &err),
                     CS_EPARSE);
    assert_int_equal(err.line, 2);
    cs_error_clear(&err);
    assert_int_equal(cs_prefix_parse_lines("1.2.3.4/32\n10.0.0.999/32", 24, 0, false, out, 4, &err),
                     CS_EPARSE);
    assert_int_equal(err.line, 2);
    assert_true(err.column > 1);
}

static void prefix_lines__more_items_than_room_or_null_is_refused(void **state)
{
    (void)state;
    cs_prefix out[1];
    cs_error err;
    cs_error_clear(&err);
    const char *t = "10.0.0.0/8\n10.0.0.0/16";
    assert_int_equal(cs_prefix_parse_lines(t, strlen(t), 0, false, out, 1, &err), CS_ERANGE);
    assert_int_equal(cs_prefix_parse_lines(NULL, 3, 0, false, out, 1, &err), CS_EINVAL);
    assert_int_equal(cs_prefix_parse_lines(t, strlen(t), 0, false, NULL, 2, &err), CS_EINVAL);
}

static void prefix_lines__equals_item_by_item_parsing_on_random_prefixes(void **state)
{
    (void)state;
    const char *env = getenv("CS_SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
    print_message("seed %u (CS_SEED=%u reproduces)\n", seed, seed);
    srand(seed);
    enum { N = 20000 };
    char *text = malloc((size_t)N * CS_PREFIX_STRCAP);
    cs_prefix *want = malloc(N * sizeof *want), *got = malloc(N * sizeof *got);
    assert_true(text && want && got);
    size_t len = 0;
    for (int i = 0; i < N; i++) {
        cs_prefix p;
        if (rand() % 4) {
            uint32_t a = (uint32_t)rand() << 16 ^ (uint32_t)rand();
            p = cs_prefix_from_v4(a, (unsigned)(rand() % 33));
        } else {
            uint64_t hi = (uint64_t)rand() << 40 ^ (uint64_t)rand() << 20 ^ (uint64_t)rand();
            p = cs_prefix_from_v6(hi, (uint64_t)rand() << 32 ^ (uint64_t)rand(), (unsigned)(rand() % 129));
        }
        size_t n = cs_prefix_format(&p, text + len, CS_PREFIX_STRCAP);
        cs_error err;
        assert_int_equal(cs_prefix_parse(text + len, n, 0, &want[i], &err), 0);
        len += n;
        text[len++] = (rand() % 8) ? '\n' : '\r';
        if (text[len - 1] == '\r')
            text[len++] = '\n';
    }
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_prefix_parse_lines(text, len, 0, false, got, N, &err), N);
    for (int i = 0; i < N; i++)
        assert_int_equal(cs_prefix_compare(&want[i], &got[i]), 0);
    free(text);
    free(want);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prefix_lines__splits_on_newlines_crlf_and_a_missing_last_one),
        cmocka_unit_test(prefix_lines__addresses_mode_takes_bare_addresses_only),
        cmocka_unit_test(prefix_lines__a_bad_item_names_its_line_and_column),
        cmocka_unit_test(prefix_lines__more_items_than_room_or_null_is_refused),
        cmocka_unit_test(prefix_lines__equals_item_by_item_parsing_on_random_prefixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
