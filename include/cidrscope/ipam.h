/*
 * cidrscope/ipam.h — free space of pools and allocation of blocks that
 * overlap nothing, on a frozen snapshot (any image: heap, file, shared
 * memory).
 *
 * USED and FREE. Within a pool (a prefix), an address is USED when it lies
 * in a stored prefix of the snapshot (every live block of the estate, and
 * every entry of a plain prefix file) or in one of the caller's extra used
 * blocks (reservations, --exclude ranges, blocks of VPCs to stay peerable
 * with); every other address of the pool is FREE. The free space is listed
 * as its MINIMAL list of aligned CIDR blocks in ascending order (NetBox's
 * "available-prefixes"): each block is the largest aligned block that
 * starts where the previous one ended and stays free. A HOLE is one block
 * of that list.
 *
 * Cost. cs_ipam_free: one pass over the stored prefixes inside the pool
 * (the trie's overlap iterator, query.h) merged with the sorted extra
 * blocks; the pool's size does not matter. cs_ipam_alloc: every strategy
 * picks each block from an index of the snapshot's free holes (the gaps
 * between its stored prefixes with a summary of their hole sizes), built
 * by one walk of the family on the first allocation that needs it and kept
 * with the snapshot until it is closed: then O((pieces + blocks) x log
 * gaps) per call, where pieces are the intervals between the extra blocks
 * inside the pools (about 1-2 us per block at 1M stored prefixes, any
 * strategy, both families: bench/results-ipam.md). One `first` block on a
 * snapshot without the index walks the pool's start instead (at most 512
 * used blocks), so a one-shot command does not pay for the index.
 *
 * Counts of addresses are 128-bit (an IPv6 /32 pool holds 2^96), given as
 * cs_u128 {hi, lo}.
 *
 * No function here blocks or writes anything but its out arguments and
 * (documented) the caller's extra array, which is sorted in place; only
 * cs_ipam_alloc allocates (its candidates, freed before it returns, and
 * the snapshot's index of holes, freed by cs_snapshot_close); all are
 * thread-safe on a shared snapshot. Every function is plain
 * C with caller buffers and counts (the Python binding calls them through
 * cffi/ctypes). Tests: tests/test_ipam.c (differential against a
 * brute-force bitmap on seeded estates, every strategy).
 */
#ifndef CIDRSCOPE_IPAM_H
#define CIDRSCOPE_IPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "prefix.h"
#include "report.h"
#include "snapshot.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An unsigned 128-bit count: hi * 2^64 + lo. */
typedef struct cs_u128 {
    uint64_t hi, lo;
} cs_u128;

/* Writes n in decimal into buf (cap >= 40 always suffices); returns the
 * length written (without the NUL), or 0 when cap is too small. */
CS_API size_t cs_u128_format(cs_u128 n, char *buf, size_t cap);

/* The figures of one pool's free space. */
typedef struct cs_ipam_pool_stats {
    cs_u128 addresses;      /* the pool's size */
    cs_u128 used;           /* addresses in a used block */
    cs_u128 free;           /* addresses - used */
    uint64_t free_blocks;   /* length of the minimal CIDR list of the free space */
    cs_prefix largest_free; /* the lowest of the largest holes; len 0 and
                               family 0 when nothing is free */
    bool has_free;          /* false when nothing is free */
    double fragmentation;   /* 1 - (largest hole's size / free), in [0, 1);
                               0 when nothing or one block is free */
} cs_ipam_pool_stats;

/*
 * The free space of `pool` (canonical; an IPv6 /0 is refused). extra[0..
 * n_extra) are further used blocks of any family and order: the call SORTS
 * THEM IN PLACE (cs_prefix_compare) and ignores those of the other family
 * or outside the pool. Holes of length <= max_len are written to out (at
 * most cap, ascending; max_len 0 or >= the family's width lists all); *st
 * (nullable) receives the pool's figures over all its free space.
 * Returns the number of holes of length <= max_len (more than cap means
 * out was too small), or CS_EINVAL.
 */
CS_API int64_t cs_ipam_free(const cs_snapshot *s, const cs_prefix *pool, cs_prefix *extra,
                            size_t n_extra, unsigned max_len, cs_prefix *out, size_t cap,
                            cs_ipam_pool_stats *st);

/* How an allocation picks its hole. */
enum cs_ipam_strategy {
    CS_IPAM_FIRST = 0,    /* the lowest free aligned block (pools in order) */
    CS_IPAM_BEST_FIT = 1, /* inside the smallest hole that holds it (lowest
                             such hole; then its lowest block) */
    CS_IPAM_SPREAD = 2,   /* at the start of the largest hole (lowest such
                             hole), so each block has the most room to grow */
    CS_IPAM_STRATEGY_COUNT = 3
};

