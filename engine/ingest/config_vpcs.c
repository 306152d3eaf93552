/*
 * engine/ingest/config_vpcs.c — reads AWS Config advanced-query output for
 * AWS::EC2::VPC (`aws configservice select-resource-config` or
 * `select-aggregate-resource-config --expression "SELECT accountId,
 * awsRegion, resourceId, configuration, tags WHERE resourceType =
 * 'AWS::EC2::VPC'"`): an aggregator lists the VPCs of a whole organisation.
 *
 * SHAPE (AWS Config API Reference, SelectResourceConfig /
 * SelectAggregateResourceConfig; the configuration item of AWS::EC2::VPC):
 *
 *   { "Results": ["<json>", ...], "QueryInfo": {...}, "NextToken": s }
 *   each result, a JSON document inside the string:
 *   { accountId*, awsRegion*, resourceId*, resourceType* (when selected:
 *     AWS::EC2::VPC, other types are passed over), tags*: [{key*, value*}],
 *     configuration*: { cidrBlock* (primary), cidrBlockAssociationSet*:
 *       [{associationId*, cidrBlock* (required), cidrBlockState: {state*,
 *       statusMessage}}], ipv6CidrBlockAssociationSet*: [{associationId*,
 *       ipv6CidrBlock* (required), ipv6CidrBlockState: {state*},
 *       networkBorderGroup, ipv6Pool*}], isDefault*, state*, vpcId*,
 *       ownerId*, tags* (used when the result has no top-level tags) } }
 *
 * The VPC's id is resourceId (else configuration.vpcId), its account
 * accountId (else configuration.ownerId, else --source-account), its region
 * awsRegion (else --source-region). The primary cidrBlock is folded into
 * the association that repeats it. A block state AWS adds later is read as
 * not live with an unknown-state finding, as in describe-vpcs output. A
 * result that is not valid JSON, or whose fields are wrong, is a rejected
 * record; the position reported is the line and column in the file of the
 * offending character inside the string (its backslash when escaped).
 *
 * Tests: tests/test_json_shapes.c (fixtures tests/fixtures/config/),
 * tests/cli/test_edges.sh; fuzz: tests/fuzz/fuzz_json_shapes.c.
 */
#include "ingest/shapes_internal.h"

#include "core/error_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cassoc {
    jp_str id, pool;
    cs_prefix pfx;
    size_t at;          /* parser index of its '{' */
    uint8_t state;
    bool h_id, h_pool, ok;
} cassoc;

typedef struct crec {
    size_t at;
    jp_str id, vpc_id, account, owner, region, type, primary, state;
    bool h_id, h_vpc_id, h_account, h_owner, h_region, h_type, h_primary,
        h_state, is_default;
    size_t n_assoc;
    size_t n_tags, n_cfg_tags;
    bool any_tags;      /* top-level tags present */
} crec;

typedef struct cfg_ctx {
    cassoc assoc[CS_AWS_ASSOC_MAX];
    jp_str tag_k[CS_AWS_TAG_MAX], tag_v[CS_AWS_TAG_MAX];
    jp_str ctag_k[CS_AWS_TAG_MAX], ctag_v[CS_AWS_TAG_MAX];
} cfg_ctx;

static int shown(size_t n)
{
    return n > 64 ? 64 : (int)n;
}

/* {state, statusMessage}: the association's state. */
static int read_bstate(jr *r, jp *q, cassoc *a, const char *what)
{
    int rc = cs_jr_open(r, q, what, JP_OBJ);
    if (rc <= 0)
        return rc;
    bool first = true;
    jp_str key;
    while (rc >= 0 && (rc = cs_jp_member(q, &first, &key)) > 0) {
        if (!cs_jp_eq(q, key, "state")) {
            rc = cs_jp_skip(q);
            continue;
        }
        jp_str st;
        bool have;
        if ((rc = cs_jr_str(r, q, "state", &st, &have)) < 0 || !have)
            continue;
        int v = cs_assoc_state_parse(cs_jp_ptr(q, st), st.len);
        if (v >= 0) {
            a->state = (uint8_t)v;
            continue;
        }
        a->state = CS_ASSOC_UNKNOWN;
        rc = cs_jr_finding(r, CS_FINDING_UNKNOWN_STATE,
                           cs_jp_file_off(q, st.pos),
                           "unknown \"state\" value \"%.*s\": the block is "
                           "read as not live", shown(st.len), cs_jp_ptr(q, st));
    }
    return rc;
}

