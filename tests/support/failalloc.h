/*
 * tests/support/failalloc.h — the failing allocator for the suites linked
 * with -Wl,--wrap=malloc,--wrap=realloc,--wrap=calloc,--wrap=aligned_alloc
 * (CMakeLists.txt lists them: test_faults, test_intern). Include it from ONE
 * .c file of such a suite: it defines the __wrap_ functions.
 *
 *   fa_arm(k)    allocation number k (0-based, counted from now) returns NULL
 *   fa_disarm()  every allocation succeeds again
 *   fa_seen()    allocations made since fa_arm
 */
#ifndef CS_TEST_FAILALLOC_H
#define CS_TEST_FAILALLOC_H

#include <stddef.h>

void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_aligned_alloc(size_t a, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_calloc(size_t a, size_t b);
void *__wrap_aligned_alloc(size_t a, size_t n);

static long fa_fail_at = -1; /* allocation number that fails; -1 = none */
static long fa_count;

static int fa_should_fail(void)
{
    return fa_fail_at >= 0 && fa_count++ == fa_fail_at;
}

void *__wrap_malloc(size_t n) { return fa_should_fail() ? NULL : __real_malloc(n); }
void *__wrap_realloc(void *p, size_t n) { return fa_should_fail() ? NULL : __real_realloc(p, n); }
void *__wrap_calloc(size_t a, size_t b) { return fa_should_fail() ? NULL : __real_calloc(a, b); }
void *__wrap_aligned_alloc(size_t a, size_t n) { return fa_should_fail() ? NULL : __real_aligned_alloc(a, n); }

static inline void fa_arm(long k)
{
    fa_fail_at = k;
    fa_count = 0;
}

static inline void fa_disarm(void)
{
    fa_fail_at = -1;
}

static inline long fa_seen(void)
{
    return fa_count;
}

#endif
