/*
 * tests/test_gen_rows.c — the generator's row shape (datasets/gen/gen_rows.c),
 * the benchmarks' `estate-N` datasets:
 *
 *  - the bytes never change: FNV-1a hashes of the rows at the benchmarks'
 *    seed and two others, taken from bench/harness.c's own generator before
 *    it moved into datasets/gen, so every earlier benchmark figure stays
 *    comparable;
 *  - the first k rows of a longer run are the rows of k;
 *  - the mix is the one gen_rows.c documents (shares within a tolerance);
 *  - the row estate (gen_rows_estate_build) equals a brute-force reading of
 *    its documented rule: which row starts a VPC, which is a secondary of
 *    which VPC, each VPC's blocks and its slot's account and region.
 *
 * Seeds: CS_TEST_SEED replays the seeded parts (printed at start).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/testutil.h"

#include <cidrscope/estate.h>

#include "gen_estate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* bench/bench_main.cc's and bench/peers/peer_cidrscope.c's seed. */
#define BENCH_SEED 0x636964727363ull

static uint64_t fnv_rows(const cs_prefix *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        uint64_t w[3] = {p[i].hi, p[i].lo, (uint64_t)p[i].len << 8 | p[i].family};
        for (int k = 0; k < 3; k++)
            for (int b = 0; b < 8; b++) {
                h ^= (w[k] >> (8 * b)) & 0xff;
                h *= 1099511628211ull;
            }
    }
    return h;
}

static cs_prefix *rows_of(uint64_t seed, size_t n)
{
    cs_prefix *p = malloc(n * sizeof *p);
    assert_non_null(p);
    gen_prefix_rows(seed, n, p);
    return p;
}

static void gen_rows__bytes_never_change(void **state)
{
    (void)state;
    /* Hashes of bench/harness.c's hb_estate_rows at commit 6c63bb7. */
    static const struct {
        uint64_t seed;
        size_t n;
        uint64_t fnv;
    } golden[] = {
        {BENCH_SEED, 1000, 0xbe4aae2df14bd087ull},
        {BENCH_SEED, 100000, 0x5bd303772cbb8cebull},
        {1, 100000, 0xc99a51b9eb645ed8ull},
        {0x5eed, 1000, 0x49a9fefc075bfdeaull},
    };
    for (size_t i = 0; i < sizeof golden / sizeof *golden; i++) {
        cs_prefix *p = rows_of(golden[i].seed, golden[i].n);
        uint64_t h = fnv_rows(p, golden[i].n);
        if (h != golden[i].fnv)
            fail_msg("seed %#llx, %zu rows: hash %016llx, golden %016llx",
                     (unsigned long long)golden[i].seed, golden[i].n,
                     (unsigned long long)h, (unsigned long long)golden[i].fnv);
        free(p);
    }
}

static void gen_rows__a_longer_run_starts_with_the_shorter(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("gen_rows__a_longer_run_starts_with_the_shorter", 99);
    cs_prefix *a = rows_of(seed, 1000), *b = rows_of(seed, 7000);
    assert_memory_equal(a, b, 1000 * sizeof *a);
    cs_prefix *c = rows_of(seed + 1, 1000);
    assert_true(memcmp(a, c, 1000 * sizeof *a) != 0);
    free(a);
    free(b);
    free(c);
}

static bool in(const cs_prefix *outer, const cs_prefix *p)
{
    return cs_prefix_contains(outer, p);
}

static void gen_rows__mix_as_documented(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("gen_rows__mix_as_documented", BENCH_SEED);
    const size_t n = 200000;
    cs_prefix *p = rows_of(seed, n);
    const cs_prefix dflt = cs_prefix_from_v4(0xac1f0000u, 16);
    const cs_prefix cgnat = cs_prefix_from_v4(0x64400000u, 10);
    const cs_prefix amazon = cs_prefix_from_v6(0x2600000000000000ull | 0x1f0000000000ull, 0, 24);
    const cs_prefix ula = cs_prefix_from_v6(0xfd00000000000000ull, 0, 8);
    const cs_prefix pools[3] = {cs_prefix_from_v4(0x0a000000u, 8),
                                cs_prefix_from_v4(0xac100000u, 12),
                                cs_prefix_from_v4(0xc0a80000u, 16)};
    size_t n_dflt = 0, n_cgnat = 0, n_v6 = 0, n_amazon = 0, n_rest = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].family == CS_AF_V6) {
            n_v6++;
            if (in(&amazon, &p[i]) && p[i].len == 56)
                n_amazon++;
            else if (!in(&ula, &p[i]))
                fail_msg("row %zu: IPv6 neither Amazon /56 nor ULA", i);
        } else if (cs_prefix_compare(&p[i], &dflt) == 0) {
            n_dflt++;
        } else if (in(&cgnat, &p[i])) {
            n_cgnat++;
            assert_true(p[i].len == 16 || p[i].len == 20);
        } else {
            /* a template or an IPAM block: inside a pool, /16../27 */
            n_rest++;
            assert_true(p[i].len >= 16 && p[i].len <= 27);
            assert_true(in(&pools[0], &p[i]) || in(&pools[1], &p[i]) || in(&pools[2], &p[i]));
        }
    }
    /* 24%, 5%, 15% (95% of it Amazon), the rest 56%: within 1 point. */
    double f = 100.0 / (double)n;
    if (n_dflt * f < 23 || n_dflt * f > 25 || n_cgnat * f < 4 || n_cgnat * f > 6 ||
        n_v6 * f < 14 || n_v6 * f > 16 || n_rest * f < 55 || n_rest * f > 57 ||
        n_amazon * 100.0 / (double)n_v6 < 93 || n_amazon * 100.0 / (double)n_v6 > 97)
        fail_msg("seed %#llx: default %.2f%%, CGNAT %.2f%%, IPv6 %.2f%% (Amazon %.1f%% of "
                 "it), rest %.2f%%", (unsigned long long)seed, n_dflt * f, n_cgnat * f,
                 n_v6 * f, n_amazon * 100.0 / (double)n_v6, n_rest * f);
    free(p);
}

