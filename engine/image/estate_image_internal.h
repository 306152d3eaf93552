/*
 * engine/image/estate_image_internal.h — the estate's part of the image
 * format: section ids, the records of every estate table (each documented as
 * an OFFSET/SIZE/FIELD table at the top of engine/image/estate_image.c, where
 * a static_assert pins each size), their validation at open, and their
 * serialisation from the tables the builder (engine/build/estate.c) hands
 * over at freeze. Image layer: includes core and image only.
 */
#ifndef CS_ESTATE_IMAGE_INTERNAL_H
#define CS_ESTATE_IMAGE_INTERNAL_H

#include <cidrscope/estate.h>

#include "image/snapshot_internal.h"

/*
 * Checks every estate section of `s` (ids CS_SEC_ESTATE_FIRST..LAST): the
 * header's counts against the section lengths, every index against its
 * table, every string offset against the string section (which must end in
 * NUL), CSR ranges monotonic and in bounds, enum values in range, the VPC id
 * hash table (power-of-two capacity, every VPC reachable). An image with no
 * estate sections passes (it is a plain prefix snapshot); one with some but
 * not all is corrupt. After it returns 0 every read accessor of estate.h is
 * safe on `s`. Returns 0 or CS_ECORRUPT with a message naming the section
 * and record. Read-only; thread-safe.
 */
int cs_estate_image_validate(const cs_snapshot *s, cs_error *err);

/* ---- image records (engine/image/estate_image.c documents them as OFFSET/SIZE/
 * FIELD tables; every size is pinned by a static_assert there) ---------- */

/* Section ids of the estate (inside CS_SEC_ESTATE_FIRST..LAST). */
enum {
    CS_ESEC_HEADER = CS_SEC_ESTATE_FIRST, /* one cs_ehdr */
    CS_ESEC_STRINGS,    /* NUL-terminated strings; offset 0 = "" */
    CS_ESEC_ACCOUNTS,   /* cs_eaccount[n_accounts] */
    CS_ESEC_REGIONS,    /* cs_eregion[n_regions] */
    CS_ESEC_VPCS,       /* cs_evpc[n_vpcs] */
    CS_ESEC_ASSOCS,     /* cs_eassoc[n_assocs] */
    CS_ESEC_ASSOC_VPC,  /* u32[n_assocs]: association -> VPC */
    CS_ESEC_PEERINGS,   /* cs_epeering[n_peerings] */
    CS_ESEC_VPC_PCX,    /* u32[n_vpc_pcx]: per-VPC peering lists (CSR) */
    CS_ESEC_EDGES,      /* cs_eedge[n_edges] */
    CS_ESEC_TAGS,       /* cs_etag[n_tags] */
    CS_ESEC_FINDINGS,   /* cs_efinding[n_findings] */
    CS_ESEC_VPC_HASH,   /* u32[hash_slots]: VPC id -> index */
    CS_ESEC_ASSOC_V6,   /* cs_eaddr6[live[1] + dead[1]]: IPv6 keys */
    CS_ESEC_VPC_EXTRA,  /* cs_evpc_extra[n_vpc_extra]: edge/tag/peering ranges */
    CS_ESEC_ASSOC_POOL, /* cs_eassoc_pool[n_pools]: pools, by association */
    CS_ESEC_VPC_DIR,    /* cs_evpc_dir per 64 VPCs: account, extra rank */
    CS_ESEC_END
};
#define CS_ESEC_COUNT (CS_ESEC_END - CS_ESEC_HEADER)

#define CS_EHDR_MAGIC 0x54455343u /* "CSET" little-endian */
#define CS_EHDR_VERSION 4u

typedef struct cs_ehdr {
    uint32_t magic;
    uint32_t version;
    uint32_t n_accounts;
    uint32_t n_regions;
    uint32_t n_vpcs;
    uint32_t n_assocs;
    uint32_t n_peerings;
    uint32_t n_edges;
    uint32_t n_tags;
    uint32_t n_findings;
    uint32_t n_vpc_pcx;
    uint32_t hash_slots;
    uint32_t live[2];
    uint32_t dead[2];
    uint32_t default_vpcs;
    uint32_t pseudo_vpcs;
    uint32_t rejected;
    uint32_t n_vpc_extra;
    uint32_t n_pools;
    uint32_t reserved;
} cs_ehdr;

typedef struct cs_eaccount {
    uint32_t id_off;
    uint32_t vpc_begin;
    uint32_t vpc_count;
    uint32_t flags;       /* CS_ACCOUNT_* */
} cs_eaccount;

typedef struct cs_eregion {
    uint32_t name_off;
    uint32_t vpc_count;
} cs_eregion;

/* cs_evpc.flags: bit 0 default, bit 1 pseudo (prefix-list owner). */
enum { CS_EVPC_DEFAULT = 1u, CS_EVPC_PSEUDO = 2u };
#define CS_EREGION_MAX 0xffffu /* region_idx is 16 bits */

