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
#include <sys/mman.h>
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

/* Random IPv6-like text: valid in many spellings (upper case, leading
 * zeros, all 8 groups, "::" anywhere, embedded IPv4), often one character
 * off (5 hex digits, ":::", a second "::", 9 groups, a bad length). */
static size_t near_v6(char *buf, bool addresses)
{
    static const char *const grp[] = {"0",    "1",     "db8", "2001", "ffff", "FFFF", "0000",
                                      "2603", "a",     "10",  "00000", "g",   "",     "12345",
                                      "1.2.3.4", "-"};
    static const char *const len[] = {"0",   "1",  "32",  "48", "64",  "96", "120", "127",
                                      "128", "129", "064", "00", "",   "200", "1x", "+64"};
    size_t n = 0;
    int groups = rand() % 3 ? 8 : 1 + rand() % 9;
    int dc = rand() % 3 ? rand() % (groups + 1) : -1; /* where "::" goes */
    if (dc >= 0 && groups == 8 && rand() % 4)
        groups = 1 + rand() % 7;
    if (dc > groups)
        dc = groups;
    for (int k = 0; k < groups; k++) {
        if (k == dc)
            n += (size_t)sprintf(buf + n, "%s", rand() % 30 ? "::" : ":::");
        else if (k)
            buf[n++] = rand() % 50 ? ':' : '.';
        const char *g = rand() % 4 ? grp[rand() % 10] : grp[rand() % 16];
        n += (size_t)sprintf(buf + n, "%s", g);
    }
    if (dc == groups)
        n += (size_t)sprintf(buf + n, "::");
    if (rand() % 40 == 0)
        n += (size_t)sprintf(buf + n, "::1");
    if (!addresses || rand() % 10 == 0)
        n += (size_t)sprintf(buf + n, "%s%s", rand() % 30 ? "/" : "%e",
                             rand() % 3 ? len[rand() % 9] : len[rand() % 16]);
    if (rand() % 25 == 0)
        buf[n++] = rand() % 2 ? ' ' : 'z';
    buf[n] = '\0';
    return n;
}

/* The item buf[0..n) through cs_prefix_parse_lines, alone (the short paths
 * then read it from their zero-padded window) and followed by more lines
 * (read in place), against cs_prefix_parse / cs_address_parse: same status,
 * prefix and column. Returns whether the item was valid. */
static bool lines_agree_with_parser(char *buf, size_t n, unsigned flags, bool addresses)
{
    cs_prefix want, got[16];
    memset(&want, 0xa5, sizeof want);
    memset(got, 0x5a, sizeof got);
    cs_error ew, eg;
    cs_error_clear(&ew);
    cs_error_clear(&eg);
    buf[n] = '\0';
    int rw = addresses ? cs_address_parse(buf, n, flags, &want, &ew)
                       : cs_prefix_parse(buf, n, flags, &want, &ew);
    static const char *const ends[] = {"", "\n", "\r\n", "\r"};
    char text[256];
    for (int in_place = 0; in_place < 2; in_place++) {
        /* in place: a line end, then lines enough for the item to be read
         * where it is */
        const char *end = ends[in_place ? 1 + rand() % 2 : rand() % 4];
        size_t len = (size_t)sprintf(text, "%s%s", buf, end);
        int more = 0;
        /* of the family the flags allow */
        const bool v6 = flags & CS_PARSE_V6_ONLY;
        const char *filler = addresses ? (v6 ? "2001:db8::1\n" : "10.1.2.3\n")
                                       : (v6 ? "2001:db8::/32\n" : "10.1.2.0/24\n");
        if (in_place)
            for (; more < 8; more++)
                len += (size_t)sprintf(text + len, "%s", filler);
        if (len == 0)
            continue; /* an empty buffer holds no item */
        int64_t rg = cs_prefix_parse_lines(text, len, flags, addresses, got, 16, &eg);
        if (rw < 0) {
            if (rg != rw || eg.column != ew.column || eg.line != 1)
                fail_msg("'%s' (%s, flags %u, %s): parser %d col %u, lines %lld col %u", buf,
                         addresses ? "address" : "prefix", flags,
                         in_place ? "in place" : "alone", rw, ew.column, (long long)rg,
                         eg.column);
            continue;
        }
        if (rg != 1 + more || memcmp(&want, &got[0], sizeof want) != 0)
            fail_msg("'%s' (%s, flags %u, %s): parser %d, lines %lld or another prefix", buf,
                     addresses ? "address" : "prefix", flags, in_place ? "in place" : "alone",
                     rw, (long long)rg);
    }
    return rw >= 0;
}

