/*
 * engine/query/peering_internal.h — the in-memory layout of a cs_peering_index
 * (engine/query/peering_index.c builds and reads it; tests/test_peering.c
 * checks its invariants). Its block runs are engine/query/interval_internal.h's
 * intervals, read from the one walk and tested with its merge-style overlap.
 *
 * A peering index is built per process from a frozen snapshot; it is never
 * written to a file or shared memory, so it holds native-endian structs.
 *
 * HOT DATA: one 128-byte SLOT per VPC (two cache lines, 128-aligned, at
 * slots + 128 * v: no offset to load first), so deciding a pair touches
 * four cache lines and nothing else in the common case:
 *
 *   pv_head              32 bytes: account, region, active, flags, n4,
 *                        npeer, nenv, spill
 *   payload              96 bytes inline, or (PV_SPILL) at spill + 8 * spill
 *                        for VPCs whose payload is larger:
 *     pv_blk4[n4]        live IPv4 blocks as [first, last] address
 *                        intervals, sorted by first address
 *     pv_env4[nenv]      the "peer envelope": the union of the live IPv4
 *                        blocks of every VPC it has an ACTIVE connection
 *                        with, as disjoint sorted intervals (routing
 *                        ambiguity in one merge instead of one per peer)
 *     uint32_t[npeer]    the other VPC of each connection in a counting
 *                        status (initiating-request .. deleting), with
 *                        PV_PEER_ACTIVE set when active, sorted by VPC
 *   Slots are asked for transparent huge pages (fewer TLB misses on random
 *   pairs). Typical VPCs (three blocks, a few peers) fit inline.
 *
 * The envelope carries no owners: when A and B are themselves actively
 * peered, A's envelope holds B's blocks, so that (rarer) pair is decided
 * peer by peer from the peers' slots instead.
 *
 * COLD DATA (IPv6 is rarer; touched only when a head flag says so):
 *   v6[v]     ranges into blk6 (live IPv6 intervals, sorted) and pblk6
 *             (the IPv6 peer envelope)
 *   by_region VPC indices grouped by region (ascending within a region),
 *             region r's run is [region_begin[r], region_begin[r+1])
 *
 * Invariants: every range lies inside its array; runs are sorted as stated;
 * a connection appears once in each known side's peer run (the estate
 * lists it under each side; a self-connection is left out); `active`
 * counts distinct ACTIVE connections, those to VPCs outside the estate
 * included; region is CS_IDX_NONE when the VPC's region is unknown (empty
 * name), region_idx[v] its index all the same.
 */
#ifndef CS_PEERING_INTERNAL_H
#define CS_PEERING_INTERNAL_H

#include <cidrscope/peering.h>

#include "query/interval_internal.h"

#include <stdbool.h>
#include <stdint.h>

enum {
    PV_PSEUDO = 1u << 0,  /* a prefix-list owner: never a peering party */
    PV_HAS_V6 = 1u << 1,  /* n6 > 0 */
    PV_HAS_PB6 = 1u << 2, /* npb6 > 0 */
    PV_SPILL = 1u << 3,   /* the payload is in the spill arena */
};

#define PV_SLOT 128u
#define PV_INLINE (PV_SLOT - 32u)
#define PV_PEER_ACTIVE 0x80000000u
#define PV_PEER_VPC 0x7fffffffu

typedef struct pv_head {
    uint32_t account;
    uint32_t region;     /* region index, CS_IDX_NONE when unknown */
    uint32_t active;     /* distinct active connections */
    uint32_t flags;      /* PV_* */
    uint32_t n4, nenv, npeer;
    uint32_t spill;      /* PV_SPILL: payload offset in the spill arena, in
                            8-byte units */
} pv_head;

/* The index's block runs are the query module's intervals
 * (engine/query/interval_internal.h), filled from the one walk. */
typedef cs_ival4 pv_blk4;
typedef cs_ival6 pv_blk6;

typedef struct pv_pblk6 {
    uint64_t fhi, flo, lhi, llo;
    uint32_t owner, pad;
} pv_pblk6;

typedef struct pv_v6 {
    uint32_t b6, n6;     /* blk6 run */
    uint32_t pb6, npb6;  /* pblk6 run */
} pv_v6;

