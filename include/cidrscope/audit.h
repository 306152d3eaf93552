/*
 * cidrscope/audit.h — the org-wide overlap audit on a frozen snapshot, its
 * drift between two snapshots, and the reports written from both (text,
 * JSON, NDJSON, CSV, HTML); plus the row writers of the `query` and
 * `lookup` verbs, which share those report writers.
 *
 * WHAT THE AUDIT COMPUTES (two prefixes overlap exactly when one contains
 * the other; an ENTRY is one live CIDR block, a trie entry):
 *
 *  - entry level: live blocks, distinct prefixes, overlapping entry pairs
 *    (unordered pairs of distinct entries whose prefixes overlap or are
 *    equal), and CLUSTERS: maximal sets of >= 2 entries tied by overlap,
 *    i.e. the subtree of a top-level stored prefix holding >= 2 entries;
 *  - VPC level (estate images only): two VPCs overlap when a live block of
 *    one overlaps a live block of the other, counted once per pair however
 *    many block pairs overlap; exact counts by severity; identical-prefix
 *    GROUPS (a prefix held by >= 2 VPCs: 85,000 default VPCs on
 *    172.31.0.0/16 are one group with a pair count); the PAIRS listed one by
 *    one (below); and, per --domain, the overlapping pairs inside each
 *    domain (a set of VPCs that must be mutually disjoint).
 *
 * SEVERITY of an overlapping VPC pair, first match wins:
 *   critical       the VPCs are peered (a connection initiating, pending,
 *                  provisioning or active), or both peered to a common hub
 *                  VPC: routing is ambiguous and replies can reach the wrong
 *                  VPC;
 *   informational  both are default VPCs, or every overlapping block pair
 *                  lies inside a reused range (100.64.0.0/10 shared address
 *                  space, 198.18.0.0/15 benchmarking): expected, summarised;
 *   high           same account or same region: it blocks any future
 *                  peering or transit routing between them;
 *   medium         every other overlap.
 *
 * WHICH PAIRS ARE LISTED one by one (cs_audit_pair): every critical pair;
 * and every non-informational pair that overlaps through two prefixes each
 * held by that VPC alone (10.0.16.0/20 of one VPC inside 10.0.0.0/16 of
 * another). A prefix held by several VPCs is a GROUP and represents every
 * pair overlapping through it, never expanded: 40,000 template VPCs on
 * 10.0.0.0/16 with 4,096 blocks inside it are one record, not 160 million
 * lines; that keeps the output linear in the estate. No non-informational
 * pair is hidden: it is listed, or a listed group of at least its severity
 * represents it. CS_AUDIT_ALL_PAIRS lists every non-informational pair;
 * CS_AUDIT_INCLUDE_DEFAULT lists informational ones (pairs and groups) too.
 * The summary counts are exact whatever is listed.
 *
 * COST: one pass over the trie's node records with an ancestor stack for
 * the entry level (CS_AUDIT_ENTRY_LEVEL stops there); the VPC level adds
 * O(entries x log) counting passes and enumeration proportional to the
 * pairs listed (engine/query/audit.c documents the counting argument).
 *
 * OWNERSHIP AND THREADS: a cs_audit_result / cs_audit_drift is owned by the
 * caller and released by cs_audit_free / cs_audit_drift_free (NULL is a
 * no-op). Results hold indices, never pointers into the snapshot: accessors
 * that need names take the snapshot the result was computed on, which must
 * be that same snapshot. cs_audit_run only reads the snapshot: any number of
 * threads may audit one snapshot at once; one result may be read by many
 * threads. The options are copied where needed; nothing of them is kept.
 *
 * Tests: tests/test_audit.c (differential against brute force, heap vs file
 * image), tests/cli/test_audit*.sh (golden reports, exit codes).
 */
#ifndef CIDRSCOPE_AUDIT_H
#define CIDRSCOPE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "estate.h"
#include "prefix.h"
#include "query.h"
#include "report.h"
#include "snapshot.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- severities --------------------------------------------------------- */

enum cs_severity {
    CS_SEV_CRITICAL = 0,
    CS_SEV_HIGH = 1,
    CS_SEV_MEDIUM = 2,
    CS_SEV_INFO = 3,
    CS_SEV_COUNT = 4
};

/* "critical", "high", "medium", "informational"; "?" out of range. */
CS_API const char *cs_severity_name(unsigned sev);
/* The one sentence that explains a class in reports (static). */
CS_API const char *cs_severity_explanation(unsigned sev);
/* Parses a severity name (also "info"); returns it or CS_EPARSE. */
CS_API int cs_severity_parse(const char *s, size_t len);

