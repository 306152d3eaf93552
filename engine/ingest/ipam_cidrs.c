/*
 * engine/ingest/ipam_cidrs.c — reads `aws ec2 get-ipam-resource-cidrs`
 * output: one call lists the VPC CIDRs of a whole organisation, each with
 * its account and region.
 *
 * SHAPE (botocore ec2/2016-11-15, GetIpamResourceCidrsResult; * = read,
 * others type-checked and ignored; unknown keys skipped whole):
 *
 *   { "NextToken": s, "IpamResourceCidrs": [IpamResourceCidr...] }
 *   IpamResourceCidr { IpamId, IpamScopeId, IpamPoolId*, ResourceRegion*,
 *     ResourceOwnerId*, ResourceId* (required), ResourceName*,
 *     ResourceCidr* (required), ResourceType* (required: vpc | subnet |
 *     eip | public-ipv4-pool | ipv6-pool | eni ...), ResourceTags*: [{Key*,
 *     Value*}], IpUsage: number, ComplianceStatus, ManagementState,
 *     OverlapStatus* (overlapping | nonoverlapping | ignored), VpcId*,
 *     AvailabilityZoneId }
 *
 * Only ResourceType "vpc" records are VPC CIDRs: each adds its VPC (id
 * ResourceId, owner ResourceOwnerId, region ResourceRegion, name
 * ResourceName or its Name tag) and the CIDR as a live association whose
 * pool is IpamPoolId; records of other types (subnets, addresses, pools)
 * are not VPC blocks and are passed over. A VpcId that differs from
 * ResourceId is an error; an owner or region missing from a record is
 * taken from --source-account / --source-region (or the estate directory),
 * else an error. Pages, concatenated documents, NextToken, errors and
 * keep-going as every JSON shape (json_shapes.c).
 *
 * IPAM'S OWN ANSWER. OverlapStatus says whether IPAM saw the CIDR overlap
 * another CIDR of its scope. The reader answers the same question over the
 * VPC CIDRs of the same output (IPAM's scope: the whole listing) with
 * cs_ingest_overlap_other, and records an `ipam-overlap-mismatch` finding
 * for every CIDR where the answers differ, naming the CIDR, its VPC and
 * both answers (shown by `stat --findings`). Every VPC CIDR of the output
 * takes part in cidrscope's answer; IPAM's is compared where it gave one
 * ("ignored" is not compared, an unknown value is an unknown-state
 * finding). When the file's last page carries a NextToken the listing is
 * incomplete (an incomplete-page finding) and nothing is compared.
 *
 * Tests: tests/test_json_shapes.c (fixtures tests/fixtures/ipam/),
 * tests/cli/test_edges.sh; fuzz: tests/fuzz/fuzz_json_shapes.c.
 */
#include "ingest/shapes_internal.h"

#include "core/error_internal.h"
#include "core/grow_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CS_FINDING_IPAM_OVERLAP "ipam-overlap-mismatch"

/* ---- the overlap sweep ------------------------------------------------------ */

enum { SUM_EMPTY = 0, SUM_ONE = 1, SUM_MIXED = 2 };

typedef struct vsum {
    uint8_t state;
    uint32_t vpc;
} vsum;

static vsum sum_add(vsum s, uint32_t v)
{
    if (s.state == SUM_EMPTY)
        return (vsum){SUM_ONE, v};
    if (s.state == SUM_ONE && s.vpc == v)
        return s;
    return (vsum){SUM_MIXED, 0};
}

static vsum sum_join(vsum a, vsum b)
{
    if (b.state == SUM_EMPTY)
        return a;
    if (b.state == SUM_MIXED)
        return b;
    return sum_add(a, b.vpc);
}

static bool sum_other(vsum s, uint32_t v)
{
    return s.state == SUM_MIXED || (s.state == SUM_ONE && s.vpc != v);
}

typedef struct frame_ov {
    uint32_t idx;
    vsum anc;    /* VPCs of this prefix and every prefix containing it */
    vsum sub;    /* VPCs of the prefixes inside it */
} frame_ov;

/* A stable merge sort of indices v[0..n) by cmp (tmp: n scratch slots). */
typedef int (*idx_cmp)(uint32_t a, uint32_t b, const void *ctx);

