/*
 * tests/test_intern.c — engine/build/intern.c: string interning.
 *
 * Dedupe (the same bytes give the same id, found or added), ids dense in
 * first-seen order, the empty string and embedded NULs, many strings (the
 * slot table doubling many times) checked against a plain array, strings
 * whose 32-bit tags collide (found among 400k strings by sorting their
 * hashes) kept apart, several tables sharing one arena, and every
 * allocation failing in turn (tests/support/failalloc.h): CS_ENOMEM with the
 * table unchanged and usable afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/failalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build/intern_internal.h"

/* The i-th test string: varied lengths, like account and VPC ids. */
static size_t name_of(uint64_t i, char *buf, size_t cap)
{
    if (i % 3 == 0)
        return (size_t)snprintf(buf, cap, "%012llu", (unsigned long long)(i * 7919u));
    if (i % 3 == 1)
        return (size_t)snprintf(buf, cap, "vpc-%017llx", (unsigned long long)(i * 0x9e3779b97f4a7c15ull));
    return (size_t)snprintf(buf, cap, "s%llu", (unsigned long long)i);
}

static void intern__same_bytes_same_id(void **state)
{
    (void)state;
    cs_strbuf b;
    assert_int_equal(cs_strbuf_init(&b), 0);
    cs_intern t;
    cs_intern_init(&t, &b);
    bool added;
    assert_int_equal(cs_intern_find(&t, "a", 1), CS_INTERN_NONE);   /* empty table */
    assert_int_equal(cs_intern_put(&t, "vpc-1", 5, &added), 0);
    assert_true(added);
    assert_int_equal(cs_intern_put(&t, "vpc-2", 5, &added), 1);
    assert_true(added);
    assert_int_equal(cs_intern_put(&t, "vpc-1", 5, &added), 0);
    assert_false(added);
    /* a prefix of a stored string is another string */
    assert_int_equal(cs_intern_put(&t, "vpc-1", 4, &added), 2);
    assert_true(added);
    /* embedded NUL: length counts, not strlen */
    assert_int_equal(cs_intern_put(&t, "a\0b", 3, &added), 3);
    assert_int_equal(cs_intern_put(&t, "a\0c", 3, &added), 4);
    assert_int_equal(cs_intern_find(&t, "a\0b", 3), 3);
    assert_int_equal(cs_intern_find(&t, "a", 1), CS_INTERN_NONE);
    /* the empty string is a string like any other, at arena offset 0 */
    assert_int_equal(cs_intern_put(&t, "", 0, &added), 5);
    assert_int_equal(cs_intern_off(&t, 5), 0);
    assert_int_equal(cs_intern_find(&t, "", 0), 5);
    assert_string_equal(cs_intern_str(&t, 0), "vpc-1");
    assert_string_equal(cs_intern_str(&t, 2), "vpc-");
    assert_int_equal(cs_intern_len(&t, 1), 5);
    assert_int_equal(t.count, 6);
    cs_intern_release(&t);
    cs_strbuf_release(&b);
}

static void intern__many_strings_dense_ids_against_an_array(void **state)
{
    (void)state;
    enum { N = 300000 };
    cs_strbuf b;
    assert_int_equal(cs_strbuf_init(&b), 0);
    cs_intern t;
    cs_intern_init(&t, &b);
    char buf[64];
    bool added;
    /* each string twice, interleaved: ids are dense in first-seen order */
    for (uint64_t i = 0; i < N; i++) {
        size_t n = name_of(i, buf, sizeof buf);
        assert_int_equal(cs_intern_put(&t, buf, n, &added), (int64_t)i);
        assert_true(added);
        if (i >= 7) {
            n = name_of(i - 7, buf, sizeof buf);
            assert_int_equal(cs_intern_put(&t, buf, n, &added), (int64_t)(i - 7));
            assert_false(added);
        }
    }
    assert_int_equal(t.count, N);
    assert_true((uint64_t)t.mask + 1 > 2ull * N);   /* load factor <= 1/2 */
    for (uint64_t i = 0; i < N; i++) {
        size_t n = name_of(i, buf, sizeof buf);
        assert_int_equal(cs_intern_find(&t, buf, n), (uint32_t)i);
        assert_int_equal(cs_intern_len(&t, (uint32_t)i), n);
        assert_memory_equal(cs_intern_str(&t, (uint32_t)i), buf, n + 1);
    }
    assert_int_equal(cs_intern_find(&t, "absent", 6), CS_INTERN_NONE);
    cs_intern_release(&t);
    cs_strbuf_release(&b);
}

typedef struct hashed {
    uint64_t h;
    uint32_t i;
} hashed;

static int by_tag(const void *a, const void *b)
{
    uint64_t x = ((const hashed *)a)->h >> 32, y = ((const hashed *)b)->h >> 32;
    return (x > y) - (x < y);
}