static const unsigned flag_sets[] = {0, CS_PARSE_LENIENT, CS_PARSE_V4_ONLY, CS_PARSE_V6_ONLY,
                                     CS_PARSE_BARE_ADDRESS};

static void prefix_lines__short_ipv4_path_agrees_with_the_parser_on_near_misses(void **state)
{
    (void)state;
    seed_rand();
    int ok = 0;
    for (int i = 0; i < 200000; i++) {
        bool addresses = rand() % 3 == 0;
        char buf[128];
        size_t n = near_v4(buf, addresses);
        ok += lines_agree_with_parser(buf, n, flag_sets[rand() % 5], addresses);
    }
    assert_true(ok > 20000); /* the valid ones were many */
}

static void prefix_lines__short_ipv6_path_agrees_with_the_parser_on_near_misses(void **state)
{
    (void)state;
    seed_rand();
    int ok = 0;
    for (int i = 0; i < 200000; i++) {
        bool addresses = rand() % 3 == 0;
        char buf[160];
        size_t n = near_v6(buf, addresses);
        ok += lines_agree_with_parser(buf, n, flag_sets[rand() % 5], addresses);
    }
    assert_true(ok > 20000);
}

/* A seeded estate of n random prefixes, 3/4 IPv4 (/16../32 in 0/2), 1/4
 * IPv6 (/32../64 in 2600::/8). */