/* Why a pair has its severity: a bit set (cs_audit_pair.why). */
enum {
    CS_WHY_PEERED = 1u << 0,       /* a live peering connects them */
    CS_WHY_HUB = 1u << 1,          /* both peered to a common VPC */
    CS_WHY_SAME_ACCOUNT = 1u << 2,
    CS_WHY_SAME_REGION = 1u << 3,
    CS_WHY_DEFAULT_ONLY = 1u << 4, /* both are default VPCs */
    CS_WHY_REUSED_ONLY = 1u << 5,  /* every overlap is in a reused range */
    CS_WHY_NESTED = 1u << 6,       /* a block strictly inside the other's */
    CS_WHY_IDENTICAL = 1u << 7,    /* both hold one identical prefix */
};

/* The reused ranges (informational overlaps): n of them. Static. */
CS_API const cs_prefix *cs_audit_reused_ranges(size_t *n);

/* ---- options -------------------------------------------------------------- */

enum {
    /* Entry-level figures and clusters only (no VPC-level work): the
     * fastest audit; VPC-level fields of the summary are 0. */
    CS_AUDIT_ENTRY_LEVEL = 1u << 0,
    /* List informational pairs too (and count them as findings). */
    CS_AUDIT_INCLUDE_DEFAULT = 1u << 1,
    /* List every pair one by one, identical-prefix sharers included. */
    CS_AUDIT_ALL_PAIRS = 1u << 2,
    /* Scope values that match nothing are not errors (the scope is then
     * empty): for a baseline audited with the scope of a newer estate. */
    CS_AUDIT_EMPTY_SCOPE_OK = 1u << 3,
};

typedef struct cs_audit_tag {
    const char *key;
    const char *value;
} cs_audit_tag;

/* A named set of VPCs that must be mutually disjoint. */
typedef struct cs_audit_domain {
    const char *name;
    const uint32_t *vpcs;  /* VPC indices (cs_estate_vpc_find); repeats ok */
    size_t vpc_count;
} cs_audit_domain;

/*
 * Scope: a VPC is audited when its account is one of `accounts` (ids; none
 * given = any), its region one of `regions` (none = any), and it carries
 * every tag of `tags` (key and value, exact). Blocks of VPCs out of scope
 * are ignored everywhere: entries, clusters, pairs. A zeroed struct (or a
 * NULL options pointer) audits everything. An account or region the estate
 * does not know, or a tag no VPC carries, is CS_ENOTFOUND naming the value
 * (a typo must not pass as an empty audit), unless CS_AUDIT_EMPTY_SCOPE_OK.
 */
typedef struct cs_audit_options {
    unsigned flags;                 /* CS_AUDIT_* */
    const char *const *accounts;
    size_t account_count;
    const char *const *regions;
    size_t region_count;
    const cs_audit_tag *tags;
    size_t tag_count;
    const cs_audit_domain *domains;
    size_t domain_count;
} cs_audit_options;

/* ---- results ------------------------------------------------------------- */

typedef struct cs_audit_result cs_audit_result;

typedef struct cs_audit_summary {
    uint64_t vpcs;                    /* in scope (pseudo-VPCs included) */
    uint64_t default_vpcs;
    uint64_t accounts;                /* owning the VPCs in scope */
    uint64_t regions;
    uint64_t entries;                 /* live blocks in scope */
    uint64_t entries_by_family[2];    /* [0] IPv4, [1] IPv6 */
    uint64_t prefixes;                /* distinct prefixes among them */
    uint64_t overlapping_entry_pairs;
    uint64_t clusters;
    uint64_t entries_in_clusters;
    uint32_t max_nesting;             /* deepest cluster (1 = identical) */
    bool vpc_level;                   /* the fields below were computed */
    uint64_t overlapping_vpc_pairs;
    uint64_t overlapping_vpc_pairs_excluding_default; /* neither default */
    uint64_t vpc_pairs_by_severity[CS_SEV_COUNT];     /* sums to the total */
    uint64_t groups;                  /* identical prefixes held by >= 2 VPCs */
    uint64_t listed_pairs;            /* cs_audit_pair_count */
    uint64_t domain_violations;       /* overlapping pairs, all domains */
} cs_audit_summary;

