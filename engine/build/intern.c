/*
 * engine/build/intern.c — string interning: byte strings -> dense u32 ids.
 *
 * Does: keep one copy of each distinct string of a namespace (account ids,
 * VPC ids, pcx ids, ...) in a shared append-only arena and hand out dense ids
 * 0, 1, 2, ... in first-seen order. Does not: free single strings, sort, or
 * know what the strings mean.
 *
 * Structure:
 *
 *   slots (open addressing, linear probing, power-of-two size, load <= 1/2)
 *   +----------------------------------+
 *   | tag = hash >> 32 | id + 1        |  u64; 0 = empty
 *   +----------------------------------+
 *            |  id
 *            v
 *   off[id], len[id]  ──>  arena: "\0" "123456789012\0" "vpc-0a1b...\0" ...
 *
 * A string's probe starts at slot (hash >> 32) & (slots - 1): the tag's
 * own bits, so growing the table re-places slots from their tags alone.
 * A probe compares the 32-bit tag first, so a string comparison happens
 * (almost) only for the string being looked for. The hash is XXH3-64
 * (xxhash.h), also used for the VPC id table stored in images, so image
 * lookups and builder lookups agree.
 *
 * Invariants: slot count is a power of two and more than twice `count`; every
 * id < count appears in exactly one slot; arena offsets fit 32 bits (the
 * image's string section is addressed by u32 offsets). Memory comes in bulk:
 * arrays double, there is no allocation per string.
 *
 * Concurrency: none (build side, one thread). Tests: tests/test_estate.c
 * (through the builder: 1M-record round trips), tests/fuzz/fuzz_csv.c.
 */
#include "build/intern_internal.h"

#include "core/grow_internal.h"

#include <stdlib.h>
#include <string.h>


int cs_strbuf_init(cs_strbuf *b)
{
    b->cap = 4096;
    b->data = malloc((size_t)b->cap);
    if (!b->data) {
        b->cap = 0;
        b->len = 0;
        return CS_ENOMEM;
    }
    b->data[0] = '\0';
    b->len = 1;
    return 0;
}