/* cidrBlockAssociationSet / ipv6CidrBlockAssociationSet. */
static int read_assocs(jr *r, jp *q, cfg_ctx *c, crec *rec, bool v6)
{
    const char *what = v6 ? "ipv6CidrBlockAssociationSet"
                          : "cidrBlockAssociationSet";
    const char *ckey = v6 ? "ipv6CidrBlock" : "cidrBlock";
    int rc = cs_jr_open(r, q, what, JP_ARR);
    if (rc <= 0)
        return rc;
    bool first = true;
    while (rc >= 0 && (rc = cs_jp_element(q, &first)) > 0) {
        if (cs_jp_peek(q) != JP_OBJ || rec->n_assoc == CS_AWS_ASSOC_MAX) {
            if (rec->n_assoc == CS_AWS_ASSOC_MAX)
                cs_jp_fail_at(q, q->i, 1, CS_EPARSE,
                           "more than %u CIDR associations",
                           CS_AWS_ASSOC_MAX);
            else
                cs_jp_type_error(q, "an association", JP_OBJ);
            cs_jr_record_error(r);
            rc = cs_jp_skip(q);
            continue;
        }
        cassoc *a = &c->assoc[rec->n_assoc++];
        memset(a, 0, sizeof *a);
        a->at = q->i;
        a->state = CS_ASSOC_UNSPECIFIED;
        rc = cs_jp_object(q, "an association");
        bool f2 = true, hc = false;
        jp_str key, cidr;
        while (rc >= 0 && (rc = cs_jp_member(q, &f2, &key)) > 0) {
            if (cs_jp_eq(q, key, ckey))
                rc = cs_jr_str(r, q, ckey, &cidr, &hc);
            else if (cs_jp_eq(q, key, "associationId"))
                rc = cs_jr_str(r, q, "associationId", &a->id, &a->h_id);
            else if (v6 && cs_jp_eq(q, key, "ipv6Pool"))
                rc = cs_jr_str(r, q, "ipv6Pool", &a->pool, &a->h_pool);
            else if (cs_jp_eq(q, key, v6 ? "ipv6CidrBlockState"
                                      : "cidrBlockState"))
                rc = read_bstate(r, q, a, v6 ? "ipv6CidrBlockState"
                                             : "cidrBlockState");
            else
                rc = cs_jp_skip(q);
        }
        if (rc < 0)
            return rc;
        if (!hc) {
            cs_jp_fail_at(q, a->at, 1, CS_EPARSE,
                       "missing required key \"%s\" in %s", ckey, what);
            cs_jr_record_error(r);
            continue;
        }
        rc = cs_jr_prefix(r, q, cidr, ckey,
                          v6 ? CS_PARSE_V6_ONLY : CS_PARSE_V4_ONLY, &a->pfx,
                          &a->ok);
    }
    return rc;
}

static int read_configuration(jr *r, jp *q, cfg_ctx *c, crec *rec)
{
    int rc = cs_jr_open(r, q, "configuration", JP_OBJ);
    if (rc <= 0)
        return rc;
    bool first = true, have;
    jp_str key;
    while (rc >= 0 && (rc = cs_jp_member(q, &first, &key)) > 0) {
        if (cs_jp_eq(q, key, "cidrBlockAssociationSet"))
            rc = read_assocs(r, q, c, rec, false);
        else if (cs_jp_eq(q, key, "ipv6CidrBlockAssociationSet"))
            rc = read_assocs(r, q, c, rec, true);
        else if (cs_jp_eq(q, key, "cidrBlock"))
            rc = cs_jr_str(r, q, "cidrBlock", &rec->primary, &rec->h_primary);
        else if (cs_jp_eq(q, key, "isDefault"))
            rc = cs_jr_bool(r, q, "isDefault", &rec->is_default, &have);
        else if (cs_jp_eq(q, key, "state"))
            rc = cs_jr_str(r, q, "state", &rec->state, &rec->h_state);
        else if (cs_jp_eq(q, key, "vpcId"))
            rc = cs_jr_str(r, q, "vpcId", &rec->vpc_id, &rec->h_vpc_id);
        else if (cs_jp_eq(q, key, "ownerId"))
            rc = cs_jr_str(r, q, "ownerId", &rec->owner, &rec->h_owner);
        else if (cs_jp_eq(q, key, "tags"))
            rc = cs_jr_tags(r, q, "configuration.tags", "key", "value",
                            c->ctag_k, c->ctag_v, &rec->n_cfg_tags);
        else
            rc = cs_jp_skip(q);
    }
    return rc;
}

/* "KEY \"VALUE\" WHY" at the value: the record's error. */
static int bad_field(jr *r, jp *q, jp_str s, const char *key, const char *why)
{
    cs_jp_fail_at(q, s.pos, (uint32_t)(s.len > 62 ? 64 : s.len + 2), CS_EPARSE,
               "%s \"%.*s\" %s", key, shown(s.len), cs_jp_ptr(q, s), why);
    return cs_jr_record_error(r);
}