/* A cluster: the subtree of top-level prefix `top`; its entries lie in the
 * contiguous entry range [first_entry, first_entry + span) of top's family
 * (cs_snapshot_entry; members by cs_query_walk(top, CS_Q_COVERED)). */
typedef struct cs_audit_cluster {
    cs_prefix top;
    uint32_t first_entry;
    uint32_t span;            /* the range's length: [first_entry, +span);
                                 with a scope it also holds entries of VPCs
                                 out of scope */
    uint32_t entries;         /* entries in scope */
    uint32_t prefixes;        /* distinct prefixes */
    uint32_t depth;           /* longest chain of nested distinct prefixes */
    uint32_t vpcs;            /* distinct VPCs (0 without VPC level) */
    uint64_t entry_pairs;     /* overlapping entry pairs inside */
} cs_audit_cluster;

/* An identical-prefix group: `prefix` held by live blocks of >= 2 VPCs. It
 * stands for every VPC pair that overlaps through it: its VPCs with each
 * other (vpc_pairs, same_account_pairs, same_region_pairs), and its VPCs
 * with those holding blocks strictly inside or around it (counted as blocks:
 * blocks_inside, blocks_around). `severity` is the most severe of those
 * pairs judged on their overlap at this prefix; peered_pairs counts the
 * critical ones. A pair represented by two groups is in both; the summary
 * counts it once. */
typedef struct cs_audit_group {
    cs_prefix prefix;
    uint32_t first_entry;     /* its entries: [first_entry, +span) */
    uint32_t span;            /* (with a scope, out-of-scope ones too) */
    uint32_t entries;         /* entries in scope */
    uint32_t vpcs;
    uint32_t default_vpcs;
    uint64_t vpc_pairs;
    uint64_t same_account_pairs;
    uint64_t same_region_pairs;
    uint64_t peered_pairs;    /* critical pairs it represents */
    uint32_t blocks_inside;   /* blocks in scope strictly inside it */
    uint32_t blocks_around;   /* blocks in scope strictly containing it */
    uint8_t severity;         /* the most severe of its pairs */
    bool reused;              /* the prefix lies inside a reused range */
    bool listed;              /* not informational, or INCLUDE_DEFAULT */
} cs_audit_group;

typedef struct cs_audit_pair {
    uint32_t vpc_a, vpc_b;    /* VPC indices, vpc_a < vpc_b */
    uint8_t severity;         /* enum cs_severity */
    uint32_t why;             /* CS_WHY_* */
    uint32_t peering_idx;     /* CS_WHY_PEERED: the connection; else
                                 CS_IDX_NONE (UINT32_MAX) */
    uint32_t hub_vpc;         /* CS_WHY_HUB: the common VPC; else NONE */
    uint32_t block_pairs;     /* overlapping (block of a, block of b) pairs */
    uint32_t witness_count;   /* how many of them are kept (<= 16) */
} cs_audit_pair;

/* One overlapping block pair: association indices (cs_estate_assoc). */
typedef struct cs_audit_witness {
    uint32_t assoc_a;         /* a block of vpc_a */
    uint32_t assoc_b;         /* a block of vpc_b */
} cs_audit_witness;

#define CS_AUDIT_MAX_WITNESSES 16

typedef struct cs_audit_domain_info {
    const char *name;         /* copied; lives with the result */
    uint32_t vpcs;            /* distinct VPCs of the domain in scope */
    uint64_t violations;      /* overlapping pairs inside it */
} cs_audit_domain_info;

/*
 * Audits `s` (any snapshot; the VPC level needs an estate image: on a plain
 * prefix image only the entry level is computed and vpc_level stays
 * false). opts may be NULL (everything, default listing). *out is released
 * with cs_audit_free. Returns 0, CS_ENOTFOUND (a scope value matches
 * nothing: see cs_audit_options), CS_EINVAL (NULL s or out, a scope or
 * domains on an image without estate, domains with CS_AUDIT_ENTRY_LEVEL, a
 * domain VPC index out of range), CS_ERANGE (2^32-1 nodes or entries or
 * more), CS_ENOMEM. Thread-safe on a shared snapshot; never allocates
 * per entry on the CS_AUDIT_ENTRY_LEVEL path beyond the cluster list.
 */
CS_API int cs_audit_run(const cs_snapshot *s, const cs_audit_options *opts,
                        cs_audit_result **out, cs_error *err);

CS_API void cs_audit_free(cs_audit_result *r);

CS_API void cs_audit_get_summary(const cs_audit_result *r,
                                 cs_audit_summary *out);

