/*
 * engine/query/count_lines.c — cs_query_count_lines: parse a buffer of
 * prefixes (one a line) and count each against the snapshot in one call,
 * at the rate of queries in address order whatever the input order.
 *
 * Does: parse with cs_prefix_parse_lines (errors name the item's line and
 * column), then, for more than SORT_MIN items, put the queries in address
 * order by a radix sort of 64-bit records, count them in that order with
 * cs_query_count_bulk (neighbouring queries share their trie path and cache
 * lines: 3-4x faster than random order on a large estate), and scatter each
 * count back to the item's position. Does not: keep anything, print.
 *
 * RECORD (one u64 per item, sorted on bits 31..63 only):
 *
 *   bit 63      family (0 IPv4, 1 IPv6: IPv4 sorts first)
 *   bits 31..62 the address's first 32 bits (IPv4: all of it; IPv6: its
 *               /32, enough to group queries that share a path)
 *   bits 0..30  the item's index (n < 2^31)
 *
 * Sort: least-significant-digit radix, three passes of 11 bits over bits
 * 31..63, a pass skipped when every record has the same digit.
 *
 * Memory: 24 (parsed) + 24 (in order) + 2 x 8 (records) + 4 bytes per item,
 * freed before returning. Tests: tests/test_prefix_lines.c (counts equal
 * cs_query_count_bulk in input order), python/tests.
 */
#include <cidrscope/query.h>

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/error_internal.h"

#define SORT_MIN 4096u
#define DIGIT_BITS 11u
#define IDX_BITS 31u

static uint64_t record_of(const cs_prefix *p, size_t i)
{
    uint64_t top = p->family == CS_AF_V4 ? p->hi >> 32 : (1ull << 32) | (p->hi >> 32);
    return top << IDX_BITS | (uint64_t)i;
}

/* Sorts r[0..n) on bits 31..63 (tmp: n more records). Returns the array
 * holding the result (r or tmp). */
static uint64_t *radix_sort(uint64_t *r, uint64_t *tmp, size_t n)
{
    static_assert(IDX_BITS + 3 * DIGIT_BITS >= 64, "the passes cover the key");
    size_t count[1u << DIGIT_BITS];
    for (unsigned shift = IDX_BITS; shift < 64; shift += DIGIT_BITS) {
        const uint64_t mask = (1u << DIGIT_BITS) - 1;
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; i++)
            count[(r[i] >> shift) & mask]++;
        if (count[(r[0] >> shift) & mask] == n)
            continue; /* one digit for all: nothing moves */
        size_t sum = 0;
        for (size_t d = 0; d <= mask; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[count[(r[i] >> shift) & mask]++] = r[i];
        uint64_t *t = r;
        r = tmp;
        tmp = t;
    }
    return r;
}

int64_t cs_query_count_lines(const cs_snapshot *s, const char *text, size_t len,
                             unsigned flags, unsigned kind, uint32_t *counts, size_t cap,
                             cs_error *err)
{
    if (!s || (!text && len) || (!counts && cap))
        return cs_fail(err, CS_EINVAL, "cs_query_count_lines: NULL argument");
    cs_prefix *qs = malloc((cap ? cap : 1) * sizeof *qs);
    if (!qs)
        return cs_fail(err, CS_ENOMEM, "out of memory for %zu queries", cap);
    int64_t n = cs_prefix_parse_lines(text, len, flags, false, qs, cap, err);
    if (n < 0) {
        free(qs);
        return n;
    }
    const size_t m = (size_t)n;
    if (m < SORT_MIN || m >= (1ull << IDX_BITS)) {
        int rc = cs_query_count_bulk(s, qs, m, kind, counts);
        free(qs);
        return rc < 0 ? cs_fail(err, rc, "cs_query_count_lines: bad kind") : n;
    }
    uint64_t *rec = malloc(2 * m * sizeof *rec);
    cs_prefix *sorted = malloc(m * sizeof *sorted);
    uint32_t *got = malloc(m * sizeof *got);
    int64_t rc = CS_ENOMEM;
    if (rec && sorted && got) {
        for (size_t i = 0; i < m; i++)
            rec[i] = record_of(&qs[i], i);
        const uint64_t *r = radix_sort(rec, rec + m, m);
        const uint64_t idx_mask = (1ull << IDX_BITS) - 1;
        for (size_t j = 0; j < m; j++)
            sorted[j] = qs[r[j] & idx_mask];
        rc = cs_query_count_bulk(s, sorted, m, kind, got);
        if (rc == 0) {
            for (size_t j = 0; j < m; j++)
                counts[r[j] & idx_mask] = got[j];
            rc = n;
        } else {
            rc = cs_fail(err, (int)rc, "cs_query_count_lines: bad kind");
        }
    } else {
        rc = cs_fail(err, CS_ENOMEM, "out of memory for %zu queries", m);
    }
    free(rec);
    free(sorted);
    free(got);
    free(qs);
    return rc;
}