/* "first", "best-fit", "spread"; "?" for an unknown value. */
CS_API const char *cs_ipam_strategy_name(unsigned strategy);
/* The strategy named by s[0..len), or CS_EINVAL. */
CS_API int cs_ipam_strategy_parse(const char *s, size_t len);

/* Why an allocation gave fewer blocks than asked. */
enum cs_ipam_reason {
    CS_IPAM_OK = 0,           /* every block was allocated */
    CS_IPAM_NO_SPACE = 1,     /* no free aligned block of that length is left
                                 in the pools (after the allowed ranges) */
    CS_IPAM_BAD_LENGTH = 2,   /* the length is shorter than a pool's, or
                                 longer than the family's width */
    CS_IPAM_VPC_SIZE = 3,     /* vpc_rules: AWS gives no VPC a block of that
                                 length (IPv4 /16../28, IPv6 /44../60 by 4) */
    CS_IPAM_REASON_COUNT = 4
};

/* "ok", "no-space", "bad-length", "vpc-block-size"; "?" otherwise. */
CS_API const char *cs_ipam_reason_name(unsigned reason);

typedef struct cs_ipam_request {
    const cs_prefix *pools;   /* pools, in order of preference; one family */
    size_t n_pools;
    unsigned length;          /* prefix length of each block */
    size_t count;             /* blocks wanted (out holds at least count) */
    unsigned strategy;        /* enum cs_ipam_strategy */
    bool avoid_none;          /* true: the snapshot's blocks do not count
                                 as used (only extra does) */
    bool vpc_rules;           /* the blocks are for one VPC: AWS's sizes,
                                 never a reserved range, and every block
                                 after the first allowed by the
                                 association-restriction table with the
                                 first as the primary */
    const cs_prefix *allowed; /* if n_allowed: blocks only inside these */
    size_t n_allowed;
    cs_prefix *extra;         /* more used blocks (reservations, excludes,
                                 peer blocks); SORTED IN PLACE */
    size_t n_extra;
} cs_ipam_request;

typedef struct cs_ipam_allocation {
    cs_prefix prefix;
    uint32_t pool;            /* index into request.pools */
} cs_ipam_allocation;

/*
 * Allocates up to r->count blocks of r->length by r->strategy, one after
 * the other (each later one avoids the earlier ones), and writes them to
 * out in ascending order. Returns how many were allocated; when fewer than
 * count, *reason (nullable) says why (enum cs_ipam_reason), else it is
 * CS_IPAM_OK. CS_ENOMEM when the candidates or the snapshot's index of
 * holes cannot be allocated. CS_EINVAL for bad arguments (NULLs, no pool, pools of two
 * families, a non-canonical prefix, an IPv6 /0 pool, an unknown strategy).
 */
CS_API int64_t cs_ipam_alloc(const cs_snapshot *s, const cs_ipam_request *r,
                             cs_ipam_allocation *out, unsigned *reason);

/*
 * The live blocks of VPCs vpcs[0..n) (estate VPC indices) and of every VPC
 * they have a peering connection with in a status that holds a connection
 * (initiating-request .. deleting), written to out (at most cap; any
 * order, duplicates possible): what a new VPC peerable with all of them
 * must not overlap. Returns the total number (more than cap: call again
 * with a larger buffer), or CS_EINVAL (NULL, or an index that is not a VPC
 * of the estate).
 */
CS_API int64_t cs_ipam_peer_blocks(const cs_snapshot *s, const uint32_t *vpcs, size_t n,
                                   cs_prefix *out, size_t cap);

/* ---- pools from AWS IPAM (engine/ingest/ipam_pools.c) -------------------
 *
 * The output of `aws ec2 describe-ipam-pools` ({"IpamPools":[...]}),
 * `aws ec2 get-ipam-pool-cidrs --ipam-pool-id ID` ({"IpamPoolCidrs":[...]})
 * and `aws ec2 get-ipam-pool-allocations --ipam-pool-id ID`
 * ({"IpamPoolAllocations":[...]}), told apart by the top-level key. The last
 * two do not name their pool: their FILE NAME must hold the pool id
 * ("ipam-pool-" and hex digits, e.g. ipam-pool-0abc.cidrs.json). A pool's
 * CIDRs are its provisioned ones (State "provisioned"); its allocations
 * (every ResourceType) count as used. Errors carry file, line and column.
 */

#define CS_IPAM_POOL_ID_MAX 63

