/*
 * tests/test_prefix_lines.c — engine/core/prefix_lines.c: many prefixes or
 * addresses from one text buffer (cs_prefix_parse_lines, the Python
 * binding's single crossing per bulk call).
 *
 * Line splitting (CRLF, no final newline, empty input), addresses mode, the
 * first bad item stopping the call with its item number and column, a blank
 * item, too many items, NULL arguments, and a differential check against
 * cs_prefix_parse item by item on seeded random prefixes (seed printed;
 * CS_SEED=N reproduces). The short IPv4 path against the general parser on
 * near misses (leading zeros, big octets, host bits, bad lengths, stray
 * characters): same status, prefix and column. cs_query_count_lines (parse,
 * sort, count, scatter) against cs_query_count item by item, in input
 * order, both families, and its parse errors' line numbers.
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
#include <cidrscope/query.h>
#include <cidrscope/snapshot.h>

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

/* Seeds rand() from CS_SEED or the clock, and prints the seed. */
static void seed_rand(void)
{
    const char *env = getenv("CS_SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
    print_message("seed %u (CS_SEED=%u reproduces)\n", seed, seed);
    srand(seed);
}

static void prefix_lines__equals_item_by_item_parsing_on_random_prefixes(void **state)
{
    (void)state;
    seed_rand();
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

/* Random IPv4-like text, mostly valid, often one character off. */
static size_t near_v4(char *buf, bool addresses)
{
    static const char *const oct[] = {"0", "1", "9", "10", "99", "100", "199", "255", "256",
                                      "300", "999", "01", "001", "0255", "1000", "", "x", "-1"};
    static const char *const len[] = {"0", "1", "8", "16", "24", "31", "32", "33", "08",
                                      "00", "", "320", "1a", "+8", "3 "};
    size_t n = 0;
    for (int k = 0; k < 4; k++) {
        const char *o = rand() % 3 ? oct[rand() % 8] : oct[rand() % 18];
        n += (size_t)sprintf(buf + n, "%s%s", k ? (rand() % 40 ? "." : ",") : "", o);
    }
    if (rand() % 30 == 0)
        n += (size_t)sprintf(buf + n, ".%d", rand() % 9);
    if (!addresses || rand() % 10 == 0)
        n += (size_t)sprintf(buf + n, "%s%s", rand() % 30 ? "/" : "//",
                             rand() % 3 ? len[rand() % 7] : len[rand() % 15]);
    if (rand() % 25 == 0)
        buf[n++] = rand() % 2 ? ' ' : 'z';
    buf[n] = '\0';
    return n;
}

static void prefix_lines__short_ipv4_path_agrees_with_the_parser_on_near_misses(void **state)
{
    (void)state;
    seed_rand();
    static const unsigned flag_sets[] = {0, CS_PARSE_LENIENT, CS_PARSE_V4_ONLY,
                                         CS_PARSE_V6_ONLY, CS_PARSE_BARE_ADDRESS};
    int ok = 0;
    for (int i = 0; i < 200000; i++) {
        bool addresses = rand() % 3 == 0;
        unsigned flags = flag_sets[rand() % 5];
        char buf[128];
        size_t n = near_v4(buf, addresses);
        cs_prefix want, got;
        memset(&want, 0xa5, sizeof want);
        memset(&got, 0x5a, sizeof got);
        cs_error ew, eg;
        cs_error_clear(&ew);
        cs_error_clear(&eg);
        int rw = addresses ? cs_address_parse(buf, n, flags, &want, &ew)
                           : cs_prefix_parse(buf, n, flags, &want, &ew);
        /* The line's end, as the short path must find it. */
        static const char *const ends[] = {"", "\n", "\r\n", "\r"};
        const char *end = ends[rand() % 4];
        memcpy(buf + n, end, strlen(end) + 1);
        int64_t rg = cs_prefix_parse_lines(buf, n + strlen(end), flags, addresses, &got, 1, &eg);
        buf[n] = '\0';
        if (rw < 0) {
            if (rg != rw || eg.column != ew.column || eg.line != 1)
                fail_msg("'%s' (%s, flags %u): parser %d col %u, lines %lld col %u", buf,
                         addresses ? "address" : "prefix", flags, rw, ew.column, (long long)rg,
                         eg.column);
            continue;
        }
        ok++;
        if (rg != 1 || memcmp(&want, &got, sizeof want) != 0)
            fail_msg("'%s' (%s, flags %u): parser %d, lines %lld or another prefix", buf,
                     addresses ? "address" : "prefix", flags, rw, (long long)rg);
    }
    assert_true(ok > 20000); /* the valid ones were many */
}

/* Counts of cs_query_count_lines equal cs_query_count item by item, for
 * more items than the sorted path's threshold and for a few. */
static void prefix_lines__count_lines_equals_count_item_by_item(void **state)
{
    (void)state;
    seed_rand();
    cs_snapshot_builder *b = cs_snapshot_builder_new();
    assert_non_null(b);
    for (int i = 0; i < 30000; i++) {
        cs_prefix p = rand() % 4 ? cs_prefix_from_v4((uint32_t)rand() << 8 & 0x3fffff00u,
                                                     16 + (unsigned)(rand() % 17))
                                 : cs_prefix_from_v6(0x2600000000000000ull |
                                                         (uint64_t)(rand() & 0xffff) << 32,
                                                     0, 32 + (unsigned)(rand() % 33));
        assert_int_equal(cs_snapshot_builder_add(b, &p, (uint32_t)i, NULL), 0);
    }
    cs_snapshot *s = NULL;
    assert_int_equal(cs_snapshot_builder_freeze(b, &s, NULL), 0);
    cs_snapshot_builder_free(b);
    enum { N = 50000 };
    char *text = malloc((size_t)N * CS_PREFIX_STRCAP);
    uint32_t *got = malloc(N * sizeof *got);
    assert_true(text && got);
    const size_t sizes[] = {N, 7, 0};
    for (size_t k = 0; k < 3; k++) {
        size_t len = 0;
        cs_prefix *q = malloc((sizes[k] + 1) * sizeof *q);
        for (size_t i = 0; i < sizes[k]; i++) {
            q[i] = rand() % 4 ? cs_prefix_from_v4((uint32_t)rand() << 8 & 0x3fffffffu,
                                                  8 + (unsigned)(rand() % 25))
                              : cs_prefix_from_v6(0x2600000000000000ull |
                                                      (uint64_t)(rand() & 0xffff) << 32,
                                                  0, 24 + (unsigned)(rand() % 41));
            len += cs_prefix_format(&q[i], text + len, CS_PREFIX_STRCAP);
            text[len++] = '\n';
        }
        cs_error err;
        cs_error_clear(&err);
        assert_int_equal(cs_query_count_lines(s, text, len, 0, CS_Q_OVERLAPPING, got, N, &err),
                         (int64_t)sizes[k]);
        size_t nonzero = 0;
        for (size_t i = 0; i < sizes[k]; i++) {
            int64_t want = cs_query_count(s, &q[i], CS_Q_OVERLAPPING);
            if (want != (int64_t)got[i])
                fail_msg("%zu items: item %zu: count %u, want %lld", sizes[k], i, got[i],
                         (long long)want);
            nonzero += want > 0;
        }
        assert_true(sizes[k] < N || nonzero > N / 10);
        free(q);
    }
    /* Errors: the bad item's line; too many items; NULL. */
    const char bad[] = "10.0.0.0/8\n10.1.0.0/16\n10.0.0.1/8\n";
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_query_count_lines(s, bad, sizeof bad - 1, 0, CS_Q_OVERLAPPING, got, N,
                                          &err),
                     CS_EPARSE);
    assert_int_equal(err.line, 3);
    assert_int_equal(cs_query_count_lines(s, bad, sizeof bad - 1, 0, CS_Q_OVERLAPPING, got, 1,
                                          &err),
                     CS_ERANGE);
    assert_int_equal(cs_query_count_lines(NULL, bad, 1, 0, CS_Q_OVERLAPPING, got, 1, &err),
                     CS_EINVAL);
    free(text);
    free(got);
    cs_snapshot_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prefix_lines__splits_on_newlines_crlf_and_a_missing_last_one),
        cmocka_unit_test(prefix_lines__addresses_mode_takes_bare_addresses_only),
        cmocka_unit_test(prefix_lines__a_bad_item_names_its_line_and_column),
        cmocka_unit_test(prefix_lines__more_items_than_room_or_null_is_refused),
        cmocka_unit_test(prefix_lines__equals_item_by_item_parsing_on_random_prefixes),
        cmocka_unit_test(prefix_lines__short_ipv4_path_agrees_with_the_parser_on_near_misses),
        cmocka_unit_test(prefix_lines__count_lines_equals_count_item_by_item),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