static cs_snapshot *random_estate(int n)
{
    cs_snapshot_builder *b = cs_snapshot_builder_new();
    assert_non_null(b);
    for (int i = 0; i < n; i++) {
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
    return s;
}

/* Counts of cs_query_count_lines equal cs_query_count item by item, for
 * more items than the sorted path's threshold and for a few. */
static void prefix_lines__count_lines_equals_count_item_by_item(void **state)
{
    (void)state;
    seed_rand();
    cs_snapshot *s = random_estate(30000);
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

/* A random prefix of length len (>= base's) inside base. */
static cs_prefix nested(const cs_prefix *base, unsigned len)
{
    uint64_t r1 = (uint64_t)rand() << 42 ^ (uint64_t)rand() << 21 ^ (uint64_t)rand();
    uint64_t r2 = (uint64_t)rand() << 42 ^ (uint64_t)rand() << 21 ^ (uint64_t)rand();
    if (base->family == CS_AF_V4) {
        uint32_t a = (uint32_t)(base->hi >> 32);
        a |= base->len >= 32 ? 0 : (uint32_t)r1 >> base->len;
        return cs_prefix_from_v4(a, len);
    }
    uint64_t hi = base->hi, lo = base->lo;
    if (base->len < 64) {
        hi |= r1 >> base->len;
        lo = r2;
    } else if (base->len < 128) {
        lo |= r2 >> (base->len - 64);
    }
    return cs_prefix_from_v6(hi, lo, len);
}

static int by_address(const void *a, const void *b)
{
    return cs_prefix_compare(a, b);
}

/* cs_query_count_lines against a brute-force scan of the stored entries, for
 * every kind, on a seeded estate of both families where prefixes nest deep
 * (chains of up to 20 levels) and repeat (several entries per prefix),
 * with queries that repeat, nest, miss, and come in address order, reverse
 * order and at random: the sorted path counts each distinct query once and
 * resumes every walk from the previous one's path. */
static void prefix_lines__count_lines_equals_brute_force_on_nested_estates(void **state)
{
    (void)state;
    seed_rand();
    enum { BASES = 40, STORED = 3000, N = 9000 };
    cs_prefix bases[BASES];
    for (int i = 0; i < BASES; i++) {
        cs_prefix root = i % 3 ? cs_prefix_from_v4(0, 0) : cs_prefix_from_v6(0, 0, 0);
        bases[i] = nested(&root, i % 3 ? 4 + (unsigned)(rand() % 12)
                                       : 16 + (unsigned)(rand() % 40));
    }
    cs_prefix *stored = malloc(STORED * sizeof *stored);
    cs_snapshot_builder *b = cs_snapshot_builder_new();
    assert_true(stored && b);
    size_t m = 0;
    while (m < STORED) {
        /* a chain: each prefix inside the one before */
        cs_prefix p = bases[rand() % BASES];
        unsigned bits = cs_family_bits(p.family);
        for (int depth = rand() % 20; depth >= 0 && m < STORED; depth--) {
            unsigned len = p.len + (unsigned)(rand() % 4);
            if (len > bits)
                break;
            p = nested(&p, len);
            for (int copies = 1 + (rand() % 4 == 0) * (rand() % 3); copies && m < STORED;
                 copies--) {
                stored[m] = p;
                assert_int_equal(cs_snapshot_builder_add(b, &p, (uint32_t)m, NULL), 0);
                m++;
            }
        }
    }
    cs_snapshot *s = NULL;
    assert_int_equal(cs_snapshot_builder_freeze(b, &s, NULL), 0);
    cs_snapshot_builder_free(b);

    cs_prefix *q = malloc(N * sizeof *q);
    char *text = malloc((size_t)N * (CS_PREFIX_STRCAP + 1));
    uint32_t *got = malloc(N * sizeof *got);
    assert_true(q && text && got);
    for (int i = 0; i < N; i++) {
        int how = rand() % 5;
        if (how == 0 && i > 0) {
            q[i] = q[rand() % i]; /* a repeat */
        } else if (how <= 2) {
            /* a stored prefix, cut shorter or made longer */
            cs_prefix p = stored[rand() % STORED];
            int d = rand() % 9 - 4;
            unsigned bits = cs_family_bits(p.family);
            int len = (int)p.len + d;
            len = len < 0 ? 0 : len > (int)bits ? (int)bits : len;
            q[i] = (unsigned)len <= p.len
                       ? (p.family == CS_AF_V4 ? cs_prefix_from_v4((uint32_t)(p.hi >> 32),
                                                                   (unsigned)len)
                                               : cs_prefix_from_v6(p.hi, p.lo, (unsigned)len))
                       : nested(&p, (unsigned)len);
        } else {
            /* anywhere: mostly misses */
            cs_prefix root = rand() % 3 ? cs_prefix_from_v4(0, 0) : cs_prefix_from_v6(0, 0, 0);
            unsigned bits = cs_family_bits(root.family);
            q[i] = nested(&root, (unsigned)(rand() % (int)(bits + 1)));
        }
    }
    for (int order = 0; order < 3; order++) {
        if (order == 0)
            qsort(q, N, sizeof *q, by_address);
        else if (order == 1)
            for (int i = 0; i < N / 2; i++) {
                cs_prefix t = q[i];
                q[i] = q[N - 1 - i];
                q[N - 1 - i] = t;
            }
        else
            for (int i = N - 1; i > 0; i--) {
                int j = rand() % (i + 1);
                cs_prefix t = q[i];
                q[i] = q[j];
                q[j] = t;
            }
        size_t len = 0;
        for (int i = 0; i < N; i++) {
            len += cs_prefix_format(&q[i], text + len, CS_PREFIX_STRCAP);
            text[len++] = '\n';
        }
        for (unsigned kind = CS_Q_COVERING; kind <= CS_Q_OVERLAPPING; kind++) {
            cs_error err;
            cs_error_clear(&err);
            assert_int_equal(cs_query_count_lines(s, text, len, 0, kind, got, N, &err), N);
            size_t nonzero = 0;
            for (int i = 0; i < N; i++) {
                uint32_t want = 0;
                for (size_t k = 0; k < m; k++) {
                    bool covering = cs_prefix_contains(&stored[k], &q[i]);
                    bool covered = cs_prefix_contains(&q[i], &stored[k]);
                    want += ((kind & CS_Q_COVERING) && covering) ||
                            ((kind & CS_Q_COVERED) && covered);
                }
                if (got[i] != want) {
                    char buf[CS_PREFIX_STRCAP];
                    cs_prefix_format(&q[i], buf, sizeof buf);
                    fail_msg("order %d kind %u item %d %s: count %u, brute force %u", order, kind,
                             i, buf, got[i], want);
                }
                nonzero += want > 0;
            }
            assert_true(nonzero > N / 4 && nonzero < N); /* hits and misses */
        }
    }
    free(q);
    free(text);
    free(got);
    free(stored);
    cs_snapshot_close(s);
}

/* ---- items as records (cs_query_count_items) ------------------------------ */

/* A record the way a binding's runtime might hold a string: a tag, a
 * length, a flags word, then the text (NUL-terminated, or not: `tail`
 * bytes follow it). */
typedef struct item_rec {
    uint64_t refs;
    uint64_t tag;
    size_t len;
    uint32_t flags;
    char text[CS_PREFIX_STRCAP + 8];
} item_rec;

#define REC_TAG 0x5eedf00dcafe0001ull

/* A sequence record with its item pointers behind a pointer (a CPython
 * list's shape). */
typedef struct item_seq {
    uint64_t refs;
    size_t n;
    const item_rec **items;
} item_seq;

static const cs_item_layout rec_layout = {
    .count_off = offsetof(item_seq, n),
    .items_off = offsetof(item_seq, items),
    .items_indirect = 1,
    .tag_off = offsetof(item_rec, tag),
    .tag = REC_TAG,
    .flags_off = offsetof(item_rec, flags),
    .flags_mask = 0x7c,
    .flags_want = 0x64,
    .len_off = offsetof(item_rec, len),
    .text_off = offsetof(item_rec, text),
};

/* The lines of text[0..len) as n records (*recs, *seq; the caller frees
 * both); every third record's text is followed by digits instead of a NUL,
 * so the reads past an item must never change its meaning. */
static size_t records_of(const char *text, size_t len, item_rec **recs, item_seq *seq)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    *recs = calloc(n + 1, sizeof **recs);
    seq->items = malloc((n + 1) * sizeof *seq->items);
    assert_true(*recs && seq->items);
    size_t k = 0, at = 0;
    while (at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t ll = (size_t)(nl - (text + at));
        item_rec *r = &(*recs)[k];
        r->tag = REC_TAG;
        r->flags = 0x64 | (k & 3); /* bits outside the mask vary */
        r->len = ll;
        memcpy(r->text, text + at, ll);
        if (k % 3 == 0)
            memcpy(r->text + ll, "9999", 4); /* "10.0.0.0/8" then "9999": still /8 */
        seq->items[k++] = r;
        at += ll + 1;
    }
    seq->n = k;
    return k;
}

/* Counts from records (cs_query_count_items, through one scratch reused
 * across calls of different sizes and families, and without one) equal
 * those of the same items as lines and cs_query_count item by item. */
static void prefix_lines__count_items_equals_count_lines_with_a_reused_scratch(void **state)
{
    (void)state;
    seed_rand();
    cs_snapshot *s = random_estate(20000);
    enum { N = 60000 };
    char *text = malloc((size_t)N * (CS_PREFIX_STRCAP + 1));
    uint32_t *got = malloc((N + 1) * sizeof *got), *lines = malloc((N + 1) * sizeof *lines);
    cs_prefix *q = malloc(N * sizeof *q);
    cs_query_scratch *sc = cs_query_scratch_new();
    assert_true(text && got && lines && q && sc);
    /* sizes and families: large both, small, IPv6 only (the scratch's
     * IPv6 half first used), IPv4 only, larger than before (grown) */
    const struct { size_t n; int v6_in_4; } calls[] = {
        {30000, 4}, {7, 4}, {20000, 1}, {25000, 0}, {N, 3}, {5000, 4}};
    for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++) {
        size_t len = 0;
        for (size_t i = 0; i < calls[c].n; i++) {
            bool v6 = rand() % 4 < calls[c].v6_in_4;
            q[i] = v6 ? cs_prefix_from_v6(0x2600000000000000ull |
                                              (uint64_t)(rand() & 0xffff) << 32,
                                          0, 24 + (unsigned)(rand() % 41))
                      : cs_prefix_from_v4((uint32_t)rand() << 8 & 0x3fffffffu,
                                          8 + (unsigned)(rand() % 25));
            if (i > 0 && rand() % 3 == 0)
                q[i] = q[rand() % i]; /* repeats */
            len += cs_prefix_format(&q[i], text + len, CS_PREFIX_STRCAP);
            text[len++] = '\n';
        }
        item_rec *recs;
        item_seq seq = {0};
        size_t n = records_of(text, len, &recs, &seq);
        assert_int_equal(n, calls[c].n);
        cs_error err;
        cs_error_clear(&err);
        assert_int_equal(cs_query_count_lines(s, text, len, 0, CS_Q_OVERLAPPING, lines, N + 1,
                                              &err),
                         (int64_t)n);
        for (int with = 0; with < 2; with++) {
            memset(got, 0xee, (N + 1) * sizeof *got);
            assert_int_equal(cs_query_count_items(s, with ? sc : NULL, &seq, &rec_layout, 0,
                                                  CS_Q_OVERLAPPING, got, N + 1, &err),
                             (int64_t)n);
            for (size_t i = 0; i < n; i++)
                if (got[i] != lines[i] ||
                    (int64_t)got[i] != cs_query_count(s, &q[i], CS_Q_OVERLAPPING))
                    fail_msg("call %zu (%zu items, scratch %d): item %zu: %u, lines %u", c, n,
                             with, i, got[i], lines[i]);
        }
        /* the same text through the kept scratch as lines */
        memset(got, 0xee, (N + 1) * sizeof *got);
        assert_int_equal(cs_query_count_lines_with(s, sc, text, len, 0, CS_Q_OVERLAPPING, got,
                                                   N + 1, &err),
                         (int64_t)n);
        assert_memory_equal(got, lines, n * sizeof *got);
        free(recs);
        free(seq.items);
    }
    free(text);
    free(got);
    free(lines);
    free(q);
    cs_query_scratch_free(sc);
    cs_query_scratch_free(NULL);
    cs_snapshot_close(s);
}

