/*
 * cidrscope/peering.h — AWS VPC peering rules as an engine, on the frozen
 * estate: may two VPCs be peered now, and if not, exactly why (one pair, a
 * million pairs, or every VPC one could peer with); how a planned mesh fits
 * the quotas; whether traffic can go from a VPC to a VPC, prefix or address
 * over peering; whether a block may be added to a VPC. And the report
 * writers that print those answers (text, JSON, CSV, NDJSON).
 *
 * THE RULES (verdict of a pair A, B). Reason codes are stable strings
 * (cs_peering_code_name); "blocks" reasons make the pair ineligible, "warns"
 * reasons make it eligible-with-warnings; none makes it eligible.
 *
 *   code                kind    when
 *   same-vpc            blocks  A and B are one VPC
 *   unknown-vpc         blocks  an id not in the estate (or a prefix-list
 *                               owner, which is not a VPC)
 *   cidr-overlap-ipv4   blocks  a live IPv4 block of A overlaps or equals a
 *                               live IPv4 block of B (primary or secondary)
 *   cidr-overlap-ipv6   blocks  the same for IPv6
 *   already-peered      blocks  a connection A-B is initiating-request,
 *                               pending-acceptance, provisioning, active or
 *                               deleting
 *   quota-exceeded      blocks  A or B already has >= quota ACTIVE
 *                               connections (default 50, at most 125)
 *   cross-region        warns   both regions known and different
 *   cross-account       warns   different owner accounts
 *   routing-ambiguity   warns   A (or B) has an ACTIVE connection to a third
 *                               VPC C whose live blocks overlap B's (A's)
 *
 * When A or B is unknown the only reason is unknown-vpc (nothing else can
 * be said); when A == B the only reason is same-vpc. Otherwise every rule is
 * evaluated and reported. "Live" blocks are associations in state
 * associated or associating (estate.h); a connection counts once however
 * many files show it (the estate dedupes by pcx id). engine/query/peering.c cites
 * the AWS documentation for each rule.
 *
 * TWO WAYS TO ASK, one set of rules:
 *   - cs_peering_check / cs_peering_explain work on the snapshot alone:
 *     overlaps are found with one trie overlap query per live block
 *     (query.h), never by comparing against every VPC. For single questions.
 *   - cs_peering_index_new builds, once per snapshot, per-VPC tables (sorted
 *     live blocks per family, counting connections, active counts, the
 *     merged blocks of each VPC's active peers, VPCs by region);
 *     cs_peering_check_bulk then decides a pair from two 128-byte slots
 *     with O(a+b) block comparisons and no allocation, and
 *     cs_peering_candidates answers "who can V peer with" from the trie plus
 *     the index. For bulk callers (IPAM backends, bench/).
 * The test suite proves both agree with a brute-force evaluation.
 *
 * OWNERSHIP AND THREADS (the rule of the whole API, cidrscope.h): nothing
 * here keeps a caller pointer; an index is released by cs_peering_index_free
 * and must not outlive its snapshot; results point into the snapshot. Every
 * function is thread-safe on a shared snapshot and a shared index (both are
 * read-only after construction); a cs_peering_report is used by one thread.
 *
 * Tests: tests/test_peering.c (fixtures in tests/fixtures/peering/),
 * tests/cli/test_peering*.sh.
 */
#ifndef CIDRSCOPE_PEERING_H
#define CIDRSCOPE_PEERING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "estate.h"
#include "prefix.h"
#include "report.h"
#include "snapshot.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- verdicts and reasons ------------------------------------------------ */

enum cs_peering_verdict_kind {
    CS_PEER_ELIGIBLE = 0,
    CS_PEER_ELIGIBLE_WARN = 1, /* "eligible-with-warnings" */
    CS_PEER_INELIGIBLE = 2,
};

