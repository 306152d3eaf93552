#define _GNU_SOURCE /* mkdtemp */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t tu_next(tu_rng *r)
{
    /* splitmix64: fine statistics, one line, no state to get wrong. */
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t tu_below(tu_rng *r, uint64_t n)
{
    return n ? tu_next(r) % n : 0;
}

uint64_t tu_seed(const char *suite, uint64_t fallback)
{
    const char *env = getenv("CS_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : fallback;
    fprintf(stderr, "%s: seed %llu (replay with CS_TEST_SEED=%llu)\n", suite,
            (unsigned long long)seed, (unsigned long long)seed);
    return seed;
}

static void clear_past(uint64_t *hi, uint64_t *lo, unsigned len)
{
    if (len == 0) {
        *hi = *lo = 0;
    } else if (len < 64) {
        *hi &= ~0ull << (64 - len);
        *lo = 0;
    } else if (len == 64) {
        *lo = 0;
    } else if (len < 128) {
        *lo &= ~0ull << (128 - len);
    }
}

cs_prefix tu_random_prefix(tu_rng *r, uint8_t family, unsigned len)
{
    cs_prefix p = {0};
    p.family = family;
    p.len = (uint8_t)len;
    p.hi = tu_next(r);
    p.lo = family == CS_AF_V6 ? tu_next(r) : 0;
    if (family == CS_AF_V4)
        p.hi &= 0xffffffff00000000ull;
    clear_past(&p.hi, &p.lo, len);
    return p;
}

cs_prefix tu_truncate(const cs_prefix *p, unsigned len)
{
    cs_prefix q = *p;
    q.len = (uint8_t)len;
    clear_past(&q.hi, &q.lo, len);
    return q;
}

/* A prefix inside p, `extra` bits longer (bounded by the family width). */
static cs_prefix extend(tu_rng *r, const cs_prefix *p, unsigned extra)
{
    unsigned bits = p->family == CS_AF_V4 ? 32 : 128;
    unsigned len = p->len + extra > bits ? bits : p->len + extra;
    cs_prefix x = tu_random_prefix(r, p->family, len);
    /* keep p's bits, random below */
    uint64_t mhi, mlo;
    if (p->len == 0) {
        mhi = mlo = 0;
    } else if (p->len <= 64) {
        mhi = p->len == 64 ? ~0ull : ~0ull << (64 - p->len);
        mlo = 0;
    } else {
        mhi = ~0ull;
        mlo = p->len == 128 ? ~0ull : ~0ull << (128 - p->len);
    }
    x.hi = (p->hi & mhi) | (x.hi & ~mhi);
    x.lo = (p->lo & mlo) | (x.lo & ~mlo);
    clear_past(&x.hi, &x.lo, len);
    return x;
}

tu_entry *tu_random_entries(tu_rng *r, size_t n, unsigned depth)
{
    tu_entry *e = calloc(n ? n : 1, sizeof *e);
    size_t k = 0;
    while (k < n) {
        uint8_t fam = tu_below(r, 3) ? CS_AF_V4 : CS_AF_V6;
        unsigned bits = fam == CS_AF_V4 ? 32 : 128;
        unsigned kind = (unsigned)tu_below(r, 10);
        if (kind < 2 && k > 0) {
            /* a duplicate of an earlier prefix, maybe many times (default
             * VPCs) */
            cs_prefix p = e[tu_below(r, k)].p;
            size_t reps = 1 + tu_below(r, tu_below(r, 8) == 0 ? 200 : 4);
            for (size_t i = 0; i < reps && k < n; i++, k++)
                e[k].p = p;
        } else if (kind < 4) {
            /* a chain nested `depth`+ deep from a short prefix */
            unsigned start = (unsigned)tu_below(r, fam == CS_AF_V4 ? 9 : 33);
            cs_prefix p = tu_random_prefix(r, fam, start);
            unsigned levels = depth + (unsigned)tu_below(r, 6);
            for (unsigned i = 0; i < levels && k < n; i++, k++) {
                e[k].p = p;
                if (p.len >= bits)
                    break;
                p = extend(r, &p, 1 + (unsigned)tu_below(r, fam == CS_AF_V4 ? 3 : 9));
            }
        } else if (kind < 6 && k > 0) {
            /* siblings and children inside an existing prefix */
            cs_prefix p = e[tu_below(r, k)].p;
            size_t kids = 1 + tu_below(r, 8);
            for (size_t i = 0; i < kids && k < n; i++, k++)
                e[k].p = extend(r, &p, 1 + (unsigned)tu_below(r, 12));
        } else {
            /* anything, /0 to the full width, lengths biased to real ones */
            unsigned len = tu_below(r, 4) == 0
                               ? (unsigned)tu_below(r, bits + 1)
                               : fam == CS_AF_V4 ? 8 + (unsigned)tu_below(r, 25)
                                                 : 24 + (unsigned)tu_below(r, 105);
            e[k++].p = tu_random_prefix(r, fam, len);
        }
    }
    for (size_t i = 0; i < n; i++)
        e[i].value = (uint32_t)i;
    return e;
}

tu_entry *tu_load_real(const char *path, size_t *n)
{
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 1 << 18, k = 0;
    tu_entry *e = malloc(cap * sizeof *e);
    char line[512];
    char providers[64][32];
    unsigned np = 0;
    while (fgets(line, sizeof line, f)) {
        char *c1 = strchr(line, ',');
        if (!c1)
            continue;
        char *c2 = strchr(c1 + 1, ',');
        if (!c2)
            continue;
        *c1 = '\0';
        char *pfx = c2 + 1;
        size_t pl = strcspn(pfx, "\r\n");
        cs_prefix p;
        /* 1,199 rows of the dataset are bare addresses: host routes */
        if (cs_prefix_parse(pfx, pl, CS_PARSE_BARE_ADDRESS, &p, NULL) != 0)
            continue; /* the header line */
        unsigned pi = 0;
        while (pi < np && strcmp(providers[pi], line) != 0)
            pi++;
        if (pi == np && np < 64)
            snprintf(providers[np++], sizeof providers[0], "%.31s", line);
        if (k == cap) {
            cap *= 2;
            e = realloc(e, cap * sizeof *e);
        }
        e[k].p = p;
        e[k].value = pi;
        k++;
    }
    fclose(f);
    *n = k;
    return e;
}

int tu_relation(const cs_prefix *p, const cs_prefix *q)
{
    if (p->family != q->family)
        return 0;
    unsigned m = p->len < q->len ? p->len : q->len;
    /* compare the first m bits, one bit at a time: slow and obvious */
    for (unsigned i = 0; i < m; i++) {
        unsigned a = i < 64 ? (unsigned)(p->hi >> (63 - i)) & 1 : (unsigned)(p->lo >> (127 - i)) & 1;
        unsigned b = i < 64 ? (unsigned)(q->hi >> (63 - i)) & 1 : (unsigned)(q->lo >> (127 - i)) & 1;
        if (a != b)
            return 0;
    }
    if (p->len < q->len)
        return CS_REL_COVERS;
    if (p->len == q->len)
        return CS_REL_EQUAL;
    return CS_REL_COVERED;
}

cs_snapshot *tu_build(const tu_entry *e, size_t n)
{
    cs_snapshot_builder *b = cs_snapshot_builder_new();
    if (!b)
        abort();
    for (size_t i = 0; i < n; i++)
        if (cs_snapshot_builder_add(b, &e[i].p, e[i].value, NULL) != 0)
            abort();
    cs_snapshot *s = NULL;
    if (cs_snapshot_builder_freeze(b, &s, NULL) != 0)
        abort();
    cs_snapshot_builder_free(b);
    return s;
}

void tu_random_queries(tu_rng *r, const tu_entry *e, size_t n, cs_prefix *q,
                       size_t nq)
{
    for (size_t i = 0; i < nq; i++) {
        unsigned kind = (unsigned)tu_below(r, 6);
        if (n == 0 || kind == 5) {
            uint8_t fam = tu_below(r, 2) ? CS_AF_V4 : CS_AF_V6;
            unsigned bits = fam == CS_AF_V4 ? 32 : 128;
            q[i] = tu_random_prefix(r, fam, (unsigned)tu_below(r, bits + 1));
            continue;
        }
        cs_prefix p = e[tu_below(r, n)].p;
        unsigned bits = p.family == CS_AF_V4 ? 32 : 128;
        switch (kind) {
        case 0: q[i] = p; break;
        case 1: q[i] = tu_truncate(&p, (unsigned)tu_below(r, p.len + 1u)); break;
        case 2: q[i] = extend(r, &p, 1 + (unsigned)tu_below(r, 16)); break;
        case 3: q[i] = extend(r, &p, bits); break; /* an address inside */
        default: q[i] = tu_truncate(&p, p.len > 8 ? p.len - 8u : 0u); break;
        }
    }
}

char *tu_mkdtemp(char *buf, size_t cap, const char *name)
{
    const char *base = getenv("TMPDIR");
    int n = snprintf(buf, cap, "%s/%s.%s", base && *base ? base : "/tmp", name, "XXXXXX");
    if (n < 0 || (size_t)n >= cap)
        return NULL;
    return mkdtemp(buf);
}