static void intern__colliding_tags_stay_apart(void **state)
{
    (void)state;
    /* 400k strings: ~18 pairs share the upper 32 hash bits (the slot tag)
     * by the birthday bound; the set is fixed, so the count is too */
    enum { N = 400000 };
    hashed *hs = malloc(N * sizeof *hs);
    assert_non_null(hs);
    char buf[64];
    for (uint32_t i = 0; i < N; i++) {
        size_t n = name_of(i, buf, sizeof buf);
        hs[i].h = cs_intern_hash(buf, n);
        hs[i].i = i;
    }
    qsort(hs, N, sizeof *hs, by_tag);
    cs_strbuf b;
    assert_int_equal(cs_strbuf_init(&b), 0);
    cs_intern t;
    cs_intern_init(&t, &b);
    /* a small table holding only colliding pairs: they share tag AND (for
     * a table this small) usually the start slot, so each probe meets the
     * other's tag and must compare the bytes */
    int pairs = 0;
    bool added;
    char other[64];
    for (uint32_t k = 1; k < N; k++) {
        if (hs[k].h >> 32 != hs[k - 1].h >> 32)
            continue;
        size_t n1 = name_of(hs[k - 1].i, buf, sizeof buf);
        size_t n2 = name_of(hs[k].i, other, sizeof other);
        int64_t a = cs_intern_put(&t, buf, n1, &added);
        int64_t c = cs_intern_put(&t, other, n2, &added);
        assert_true(a >= 0 && c >= 0 && a != c);
        assert_true(added);
        assert_int_equal(cs_intern_find(&t, buf, n1), (uint32_t)a);
        assert_int_equal(cs_intern_find(&t, other, n2), (uint32_t)c);
        pairs++;
    }
    print_message("%d pairs of strings with colliding 32-bit tags\n", pairs);
    assert_true(pairs >= 3);
    cs_intern_release(&t);
    cs_strbuf_release(&b);
    free(hs);
}

static void intern__tables_share_one_arena(void **state)
{
    (void)state;
    cs_strbuf b;
    assert_int_equal(cs_strbuf_init(&b), 0);
    cs_intern accounts, vpcs;
    cs_intern_init(&accounts, &b);
    cs_intern_init(&vpcs, &b);
    bool added;
    /* the same bytes in two namespaces: two ids, each dense from 0 */
    assert_int_equal(cs_intern_put(&accounts, "111111111111", 12, &added), 0);
    assert_int_equal(cs_intern_put(&vpcs, "111111111111", 12, &added), 0);
    assert_true(added);
    assert_int_equal(cs_intern_put(&vpcs, "vpc-a", 5, &added), 1);
    assert_int_equal(cs_intern_find(&accounts, "vpc-a", 5), CS_INTERN_NONE);
    assert_true(cs_intern_off(&accounts, 0) != cs_intern_off(&vpcs, 0));
    assert_string_equal(cs_intern_str(&vpcs, 1), "vpc-a");
    assert_int_equal(b.len, 1 + 13 + 13 + 6);
    cs_intern_release(&accounts);
    cs_intern_release(&vpcs);
    cs_strbuf_release(&b);
}

static void intern__every_allocation_failure_leaves_the_table_usable(void **state)
{
    (void)state;
    enum { N = 5000 };
    char buf[64];
    int failures = 0;
    for (long k = 0;; k++) {
        cs_strbuf b;
        assert_int_equal(cs_strbuf_init(&b), 0);
        cs_intern t;
        cs_intern_init(&t, &b);
        bool added;
        fa_arm(k);
        uint32_t done = 0;
        int64_t rc = 0;
        for (uint32_t i = 0; i < N; i++) {
            size_t n = name_of(i, buf, sizeof buf);
            rc = cs_intern_put(&t, buf, n, &added);
            if (rc < 0)
                break;
            done++;
        }
        fa_disarm();
        bool hit = rc < 0;
        if (hit) {
            assert_int_equal(rc, CS_ENOMEM);
            failures++;
            /* unchanged: exactly the strings before the failure */
            assert_int_equal(t.count, done);
            for (uint32_t i = 0; i <= done && i < N; i++) {
                size_t n = name_of(i, buf, sizeof buf);
                assert_int_equal(cs_intern_find(&t, buf, n), i < done ? i : CS_INTERN_NONE);
            }
            /* and usable: the rest goes in with the next ids */
            for (uint32_t i = done; i < N; i++) {
                size_t n = name_of(i, buf, sizeof buf);
                assert_int_equal(cs_intern_put(&t, buf, n, &added), (int64_t)i);
            }
        }
        assert_int_equal(t.count, N);
        cs_intern_release(&t);
        cs_strbuf_release(&b);
        if (!hit)
            break;   /* k passed the number of allocations N puts make */
    }
    print_message("%d allocation failures injected\n", failures);
    assert_true(failures >= 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(intern__same_bytes_same_id),
        cmocka_unit_test(intern__many_strings_dense_ids_against_an_array),
        cmocka_unit_test(intern__colliding_tags_stay_apart),
        cmocka_unit_test(intern__tables_share_one_arena),
        cmocka_unit_test(intern__every_allocation_failure_leaves_the_table_usable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