/* The result is read: check it and add the VPC and its blocks. */
static int deliver(jr *r, jp *q, cfg_ctx *c, crec *rec)
{
    if (r->rec_failed)
        return 0;
    if (rec->h_type && !cs_jp_eq(q, rec->type, "AWS::EC2::VPC"))
        return 0; /* another resource type in the same query */
    jp_str id = rec->h_id ? rec->id : rec->vpc_id;
    if (!rec->h_id && !rec->h_vpc_id) {
        cs_jp_fail_at(q, rec->at, 1, CS_EPARSE,
                   "missing required key \"resourceId\" in a result");
        return cs_jr_record_error(r);
    }
    cs_str owner, region;
    if (rec->h_account || rec->h_owner) {
        jp_str a = rec->h_account ? rec->account : rec->owner;
        owner = (cs_str){cs_jp_ptr(q, a), a.len};
        if (!cs_aws_account_valid(owner.ptr, owner.len))
            return bad_field(r, q, a, rec->h_account ? "accountId" : "ownerId",
                             "is not a 12-digit AWS account id");
    } else if (r->account) {
        owner = cs_str_c(r->account);
    } else {
        cs_jp_fail_at(q, rec->at, 1, CS_EPARSE,
                   "missing key \"accountId\" in a result: select it in the "
                   "query (or pass --source-account)");
        return cs_jr_record_error(r);
    }
    if (rec->h_region) {
        region = (cs_str){cs_jp_ptr(q, rec->region), rec->region.len};
        if (!cs_aws_region_valid(region.ptr, region.len))
            return bad_field(r, q, rec->region, "awsRegion",
                             "is not an AWS region name (such as us-east-1)");
    } else if (r->region) {
        region = cs_str_c(r->region);
    } else {
        cs_jp_fail_at(q, rec->at, 1, CS_EPARSE,
                   "missing key \"awsRegion\" in a result: select it in the "
                   "query (or pass --source-region)");
        return cs_jr_record_error(r);
    }
    uint8_t vstate = CS_VPC_UNSPECIFIED;
    if (rec->h_state) {
        int v = cs_vpc_state_parse(cs_jp_ptr(q, rec->state), rec->state.len);
        if (v < 0)
            return bad_field(r, q, rec->state, "state",
                             "is not a VPC state (pending, available)");
        vstate = (uint8_t)v;
    }
    cs_prefix primary;
    bool primary_ok = false;
    if (rec->h_primary) {
        int rc = cs_jr_prefix(r, q, rec->primary, "cidrBlock",
                              CS_PARSE_V4_ONLY, &primary, &primary_ok);
        if (rc < 0 || !primary_ok)
            return rc;
    }
    if (rec->n_assoc == 0 && !primary_ok) {
        cs_jp_fail_at(q, rec->at, 1, CS_EPARSE,
                   "a result without CIDRs: select configuration (or "
                   "configuration.cidrBlockAssociationSet) in the query");
        return cs_jr_record_error(r);
    }

    bool top = rec->any_tags;
    size_t nt = top ? rec->n_tags : rec->n_cfg_tags;
    const jp_str *tk = top ? c->tag_k : c->ctag_k;
    const jp_str *tv = top ? c->tag_v : c->ctag_v;
    cs_tag tags[CS_AWS_TAG_MAX];
    for (size_t i = 0; i < nt; i++) {
        tags[i].key = (cs_str){cs_jp_ptr(q, tk[i]), tk[i].len};
        tags[i].value = (cs_str){cs_jp_ptr(q, tv[i]), tv[i].len};
    }
    cs_vpc_desc d;
    memset(&d, 0, sizeof d);
    d.id = (cs_str){cs_jp_ptr(q, id), id.len};
    d.owner = owner;
    d.region = region;
    d.tags = tags;
    d.tag_count = nt;
    d.state = vstate;
    d.is_default = rec->is_default;
    cs_srcloc loc = cs_jr_loc(r, cs_jp_file_off(q, rec->at));
    cs_error_clear(&r->tmp);
    int rc = cs_ingest_add_vpc(r->e, &d, &loc, &r->tmp);
    if (rc < 0)
        return cs_jr_builder_error(r, rc);

    /* the primary block is the live association that repeats it */
    size_t pick = SIZE_MAX;
    for (size_t i = 0; primary_ok && i < rec->n_assoc; i++) {
        const cassoc *a = &c->assoc[i];
        if (a->ok && a->pfx.family == CS_AF_V4 &&
            cs_prefix_compare(&a->pfx, &primary) == 0 &&
            (pick == SIZE_MAX || (cs_assoc_state_live(a->state) &&
                                  !cs_assoc_state_live(c->assoc[pick].state))))
            pick = i;
    }
    for (size_t i = 0; i < rec->n_assoc; i++) {
        const cassoc *a = &c->assoc[i];
        if (!a->ok)
            continue;
        cs_cidr_desc cd;
        memset(&cd, 0, sizeof cd);
        cd.vpc_id = d.id;
        cd.prefix = a->pfx;
        cd.state = a->state;
        cd.primary = i == pick;
        if (a->h_id)
            cd.association_id = (cs_str){cs_jp_ptr(q, a->id), a->id.len};
        if (a->h_pool)
            cd.pool = (cs_str){cs_jp_ptr(q, a->pool), a->pool.len};
        cs_srcloc al = cs_jr_loc(r, cs_jp_file_off(q, a->at));
        cs_error_clear(&r->tmp);
        if ((rc = cs_ingest_add_cidr(r->e, &cd, &al, &r->tmp)) < 0)
            return cs_jr_builder_error(r, rc);
    }
    if (primary_ok && pick == SIZE_MAX) {
        cs_cidr_desc cd;
        memset(&cd, 0, sizeof cd);
        cd.vpc_id = d.id;
        cd.prefix = primary;
        cd.state = CS_ASSOC_UNSPECIFIED;
        cd.primary = true;
        cs_error_clear(&r->tmp);
        if ((rc = cs_ingest_add_cidr(r->e, &cd, &loc, &r->tmp)) < 0)
            return cs_jr_builder_error(r, rc);
    }
    return 0;
}