/* Reason codes; also bit positions in cs_peering_verdict.reasons. */
enum cs_peering_code {
    CS_PEER_SAME_VPC = 0,
    CS_PEER_UNKNOWN_VPC = 1,
    CS_PEER_OVERLAP_V4 = 2,
    CS_PEER_OVERLAP_V6 = 3,
    CS_PEER_ALREADY_PEERED = 4,
    CS_PEER_QUOTA = 5,
    CS_PEER_CROSS_REGION = 6,
    CS_PEER_CROSS_ACCOUNT = 7,
    CS_PEER_ROUTING_AMBIGUITY = 8,
    CS_PEER_CODE_COUNT = 9
};

/* The codes whose kind is "blocks" (bits of cs_peering_verdict.reasons). */
#define CS_PEER_BLOCKING_MASK 0x3fu

/* Active connections per VPC: AWS's default quota and its hard maximum. */
#define CS_PEERING_QUOTA_DEFAULT 50u
#define CS_PEERING_QUOTA_MAX 125u

/* The verdict of one pair: 4 bytes, so a million fit in 4 MB. */
typedef struct cs_peering_verdict {
    uint16_t reasons;  /* bit (1u << code) for each reason present */
    uint8_t verdict;   /* enum cs_peering_verdict_kind */
    uint8_t reserved;  /* 0 */
} cs_peering_verdict;

/* A pair of VPC indices (estate.h); CS_IDX_NONE (or any index >= the
 * number of VPCs) stands for an id not found in the estate. */
typedef struct cs_peering_pair {
    uint32_t a, b;
} cs_peering_pair;

typedef struct cs_peering_opts {
    uint32_t quota;    /* active connections per VPC; 0 = the default (50);
                          above CS_PEERING_QUOTA_MAX is CS_EINVAL */
} cs_peering_opts;

/* "same-vpc", ... (a static string; "?" out of range). */
CS_API const char *cs_peering_code_name(unsigned code);
/* "blocks" or "warns" for a code ("?" out of range). */
CS_API const char *cs_peering_code_kind(unsigned code);
/* Code of a name (exact spelling), or CS_EPARSE. */
CS_API int cs_peering_code_parse(const char *s, size_t len);
/* "eligible", "eligible-with-warnings", "ineligible" ("?" out of range). */
CS_API const char *cs_peering_verdict_name(unsigned verdict);

/*
 * The verdict of the pair (a, b) (VPC indices; see cs_peering_pair), from
 * the snapshot alone: overlaps through the trie (one overlap query per live
 * block of a and of b, which also finds the routing-ambiguity third VPCs).
 * No allocation. Returns 0, or CS_EINVAL (NULL s/out, a quota over the
 * maximum). An image without estate tables has no VPCs: unknown-vpc.
 */
CS_API int cs_peering_check(const cs_snapshot *s, uint32_t a, uint32_t b,
                            const cs_peering_opts *opts,
                            cs_peering_verdict *out);

/* ---- explanations ----------------------------------------------------------- */

/*
 * One piece of evidence for a reason. Several records may share a code (one
 * per overlapping block pair, per connection, per side). Fields not listed
 * for a code are CS_IDX_NONE (indices) or 0.
 *
 *   code                side   pcx      third    assoc[0]        assoc[1]
 *   same-vpc            -      -        -        -               -
 *   unknown-vpc         0/1 = the unknown one (a record per unknown side)
 *   cidr-overlap-*      -      -        -        a's block       b's block
 *   already-peered      -      the connection (status: its status)
 *   quota-exceeded      0/1 = the VPC at quota; count = its active ones
 *   cross-region/-account  -   (the report reads both VPCs' records)
 *   routing-ambiguity   0/1 = the hub (the side already peered with third)
 *                              hub-third  third    third's block   the other
 *                                                                  side's block
 */
typedef struct cs_peering_reason {
    uint8_t code;       /* enum cs_peering_code */
    uint8_t side;       /* 0 = a, 1 = b (see above) */
    uint8_t status;     /* already-peered: enum cs_pcx_status */
    uint8_t reserved;
    uint32_t pcx;       /* peering connection index, or CS_IDX_NONE */
    uint32_t third;     /* routing-ambiguity: the third VPC's index */
    uint32_t assoc[2];  /* association indices (estate.h), or CS_IDX_NONE */
    uint32_t count;     /* quota-exceeded: active connections of `side` */
} cs_peering_reason;