typedef struct cs_evpc {
    uint32_t id_off;
    uint32_t name_off;
    uint32_t assoc_begin; /* counts: next VPC's begin (or the total) - begin */
    uint16_t region_idx;
    uint8_t state;        /* enum cs_vpc_state */
    uint8_t flags;        /* CS_EVPC_* */
} cs_evpc;

/* What a VPC record does not store, per block of CS_EVPC_DIR_SPAN VPCs: the
 * account of the block's first VPC (a VPC's account is the last account
 * whose range begins at or before it, searched between its block's and the
 * next block's), and which VPCs have a VPC_EXTRA record (bit j: VPC
 * span * block + j), with the count of records before the block. */
#define CS_EVPC_DIR_SPAN 64u
typedef struct cs_evpc_dir {
    uint32_t account_idx;
    uint32_t extra_before;
    uint64_t extra_bits;
} cs_evpc_dir;

/* Where the edges, tags and peering list of a VPC with any begin; they end
 * where the next record's begin (or the table's count). */
typedef struct cs_evpc_extra {
    uint32_t edge_begin;
    uint32_t tag_begin;
    uint32_t pcx_begin;   /* into CS_ESEC_VPC_PCX */
} cs_evpc_extra;

/* cs_eassoc.flags: bit 0 primary, bits 1-2 ip_source, bits 3-4 ipv6_attr,
 * bit 5 a pool in ASSOC_POOL. */
enum { CS_EASSOC_PRIMARY = 1u, CS_EASSOC_IPSRC_SHIFT = 1, CS_EASSOC_V6ATTR_SHIFT = 3,
       CS_EASSOC_POOL = 0x20u };

/* An association; its VPC is in the ASSOC_VPC column, its pool (rare: IPv6
 * pools, IPAM) in ASSOC_POOL. `addr` is the IPv4 address (host order) or,
 * for IPv6, the index of its key in ASSOC_V6 (the IPv6 associations' rank in
 * table order), so an IPv4 block costs 12 bytes rather than 32. */
typedef struct cs_eassoc {
    uint32_t addr;
    uint32_t id_off;
    uint8_t len;
    uint8_t family;
    uint8_t state;        /* enum cs_assoc_state, never UNSPECIFIED */
    uint8_t flags;
} cs_eassoc;

typedef struct cs_eassoc_pool {
    uint32_t assoc_idx;   /* ascending */
    uint32_t pool_off;
} cs_eassoc_pool;

typedef struct cs_eaddr6 {
    uint64_t hi;
    uint64_t lo;
} cs_eaddr6;

typedef struct cs_epeering {
    uint32_t id_off;
    uint32_t vpc_id_off[2];   /* [0] requester, [1] accepter */
    uint32_t vpc_idx[2];      /* CS_IDX_NONE = not in the inventory */
    uint32_t account_idx[2];  /* CS_IDX_NONE = unknown */
    uint32_t region_idx[2];   /* CS_IDX_NONE = unknown */
    uint8_t status;           /* enum cs_pcx_status */
    uint8_t dns[2];           /* enum cs_tri */
    uint8_t pad;
} cs_epeering;

typedef struct cs_eedge {
    uint32_t vpc_idx;
    uint32_t id_off;
    uint8_t kind;
    uint8_t pad[3];
} cs_eedge;

typedef struct cs_etag {
    uint32_t key_off;
    uint32_t value_off;
} cs_etag;

typedef struct cs_efinding {
    uint64_t line;
    uint32_t kind_off;
    uint32_t msg_off;
    uint32_t src_off;
    uint32_t column;
    uint32_t vpc_idx;
    uint32_t pad;
} cs_efinding;

/* The frozen tables, as estate.c assembles them for the image writer.
 * cs_estate_image_sections fills `hdr` (from the counts below and `stats`),
 * builds the VPC id hash table into `hash` (malloc'd; the caller frees it)
 * and points `blobs[0..CS_ESEC_COUNT)` at everything; a table left NULL is
 * reserved (blob data NULL) for the caller to write in the image. */
typedef struct cs_estate_tables {
    const char *strings;
    uint64_t strings_len;
    const cs_eaccount *accounts;
    const cs_eregion *regions;
    const cs_evpc *vpcs;
    const cs_eassoc *assocs;
    const uint32_t *assoc_vpc;
    const cs_eaddr6 *assoc_v6;
    const cs_epeering *peerings;
    const uint32_t *vpc_pcx;
    const cs_eedge *edges;
    const cs_etag *tags;
    const cs_efinding *findings;
    const cs_evpc_extra *vpc_extra;
    const cs_eassoc_pool *assoc_pools;
    const cs_evpc_dir *vpc_dir; /* (n_vpcs + 63) / 64 records */
    cs_ehdr hdr;          /* counts and stats set by the caller */
    uint32_t *hash;       /* out */
} cs_estate_tables;

int cs_estate_image_sections(cs_estate_tables *t, cs_section_blob *blobs,
                             cs_error *err);

#endif
