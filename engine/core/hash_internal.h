/*
 * engine/core/hash_internal.h — the one string hash of the project (XXH3-64):
 * the builder's interning tables (engine/build/intern.c) and the image's VPC
 * id table (engine/image/estate_image.c) must compute the same value, so a
 * lookup in an image finds what the builder placed.
 */
#ifndef CS_HASH_INTERNAL_H
#define CS_HASH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Inlined (xxhash.h is the implementation): the builder hashes ids of a few
 * dozen bytes a million times, where a call into libxxhash cost a tenth of
 * a CSV load. Same function, same values. */
#define XXH_INLINE_ALL
#include <xxhash.h>

static inline uint64_t cs_hash_bytes(const char *s, size_t len)
{
    return XXH3_64bits(s, len);
}

#endif
