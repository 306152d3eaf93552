/*
 * engine/build/freeze_internal.h — freezing the snapshot builder (the two
 * build-side tries) into an image, with extra sections (the estate's tables)
 * carried along. Build side: it fills the arrays the image writer
 * (engine/image/snapshot.c, cs_image_build_*) lays out.
 */
#ifndef CS_FREEZE_INTERNAL_H
#define CS_FREEZE_INTERNAL_H

#include <cidrscope/snapshot.h>

#include "image/snapshot_internal.h"

/* Freezes the builder plus `n_extra` extra sections (ids
 * CS_SEC_ESTATE_FIRST..LAST, copied) into a new heap image. Returns as
 * cs_snapshot_builder_freeze. */
int cs_snapshot_build_image(const cs_snapshot_builder *b,
                            const cs_section_blob *extra, size_t n_extra,
                            cs_snapshot **out, cs_error *err);

/*
 * The sorted freeze (the estate's path; how it works: engine/build/freeze.c).
 * One family's entries: `values[0..n)` sorted by (prefix, value), with
 * prefix_of(ctx, value) giving a value's prefix (canonical, of the family).
 *
 * cs_freeze_plan counts the family's distinct prefixes and nodes (for
 * cs_image_counts, before the image is laid out) and records its glue
 * nodes in `glue` (malloc'd; the caller frees it). 0, CS_ENOMEM, CS_ERANGE.
 *
 * cs_freeze_write then writes every byte of the family's HOT (hot4 for IPv4,
 * hot6 for IPv6; the other NULL) and COLD arrays (`nodes` records,
 * uninitialised on entry); the VALUES array is `values` itself,
 * which the caller has put in place. Exactly the trie freeze's bytes.
 */
typedef void (*cs_freeze_prefix_fn)(const void *ctx, uint32_t value, cs_prefix *out);

typedef struct cs_freeze_family {
    const uint32_t *values;
    uint32_t n;
    cs_freeze_prefix_fn prefix_of;
    const void *ctx;
    /* set by cs_freeze_plan */
    uint32_t nodes, prefixes, n_glue;
    /* The glue nodes in preorder, sorted by (entry each precedes, length),
     * packed: per glue, the distance of its entry from the previous glue's
     * (the first: from entry 0) as a LEB128 varint, then its length byte.
     * About 2 bytes a glue (8 unpacked): a 5M-line prefix list has 2.7M
     * glues, and the list is alive at the freeze's peak. */
    uint8_t *glue;
} cs_freeze_family;

int cs_freeze_plan(cs_freeze_family *f, cs_error *err);
void cs_freeze_write(const cs_freeze_family *f, cs_hot4 *hot4, cs_hot6 *hot6, cs_cold *cold);

#endif