/* One pool of describe-ipam-pools. Lengths are -1 when the pool sets none. */
typedef struct cs_ipam_pool_info {
    char id[CS_IPAM_POOL_ID_MAX + 1];        /* IpamPoolId */
    char source_id[CS_IPAM_POOL_ID_MAX + 1]; /* SourceIpamPoolId, "" */
    char locale[CS_IPAM_POOL_ID_MAX + 1];    /* Locale, "" ("None" as AWS writes it) */
    uint8_t family;                          /* AddressFamily: CS_AF_V4 / CS_AF_V6 */
    int16_t min_len;                         /* AllocationMinNetmaskLength */
    int16_t max_len;                         /* AllocationMaxNetmaskLength */
    int16_t default_len;                     /* AllocationDefaultNetmaskLength */
    char file[256];                          /* where it was described */
    uint64_t line;
    uint32_t column;
} cs_ipam_pool_info;

typedef struct cs_ipam_pools cs_ipam_pools;

/* An empty set. 0, CS_EINVAL, CS_ENOMEM. */
CS_API int cs_ipam_pools_new(cs_ipam_pools **out);
CS_API void cs_ipam_pools_free(cs_ipam_pools *set);
/* Reads `path`: one of the three outputs, or a directory of them (its .json
 * files in name order). Returns 0, CS_EPARSE (err locates it: a pool
 * without IpamPoolId or AddressFamily, a length outside 0..width, min >
 * max, a default outside them, a pool described twice, a bad Cidr, a cidrs
 * or allocations file whose name holds no pool id, a file that is none of
 * the three outputs, JSON that does not parse), CS_EINVAL (cannot
 * open), CS_EIO, CS_ENOMEM. */
CS_API int cs_ipam_pools_read(cs_ipam_pools *set, const char *path, cs_error *err);
/* After every read: each CIDR and allocation's pool is described, in the
 * same family. 0 or CS_EPARSE (err locates the CIDR). */
CS_API int cs_ipam_pools_check(const cs_ipam_pools *set, cs_error *err);
CS_API size_t cs_ipam_pools_count(const cs_ipam_pools *set);
/* The pool `id`, or NULL. Valid until the set is freed or read into. */
CS_API const cs_ipam_pool_info *cs_ipam_pools_find(const cs_ipam_pools *set, const char *id);
/* Its provisioned CIDRs / its allocations into out[0..cap), in file order;
 * returns their total (more than cap: call again), or CS_EINVAL. */
CS_API int64_t cs_ipam_pools_cidrs(const cs_ipam_pools *set, const char *id, cs_prefix *out,
                                   size_t cap);
CS_API int64_t cs_ipam_pools_allocations(const cs_ipam_pools *set, const char *id,
                                         cs_prefix *out, size_t cap);
/* The pool's rules for a block length: `length` < 0 takes its
 * AllocationDefaultNetmaskLength (CS_EINVAL when it has none); a length
 * outside AllocationMin/MaxNetmaskLength is CS_EINVAL with a message naming
 * the rule. 0 and *out on success. */
CS_API int cs_ipam_pool_length(const cs_ipam_pool_info *pool, int length, unsigned *out,
                               cs_error *err);

/* ---- the reservation ledger (engine/serve/ledger.c) ----------------------
 *
 * Reservations shared by every process on the machine: a shared-memory
 * segment "/NAME.ledger" of its own beside the service NAME, guarded by a
 * lock word taken by compare-and-swap that names its holder process (a
 * holder killed mid-commit does not wedge it: a waiter sees the holder is
 * gone, takes the lock over and repairs the segment from the journal; no
 * C library mutex internals, no robust futex lists), and a journal
 * file appended and fsync'ed before a commit returns, replayed by
 * cs_ledger_create. Two commits never overlap: each allocates, under the
 * lock, around every active reservation. The same token gives the same
 * blocks back (like AllocateIpamPoolCidr's ClientToken).
 */

typedef struct cs_ledger cs_ledger;

enum cs_reservation_state {
    CS_RES_ACTIVE = 1,    /* reserved: avoided by every allocation */
    CS_RES_RELEASED = 2,  /* released: free again */
    CS_RES_FULFILLED = 3, /* its block appeared in the sources (a VPC has it) */
};

#define CS_LEDGER_TOKEN_MAX 63
#define CS_LEDGER_OWNER_MAX 63

typedef struct cs_reservation {
    cs_prefix prefix;
    uint64_t seq;                         /* journal sequence number */
    uint8_t state;                        /* enum cs_reservation_state */
    char token[CS_LEDGER_TOKEN_MAX + 1];  /* "" = none */
    char owner[CS_LEDGER_OWNER_MAX + 1];
} cs_reservation;

/* Creates (or re-creates) the ledger of service `name` with journal file
 * `journal` (created if absent), replaying the journal into it. Returns 0,
 * CS_EINVAL (bad name, unreadable journal line: err locates it), CS_EIO,
 * CS_ENOMEM, CS_ERANGE (more reservations than the segment holds). */