void cs_strbuf_release(cs_strbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int cs_strbuf_add(cs_strbuf *b, const char *s, size_t len, uint32_t *off)
{
    if (len == 0) {
        *off = 0;
        return 0;
    }
    uint64_t need = b->len + (uint64_t)len + 1;
    if (need > UINT32_MAX)
        return CS_ERANGE;
    if (need > b->cap) {
        uint64_t cap = b->cap ? b->cap : 4096;
        while (cap < need)
            cap *= 2;
        if (cap > (uint64_t)UINT32_MAX + 1)
            cap = (uint64_t)UINT32_MAX + 1;
        char *d = realloc(b->data, (size_t)cap);
        if (!d)
            return CS_ENOMEM;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, len);
    b->data[b->len + len] = '\0';
    *off = (uint32_t)b->len;
    b->len = need;
    return 0;
}

void cs_intern_init(cs_intern *t, cs_strbuf *buf)
{
    memset(t, 0, sizeof *t);
    t->buf = buf;
}

void cs_intern_release(cs_intern *t)
{
    free(t->slots);
    free(t->off);
    free(t->len);
    cs_strbuf *buf = t->buf;
    memset(t, 0, sizeof *t);
    t->buf = buf;
}

static inline uint64_t slot_tag(uint64_t h)
{
    return h & 0xffffffff00000000ull;
}

/* A string's home slot comes from the same high 32 bits the slot keeps as
 * its tag, so growing the table moves slots without reading or hashing a
 * string again (a million VPC ids: no arena reads, no XXH3 at all). */
static inline uint64_t slot_home(uint64_t h, uint64_t mask)
{
    return (h >> 32) & mask;
}

/* Rebuilds the slot table with `nslots` slots (a power of two, at most
 * 2^32). */
static int rehash(cs_intern *t, uint64_t nslots)
{
    /* Huge pages from 2 MiB on: a probe of a million-id table is a random
     * read, and with 4 KiB pages each one also missed the TLB (perf: the
     * page walk was most of a new VPC id's cost). */
    uint64_t *ns = cs_zalloc_huge((size_t)nslots * sizeof *ns);
    if (!ns)
        return CS_ENOMEM;
    uint64_t mask = nslots - 1;
    if (t->slots) {
        for (uint64_t i = 0; i <= t->mask; i++) {
            uint64_t v = t->slots[i];
            if (!v)
                continue;
            uint64_t j = slot_home(v, mask);
            while (ns[j])
                j = (j + 1) & mask;
            ns[j] = v;
        }
    }
    free(t->slots);
    t->slots = ns;
    t->mask = (uint32_t)mask;
    return 0;
}

uint32_t cs_intern_find(const cs_intern *t, const char *s, size_t len)
{
    if (!t->slots)
        return CS_INTERN_NONE;
    return cs_intern_find_h(t, s, len, cs_intern_hash(s, len));
}

uint32_t cs_intern_find_h(const cs_intern *t, const char *s, size_t len, uint64_t h)
{
    if (!t->slots)
        return CS_INTERN_NONE;
    uint64_t tag = slot_tag(h);
    for (uint64_t j = slot_home(h, t->mask);; j = (j + 1) & t->mask) {
        uint64_t v = t->slots[j];
        if (!v)
            return CS_INTERN_NONE;
        if ((v & 0xffffffff00000000ull) == tag) {
            uint32_t id = (uint32_t)v - 1;
            if (t->len[id] == len && memcmp(t->buf->data + t->off[id], s, len) == 0)
                return id;
        }
    }
}

int64_t cs_intern_put(cs_intern *t, const char *s, size_t len, bool *added)
{
    return cs_intern_put_h(t, s, len, cs_intern_hash(s, len), added);
}

int64_t cs_intern_put_h(cs_intern *t, const char *s, size_t len, uint64_t h, bool *added)
{
    if (added)
        *added = false;
    if (len > UINT32_MAX)
        return CS_ERANGE;
    /* Grow first so the probe below finds the final slot. Load <= 1/2. */
    if ((uint64_t)(t->count + 1) * 2 > (t->slots ? (uint64_t)t->mask + 1 : 0)) {
        if (t->count >= UINT32_MAX - 1)
            return CS_ERANGE;
        uint64_t n = t->slots ? ((uint64_t)t->mask + 1) * 2 : 64;
        if (n > ((uint64_t)1 << 32))
            return CS_ERANGE;
        int rc = rehash(t, n);
        if (rc)
            return rc;
    }
    uint64_t tag = slot_tag(h);
    uint64_t j = slot_home(h, t->mask);
    for (;; j = (j + 1) & t->mask) {
        uint64_t v = t->slots[j];
        if (!v)
            break;
        if ((v & 0xffffffff00000000ull) == tag) {
            uint32_t id = (uint32_t)v - 1;
            if (t->len[id] == len && memcmp(t->buf->data + t->off[id], s, len) == 0)
                return id;
        }
    }
    if (t->count == t->id_cap) {
        uint32_t cap = t->id_cap ? t->id_cap * 2 : 64;
        if (cap < t->id_cap)
            cap = UINT32_MAX - 1;
        uint32_t *no = realloc(t->off, (size_t)cap * sizeof *no);
        if (!no)
            return CS_ENOMEM;
        t->off = no;
        uint32_t *nl = realloc(t->len, (size_t)cap * sizeof *nl);
        if (!nl)
            return CS_ENOMEM;
        t->len = nl;
        t->id_cap = cap;
    }
    uint32_t off;
    int rc = cs_strbuf_add(t->buf, s, len, &off);
    if (rc)
        return rc;
    uint32_t id = t->count++;
    t->off[id] = off;
    t->len[id] = (uint32_t)len;
    t->slots[j] = tag | ((uint64_t)id + 1);
    if (added)
        *added = true;
    return id;
}