static void sort_idx(uint32_t *v, uint32_t *tmp, size_t n, idx_cmp cmp,
                     const void *ctx)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_idx(v, tmp, h, cmp, ctx);
    sort_idx(v + h, tmp, n - h, cmp, ctx);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = cmp(v[j], v[i], ctx) < 0 ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

static int cmp_prefix(uint32_t a, uint32_t b, const void *ctx)
{
    const cs_prefix *p = ctx;
    return cs_prefix_compare(&p[a], &p[b]);
}

int cs_ingest_overlap_other(const cs_prefix *pfx, const uint32_t *vpc, size_t n,
                            bool *out)
{
    if (n == 0)
        return 0;
    uint32_t *ord = malloc(n * sizeof *ord);
    uint32_t *tmp = malloc(n * sizeof *tmp);
    frame_ov *st = malloc(n * sizeof *st);
    if (!ord || !tmp || !st) {
        free(ord);
        free(tmp);
        free(st);
        return CS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        ord[i] = (uint32_t)i;
        out[i] = false;
    }
    sort_idx(ord, tmp, n, cmp_prefix, pfx);
    size_t sp = 0;
    for (size_t k = 0; k <= n; k++) {
        /* pop what does not contain the next prefix (everything at the
         * end) */
        while (sp && (k == n || !cs_prefix_contains(&pfx[st[sp - 1].idx],
                                                    &pfx[ord[k]]))) {
            frame_ov y = st[--sp];
            if (sum_other(y.sub, vpc[y.idx]))
                out[y.idx] = true;
            if (sp)
                st[sp - 1].sub =
                    sum_join(sum_add(st[sp - 1].sub, vpc[y.idx]), y.sub);
        }
        if (k == n)
            break;
        uint32_t x = ord[k];
        vsum anc = sp ? st[sp - 1].anc : (vsum){SUM_EMPTY, 0};
        if (sum_other(anc, vpc[x]))
            out[x] = true;
        st[sp++] = (frame_ov){x, sum_add(anc, vpc[x]), {SUM_EMPTY, 0}};
    }
    free(ord);
    free(tmp);
    free(st);
    return 0;
}

/* ---- the reader ---------------------------------------------------------------- */

/* A VPC CIDR with IPAM's overlap answer, kept for the comparison. */
typedef struct claim {
    cs_prefix pfx;
    size_t id_off, id_len;  /* the VPC id in ids */
    size_t off;             /* file offset of the record */
    bool overlapping;       /* IPAM's answer */
    bool compare;           /* IPAM gave one (not "ignored" or unknown) */
} claim;

typedef struct ipam_ctx {
    claim *claims;
    size_t n, cap;
    char *ids;
    size_t ids_len, ids_cap;
    jp_str tag_k[CS_AWS_TAG_MAX], tag_v[CS_AWS_TAG_MAX];
} ipam_ctx;

typedef struct irec {
    size_t at;
    jp_str id, cidr, owner, region, type, name, vpc, pool, overlap;
    bool h_id, h_cidr, h_owner, h_region, h_type, h_name, h_vpc, h_pool,
        h_overlap;
    size_t n_tags;
} irec;

/* One member of a record. */
static int read_member(jr *r, ipam_ctx *c, irec *rec, jp_str key)
{
    jp *q = &r->p;
    static const char *const ignored_str[] = {
        "IpamId", "IpamScopeId", "ComplianceStatus", "ManagementState",
        "AvailabilityZoneId"};
    struct {
        const char *name;
        jp_str *v;
        bool *h;
    } strs[] = {
        {"ResourceId", &rec->id, &rec->h_id},
        {"ResourceCidr", &rec->cidr, &rec->h_cidr},
        {"ResourceOwnerId", &rec->owner, &rec->h_owner},
        {"ResourceRegion", &rec->region, &rec->h_region},
        {"ResourceType", &rec->type, &rec->h_type},
        {"ResourceName", &rec->name, &rec->h_name},
        {"VpcId", &rec->vpc, &rec->h_vpc},
        {"IpamPoolId", &rec->pool, &rec->h_pool},
        {"OverlapStatus", &rec->overlap, &rec->h_overlap},
    };
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        if (cs_jp_eq(q, key, strs[i].name))
            return cs_jr_str(r, q, strs[i].name, strs[i].v, strs[i].h);
    for (size_t i = 0; i < sizeof ignored_str / sizeof *ignored_str; i++)
        if (cs_jp_eq(q, key, ignored_str[i])) {
            jp_str v;
            bool h;
            return cs_jr_str(r, q, ignored_str[i], &v, &h);
        }
    if (cs_jp_eq(q, key, "ResourceTags"))
        return cs_jr_tags(r, q, "ResourceTags", "Key", "Value", c->tag_k,
                          c->tag_v, &rec->n_tags);
    if (cs_jp_eq(q, key, "IpUsage")) {
        int k = cs_jp_peek(q);
        if (k == JP_NULL || k == JP_NUM)
            return cs_jp_skip(q);
        if (k != JP_END && k != JP_BAD) {
            cs_jp_type_error(q, "IpUsage", JP_NUM);
            cs_jr_record_error(r);
        }
        return cs_jp_skip(q);
    }
    return cs_jp_skip(q);
}