/*
 * The evidence for the reasons of (a, b) whose bits are set in `mask`
 * (pass the verdict's `reasons`, or 0xffff for all), in code order and,
 * within a code, in association / connection order. Writes at most `cap`
 * records to out (out may be NULL when cap is 0) and returns how many there
 * are in all (> cap means the list was cut). Through the trie, as
 * cs_peering_check; no allocation. Negative only for CS_EINVAL.
 */
CS_API int64_t cs_peering_explain(const cs_snapshot *s, uint32_t a, uint32_t b,
                                  const cs_peering_opts *opts, unsigned mask,
                                  cs_peering_reason *out, size_t cap);

/* ---- the bulk index ---------------------------------------------------------- */

typedef struct cs_peering_index cs_peering_index;

/*
 * Builds the per-VPC tables of the snapshot's estate (O(VPCs + associations
 * + connections), a few bulk allocations): a 128-byte slot per VPC holding
 * its live IPv4 blocks, its counting connections and the merged blocks of
 * its active peers (larger VPCs spill to a side arena), plus about 50 bytes
 * per VPC and 32-40 per IPv6 block of cold data; 1M VPCs take about 200 MB.
 * engine/query/peering_internal.h documents the layout. *out is released with
 * cs_peering_index_free and must not outlive `s`. Returns 0, CS_EINVAL,
 * CS_ENOMEM, CS_ERANGE (more than 2^31-1 VPCs).
 */
CS_API int cs_peering_index_new(const cs_snapshot *s, cs_peering_index **out,
                                cs_error *err);
CS_API void cs_peering_index_free(cs_peering_index *ix);
/* The snapshot an index was built on. */
CS_API const cs_snapshot *cs_peering_index_snapshot(const cs_peering_index *ix);

/*
 * Bulk verdicts: out[i] is the verdict of pairs[i], for i < n, equal to
 * cs_peering_check of the same pair. Merge-style block comparisons on the
 * index (no trie, no allocation), interleaved with software prefetch across
 * pairs. Returns 0 or CS_EINVAL (NULL arguments with n > 0, bad quota).
 */
CS_API int cs_peering_check_bulk(const cs_peering_index *ix,
                                 const cs_peering_pair *pairs, size_t n,
                                 const cs_peering_opts *opts,
                                 cs_peering_verdict *out);

/* ---- candidates ---------------------------------------------------------------- */

typedef struct cs_peering_filter {
    uint32_t account;  /* only VPCs of this account index, or CS_IDX_NONE */
    uint32_t region;   /* only VPCs of this region index, or CS_IDX_NONE */
    unsigned flags;    /* CS_CAND_* */
} cs_peering_filter;

enum {
    /* Find the overlapping VPCs through the trie whatever the cost (the
     * default chooses; see cs_peering_candidates). For tests and benches. */
    CS_CAND_FORCE_TRIE = 1u << 0,
    /* Test each VPC of the filtered set against V's blocks instead. */
    CS_CAND_FORCE_SCAN = 1u << 1,
};

/* What cs_peering_candidates looked at and why it left VPCs out. */
typedef struct cs_peering_cand_stats {
    uint64_t considered;  /* VPCs of the filtered set (V itself included) */
    uint64_t overlap;     /* left out: a live block overlaps V's */
    uint64_t peered;      /* left out: already peered (counting status) */
    uint64_t quota;       /* left out: at the active-connection quota */
    uint64_t other;       /* left out: V itself, prefix-list owners */
    uint64_t overlap_entries; /* trie entries overlapping V's blocks */
    bool used_trie;       /* the overlapping set came from the trie */
    bool self_at_quota;   /* V has >= quota active connections: no one */
} cs_peering_cand_stats;