static void gen_rows__estate_is_the_documented_reading(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("gen_rows__estate_is_the_documented_reading", BENCH_SEED);
    const size_t n = 30000;
    cs_prefix *p = rows_of(seed, n);
    cs_estate *e = cs_estate_new();
    assert_non_null(e);
    cs_error err;
    size_t vpcs = 0;
    assert_int_equal(gen_rows_estate_build(p, n, sizeof *p, seed + 7, e, &vpcs, &err), 0);
    cs_snapshot *s = NULL;
    assert_true(cs_estate_freeze(e, &s, &err) >= 0);
    cs_estate_free(e);

    /* Brute force: the VPC of each row, and each VPC's slot. */
    const cs_prefix dflt = cs_prefix_from_v4(0xac1f0000u, 16);
    const cs_prefix cgnat = cs_prefix_from_v4(0x64400000u, 10);
    uint32_t *vpc_of = malloc(n * sizeof *vpc_of);
    uint64_t *slot_of = malloc(n * sizeof *slot_of);
    assert_non_null(vpc_of);
    assert_non_null(slot_of);
    uint32_t nv = 0, last = UINT32_MAX;
    uint64_t slot = 0;
    for (size_t i = 0; i < n; i++) {
        bool is_default = cs_prefix_compare(&p[i], &dflt) == 0;
        bool secondary = p[i].family == CS_AF_V6 || cs_prefix_contains(&cgnat, &p[i]);
        slot += is_default;
        if (secondary && last != UINT32_MAX) {
            vpc_of[i] = last;
        } else {
            slot_of[nv] = slot;
            vpc_of[i] = nv++;
            if (!is_default)
                last = vpc_of[i];
        }
    }
    assert_int_equal(vpcs, nv);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    assert_int_equal(c.vpcs, nv);
    /* Rows by VPC (CSR), then: each VPC holds exactly its rows' blocks (as
     * a set), is a default VPC when its first row is 172.31.0.0/16, and
     * sits in its slot's account. */
    size_t *begin = calloc(nv + 1, sizeof *begin), *fill = calloc(nv, sizeof *fill);
    size_t *row = malloc(n * sizeof *row);
    assert_non_null(begin);
    assert_non_null(fill);
    assert_non_null(row);
    for (size_t i = 0; i < n; i++)
        begin[vpc_of[i] + 1]++;
    for (uint32_t v = 0; v < nv; v++)
        begin[v + 1] += begin[v];
    for (size_t i = 0; i < n; i++)
        row[begin[vpc_of[i]] + fill[vpc_of[i]]++] = i;
    for (uint32_t v = 0; v < nv; v++) {
        char id[32];
        snprintf(id, sizeof id, "vpc-%017llx", (unsigned long long)v);
        uint32_t idx = CS_IDX_NONE;
        assert_int_equal(cs_estate_vpc_find(s, id, strlen(id), &idx), 1);
        cs_vpc vv;
        assert_int_equal(cs_estate_vpc(s, idx, &vv), 0);
        assert_int_equal(vv.is_default, cs_prefix_compare(&p[row[begin[v]]], &dflt) == 0);
        cs_account a;
        assert_int_equal(cs_estate_account(s, vv.account_idx, &a), 0);
        char owner[24];
        snprintf(owner, sizeof owner, "%012llu",
                 (unsigned long long)(100000000000ull + slot_of[v] / 16));
        assert_string_equal(a.id, owner);
        for (uint32_t k = 0; k < vv.assoc_count; k++) {
            cs_assoc as;
            assert_int_equal(cs_estate_assoc(s, vv.assoc_begin + k, &as), 0);
            bool found = false;
            for (size_t j = begin[v]; j < begin[v + 1] && !found; j++)
                found = cs_prefix_compare(&p[row[j]], &as.prefix) == 0;
            if (!found)
                fail_msg("%s holds a block none of its rows gave", id);
        }
        for (size_t j = begin[v]; j < begin[v + 1]; j++) {
            bool found = false;
            for (uint32_t k = 0; k < vv.assoc_count && !found; k++) {
                cs_assoc as;
                assert_int_equal(cs_estate_assoc(s, vv.assoc_begin + k, &as), 0);
                found = cs_prefix_compare(&p[row[j]], &as.prefix) == 0;
            }
            if (!found)
                fail_msg("row %zu is not a block of %s", row[j], id);
        }
    }
    free(begin);
    free(fill);
    free(row);
    /* About 3% of non-default VPCs are peered with the previous one. */
    assert_true(c.peerings > 0 && c.peerings < nv / 10);
    free(vpc_of);
    free(slot_of);
    cs_snapshot_close(s);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gen_rows__bytes_never_change),
        cmocka_unit_test(gen_rows__a_longer_run_starts_with_the_shorter),
        cmocka_unit_test(gen_rows__mix_as_documented),
        cmocka_unit_test(gen_rows__estate_is_the_documented_reading),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