struct cs_peering_index {
    const cs_snapshot *snap;
    uint32_t n_vpcs, n_regions;
    unsigned char *slots;    /* n_vpcs * PV_SLOT bytes */
    uint64_t *spill;         /* payloads that do not fit a slot */
    uint64_t n_spill;        /* 8-byte words used in spill */
    uint32_t *region_idx;    /* per VPC: its region index even when the
                                region's name is empty (filters) */
    pv_v6 *v6;
    pv_blk6 *blk6;
    pv_pblk6 *pblk6;
    uint32_t *by_region;
    uint32_t *region_begin;  /* n_regions + 1 */
    uint64_t n_blk6, n_pblk6;
};

/* The parts of VPC v's slot (v < n_vpcs). */
static inline const pv_head *pv_head_of(const cs_peering_index *ix, uint32_t v)
{
    return (const pv_head *)(const void *)(ix->slots + (size_t)v * PV_SLOT);
}
static inline const pv_blk4 *pv_blk4_of(const cs_peering_index *ix, const pv_head *h)
{
    if (h->flags & PV_SPILL)
        return (const pv_blk4 *)(const void *)(ix->spill + h->spill);
    return (const pv_blk4 *)(const void *)(h + 1);
}
static inline const pv_blk4 *pv_env4_of(const cs_peering_index *ix, const pv_head *h)
{
    return pv_blk4_of(ix, h) + h->n4;
}
static inline const uint32_t *pv_peers_of(const cs_peering_index *ix, const pv_head *h)
{
    return (const uint32_t *)(const void *)(pv_env4_of(ix, h) + h->nenv);
}

/* ---- overlap of sorted runs: cs_ival4_overlap, cs_ival6_overlap
 * (engine/query/interval_internal.h); the owner-tagged IPv6 envelope's
 * variant stays here with its layout. */

/* The IPv6 envelope keeps owners (it is cold and small): the same merge,
 * skipping the blocks owned by `skip` (the other VPC of the pair). */
static inline bool pv_overlap6_env(const pv_pblk6 *a, uint32_t na, uint32_t skip,
                                   const pv_blk6 *b, uint32_t nb)
{
    uint32_t i = 0, j = 0;
    while (i < na && j < nb) {
        if (a[i].owner == skip || cs_ival_lt128(a[i].lhi, a[i].llo, b[j].fhi, b[j].flo))
            i++;
        else if (cs_ival_lt128(b[j].lhi, b[j].llo, a[i].fhi, a[i].flo))
            j++;
        else
            return true;
    }
    return false;
}

/* ---- snapshot helpers shared by the peering modules (peering.c) ------------- */

/* A VPC that can take part in peering: in the estate and not a prefix-list
 * owner (those are pseudo-VPCs standing for "amazon" and the like). */
bool pv_vpc_get(const cs_snapshot *s, uint32_t idx, cs_vpc *v);
/* The other end of connection p seen from VPC v (v itself for a
 * self-connection, which AWS never makes but an input may claim). */
uint32_t pv_other_side(const cs_peering *p, uint32_t v);
/* True when region region_idx exists and has a non-empty name. */
bool pv_region_known(const cs_snapshot *s, uint32_t region_idx);
/* Walks VPC v's connections once each: calls fn(p, pcx_idx, ctx) until it
 * returns non-zero (returned). */
typedef int (*pv_pcx_fn)(const cs_peering *p, uint32_t pcx, void *ctx);
int pv_each_connection(const cs_snapshot *s, uint32_t v, pv_pcx_fn fn, void *ctx);
/* The connection between v and `other` to report: ACTIVE first, then any
 * other counting status, then (when `any`) the ended ones; 1 found, 0 none. */
int pv_best_connection(const cs_snapshot *s, uint32_t v, uint32_t other, bool any,
                       uint32_t *pcx, uint8_t *status);
/* The verdict for a reason mask (inline: the bulk loop calls it per pair). */
static inline uint8_t pv_verdict_of(unsigned reasons)
{
    if (reasons & CS_PEER_BLOCKING_MASK)
        return CS_PEER_INELIGIBLE;
    return reasons ? CS_PEER_ELIGIBLE_WARN : CS_PEER_ELIGIBLE;
}
/* The quota to apply, or 0 when opts asks for more than AWS allows. */
static inline uint32_t pv_quota_of(const cs_peering_opts *o)
{
    uint32_t q = o && o->quota ? o->quota : CS_PEERING_QUOTA_DEFAULT;
    return q <= CS_PEERING_QUOTA_MAX ? q : 0;
}

#endif