/* One result: the string, then the document inside it. */
static int read_result(jr *r, void *ctx)
{
    cfg_ctx *c = ctx;
    jp *outer = &r->p;
    jp_str s;
    const size_t *map;
    if (cs_jp_peek(outer) != JP_STR) {
        cs_jp_type_error(outer, "a Results element", JP_STR);
        cs_jr_record_error(r);
        int rc = cs_jp_skip(outer);
        return rc < 0 ? rc : cs_jr_record_end(r);
    }
    int rc = cs_jp_string_map(outer, "a Results element", &s, &map);
    if (rc < 0)
        return rc;
    jp q;
    cs_jp_init_inner(&q, outer, cs_jp_ptr(outer, s), s.len, map);
    crec rec;
    memset(&rec, 0, sizeof rec);
    rec.at = 0;
    if (cs_jp_peek(&q) != JP_OBJ) {
        cs_jp_type_error(&q, "a result", JP_OBJ);
        rc = -1;
    } else {
        rec.at = q.i;
        rc = cs_jp_object(&q, "a result");
    }
    bool first = true;
    jp_str key;
    while (rc >= 0 && (rc = cs_jp_member(&q, &first, &key)) > 0) {
        if (cs_jp_eq(&q, key, "resourceId"))
            rc = cs_jr_str(r, &q, "resourceId", &rec.id, &rec.h_id);
        else if (cs_jp_eq(&q, key, "accountId"))
            rc = cs_jr_str(r, &q, "accountId", &rec.account, &rec.h_account);
        else if (cs_jp_eq(&q, key, "awsRegion"))
            rc = cs_jr_str(r, &q, "awsRegion", &rec.region, &rec.h_region);
        else if (cs_jp_eq(&q, key, "resourceType"))
            rc = cs_jr_str(r, &q, "resourceType", &rec.type, &rec.h_type);
        else if (cs_jp_eq(&q, key, "configuration"))
            rc = read_configuration(r, &q, c, &rec);
        else if (cs_jp_eq(&q, key, "tags")) {
            rec.any_tags = true;
            rc = cs_jr_tags(r, &q, "tags", "key", "value", c->tag_k,
                            c->tag_v, &rec.n_tags);
        } else
            rc = cs_jp_skip(&q);
    }
    if (rc >= 0 && !cs_jp_at_end(&q))
        rc = cs_jp_fail_at(&q, q.i, 1, CS_EPARSE,
                        "invalid JSON: more text after the result's "
                        "document");
    if (rc == CS_ENOMEM) {
        cs_jp_free(&q);
        return rc;
    }
    if (rc < 0)
        cs_jr_record_error(r); /* the inner document, not the file */
    else if ((rc = deliver(r, &q, c, &rec)) < 0) {
        cs_jp_free(&q);
        return rc;
    }
    cs_jp_free(&q);
    return cs_jr_record_end(r);
}

int cs_ingest_config_vpcs_buf(cs_estate *e, const char *source,
                              const char *buf, size_t len, const char *region,
                              const char *account, const cs_load_options *opts,
                              cs_error *err)
{
    if (!e || !source || (!buf && len))
        return cs_fail(err, CS_EINVAL,
                       "cs_ingest_config_vpcs_buf: NULL argument");
    cfg_ctx *c = malloc(sizeof *c);
    if (!c)
        return cs_fail(err, CS_ENOMEM, "out of memory");
    jr r;
    cs_jr_init(&r, e, source, buf, len, region, account, opts, err);
    int rc = cs_jr_pages(&r, "Results", "AWS Config query output", read_result,
                         c);
    cs_jr_free(&r);
    free(c);
    return rc;
}
