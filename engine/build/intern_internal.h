/*
 * engine/build/intern_internal.h — string interning: byte strings -> dense u32 ids,
 * through an XXH3-keyed open-addressing table.
 *
 * A cs_strbuf is an append-only arena of NUL-terminated strings addressed by
 * 32-bit byte offsets (offset 0 always holds the empty string), so the arena
 * can be copied verbatim into an image's string section. Several cs_intern
 * tables (one namespace each: account ids, VPC ids, ...) may share one arena.
 *
 * Build side only; single-threaded. Tests: tests/test_estate.c (through the
 * builder), tests/fuzz/fuzz_csv.c.
 */
#ifndef CS_INTERN_INTERNAL_H
#define CS_INTERN_INTERNAL_H

#include <cidrscope/error.h>

#include "core/hash_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CS_INTERN_NONE UINT32_MAX

typedef struct cs_strbuf {
    char *data;         /* data[0] == '\0' once initialised */
    uint64_t len;       /* bytes used (every string followed by its NUL) */
    uint64_t cap;
} cs_strbuf;

/* An empty arena holding only "" at offset 0. Returns 0 or CS_ENOMEM. */
int cs_strbuf_init(cs_strbuf *b);
void cs_strbuf_release(cs_strbuf *b);

/* Appends s[0..len) and a NUL (no deduplication); *off receives its offset.
 * Returns 0, CS_ENOMEM (arena unchanged), CS_ERANGE (arena past 4 GiB). */
int cs_strbuf_add(cs_strbuf *b, const char *s, size_t len, uint32_t *off);

static inline const char *cs_strbuf_at(const cs_strbuf *b, uint32_t off)
{
    return b->data + off;
}

typedef struct cs_intern {
    cs_strbuf *buf;     /* shared arena, not owned */
    uint64_t *slots;    /* 0 = empty; else (hash >> 32) << 32 | (id + 1) */
    uint32_t *off;      /* id -> arena offset */
    uint32_t *len;      /* id -> length in bytes */
    uint32_t count;     /* ids handed out: 0..count-1 */
    uint32_t id_cap;
    uint32_t mask;      /* slot count - 1 (a power of two), 0 when none */
} cs_intern;

/* An empty table storing its strings in `buf`. Never fails (allocates on the
 * first put). */
void cs_intern_init(cs_intern *t, cs_strbuf *buf);
void cs_intern_release(cs_intern *t);

/*
 * The id of s[0..len), interned now if new (*added = true) or found
 * (*added = false). Returns the id (>= 0), CS_ENOMEM (table unchanged),
 * CS_ERANGE (2^32-1 ids or 4 GiB of strings). Amortised O(1): the slot
 * table doubles at a load factor of 1/2.
 */
int64_t cs_intern_put(cs_intern *t, const char *s, size_t len, bool *added);

/* The id of s[0..len), or CS_INTERN_NONE. */
uint32_t cs_intern_find(const cs_intern *t, const char *s, size_t len);

/* cs_intern_find and cs_intern_put given h = cs_intern_hash(s, len), for a
 * caller that looks a string up and then adds it (one hash, not two). */
uint32_t cs_intern_find_h(const cs_intern *t, const char *s, size_t len, uint64_t h);
int64_t cs_intern_put_h(cs_intern *t, const char *s, size_t len, uint64_t h, bool *added);

/* Starts loading the slot where a probe for hash h begins (a hint: no
 * effect on the table). For a reader that knows the next string before it
 * asks: a million-id table misses the cache on every probe. */
static inline void cs_intern_prefetch(const cs_intern *t, uint64_t h)
{
    if (t->slots)
        __builtin_prefetch(&t->slots[(h >> 32) & t->mask]);
}

static inline const char *cs_intern_str(const cs_intern *t, uint32_t id)
{
    return t->buf->data + t->off[id];
}

static inline uint32_t cs_intern_off(const cs_intern *t, uint32_t id)
{
    return t->off[id];
}

static inline uint32_t cs_intern_len(const cs_intern *t, uint32_t id)
{
    return t->len[id];
}

/* The hash used by every table of the estate, in memory and in the image
 * (so a lookup in an image computes the same value). */
static inline uint64_t cs_intern_hash(const char *s, size_t len)
{
    return cs_hash_bytes(s, len);
}

#endif