/* Records not of the layout are CS_EINVAL naming the first (no count
 * written); bad text is CS_EPARSE with the item's number and column, as
 * the same lines give; a line break inside an item is refused, a final
 * "\r" taken; too many items is CS_ERANGE; and the scratch answers right
 * after each failure. Items whose text ends near a page's end are read
 * from a copy. */
static void prefix_lines__count_items_refuses_foreign_records_and_names_bad_items(void **state)
{
    (void)state;
    cs_snapshot_builder *b = cs_snapshot_builder_new();
    cs_prefix p10 = cs_prefix_from_v4(0x0a000000u, 8), p6 = cs_prefix_from_v6(0x20010db8ull << 32, 0, 32);
    assert_int_equal(cs_snapshot_builder_add(b, &p10, 1, NULL), 0);
    assert_int_equal(cs_snapshot_builder_add(b, &p6, 2, NULL), 0);
    cs_snapshot *s = NULL;
    assert_int_equal(cs_snapshot_builder_freeze(b, &s, NULL), 0);
    cs_snapshot_builder_free(b);
    cs_query_scratch *sc = cs_query_scratch_new();
    assert_non_null(sc);
    enum { N = 6000 }; /* above the sorted path's threshold */
    size_t len = 0;
    char *text = malloc(N * 24);
    uint32_t *got = malloc((N + 1) * sizeof *got);
    assert_true(text && got);
    for (int i = 0; i < N; i++)
        len += (size_t)sprintf(text + len, i % 2 ? "10.%d.0.0/16\n" : "2001:db8:%x::/48\n",
                               i % 256);
    item_rec *recs;
    item_seq seq = {0};
    assert_int_equal(records_of(text, len, &recs, &seq), N);
    for (size_t small = 0; small < 2; small++) {
        seq.n = small ? 9 : N; /* the sorted path and the one in input order */
        cs_error err;
        for (int round = 0; round < 2; round++) {
            /* a foreign tag, then foreign flags: EINVAL, nothing written */
            size_t k = seq.n - 3;
            item_rec *r = &recs[k];
            if (round == 0)
                r->tag ^= 1;
            else
                r->flags = 0x60; /* kind bits differ */
            memset(got, 0xee, (N + 1) * sizeof *got);
            cs_error_clear(&err);
            assert_int_equal(cs_query_count_items(s, sc, &seq, &rec_layout, 0, CS_Q_OVERLAPPING,
                                                  got, N + 1, &err),
                             CS_EINVAL);
            assert_int_equal(err.line, k + 1);
            for (size_t i = 0; i < seq.n; i++)
                assert_int_equal(got[i], 0xeeeeeeeeu);
            r->tag = REC_TAG;
            r->flags = 0x64;
        }
        /* bad text: host bits at item k, column 1, as the lines say */
        const char *bad[] = {"10.0.0.1/8", "10.0.0.0/8\n", "10.0.0.0/8\nx", "", "10.0.0.0/8 "};
        const unsigned col[] = {1, 11, 11, 0, 0};
        for (size_t j = 0; j < 5; j++) {
            size_t k = seq.n / 2 + j;
            item_rec keep = recs[k];
            recs[k].len = strlen(bad[j]);
            memcpy(recs[k].text, bad[j], recs[k].len + 1);
            cs_error err2;
            cs_error_clear(&err);
            cs_error_clear(&err2);
            assert_int_equal(cs_query_count_items(s, sc, &seq, &rec_layout, 0, CS_Q_OVERLAPPING,
                                                  got, N + 1, &err),
                             CS_EPARSE);
            assert_int_equal(err.line, k + 1);
            if (col[j])
                assert_int_equal(err.column, col[j]);
            if (j == 0 || j == 4) { /* the same item as a line: same place */
                char line[64];
                int ll = sprintf(line, "%s\n", bad[j]);
                assert_int_equal(cs_prefix_parse_lines(line, (size_t)ll, 0, false, (cs_prefix[1]){{0}}, 1, &err2), CS_EPARSE);
                assert_int_equal(err.column, err2.column);
            }
            recs[k] = keep;
        }
        /* a final "\r" is a line end */
        {
            size_t k = 1;
            item_rec keep = recs[k];
            recs[k].len = (size_t)sprintf(recs[k].text, "10.1.0.0/16\r");
            assert_int_equal(cs_query_count_items(s, sc, &seq, &rec_layout, 0,
                                                  CS_Q_OVERLAPPING, got, N + 1, &err),
                             (int64_t)seq.n);
            assert_int_equal(got[k], 1);
            recs[k] = keep;
        }
        /* too many items for counts */
        assert_int_equal(cs_query_count_items(s, sc, &seq, &rec_layout, 0, CS_Q_OVERLAPPING,
                                              got, seq.n - 1, &err),
                         CS_ERANGE);
        /* and after every failure, right answers from the same scratch */
        assert_int_equal(cs_query_count_items(s, sc, &seq, &rec_layout, 0, CS_Q_OVERLAPPING,
                                              got, N + 1, &err),
                         (int64_t)seq.n);
        for (size_t i = 0; i < seq.n; i++)
            assert_int_equal(got[i], 1);
    }
    /* NUL-terminated texts that end just before an unreadable page: read
     * from a copy (in place, the short paths' look-ahead would fault) */
    char *map = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map + 4096, 4096, PROT_NONE), 0);
    cs_item_layout near = rec_layout;
    near.tag_off = 0;
    near.flags_off = 8;
    near.len_off = 16;
    near.text_off = 24;
    for (int i = 0; i < 80; i++) {
        const char *t = i % 2 ? "10.9.0.0/16" : "2001:db8:ff00::/40";
        size_t tl = strlen(t);
        char *txt = map + 4096 - (tl + 1) - (size_t)(i / 2); /* its NUL 0..39 bytes before */
        memcpy(txt, t, tl + 1);
        char *rec = txt - 24;
        uint64_t tag = REC_TAG;
        uint32_t fl = 0x64;
        memcpy(rec, &tag, 8);
        memcpy(rec + 8, &fl, 4);
        memcpy(rec + 16, &tl, sizeof tl);
        const item_rec *one_item = (const item_rec *)(void *)rec;
        item_seq one = {0, 1, &one_item};
        cs_error err;
        got[0] = 0xeeeeeeeeu;
        assert_int_equal(cs_query_count_items(s, NULL, &one, &near, 0, CS_Q_OVERLAPPING, got, 1,
                                              &err),
                         1);
        assert_int_equal(got[0], 1);
    }
    munmap(map, 2 * 4096);
    cs_error err;
    assert_int_equal(cs_query_count_items(NULL, sc, &seq, &rec_layout, 0, CS_Q_OVERLAPPING, got,
                                          N, &err),
                     CS_EINVAL);
    assert_int_equal(cs_query_count_items(s, sc, NULL, &rec_layout, 0, CS_Q_OVERLAPPING, got, N,
                                          &err),
                     CS_EINVAL);
    assert_int_equal(cs_query_count_items(s, sc, &seq, NULL, 0, CS_Q_OVERLAPPING, got, N, &err),
                     CS_EINVAL);
    free(recs);
    free(seq.items);
    free(text);
    free(got);
    cs_query_scratch_free(sc);
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
        cmocka_unit_test(prefix_lines__short_ipv6_path_agrees_with_the_parser_on_near_misses),
        cmocka_unit_test(prefix_lines__count_lines_equals_count_item_by_item),
        cmocka_unit_test(prefix_lines__count_lines_equals_brute_force_on_nested_estates),
        cmocka_unit_test(prefix_lines__count_items_equals_count_lines_with_a_reused_scratch),
        cmocka_unit_test(prefix_lines__count_items_refuses_foreign_records_and_names_bad_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
