/*
 * tests/support/testutil.h — helpers shared by the cmocka suites: a seeded
 * RNG, random prefix sets shaped like real estates, the real-prefix dataset,
 * and brute-force reference answers (too simple to be wrong).
 */
#ifndef CS_TESTUTIL_H
#define CS_TESTUTIL_H

#include <cidrscope/cidrscope.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tu_rng {
    uint64_t s;
} tu_rng;

uint64_t tu_next(tu_rng *r);
/* Uniform in [0, n). */
uint64_t tu_below(tu_rng *r, uint64_t n);

/* The seed for a suite: $CS_TEST_SEED when set, else `fallback`. Printed so
 * a failure can be replayed. */
uint64_t tu_seed(const char *suite, uint64_t fallback);

typedef struct tu_entry {
    cs_prefix p;
    uint32_t value;
} tu_entry;

/* A random prefix: family fam (CS_AF_V4/V6), length len, random bits. */
cs_prefix tu_random_prefix(tu_rng *r, uint8_t family, unsigned len);
/* p truncated (host bits cleared) to length len <= p->len. */
cs_prefix tu_truncate(const cs_prefix *p, unsigned len);

/*
 * n random entries, both families, lengths /0../32 and /0../128, with many
 * duplicates (the same prefix under other values), clusters of siblings, and
 * chains nested `depth`+ deep. Values are 0..n-1 in order. Caller frees.
 */
tu_entry *tu_random_entries(tu_rng *r, size_t n, unsigned depth);

/* Reads the real-prefix CSV (provider,family,prefix); values = provider
 * index. Returns NULL (and *n = 0) when the file is absent. Caller frees. */
tu_entry *tu_load_real(const char *path, size_t *n);

/* Brute-force relation of stored prefix p to query q (same family):
 * 0 none, else CS_REL_COVERS / CS_REL_EQUAL / CS_REL_COVERED. */
int tu_relation(const cs_prefix *p, const cs_prefix *q);

/* Builds a snapshot from entries (asserts success). */
cs_snapshot *tu_build(const tu_entry *e, size_t n);

/* Fills `q` with a query mix for the set: stored prefixes, shortened and
 * lengthened ones, addresses inside them, and uniformly random prefixes. */
void tu_random_queries(tu_rng *r, const tu_entry *e, size_t n, cs_prefix *q,
                       size_t nq);

/* A fresh directory $TMPDIR/<name>.<6 random chars> (/tmp when TMPDIR is
 * unset) made by mkdtemp into buf[cap]. Returns buf, or NULL (errno set). */
char *tu_mkdtemp(char *buf, size_t cap, const char *name);

#endif