static int missing(jr *r, const irec *rec, const char *key)
{
    cs_jp_fail_at(&r->p, rec->at, 1, CS_EPARSE,
               "missing required key \"%s\" in IpamResourceCidr", key);
    return cs_jr_record_error(r);
}

static int keep_claim(ipam_ctx *c, const cs_prefix *pfx, const char *id,
                      size_t id_len, size_t off, bool overlapping,
                      bool compare)
{
    if (cs_grow((void **)&c->claims, &c->cap, c->n + 1, sizeof *c->claims,
                SIZE_MAX) ||
        cs_grow((void **)&c->ids, &c->ids_cap, c->ids_len + id_len, 1,
                SIZE_MAX))
        return CS_ENOMEM;
    memcpy(c->ids + c->ids_len, id, id_len);
    c->claims[c->n++] =
        (claim){*pfx, c->ids_len, id_len, off, overlapping, compare};
    c->ids_len += id_len;
    return 0;
}

/* The record is read: check it, add its VPC and CIDR. */
static int deliver(jr *r, ipam_ctx *c, irec *rec)
{
    jp *q = &r->p;
    if (r->rec_failed)
        return 0;
    if (!rec->h_type)
        return missing(r, rec, "ResourceType");
    if (!cs_jp_eq(q, rec->type, "vpc"))
        return 0; /* a subnet, an address, a pool: not a VPC block */
    if (!rec->h_id)
        return missing(r, rec, "ResourceId");
    if (!rec->h_cidr)
        return missing(r, rec, "ResourceCidr");
    if (rec->h_vpc && (rec->vpc.len != rec->id.len ||
                       memcmp(cs_jp_ptr(q, rec->vpc), cs_jp_ptr(q, rec->id),
                              rec->id.len) != 0)) {
        cs_jp_fail_at(q, rec->vpc.pos, (uint32_t)rec->vpc.len + 2, CS_EPARSE,
                   "VpcId \"%.*s\" differs from ResourceId \"%.*s\" of a "
                   "vpc record", (int)(rec->vpc.len > 64 ? 64 : rec->vpc.len),
                   cs_jp_ptr(q, rec->vpc),
                   (int)(rec->id.len > 64 ? 64 : rec->id.len),
                   cs_jp_ptr(q, rec->id));
        return cs_jr_record_error(r);
    }
    cs_str owner, region;
    if (rec->h_owner) {
        owner = (cs_str){cs_jp_ptr(q, rec->owner), rec->owner.len};
        if (!cs_aws_account_valid(owner.ptr, owner.len)) {
            cs_jp_fail_at(q, rec->owner.pos, (uint32_t)owner.len + 2, CS_EPARSE,
                       "ResourceOwnerId \"%.*s\" is not a 12-digit AWS "
                       "account id", (int)(owner.len > 64 ? 64 : owner.len),
                       owner.ptr);
            return cs_jr_record_error(r);
        }
    } else if (r->account) {
        owner = cs_str_c(r->account);
    } else {
        return missing(r, rec, "ResourceOwnerId");
    }
    if (rec->h_region) {
        region = (cs_str){cs_jp_ptr(q, rec->region), rec->region.len};
        if (!cs_aws_region_valid(region.ptr, region.len)) {
            cs_jp_fail_at(q, rec->region.pos, (uint32_t)region.len + 2,
                       CS_EPARSE,
                       "ResourceRegion \"%.*s\" is not an AWS region name "
                       "(such as us-east-1)",
                       (int)(region.len > 64 ? 64 : region.len), region.ptr);
            return cs_jr_record_error(r);
        }
    } else if (r->region) {
        region = cs_str_c(r->region);
    } else {
        return missing(r, rec, "ResourceRegion");
    }
    cs_prefix pfx;
    bool ok;
    int rc = cs_jr_prefix(r, q, rec->cidr, "ResourceCidr", 0, &pfx, &ok);
    if (rc < 0 || !ok)
        return rc;

    cs_tag tags[CS_AWS_TAG_MAX];
    for (size_t i = 0; i < rec->n_tags; i++) {
        tags[i].key = (cs_str){cs_jp_ptr(q, c->tag_k[i]), c->tag_k[i].len};
        tags[i].value = (cs_str){cs_jp_ptr(q, c->tag_v[i]), c->tag_v[i].len};
    }
    cs_vpc_desc d;
    memset(&d, 0, sizeof d);
    d.id = (cs_str){cs_jp_ptr(q, rec->id), rec->id.len};
    d.owner = owner;
    d.region = region;
    if (rec->h_name)
        d.name = (cs_str){cs_jp_ptr(q, rec->name), rec->name.len};
    d.tags = tags;
    d.tag_count = rec->n_tags;
    d.state = CS_VPC_UNSPECIFIED;
    cs_srcloc loc = cs_jr_loc(r, cs_jp_file_off(q, rec->at));
    cs_error_clear(&r->tmp);
    rc = cs_ingest_add_vpc(r->e, &d, &loc, &r->tmp);
    if (rc < 0)
        return cs_jr_builder_error(r, rc);
    cs_cidr_desc cd;
    memset(&cd, 0, sizeof cd);
    cd.vpc_id = d.id;
    cd.prefix = pfx;
    cd.state = CS_ASSOC_UNSPECIFIED;
    if (rec->h_pool)
        cd.pool = (cs_str){cs_jp_ptr(q, rec->pool), rec->pool.len};
    cs_error_clear(&r->tmp);
    rc = cs_ingest_add_cidr(r->e, &cd, &loc, &r->tmp);
    if (rc < 0)
        return cs_jr_builder_error(r, rc);

    /* every VPC CIDR takes part in the answer; IPAM's is compared when it
     * gave one */
    bool says = rec->h_overlap && cs_jp_eq(q, rec->overlap, "overlapping");
    bool compare = says || (rec->h_overlap &&
                            cs_jp_eq(q, rec->overlap, "nonoverlapping"));
    if (keep_claim(c, &pfx, d.id.ptr, d.id.len, cs_jp_file_off(q, rec->at),
                   says, compare)) {
        cs_error_clear(&r->tmp);
        cs_error_source(&r->tmp, r->source);
        return cs_fail(&r->tmp, CS_ENOMEM, "out of memory");
    }
    if (compare || !rec->h_overlap || cs_jp_eq(q, rec->overlap, "ignored"))
        return 0;
    return cs_jr_finding(r, CS_FINDING_UNKNOWN_STATE,
                         cs_jp_file_off(q, rec->overlap.pos),
                         "unknown \"OverlapStatus\" value \"%.*s\": not "
                         "compared with cidrscope's answer",
                         (int)(rec->overlap.len > 64 ? 64 : rec->overlap.len),
                         cs_jp_ptr(q, rec->overlap));
}

