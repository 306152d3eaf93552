/*
 * engine/report/audit_report_internal.h — what the audit report's format
 * writers share (audit_report.c: the entry point, names, CSV;
 * audit_report_json.c: JSON and NDJSON; audit_report_text.c: text;
 * audit_report_html.c: HTML).
 *
 * Every writer reads the audit through the public accessors of
 * <cidrscope/audit.h> only, never the result's internals: a finding is a
 * copy (cs_audit_pair, cs_audit_group) plus where it came from (a pair_ref),
 * and the blocks that witness a pair are fetched by audit_rep_blocks.
 */
#ifndef CS_REPORT_AUDIT_REPORT_INTERNAL_H
#define CS_REPORT_AUDIT_REPORT_INTERNAL_H

#include "report/writer.h"

#include <cidrscope/audit.h>
#include <cidrscope/cidrscope.h>

#include <stdint.h>
#include <stdio.h>

#define CIDRSCOPE_REPORT_VERSION CIDRSCOPE_VERSION

/* A VPC id slot of the report's cache (audit_rep.qid): "vpc-" and 17 hex
 * digits with quotes take 23 bytes. */
#define AUDIT_QID_LEN 32
#define AUDIT_QID_NONE 0xffu

/* One report being written. */
typedef struct audit_rep {
    FILE *f;
    const cs_snapshot *s;
    const cs_audit_result *r;
    const cs_audit_report_options *o;
    uint64_t limit;          /* UINT64_MAX = all */
    cs_audit_summary sum;
    size_t n_clusters, n_groups, n_pairs, n_domains, n_changes;
    /* input --keep-going skipped (findings of kind CS_FINDING_REJECTED in
     * the image): a whole file (no line) or one record */
    uint64_t rejected_files, rejected_records;
    /* pages that still named a NextToken (CS_FINDING_INCOMPLETE_PAGE): the
     * inventory behind them is incomplete; counted as high like rejected
     * input */
    uint64_t incomplete_pages;
    /* the association -> VPC map of a2v_s (the snapshot it was read
     * from): one array read per entry instead of an accessor call */
    const cs_snapshot *a2v_s;
    const uint32_t *a2v;
    uint32_t n_a2v;
    /* VPC ids of a2v_s looked up so far, one slot per VPC: a report names
     * a VPC in many groups and clusters (2 million ids over 782,000 VPCs on
     * a large estate), each lookup an accessor call and two cache misses
     * (the id's pointer, then its text). A slot holds the id as a quoted
     * JSON token (AUDIT_QID_LEN bytes: its length, then the token), so a
     * repeated id costs one miss and one copy: qid[v][0] = 0 not looked up
     * yet, AUDIT_QID_NONE the id needs escaping or is too long (written
     * the long way). NULL when it could not be allocated. */
    unsigned char (*qid)[AUDIT_QID_LEN];
    uint32_t n_qid;
} audit_rep;

/* Writes the id of VPC v of R->s ("?" when unknown, as cs_report_vpc_id)
 * as a JSON string, through the slot cache above when it can. */
void audit_rep_json_vpc_id(cs_json *j, const audit_rep *R, uint32_t v);

/* The VPC of association a in R->s, or CS_IDX_NONE. */
static inline uint32_t audit_rep_assoc_vpc(const audit_rep *R, uint32_t a)
{
    if (R->a2v_s == R->s && R->a2v)
        return a < R->n_a2v ? R->a2v[a] : CS_IDX_NONE;
    return cs_estate_assoc_vpc(R->s, a);
}


/* Calls fn for each finding of kind `kind` of the image, in the order
 * recorded, until fn returns non-zero. */
void audit_rep_findings(const audit_rep *R, const char *kind,
                        int (*fn)(const cs_finding *f, void *ctx), void *ctx);
/* audit_rep_findings for the rejected inputs (CS_FINDING_REJECTED). */
void audit_rep_rejected(const audit_rep *R, int (*fn)(const cs_finding *f, void *ctx), void *ctx);
/* "SOURCE:LINE:COLUMN: MESSAGE" (the parts known) into buf. */
void audit_rep_rejected_text(const cs_finding *f, char *buf, size_t cap);

/* A VPC-pair finding: listed pair `idx` (domain < 0) or pair `idx` of
 * domain `domain`, of audit r on snapshot s (a drift's disappeared pairs
 * live in the baseline). */
typedef struct pair_ref {
    const cs_snapshot *s;
    const cs_audit_result *r;
    long domain;
    size_t idx;
    cs_audit_pair p;
} pair_ref;

/* One change of the drift, resolved to the audit and snapshot holding it. */
typedef struct change_ref {
    cs_audit_change ch;
    const cs_snapshot *s;
    const cs_audit_result *r;
    size_t idx;
} change_ref;

/* Reasons (CS_WHY_* bit k is audit_why_names[k]). */
extern const char *const audit_why_names[];
#define AUDIT_N_WHY 8
/* "appeared", "disappeared", "changed" by enum cs_change_kind. */
extern const char *const audit_change_names[3];

/* n capped at the report's limit. */
uint64_t audit_rep_cap(const audit_rep *R, uint64_t n);
/* Fills *out; false when the index is out of range. */
bool audit_rep_pair(const cs_snapshot *s, const cs_audit_result *r, long domain, size_t i,
                    pair_ref *out);
bool audit_rep_change(const audit_rep *R, size_t i, change_ref *out);
/* The witnessed block pairs of a pair (at most CS_AUDIT_MAX_WITNESSES):
 * a[k] of vpc_a overlaps b[k] of vpc_b. Returns how many. */
unsigned audit_rep_blocks(const pair_ref *pr, cs_prefix a[CS_AUDIT_MAX_WITNESSES],
                          cs_prefix b[CS_AUDIT_MAX_WITNESSES]);
/* "equal", "covers" (a contains b) or "covered". */
const char *audit_rep_relation(const cs_prefix *a, const cs_prefix *b);
/* The peering connection's id and status name, or NULL (status ""). */
const char *audit_rep_pcx(const cs_snapshot *s, uint32_t pcx, const char **status);
/* Up to `max` (<= 8) distinct VPCs in scope holding blocks strictly around
 * (CS_Q_COVERING) or inside (CS_Q_COVERED) p. Returns how many. */
unsigned audit_rep_nested(const audit_rep *R, const cs_prefix *p, unsigned kind, unsigned max,
                          uint32_t ids[8]);
/* Calls fn(vpc, ctx) for each distinct in-scope VPC of entries
 * [first, first+count) of `family`, ascending, until fn returns non-zero. */
void audit_rep_entry_vpcs(const audit_rep *R, uint8_t family, uint32_t first, uint32_t count,
                          int (*fn)(uint32_t vpc, void *ctx), void *ctx);
/* The reasons of a pair joined by `sep`, from reason `from` on, into buf. */
void audit_rep_reasons(uint32_t why, unsigned from, const char *sep, char *buf, size_t cap);

int audit_rep_json(const audit_rep *R);
int audit_rep_ndjson(const audit_rep *R);
int audit_rep_text(const audit_rep *R);
int audit_rep_html(const audit_rep *R);

#endif