/*
 * Every VPC that `vpc` could peer with now (verdict eligible or
 * eligible-with-warnings), optionally only those of one account and/or
 * region, in VPC index order. Writes at most `cap` indices to out and
 * returns how many there are (> cap: cut; call again with more room).
 *
 * How: the filtered set is an account's contiguous VPC range (binary
 * searched by region when both are given), a region's list in the index,
 * or every VPC. The VPCs overlapping V are found with one trie overlap
 * query per live block of V, collected, sorted and merged against the
 * filtered set; but when a filter leaves fewer VPCs than those queries
 * would return entries (V is 172.31.0.0/16 and the estate has 100k default
 * VPCs, asked about one account), each VPC of the filtered set is tested
 * against V's blocks with the index instead (never every VPC of the
 * estate; cs_peering_cand_stats.used_trie says which). Already-peered,
 * quota and same-VPC come from the index.
 *
 * Allocation: the overlapping set is collected in a 256-entry buffer on the
 * stack that spills to the heap once when larger (CS_ENOMEM if that fails).
 * Returns the count, CS_EINVAL (NULL ix, bad quota, cap > 0 with NULL out),
 * CS_ENOTFOUND (vpc is not a VPC of the estate), CS_ENOMEM. stats may be
 * NULL.
 */
CS_API int64_t cs_peering_candidates(const cs_peering_index *ix, uint32_t vpc,
                                     const cs_peering_filter *filter,
                                     const cs_peering_opts *opts,
                                     uint32_t *out, size_t cap,
                                     cs_peering_cand_stats *stats);

/* ---- connections and counts ------------------------------------------------------ */

/* Distinct ACTIVE connections of a VPC (to any VPC, known or not). */
CS_API uint32_t cs_peering_active_count(const cs_snapshot *s, uint32_t vpc);

/*
 * The connection between a and b that blocks a new one, if any: one in a
 * counting status (initiating-request, pending-acceptance, provisioning,
 * active, deleting), the active one first. Returns 1 and sets *pcx (may be
 * NULL), or 0 when there is none, CS_EINVAL for NULL s.
 */
CS_API int cs_peering_connection(const cs_snapshot *s, uint32_t a, uint32_t b,
                                 uint32_t *pcx);

/* True for the statuses that count as "already peered". */
CS_API bool cs_pcx_status_counts(unsigned status);

/* ---- mesh planning ---------------------------------------------------------------- */

/* One VPC of a planned mesh (full: every pair linked; hub-and-spoke: the
 * hub linked to every spoke). */
typedef struct cs_peering_mesh_row {
    uint32_t vpc;       /* its index, or CS_IDX_NONE when unknown */
    uint32_t active;    /* active connections now, to any VPC */
    uint32_t planned;   /* links of the plan it takes part in */
    uint32_t existing;  /* planned links already active */
    uint32_t pending;   /* planned links initiating/pending/provisioning:
                           they become active when accepted */
    uint32_t needed;    /* planned links to request (no connection, or one
                           that is deleting/dead) */
    uint32_t after;     /* active + pending + needed: active connections
                           once the plan is done */
    uint32_t conflicts; /* planned links that cannot be made: ineligible for
                           a reason other than already-peered and quota */
    bool over_quota;    /* after > quota */
} cs_peering_mesh_row;

/* Totals of a plan. */
typedef struct cs_peering_mesh_summary {
    uint32_t vpcs;
    uint32_t links;     /* links of the plan */
    uint32_t existing;  /* already active */
    uint32_t pending;
    uint32_t needed;    /* connections to request */
    uint32_t conflicts; /* links that cannot be made (overlap, unknown...) */
    uint32_t over_quota;/* VPCs whose `after` exceeds the quota */
    uint32_t quota;
} cs_peering_mesh_summary;

/*
 * Plans a full mesh of vpcs[0..n) (hub = CS_IDX_NONE) or a hub-and-spoke
 * with vpcs[hub_pos] as the hub (hub_pos < n). rows[i] describes vpcs[i];
 * matrix, when not NULL, receives n*n verdicts (matrix[i*n+j] =
 * cs_peering_check(vpcs[i], vpcs[j]); the diagonal is same-vpc). The
 * indices must be distinct (CS_EINVAL otherwise). Unknown ids
 * (CS_IDX_NONE) are allowed: their links are conflicts. O(n^2) checks.
 * Returns 0 or CS_EINVAL; sum may be NULL.
 */