CS_API int cs_ledger_create(const char *name, const char *journal, cs_ledger **out,
                            cs_error *err);
/* Opens the existing ledger of service `name`. Returns 0, CS_EINVAL (no
 * such ledger, or not one), CS_EIO. */
CS_API int cs_ledger_open(const char *name, cs_ledger **out, cs_error *err);
/* Unmaps. NULL is a no-op. */
CS_API void cs_ledger_close(cs_ledger *l);
/* Removes the segment of service `name` (the journal stays). 0 or CS_EIO. */
CS_API int cs_ledger_unlink(const char *name, cs_error *err);

/* Copies the reservations (every state) into out[0..cap), in journal
 * order; returns their total, or a negative status. Takes the lock. */
CS_API int64_t cs_ledger_list(cs_ledger *l, cs_reservation *out, size_t cap, cs_error *err);

/* The active reservations' prefixes into out[0..cap); returns their total,
 * or a negative status: the extra used blocks of free and alloc. */
CS_API int64_t cs_ledger_active(cs_ledger *l, cs_prefix *out, size_t cap, cs_error *err);

/*
 * Allocates r->count blocks by cs_ipam_alloc on snapshot s, with every
 * active reservation counted as used on top of r->extra, and reserves
 * them under `token` (NULL or "": a fresh one) and `owner` (nullable):
 * journal appended and fsync'ed, then the segment updated, all under the
 * lock. If `token` already names reservations, returns those (still
 * active or not) without allocating. Returns the number of blocks (out
 * holds at least r->count), *reason as cs_ipam_alloc; negative status
 * (CS_EINVAL bad token, CS_EIO, CS_ENOMEM, CS_ERANGE ledger full).
 */
CS_API int64_t cs_ledger_commit(cs_ledger *l, const cs_snapshot *s, const cs_ipam_request *r,
                                const char *token, const char *owner,
                                cs_ipam_allocation *out, unsigned *reason, cs_error *err);

/* Releases the active reservations of `token` (when non-NULL) or of
 * exactly prefix `p`. Returns how many were released (0: none matched),
 * or a negative status. */
CS_API int64_t cs_ledger_release(cs_ledger *l, const char *token, const cs_prefix *p,
                                 cs_error *err);

/* Retires as fulfilled every active reservation whose exact block is a
 * stored prefix of s (a VPC now has it). Returns how many. */
CS_API int64_t cs_ledger_retire(cs_ledger *l, const cs_snapshot *s, cs_error *err);

/* ---- reports (engine/report/ipam_report.c) ------------------------------ */

/* Formats (report.h): CS_REPORT_TEXT, CS_REPORT_JSON, CS_REPORT_CSV; any
 * other is CS_EINVAL. */

/* One pool of a free-space report. */
typedef struct cs_ipam_free_pool {
    cs_prefix pool;
    const char *name;               /* an AWS IPAM pool id, or NULL */
    cs_ipam_pool_stats stats;
    const cs_prefix *blocks;        /* the holes to list */
    size_t n_blocks;
} cs_ipam_free_pool;

/*
 * Writes the free space of pools[0..n) to f. JSON:
 * {"pools":[{"pool", "addresses", "used", "free", "largest_free",
 * "fragmentation", "free_blocks":[...]}]} ("ipam_pool" too when named;
 * "largest_free" null when nothing is free; counts are exact integers).
 * CSV: pool,free_block,addresses. Returns 0, CS_EINVAL, or CS_EIO.
 */
CS_API int cs_ipam_report_free(FILE *f, enum cs_report_format format, const cs_ipam_free_pool *pools,
                               size_t n, cs_error *err);

/*
 * Writes allocations a[0..n) from pools (pool_names[i] an AWS IPAM pool id
 * or NULL; pool_names may be NULL) to f. JSON: {"allocations":[{"prefix",
 * "pool"}], "generation"} and, when n < wanted, "requested" and "reason"
 * (cs_ipam_reason_name) and "message". Text: one block a line, then the
 * reason. CSV: prefix,pool. Returns 0, CS_EINVAL, or CS_EIO.
 */
CS_API int cs_ipam_report_alloc(FILE *f, enum cs_report_format format, const cs_prefix *pools,
                                const char *const *pool_names, const cs_ipam_allocation *a,
                                size_t n, size_t wanted, unsigned length, unsigned reason,
                                uint64_t generation, cs_error *err);

/* One sentence explaining `reason` for blocks of /length. */
CS_API const char *cs_ipam_reason_text(unsigned reason);

#ifdef __cplusplus
}
#endif

#endif