/* Clusters in family order (IPv4 first), then prefix order. */
CS_API size_t cs_audit_cluster_count(const cs_audit_result *r);
/* Groups in family, then prefix order. */
CS_API size_t cs_audit_group_count(const cs_audit_result *r);
/* Listed pairs, most severe first, then by VPC indices. */
CS_API size_t cs_audit_pair_count(const cs_audit_result *r);

/* Records by index: 0, CS_ERANGE (no such index) or CS_EINVAL (NULL r or
 * out); on error *out is untouched. The same for every getter below. */
CS_API int cs_audit_get_cluster(const cs_audit_result *r, size_t i,
                                cs_audit_cluster *out);
CS_API int cs_audit_get_group(const cs_audit_result *r, size_t i,
                              cs_audit_group *out);
CS_API int cs_audit_get_pair(const cs_audit_result *r, size_t i,
                             cs_audit_pair *out);
/* Witness j < pair.witness_count of listed pair i. */
CS_API int cs_audit_pair_witness(const cs_audit_result *r, size_t i, size_t j,
                                 cs_audit_witness *out);

/* Domains in the order given; their violating pairs (all listed, with the
 * same fields as cs_audit_pair) by (domain, index). */
CS_API size_t cs_audit_domain_count(const cs_audit_result *r);
CS_API int cs_audit_get_domain(const cs_audit_result *r, size_t d,
                               cs_audit_domain_info *out);
CS_API int cs_audit_domain_pair(const cs_audit_result *r, size_t d, size_t i,
                                cs_audit_pair *out);
CS_API int cs_audit_domain_pair_witness(const cs_audit_result *r, size_t d,
                                        size_t i, size_t j,
                                        cs_audit_witness *out);

/* ---- what-if plans and domain files (engine/ingest/plan.c) ---------------- */

/*
 * A what-if plan adds planned VPCs and blocks to a builder, usually one
 * thawed from the estate as it is (cs_estate_thaw), to be frozen and
 * audited "as if they existed". A row is `account,region,vpc_id,cidr`; a
 * VPC that `base` (may be NULL) already holds must be named with its own
 * account and region; a new VPC is added, state available. parse_flags:
 * CS_PARSE_LENIENT accepts host bits. Errors name the source, line, column
 * and span of the offending field with the line for a caret.
 *
 * cs_plan_add_row: one row (loc: where it came from, e.g. "--what-if";
 * NULL = "(plan)" line 1). Returns 0, CS_EPARSE (not 4 fields, a bad
 * prefix), CS_ECONFLICT (a known VPC under another account or region, or a
 * record the builder refuses), CS_EINVAL, CS_ENOMEM, CS_ESTATE.
 * cs_plan_load: every line of file `path` (blank lines and '#' comments
 * skipped; an optional first line `account,region,vpc_id,cidr`). Returns
 * the rows added (>= 0), the codes above, or CS_EIO. e is the caller's.
 */
CS_API int cs_plan_add_row(cs_estate *e, const cs_snapshot *base, const char *row,
                           size_t len, unsigned parse_flags, const cs_srcloc *loc,
                           cs_error *err);
CS_API int cs_plan_load(cs_estate *e, const cs_snapshot *base, const char *path,
                        unsigned parse_flags, cs_error *err);

/*
 * Domain files: named sets of VPCs that must be mutually disjoint, lines
 * `DOMAIN,MEMBER` with MEMBER a VPC id, `account:ID` (every VPC of the
 * account), `region:NAME` or `tag:KEY=VALUE`, resolved against snapshot s
 * (an estate image). A member that matches nothing is CS_ENOTFOUND at its
 * file:line:column (a typo is never an empty domain); a malformed line
 * CS_EPARSE. cs_domain_set_new returns NULL only when out of memory;
 * cs_domain_set_free releases (NULL is a no-op). _add_line takes one line
 * (no header), _load a file (blank lines, '#' comments, an optional first
 * line `domain,member`); both return 0, CS_EPARSE, CS_ENOTFOUND, CS_EINVAL
 * (NULL, or s holds no estate), CS_EIO (_load), CS_ENOMEM.
 * cs_domain_set_domains sets *out to the domains in first-seen order, ready
 * for cs_audit_options.domains (valid until the set's next add or free) and
 * *n to their number: 0, CS_EINVAL, CS_ENOMEM. One thread at a time.
 */