CS_API int cs_peering_mesh(const cs_snapshot *s, const uint32_t *vpcs, size_t n,
                           size_t hub_pos, const cs_peering_opts *opts,
                           cs_peering_mesh_row *rows, cs_peering_verdict *matrix,
                           cs_peering_mesh_summary *sum);
/* hub_pos value for a full mesh. */
#define CS_MESH_FULL ((size_t)-1)

/* The state of one planned link. */
enum cs_mesh_link {
    CS_LINK_NEEDED = 0,   /* to request: no connection, or one deleting */
    CS_LINK_EXISTING = 1, /* an active connection already joins them */
    CS_LINK_PENDING = 2,  /* initiating-request/pending-acceptance/
                             provisioning: active once accepted */
    CS_LINK_CONFLICT = 3, /* cannot be made: ineligible for a reason other
                             than already-peered and quota-exceeded */
};

/* The state of the link (a, b) whose verdict is *v (from cs_peering_check);
 * *pcx (may be NULL) receives the existing connection or CS_IDX_NONE.
 * Returns an enum cs_mesh_link, or CS_EINVAL. */
CS_API int cs_peering_mesh_link(const cs_snapshot *s, uint32_t a, uint32_t b,
                                const cs_peering_verdict *v, uint32_t *pcx);
/* "needed", "existing", "pending", "conflict". */
CS_API const char *cs_mesh_link_name(unsigned link);

/* ---- reachability ------------------------------------------------------------------ */

/* What one finding of a reach question says. */
enum cs_reach_code {
    CS_REACH_LOCAL = 0,        /* DST is inside SRC: the local route */
    CS_REACH_PEERED = 1,       /* an ACTIVE connection SRC-X carries it */
    CS_REACH_NOT_ACTIVE = 2,   /* a connection SRC-X exists, not active */
    CS_REACH_TRANSITIVE = 3,   /* X is reachable only through a third VPC B
                                  (SRC-B and B-X active): not supported */
    CS_REACH_NO_CONNECTION = 4,/* X holds DST; no connection SRC-X */
    CS_REACH_EDGE_TO_EDGE = 5, /* DST (or SRC) is outside every VPC and a
                                  peer B has a gateway/connection `edge` that
                                  peering traffic may not use */
    CS_REACH_OWN_EDGE = 6,     /* outside every VPC; the VPC's own `edge`
                                  may carry it, which is not peering */
    CS_REACH_OUTSIDE = 7,      /* outside every VPC; no edge anywhere near */
    CS_REACH_UNKNOWN_VPC = 8,  /* SRC or DST names no VPC */
    CS_REACH_CODE_COUNT = 9
};

typedef struct cs_reach_finding {
    uint8_t code;      /* enum cs_reach_code */
    uint8_t relation;  /* X's block vs the DST prefix: CS_REL_* (query.h);
                          0 when DST is a VPC id */
    uint8_t status;    /* NOT_ACTIVE: the connection's status */
    bool sg_refs;      /* PEERED: security-group references across the
                          connection are possible (same region, active) */
    uint32_t vpc;      /* X (LOCAL..NO_CONNECTION), B (EDGE_TO_EDGE), the
                          VPC owning the edge (OWN_EDGE); else CS_IDX_NONE */
    uint32_t assoc;    /* X's block holding / overlapping DST, or NONE */
    uint32_t pcx;      /* PEERED/NOT_ACTIVE: SRC-X; TRANSITIVE, EDGE_TO_EDGE:
                          the active connection to B; else NONE */
    uint32_t via;      /* TRANSITIVE: B */
    uint32_t via_pcx;  /* TRANSITIVE: B-X */
    uint32_t edge;     /* EDGE_TO_EDGE, OWN_EDGE: edge index (estate.h) */
} cs_reach_finding;

typedef struct cs_reach_summary {
    bool reachable;      /* some finding is LOCAL or PEERED */
    uint32_t holders;    /* live blocks holding (part of) DST (1 when DST
                            is a VPC id) */
    uint64_t count[CS_REACH_CODE_COUNT];
} cs_reach_summary;

/* One end of a reach question: a VPC, or a prefix/address (then the VPCs
 * holding it are found through the trie; none = outside every VPC). */