static int read_record(jr *r, void *ctx)
{
    ipam_ctx *c = ctx;
    jp *q = &r->p;
    if (cs_jp_peek(q) != JP_OBJ) {
        cs_jp_type_error(q, "an IpamResourceCidrs element", JP_OBJ);
        cs_jr_record_error(r);
        int rc = cs_jp_skip(q);
        return rc < 0 ? rc : cs_jr_record_end(r);
    }
    irec rec;
    memset(&rec, 0, sizeof rec);
    cs_jp_arena_reset(q);
    rec.at = q->i;
    int rc = cs_jp_object(q, "IpamResourceCidr");
    bool first = true;
    jp_str key;
    while (rc >= 0 && (rc = cs_jp_member(q, &first, &key)) > 0)
        rc = read_member(r, c, &rec, key);
    if (rc < 0)
        return rc;
    if ((rc = deliver(r, c, &rec)) < 0)
        return rc;
    return cs_jr_record_end(r);
}

static int cmp_id(uint32_t a, uint32_t b, const void *ctx);

/* Compares IPAM's answers with the sweep's; a finding per disagreement. */
static int compare(jr *r, ipam_ctx *c)
{
    if (c->n == 0)
        return 0;
    cs_prefix *pfx = malloc(c->n * sizeof *pfx);
    uint32_t *vpc = malloc(c->n * sizeof *vpc);
    uint32_t *ord = malloc(c->n * sizeof *ord);
    uint32_t *tmp = malloc(c->n * sizeof *tmp);
    bool *ours = malloc(c->n * sizeof *ours);
    int rc = 0;
    if (!pfx || !vpc || !ord || !tmp || !ours) {
        rc = CS_ENOMEM;
        goto out;
    }
    /* VPC numbers: claims in order of their id */
    for (size_t i = 0; i < c->n; i++) {
        ord[i] = (uint32_t)i;
        pfx[i] = c->claims[i].pfx;
    }
    sort_idx(ord, tmp, c->n, cmp_id, c);
    uint32_t num = 0;
    for (size_t k = 0; k < c->n; k++) {
        if (k && cmp_id(ord[k - 1], ord[k], c) != 0)
            num++;
        vpc[ord[k]] = num;
    }
    if ((rc = cs_ingest_overlap_other(pfx, vpc, c->n, ours)) < 0)
        goto out;
    for (size_t i = 0; i < c->n && rc == 0; i++) {
        const claim *cl = &c->claims[i];
        if (!cl->compare || cl->overlapping == ours[i])
            continue;
        char p[CS_PREFIX_STRCAP];
        cs_prefix_format(&cl->pfx, p, sizeof p);
        rc = cs_jr_finding(
            r, CS_FINDING_IPAM_OVERLAP, cl->off,
            "IPAM says %s of %.*s is %s; cidrscope finds it %s (%s)", p,
            (int)(cl->id_len > 64 ? 64 : cl->id_len), c->ids + cl->id_off,
            cl->overlapping ? "overlapping" : "nonoverlapping",
            ours[i] ? "overlapping" : "nonoverlapping",
            ours[i] ? "another VPC's CIDR in this output contains it or lies "
                      "inside it"
                    : "no other VPC's CIDR in this output overlaps it");
    }
out:
    free(pfx);
    free(vpc);
    free(ord);
    free(tmp);
    free(ours);
    if (rc == CS_ENOMEM) {
        cs_error_clear(&r->tmp);
        cs_error_source(&r->tmp, r->source);
        cs_fail(&r->tmp, rc, "out of memory comparing IPAM's overlap status");
    }
    return rc;
}

