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
#include <string.h>

/* ---- builder records ------------------------------------------------------ */

/* A stored source location, 12 bytes: lines and columns below CS_LOC_BIG
 * inline (every real input), else the exact pair in e->bigloc[column] —
 * read them with cs_estate_loc_line / cs_estate_loc_column. */
#define CS_LOC_BIG UINT32_MAX
typedef struct loc_b {
    uint32_t src_off;      /* arena offset of the source name; 0 = "" */
    uint32_t line;         /* CS_LOC_BIG: see bigloc[column] */
    uint32_t column;
} loc_b;

typedef struct bigloc_b {
    uint64_t line;
    uint32_t column;
} bigloc_b;

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
    uint8_t has_assoc;     /* an association of this VPC was added (estate.c's
                            * lazy (VPC, prefix) index) */
    loc_b loc;
} vpc_b;

/* One association, 48 bytes (the record a prefix-list line costs; issue
 * 13 item 12): the small enumerations share one byte. */
typedef struct assoc_b {
    uint64_t hi, lo;
    uint32_t vpc;
    uint32_t sid;          /* id in the assoc-id table, CS_INTERN_NONE */
    uint32_t pool_off;
    uint32_t next_same;    /* next association with the same (VPC, prefix) */
    loc_b loc;
    uint8_t len, family;
    uint8_t state : 3, primary : 1, ip_source : 2, ipv6_attr : 2;
} assoc_b;
_Static_assert(CS_ASSOC_STATE_COUNT <= 8 && CS_IPSRC_COUNT <= 4 && CS_IPV6ATTR_COUNT <= 4,
               "assoc_b's bit fields hold every value");
_Static_assert(sizeof(assoc_b) == 48, "assoc_b is 48 bytes");

/* Associations live in chunks of CS_ASSOC_CHUNK records that never move:
 * growing never copies (no transient 2x), and only touched chunks cost. */
#define CS_ASSOC_CHUNK_BITS 16
#define CS_ASSOC_CHUNK (1u << CS_ASSOC_CHUNK_BITS)
#define CS_ASSOC(e, i) ((e)->assoc[(i) >> CS_ASSOC_CHUNK_BITS][(i) & (CS_ASSOC_CHUNK - 1)])

/* The (VPC, prefix) index: linear probing over idx+1 (0 = empty) with one
 * tag byte of the key's hash beside each slot, so a probe touches a record
 * only when its tag matches; 5 bytes per slot at a load of at most 3/4.
 * Lazy: it holds associations [0, upto) only. The rest are runs of VPCs
 * that had no association before their run (every VPC of a CSV whose rows
 * of one VPC are adjacent, every VPC of an AWS CLI file), found by a scan
 * of the current run; they are indexed in one pass, in record order, the
 * first time a lookup needs the index (estate.c, pmap_catch_up). */
typedef struct pmap_b {
    uint32_t *idx;
    uint8_t *tag;
    uint32_t mask;
    uint32_t count;
    uint32_t upto;         /* associations below are indexed */
    uint32_t run_vpc;      /* VPC of the run [run_start, n_assoc), or
                            * CS_IDX_NONE when there is none */
    uint32_t run_start;
} pmap_b;

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
    assoc_b **assoc;       /* chunks: CS_ASSOC(e, i) */
    uint32_t n_assoc, assoc_chunks, assoc_chunk_cap;
    uint32_t *assoc_of_sid;/* assoc-id table id -> association */
    uint32_t aos_cap;
    pmap_b pmap;           /* (VPC, prefix) -> first association */
    pcx_b *pcx;            /* by pcx id */
    uint32_t pcx_cap;
    edge_b *edge;
    uint32_t n_edge, edge_cap;
    keymap emap;           /* (VPC, kind, id) -> edge */
    tag_b *tag;
    uint32_t n_tag, tag_cap;
    finding_b *finding;
    uint32_t n_finding, finding_cap;
    bigloc_b *bigloc;      /* locations past 32 bits (loc_b) */
    uint32_t n_bigloc, bigloc_cap;
    uint32_t rejected;
    bool failed;
    /* One-entry caches of the last id found or added, by table: rows of one
     * VPC come together in every source, so most lookups hit (an id is
     * checked against its arena string, never trusted blindly). */
    uint32_t last_vpc, last_account, last_region;
    uint32_t last_src_off;  /* arena offset of the last source name, 0 none */
    uint32_t last_src_len;
};

/* Grows *p (elements of `size` bytes, capacity *cap) to hold `need`: the
 * engine's one growth helper, tables indexed by 32-bit indices below
 * UINT32_MAX (CS_IDX_NONE). */
#define grow(p, cap, size, need)                                               \
    cs_grow32((p), (cap), (size_t)(need), (size), UINT32_MAX - 1)

/* The id of s[0..len) in table t, or CS_INTERN_NONE: `*last` first (the
 * previous answer), then the table; a found id becomes `*last`. */
static inline uint32_t cs_estate_find_cached(const cs_intern *t, uint32_t *last, const char *s,
                                             size_t len)
{
    uint32_t id = *last;
    if (id != CS_INTERN_NONE && id < t->count && cs_intern_len(t, id) == len &&
        (len == 0 || memcmp(cs_intern_str(t, id), s, len) == 0))
        return id;
    id = cs_intern_find(t, len ? s : "", len);
    if (id != CS_INTERN_NONE)
        *last = id;
    return id;
}

static inline uint64_t cs_estate_loc_line(const cs_estate *e, const loc_b *l)
{
    return l->line == CS_LOC_BIG ? e->bigloc[l->column].line : l->line;
}

static inline uint32_t cs_estate_loc_column(const cs_estate *e, const loc_b *l)
{
    return l->line == CS_LOC_BIG ? e->bigloc[l->column].column : l->column;
}

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

/* Frees the association id map and the (VPC, prefix) index, and with
 * `records` the associations themselves (cs_estate_freeze_consume: the
 * indexes once every order is known, the records once the image holds
 * them); the estate then refuses everything but cs_estate_free. */
void cs_estate_release_assocs(cs_estate *e, bool records);

/* The prefix of association `a`. */
void cs_estate_assoc_prefix(const assoc_b *a, cs_prefix *p);

#endif