typedef struct cs_reach_end {
    uint32_t vpc;      /* VPC index, or CS_IDX_NONE to use `prefix` */
    cs_prefix prefix;  /* used when vpc is CS_IDX_NONE */
    bool unknown;      /* an id that names no VPC (then nothing else) */
} cs_reach_end;

typedef int (*cs_reach_fn)(const cs_reach_finding *f, void *ctx);

/*
 * Can traffic go from src to dst over VPC peering? Only ACTIVE connections
 * carry traffic; never transitive; never edge-to-edge.
 *
 *   src a VPC, dst a VPC X or a prefix held by VPCs X1..Xk: one finding per
 *     X (LOCAL, PEERED, NOT_ACTIVE, TRANSITIVE naming every such B, or
 *     NO_CONNECTION).
 *   src a VPC, dst outside every VPC: OWN_EDGE per edge of SRC, EDGE_TO_EDGE
 *     per edge of each active peer B (SRC cannot use it), OUTSIDE when
 *     there is neither.
 *   src outside every VPC, dst a VPC X (traffic coming in): OWN_EDGE per
 *     edge of X, EDGE_TO_EDGE per edge of X's active peers (it cannot enter
 *     through them), OUTSIDE when neither.
 *   src a prefix inside VPCs: give the VPC instead (CS_EINVAL); both outside:
 *     CS_EINVAL.
 *
 * cb(finding, ctx) is called per finding (cb may be NULL); a non-zero
 * return stops the walk and is returned. Returns 0, the callback's value,
 * or CS_EINVAL. sum may be NULL. No allocation.
 */
CS_API int cs_peering_reach(const cs_snapshot *s, const cs_reach_end *src,
                            const cs_reach_end *dst, cs_reach_fn cb, void *ctx,
                            cs_reach_summary *sum);

/* "local", "peered", "not-active", "transitive", "no-connection",
 * "edge-to-edge", "own-edge", "outside", "unknown-vpc". */
CS_API const char *cs_reach_code_name(unsigned code);

/* ---- adding a block ------------------------------------------------------------------ */

enum cs_can_add_code {
    CS_ADD_UNKNOWN_VPC = 0,      /* blocks */
    CS_ADD_BLOCK_SIZE = 1,       /* blocks: IPv4 outside /16../28, IPv6
                                    not /44../60 in steps of /4 */
    CS_ADD_LINK_LOCAL = 2,       /* blocks: inside 169.254.0.0/16 */
    CS_ADD_OWN_OVERLAP = 3,      /* blocks: overlaps a live block of the VPC */
    CS_ADD_RESTRICTED = 4,       /* blocks: the association-restriction table */
    CS_ADD_BLOCK_QUOTA = 5,      /* blocks: the VPC has its quota of blocks */
    CS_ADD_PEER_OVERLAP = 6,     /* blocks: overlaps a live block of a VPC
                                    peered by an active/provisioning
                                    connection */
    CS_ADD_PENDING_REQUESTER = 7,/* blocks: the VPC requested a connection
                                    still pending: no IPv4 block may be added */
    CS_ADD_PENDING_FAILS = 8,    /* warns: the VPC is the accepter of a
                                    pending request whose requester's blocks
                                    overlap: adding is allowed, the request
                                    then fails */
    CS_ADD_PEER_UNKNOWN = 9,     /* warns: a live peer is not in the estate:
                                    its blocks could not be checked */
    CS_ADD_RESERVED = 10,        /* blocks: inside 0.0.0.0/8, 127.0.0.0/8 or
                                    224.0.0.0/4, which no VPC may use */
    CS_ADD_CODE_COUNT = 11
};

/* Rows of the association-restriction table (CS_ADD_RESTRICTED). */
enum cs_add_rule {
    CS_RULE_OTHER_RFC1918 = 1,   /* an RFC 1918 primary rules out the other
                                    RFC 1918 ranges */
    CS_RULE_10_0_16 = 2,         /* a block in 10.0.0.0/15 rules out
                                    10.0.0.0/16 */
    CS_RULE_172_31_16 = 3,       /* a primary in 172.16.0.0/12 rules out
                                    172.31.0.0/16 */
    CS_RULE_198_19 = 4,          /* 198.19.0.0/16 only with a 198.19
                                    primary */
    CS_RULE_PUBLIC_RFC1918 = 5,  /* a public, 100.64.0.0/10 or 198.19.0.0/16
                                    primary rules out RFC 1918 */
};

