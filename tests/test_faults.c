/*
 * tests/test_faults.c — the failing allocator: every allocation of a
 * scenario fails in turn (the 1st, then the 2nd, ...), and each run must end
 * in success or CS_ENOMEM, never a crash, a leak (LeakSanitizer in the ASan
 * configuration) or a builder that goes on after a failure.
 *
 * The allocator is wrapped at link time (-Wl,--wrap=malloc,... set for this
 * suite in CMakeLists.txt), so the library is tested as shipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/failalloc.h"
#include "support/testutil.h"

#include <stdlib.h>
#include <string.h>

/* Builds and freezes a snapshot of `e` with allocation k failing. Returns 1
 * when the failure was hit (and handled), 0 when the scenario made fewer
 * than k+1 allocations (it then succeeded). */
static int build_with_failure(const tu_entry *e, size_t n, long k)
{
    fa_arm(k);
    cs_snapshot_builder *b = cs_snapshot_builder_new();
    if (!b) {
        fa_disarm();
        return 1;
    }
    cs_error err;
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = cs_snapshot_builder_add(b, &e[i].p, e[i].value, &err);
        if (rc == CS_ENOMEM) {
            failed = 1;
            /* a builder that failed refuses everything but _free */
            fa_disarm();
            assert_int_equal(cs_snapshot_builder_add(b, &e[0].p, 1, &err), CS_ESTATE);
            cs_snapshot *s = NULL;
            assert_int_equal(cs_snapshot_builder_freeze(b, &s, &err), CS_ESTATE);
            assert_null(s);
            break;
        }
        assert_int_equal(rc, 0);
    }
    if (!failed) {
        cs_snapshot *s = NULL;
        int rc = cs_snapshot_builder_freeze(b, &s, &err);
        if (rc == CS_ENOMEM) {
            failed = 1;
            assert_null(s);
            /* a failed freeze leaves the builder usable */
            fa_disarm();
            assert_int_equal(cs_snapshot_builder_freeze(b, &s, &err), 0);
        } else {
            assert_int_equal(rc, 0);
        }
        fa_disarm();
        if (s) {
            cs_snapshot_info info;
            cs_snapshot_get_info(s, &info);
            assert_int_equal(info.entries[0] + info.entries[1], n);
        }
        cs_snapshot_close(s);
    }
    fa_disarm();
    cs_snapshot_builder_free(b);
    return failed || fa_seen() > k;
}

static void faults__every_build_allocation_failure_is_reported(void **state)
{
    (void)state;
    tu_rng r = {11};
    /* enough entries to grow the node and entry arrays several times and to
     * build the IPv4 direct index at open */
    size_t n = 6000;
    tu_entry *e = tu_random_entries(&r, n, 6);
    long k = 0;
    while (build_with_failure(e, n, k))
        k++;
    assert_true(k > 5); /* the scenario really allocates */
    free(e);
}

static void faults__opening_an_image_without_memory_fails_cleanly(void **state)
{
    (void)state;
    tu_rng r = {12};
    size_t n = 5000;
    tu_entry *e = tu_random_entries(&r, n, 6);
    cs_snapshot *s = tu_build(e, n);
    size_t len;
    const void *img = cs_snapshot_image(s, &len);
    for (long k = 0; k < 4; k++) {
        fa_arm(k);
        cs_snapshot *t = NULL;
        cs_error err;
        int rc = cs_snapshot_from_memory(img, len, 0, &t, &err);
        fa_disarm();
        if (rc == 0) {
            cs_snapshot_close(t);
            break;
        }
        assert_int_equal(rc, CS_ENOMEM);
        assert_null(t);
    }
    cs_snapshot_close(s);
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(faults__every_build_allocation_failure_is_reported),
        cmocka_unit_test(faults__opening_an_image_without_memory_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
