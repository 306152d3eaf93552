/*
 * engine/build/estate_builder_internal.h — the estate builder's records and
 * the helpers its files share (engine/build/estate.c, estate_links.c,
 * estate_freeze.c). Nothing outside engine/build/estate*.c includes it: the
 * builder's public face is <cidrscope/estate.h>.
 *
 * Every array grows by doubling through the engine's one growth helper
 * (core/grow_internal.h): no allocation per record.
 */
#ifndef CS_ESTATE_BUILDER_INTERNAL_H
#define CS_ESTATE_BUILDER_INTERNAL_H

#include <cidrscope/estate.h>

#include "core/error_internal.h"
#include "core/grow_internal.h"
#include "build/estate_internal.h"
#include "build/intern_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- builder records ------------------------------------------------------ */

typedef struct loc_b {
    uint64_t line;
    uint32_t src_off;      /* arena offset of the source name; 0 = "" */
    uint32_t column;
} loc_b;

enum { ACCT_OWNS_VPC = 1u, ACCT_REGISTERED = 2u, ACCT_PSEUDO = 4u };

typedef struct vpc_b {
    uint32_t account;
    uint32_t region;
    uint32_t name_off;
    uint32_t tag_first;    /* index into tags; tags of one VPC are adjacent */
    uint32_t tag_count;
    uint8_t state;
    uint8_t is_default;
    uint8_t pseudo;
    uint8_t pad;
    loc_b loc;
} vpc_b;

typedef struct assoc_b {
    uint64_t hi, lo;
    uint32_t vpc;
    uint32_t sid;          /* id in the assoc-id table, CS_INTERN_NONE */
    uint32_t pool_off;
    uint32_t next_same;    /* next association with the same (VPC, prefix) */
    uint8_t len, family, state, primary, ip_source, ipv6_attr;
    loc_b loc;
} assoc_b;

typedef struct side_b {
    uint32_t vpc_ref;      /* id in the misc table: the VPC id string */
    uint32_t account;      /* CS_IDX_NONE = unknown */
    uint32_t region;       /* CS_IDX_NONE = unknown */
    uint8_t dns;
} side_b;

typedef struct pcx_b {
    side_b side[2];
    uint8_t status;
    loc_b loc;
} pcx_b;

typedef struct edge_b {
    uint32_t vpc;
    uint32_t ref;          /* misc id of the edge id */
    uint8_t kind;
    loc_b loc;
} edge_b;

typedef struct tag_b {
    uint32_t vpc;
    uint32_t key;          /* misc ids */
    uint32_t value;
} tag_b;

typedef struct finding_b {
    uint32_t kind_off;
    uint32_t msg_off;
    loc_b loc;
    uint32_t vpc;          /* CS_IDX_NONE on the builder */
} finding_b;

/* Open-addressing index keyed by a 32-bit hash: slot = hash << 32 | idx+1. */
typedef struct keymap {
    uint64_t *slots;
    uint32_t mask;
    uint32_t count;
} keymap;

struct cs_estate {
    cs_strbuf strs;
    cs_intern accounts, regions, vpcs, pcxs, assoc_ids, misc;
    uint8_t *acct_flags;   /* by account id */
    uint32_t acct_cap;
    vpc_b *vpc;            /* by vpc id */
    uint32_t vpc_cap;
    assoc_b *assoc;
    uint32_t n_assoc, assoc_cap;
    uint32_t *assoc_of_sid;/* assoc-id table id -> association */
    uint32_t aos_cap;
    keymap pmap;           /* (VPC, prefix) -> first association */
    pcx_b *pcx;            /* by pcx id */
    uint32_t pcx_cap;
    edge_b *edge;
    uint32_t n_edge, edge_cap;
    keymap emap;           /* (VPC, kind, id) -> edge */
    tag_b *tag;
    uint32_t n_tag, tag_cap;
    finding_b *finding;
    uint32_t n_finding, finding_cap;
    uint32_t rejected;
    bool failed;
};

/* Grows *p (elements of `size` bytes, capacity *cap) to hold `need`: the
 * engine's one growth helper, tables indexed by 32-bit indices below
 * UINT32_MAX (CS_IDX_NONE). */
#define grow(p, cap, size, need)                                               \
    cs_grow32((p), (cap), (size_t)(need), (size), UINT32_MAX - 1)

/* ---- helpers shared by the builder's files (engine/build/estate.c) ------ */

/* Makes room in `m` for one more key (doubling at half load); 0,
 * CS_ENOMEM or CS_ERANGE. */
int cs_estate_keymap_reserve(keymap *m);

/* The hash of an edge key (VPC, kind, edge id) in the edge map. */
uint32_t cs_estate_edge_hash(uint32_t vpc, uint8_t kind, uint32_t ref);

/* Maps an allocation or capacity failure met midway through an add: the
 * estate refuses everything but _free from then on. Returns the code. */
int cs_estate_fail_alloc(cs_estate *e, int rc, cs_error *err, const char *what);

/* Puts the caller's source location on `err` (both may be NULL). */
void cs_estate_locate(cs_error *err, const cs_srcloc *loc);

/* Checks a caller string: no NULL with a length, present when `required`,
 * at most CS_ESTATE_STR_MAX bytes, no control bytes. */
int cs_estate_check_str(cs_str s, const char *what, bool required, cs_error *err);

/* True for a 12-digit AWS account id. */
bool cs_estate_is_account_id(cs_str s);

/* Interns a string into the misc table; returns its id or a negative code. */
int64_t cs_estate_misc_put(cs_estate *e, cs_str s);

/* As cs_estate_misc_put, returning the string's arena offset. */
int64_t cs_estate_misc_off(cs_estate *e, cs_str s);

/* The stored form of a caller location (its source name interned). */
int cs_estate_make_loc(cs_estate *e, const cs_srcloc *loc, loc_b *out);

/* "file:line:col" of a stored location, for conflict messages. */
void cs_estate_loc_text(const cs_estate *e, const loc_b *l, char *buf, size_t cap);

/* "file:line:col" of a caller location, for conflict messages. */
void cs_estate_cur_loc_text(const cs_srcloc *loc, char *buf, size_t cap);

/* The account `id`, interned now if new, with `flags` added. */
int cs_estate_account_get(cs_estate *e, cs_str id, uint8_t flags, uint32_t *out);

/* The region `r`, interned now if new. */
int cs_estate_region_get(cs_estate *e, cs_str r, uint32_t *out);

/* CS_EINVAL for a NULL estate, CS_ESTATE once it failed, else 0. */
int cs_estate_refuse(const cs_estate *e, cs_error *err);

/* The prefix of association `a`. */
void cs_estate_assoc_prefix(const assoc_b *a, cs_prefix *p);

#endif