typedef struct cs_can_add_reason {
    uint8_t code;      /* enum cs_can_add_code */
    uint8_t rule;      /* CS_ADD_RESTRICTED: enum cs_add_rule */
    uint8_t status;    /* peer codes: the connection's status */
    uint8_t reserved;
    uint32_t assoc;    /* the block involved: the VPC's own (OWN_OVERLAP,
                          RESTRICTED: the primary or the 10.0.0.0/15 /
                          172.31.0.0/16 block) or the peer's (PEER_OVERLAP,
                          PENDING_FAILS); else CS_IDX_NONE */
    uint32_t pcx;      /* peer codes: the connection */
    uint32_t peer;     /* peer codes: the peer VPC (NONE if unknown) */
    uint32_t count;    /* BLOCK_QUOTA: live blocks of that family now */
    uint32_t limit;    /* BLOCK_QUOTA: the quota */
} cs_can_add_reason;

typedef struct cs_can_add_opts {
    uint32_t v4_quota; /* IPv4 blocks per VPC; 0 = 5 (AWS default); max 50 */
    uint32_t v6_quota; /* IPv6 blocks per VPC; 0 = 5; max 50 */
} cs_can_add_opts;

/*
 * May block p be associated with VPC `vpc` now? Checks, in this order:
 * size, link-local, overlap with the VPC's own live blocks, the
 * association-restriction table (IPv4), the quota of blocks, then every
 * peer connection (active/provisioning: no overlap with the peer's live
 * blocks; pending-acceptance/initiating-request as requester: no IPv4 block
 * at all; as accepter: an overlap makes the request fail). `p` must be
 * canonical. Writes at most cap reasons; returns their total (0 = may be
 * added, or only warnings: see cs_can_add_code_blocks), or CS_EINVAL.
 * An unknown vpc gives the single reason unknown-vpc. No allocation.
 */
CS_API int64_t cs_peering_can_add(const cs_snapshot *s, uint32_t vpc,
                                  const cs_prefix *p, const cs_can_add_opts *o,
                                  cs_can_add_reason *out, size_t cap);

/* "unknown-vpc", "block-size", "link-local", "own-overlap",
 * "association-restricted", "block-quota", "peer-overlap",
 * "pending-requester", "pending-request-fails", "peer-not-in-estate",
 * "reserved-range". */
CS_API const char *cs_can_add_code_name(unsigned code);
/* True when the code blocks the association (false: a warning). */
CS_API bool cs_can_add_code_blocks(unsigned code);

/* ---- reports ------------------------------------------------------------------------ */

/* Formats: enum cs_report_format (<cidrscope/report.h>): TEXT, JSON, CSV
 * (a header row, then one row per result), NDJSON (one result object per
 * line; check's last line is {"type": "summary", ...}). */

/* Totals of a check report. */
typedef struct cs_peering_summary {
    uint64_t pairs;
    uint64_t verdicts[3];                /* by enum cs_peering_verdict_kind */
    uint64_t reasons[CS_PEER_CODE_COUNT];/* pairs having each reason */
} cs_peering_summary;

/* Adds one verdict to a summary. */
CS_API void cs_peering_summary_add(cs_peering_summary *sum,
                                   const cs_peering_verdict *v);

/*
 * A streaming check report on a caller's FILE* (never closed):
 *
 *   r = cs_peering_report_new(f, CS_REPORT_JSON, snap, &opts);
 *   cs_peering_report_begin(r, &summary);   JSON: summary known first
 *   cs_peering_report_pair(r, "vpc-a", "vpc-b", a_idx, b_idx, &verdict); ...
 *   cs_peering_report_end(r, &summary, &err);
 *   cs_peering_report_free(r);
 *
 * JSON needs the summary at begin (it is printed first); text, CSV and
 * NDJSON print it at end (text and NDJSON) or not at all (CSV), so they
 * may pass NULL to begin and stream. Each pair's reasons are explained
 * (cs_peering_explain) with their evidence: the blocks, connection ids,
 * accounts, regions. ids are printed as given. _new returns NULL when out
 * of memory or for a bad format. _end returns 0 or CS_EIO (a write failed).
 */