typedef struct cs_domain_set cs_domain_set;
CS_API cs_domain_set *cs_domain_set_new(void);
CS_API void cs_domain_set_free(cs_domain_set *ds);
CS_API int cs_domain_set_add_line(cs_domain_set *ds, const cs_snapshot *s, const char *line,
                                  size_t len, const cs_srcloc *loc, cs_error *err);
CS_API int cs_domain_set_load(cs_domain_set *ds, const cs_snapshot *s, const char *path,
                              cs_error *err);
CS_API int cs_domain_set_domains(cs_domain_set *ds, const cs_audit_domain **out,
                                 size_t *n);

/* ---- drift ---------------------------------------------------------------- */

/*
 * What changed between two audits (a baseline OLD and a NEW estate, or an
 * estate and itself plus planned VPCs): listed pairs matched by their VPC
 * ids, groups by prefix. A pair or group present only in NEW APPEARED, only
 * in OLD DISAPPEARED; present in both it CHANGED when its severity differs
 * or (a group) its number of VPCs does.
 */
enum cs_change_kind { CS_CHANGE_APPEARED = 0, CS_CHANGE_DISAPPEARED = 1,
                      CS_CHANGE_CHANGED = 2 };
enum cs_change_what { CS_CHANGE_PAIR = 0, CS_CHANGE_GROUP = 1 };

typedef struct cs_audit_change {
    uint8_t kind;             /* enum cs_change_kind */
    uint8_t what;             /* enum cs_change_what */
    size_t old_idx;           /* pair/group index in OLD; SIZE_MAX = none */
    size_t new_idx;           /* in NEW; SIZE_MAX = none */
} cs_audit_change;

typedef struct cs_audit_drift cs_audit_drift;

/* Compares two audits (each with the snapshot it was run on). Changes are
 * ordered: appeared, changed, disappeared; within each, most severe first
 * (NEW's severity; OLD's for disappeared), pairs before groups. Returns 0,
 * CS_EINVAL, CS_ENOMEM. */
CS_API int cs_audit_diff(const cs_snapshot *old_s, const cs_audit_result *old_r,
                         const cs_snapshot *new_s, const cs_audit_result *new_r,
                         cs_audit_drift **out, cs_error *err);
CS_API void cs_audit_drift_free(cs_audit_drift *d);
CS_API size_t cs_audit_change_count(const cs_audit_drift *d);
CS_API int cs_audit_get_change(const cs_audit_drift *d, size_t i,
                               cs_audit_change *out);
/* Changes of a kind (cs_change_kind), and the most severe change that
 * appeared or got worse (CS_SEV_COUNT when none): what --fail-on reads. */
CS_API uint64_t cs_audit_change_kind_count(const cs_audit_drift *d, unsigned kind);
CS_API unsigned cs_audit_drift_worst(const cs_audit_drift *d);

/* ---- reports ---------------------------------------------------------------- */

/* Formats: enum cs_report_format (<cidrscope/report.h>); the audit report
 * offers all five. CSV: one row per finding (kind pair, group, domain pair,
 * change). */

typedef struct cs_audit_report_options {
    enum cs_report_format format;
    uint64_t limit;           /* most clusters/groups/pairs listed per section
                                 (0 = all); the rest is counted */
    const char *title;        /* what was audited (source names); may be NULL */
    /* Drift (optional): the baseline and the diff of it against `r`. */
    const cs_snapshot *baseline_snap;
    const cs_audit_result *baseline;
    const cs_audit_drift *drift;
    const char *baseline_title;
    bool what_if;             /* the drift is a what-if (planned blocks) */
} cs_audit_report_options;

/*
 * Writes the report of `r` (computed on `s`) to f. JSON: {"summary": {...},
 * "severities": {...}, "clusters": [...], "groups": [...], "pairs": [...],
 * "domains": [...], "drift": {...}} with prefixes in canonical form. Returns
 * 0, CS_EINVAL, CS_EIO (a write failed; err says why).
 */
CS_API int cs_audit_report_write(FILE *f, const cs_snapshot *s,
                                 const cs_audit_result *r,
                                 const cs_audit_report_options *o,
                                 cs_error *err);

/* ---- accessors the report writers read (report helper's block) ------------- */

/* True when VPC v is in the audit's scope (every VPC without a scope).
 * Thread-safe; false for an index past the estate's VPCs under a scope. */
CS_API bool cs_audit_vpc_in_scope(const cs_audit_result *r, uint32_t v);

#ifdef __cplusplus
}
#endif
#endif
