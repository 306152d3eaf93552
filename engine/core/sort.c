/*
 * engine/core/sort.c — cs_sort_u64 (sort_internal.h documents the
 * contract).
 *
 * Does: qsort below 4,096 keys; above, four LSD passes of 16-bit digits
 * between a and tmp, a pass skipped when one digit value holds every key,
 * the result copied back into a when it ends in tmp. Does not: sort
 * records (callers pack an index into the key's low bits).
 * Thread-safety: none needed (caller-owned arrays).
 */
#include "core/sort_internal.h"

#include <stdlib.h>
#include <string.h>

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

void cs_sort_u64(uint64_t *a, uint64_t *tmp, size_t n)
{
    enum { R = 1u << 16 };
    size_t *cnt = n < 4096 ? NULL : malloc(R * sizeof *cnt);
    if (!cnt) {
        if (n > 1)
            qsort(a, n, sizeof *a, cmp_u64);
        return;
    }
    uint64_t *src = a, *dst = tmp;
    for (unsigned shift = 0; shift < 64; shift += 16) {
        memset(cnt, 0, R * sizeof *cnt);
        for (size_t i = 0; i < n; i++)
            cnt[(src[i] >> shift) & (R - 1)]++;
        if (cnt[(src[0] >> shift) & (R - 1)] == n)
            continue; /* this digit is the same everywhere */
        size_t sum = 0;
        for (unsigned d = 0; d < R; d++) {
            size_t x = cnt[d];
            cnt[d] = sum;
            sum += x;
        }
        for (size_t i = 0; i < n; i++)
            dst[cnt[(src[i] >> shift) & (R - 1)]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
    free(cnt);
}