typedef struct cs_peering_report cs_peering_report;
CS_API cs_peering_report *cs_peering_report_new(FILE *f, enum cs_report_format format,
                                                const cs_snapshot *s,
                                                const cs_peering_opts *opts);
CS_API void cs_peering_report_begin(cs_peering_report *r,
                                    const cs_peering_summary *sum);
CS_API void cs_peering_report_pair(cs_peering_report *r, const char *a_id,
                                   const char *b_id, uint32_t a, uint32_t b,
                                   const cs_peering_verdict *v);
CS_API int cs_peering_report_end(cs_peering_report *r,
                                 const cs_peering_summary *sum, cs_error *err);
CS_API void cs_peering_report_free(cs_peering_report *r);

/* The candidates of `vpc` (cands[0..n), verdicts[i] of (vpc, cands[i]),
 * `total` >= n when the list was cut) as one report. NDJSON is not
 * offered (CS_EINVAL). Returns 0, CS_EINVAL, CS_EIO. */
CS_API int cs_peering_report_candidates(FILE *f, enum cs_report_format format,
                                        const cs_snapshot *s, uint32_t vpc,
                                        const cs_peering_filter *filter,
                                        const cs_peering_opts *opts,
                                        const uint32_t *cands,
                                        const cs_peering_verdict *verdicts,
                                        size_t n, uint64_t total,
                                        const cs_peering_cand_stats *stats,
                                        cs_error *err);

/* A mesh plan (the arguments of cs_peering_mesh and its results; ids[i]
 * names vpcs[i] as given). Returns 0, CS_EINVAL, CS_EIO. */
CS_API int cs_peering_report_mesh(FILE *f, enum cs_report_format format,
                                  const cs_snapshot *s, const char *const *ids,
                                  size_t n, size_t hub_pos,
                                  const cs_peering_mesh_row *rows,
                                  const cs_peering_verdict *matrix,
                                  const cs_peering_mesh_summary *sum,
                                  const cs_peering_opts *opts, cs_error *err);

/* Runs cs_peering_reach and prints its findings; src_text/dst_text are the
 * ends as given. *sum receives the summary (may be NULL). Returns 0,
 * CS_EINVAL, CS_EIO. */
CS_API int cs_peering_report_reach(FILE *f, enum cs_report_format format,
                                   const cs_snapshot *s, const char *src_text,
                                   const cs_reach_end *src, const char *dst_text,
                                   const cs_reach_end *dst,
                                   cs_reach_summary *sum, cs_error *err);

/* Runs cs_peering_can_add and prints its verdict and reasons. *blocked
 * (may be NULL) is set when a blocking reason was found. Returns 0,
 * CS_EINVAL, CS_EIO. */
CS_API int cs_peering_report_can_add(FILE *f, enum cs_report_format format,
                                     const cs_snapshot *s, const char *vpc_id,
                                     uint32_t vpc, const cs_prefix *p,
                                     const cs_can_add_opts *o, bool *blocked,
                                     cs_error *err);

/* ---- report helper's block ---------------------------------------------- */

/* cs_peering_report_reach listing at most `limit` no-connection findings
 * (0 = all); the rest is counted (JSON "omitted", text "N more ... (use
 * --limit 0 for all)"). cs_peering_report_reach lists 20 (CSV: all). */
CS_API int cs_peering_report_reach_limit(FILE *f, enum cs_report_format format,
                                         const cs_snapshot *s, const char *src_text,
                                         const cs_reach_end *src, const char *dst_text,
                                         const cs_reach_end *dst, uint64_t limit,
                                         cs_reach_summary *sum, cs_error *err);

#ifdef __cplusplus
}
#endif
#endif