static int cmp_id(uint32_t a, uint32_t b, const void *ctx)
{
    const ipam_ctx *c = ctx;
    const claim *x = &c->claims[a];
    const claim *y = &c->claims[b];
    size_t n = x->id_len < y->id_len ? x->id_len : y->id_len;
    int d = memcmp(c->ids + x->id_off, c->ids + y->id_off, n);
    if (d)
        return d;
    return (x->id_len > y->id_len) - (x->id_len < y->id_len);
}

int cs_ingest_ipam_cidrs_buf(cs_estate *e, const char *source, const char *buf,
                             size_t len, const char *region,
                             const char *account, const cs_load_options *opts,
                             cs_error *err)
{
    if (!e || !source || (!buf && len))
        return cs_fail(err, CS_EINVAL, "cs_ingest_ipam_cidrs_buf: NULL argument");
    jr r;
    cs_jr_init(&r, e, source, buf, len, region, account, opts, err);
    ipam_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        cs_jr_free(&r);
        return cs_fail(err, CS_ENOMEM, "out of memory");
    }
    int rc = cs_jr_pages(&r, "IpamResourceCidrs",
                         "get-ipam-resource-cidrs output", read_record, c);
    if (rc >= 0 && !r.incomplete) {
        int cr = compare(&r, c);
        if (cr < 0)
            rc = cs_jr_file_error(&r, cr);
    }
    free(c->claims);
    free(c->ids);
    free(c);
    cs_jr_free(&r);
    return rc;
}
