/*
 * engine/ingest/aws_json.c — reads AWS CLI JSON into the estate builder:
 * `aws ec2 describe-vpcs` and `aws ec2 describe-vpc-peering-connections`
 * output exactly as printed, one file at a time or a whole org-wide
 * collection ESTATE/<account-id>/<region>/{vpcs,peering}.json.
 *
 * Does: the state machine that knows the EC2 shapes, fed by yajl's SAX
 * callbacks (cs_aj_callbacks; the byte layer that reads files, checks bytes
 * and drives yajl is engine/ingest/json_stream.c, the directory walk
 * engine/ingest/estate_dir.c); validates
 * types, required keys, CIDRs and enums; hands each VPC, CIDR association
 * and peering connection to the builder (cs_estate_add_*) as soon as its
 * closing brace is read, so memory is bounded by one VPC whatever the file
 * size. Every error names file, line, column and (where the text is still in
 * memory) copies the offending line for a caret.
 * Does not: dedupe or merge (the builder does: a connection printed in both
 * sides' files, a shared VPC seen by every participant account), check AWS
 * limits (the builder does at freeze), or read CIDRs from peering
 * connections (CIDRs always come from the VPC inventory).
 *
 * SHAPES (botocore ec2/2016-11-15 service-2.json; keys in the order the CLI
 * prints them; * = read, others are checked for type and ignored, and any
 * key not listed is skipped whole, at any depth):
 *
 *   {"Vpcs": [Vpc...], "NextToken": s}     describe-vpcs (also a bare
 *   {"VpcPeeringConnections": [Pcx...]}    [Vpc... | Pcx...] array, each
 *                                          element told apart by its keys)
 *   Vpc  { OwnerId*, InstanceTenancy, Ipv6CidrBlockAssociationSet*: [V6],
 *          CidrBlockAssociationSet*: [V4], IsDefault*: bool, Tags*: [Tag],
 *          VpcId* (required), State*, CidrBlock* (primary), DhcpOptionsId }
 *   V4   { AssociationId*, CidrBlock* (required), CidrBlockState: BState }
 *   V6   { AssociationId*, Ipv6CidrBlock* (required), Ipv6CidrBlockState:
 *          BState, NetworkBorderGroup, Ipv6Pool*, Ipv6AddressAttribute*,
 *          IpSource* }
 *   BState { State*, StatusMessage }        Tag { Key* (required), Value* }
 *   Pcx  { AccepterVpcInfo*: Side (required), ExpirationTime,
 *          RequesterVpcInfo*: Side (required), Status*: { Code* (required),
 *          Message }, Tags, VpcPeeringConnectionId* (required) }
 *   Side { CidrBlock, Ipv6CidrBlockSet, CidrBlockSet (skipped unread),
 *          OwnerId*, PeeringOptions: { AllowDnsResolutionFromRemoteVpc*,
 *          AllowEgressFrom... }, VpcId* (required), Region* }
 *
 * RECORDS. A record is one element of the top-level list (a Vpc or a Pcx).
 * Its strings go into a per-record arena, its associations and tags into
 * per-record vectors (at most CS_AWS_ASSOC_MAX / CS_AWS_TAG_MAX), all reset
 * when the record ends. On the record's closing brace the reader checks the
 * required keys, folds the top-level CidrBlock into the association that
 * repeats it (the primary block is one association, not two; when no
 * association repeats it, it is added on its own with an unspecified
 * state), then calls cs_estate_add_vpc and cs_estate_add_cidr per block, or
 * cs_estate_add_peering.
 *
 * ERRORS AND KEEP-GOING. An error inside a record (wrong type, missing key,
 * bad CIDR, unknown state, a builder conflict) rejects that record: without
 * opts->keep_going it stops the load with its error; with it, it goes to
 * cs_estate_reject, the rest of the record is skipped (depth counter) and
 * reading goes on with the next record (when the builder refuses one of a
 * VPC's blocks, say an association id it already holds for another VPC,
 * the VPC and the blocks added before stay). An error in the file's structure
 * (invalid JSON, a top level that is neither output) stops the file; with
 * keep_going that is one rejection and the next file is read. A JSON null
 * is read as the key's absence. Enum values the reader does not know are
 * errors for the states that decide overlap (CIDR block State, peering
 * Code, VPC State) and read as "unspecified" for the informational IPv6
 * attributes (IpSource, Ipv6AddressAttribute), which AWS keeps extending.
 *
 * Concurrency: none inside; one call works on one estate, which must not be
 * used by another thread meanwhile.
 *
 * References: EC2 API Reference, DescribeVpcs / DescribeVpcPeeringConnections
 * and the Vpc, VpcCidrBlockAssociation, VpcIpv6CidrBlockAssociation,
 * VpcPeeringConnection, VpcPeeringConnectionVpcInfo data types; RFC 8259
 * (JSON), RFC 3629 (UTF-8); yajl 2 (yajl_parse.h).
 *
 * Tests: tests/test_aws_json.c (fixtures in tests/fixtures/aws/),
 * tests/cli/test_gen.sh and tests/test_gen.c (generated estates),
 * tests/fuzz/fuzz_aws_json.c (corpus in tests/fuzz/corpus/aws_json/).
 */
#include "ingest/aws_json_internal.h"

#include "core/error_internal.h"
#include "core/grow_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the shapes ----------------------------------------------------------- */

/* Contexts: what the innermost open object or array is. */
enum {
    X_ROOT,      /* before the top-level value */
    X_TOP,       /* {"Vpcs": ..., "VpcPeeringConnections": ...} */
    X_VPC_LIST,  /* [Vpc] */
    X_PCX_LIST,  /* [VpcPeeringConnection] */
    X_ANY_LIST,  /* a bare top-level array: each element Vpc or Pcx */
    X_VPC,
    X_PCX,
    X_ITEM,      /* element of a bare array, kind decided at its end */
    X_V4_SET,
    X_V4,
    X_V6_SET,
    X_V6,
    X_BSTATE,    /* CidrBlockState / Ipv6CidrBlockState */
    X_TAGS,
    X_TAG,
    X_STATUS,
    X_SIDE_REQ,
    X_SIDE_ACC,
    X_OPTIONS,
    X_COUNT
};

/* Keys we act on. */
enum {
    K_NONE,
    K_VPCS, K_PCXS,
    K_VPC_ID, K_OWNER, K_CIDR, K_V4_SET, K_V6_SET, K_IS_DEFAULT, K_STATE,
    K_TAGS,
    K_PCX_ID, K_STATUS, K_REQUESTER, K_ACCEPTER,
    K_ASSOC_ID, K_BSTATE, K_V6_CIDR, K_POOL, K_V6_ATTR, K_IP_SOURCE,
    K_BSTATE_STATE,
    K_TAG_KEY, K_TAG_VALUE,
    K_CODE,
    K_SIDE_VPC, K_SIDE_OWNER, K_SIDE_REGION, K_OPTIONS,
    K_ALLOW_DNS,
    K_NEXT_TOKEN, K_REGION,
    K_IGNORED,   /* known, type-checked, value unused */
};

/* Kinds of value events, and the type a slot expects (one of them, or
 * T_ANY). */
enum { T_STR = V_STR, T_BOOL = V_BOOL, T_OBJ = V_OBJ, T_ARR = V_ARR,
       T_ANY = 7 };

typedef struct keyspec {
    const char *name;
    uint8_t len;
    uint8_t key;   /* K_* */
    uint8_t type;  /* T_* */
    uint8_t child; /* X_* of the object or array it opens */
    uint8_t rk;    /* which record it marks: R_VPC, R_PCX, 0 either */
} keyspec;

enum { R_VPC = 1, R_PCX = 2, R_PAGE = 3 };

#define KS(n, k, t, c) {n, (uint8_t)(sizeof n - 1), k, t, c, 0}
#define KV(n, k, t, c) {n, (uint8_t)(sizeof n - 1), k, t, c, R_VPC}
#define KP(n, k, t, c) {n, (uint8_t)(sizeof n - 1), k, t, c, R_PCX}
#define KG(n, k, t, c) {n, (uint8_t)(sizeof n - 1), k, t, c, R_PAGE}

/* A page: the two lists first (close_object tests seen & 3). "Region" is
 * the wrapper export scripts add ({"Region": "eu-west-1", "Vpcs": [...]});
 * it must come before the list it labels. */
#define PAGE_KEYS                                                          \
    KG("Vpcs", K_VPCS, T_ARR, X_VPC_LIST),                                  \
    KG("VpcPeeringConnections", K_PCXS, T_ARR, X_PCX_LIST),                \
    KG("NextToken", K_NEXT_TOKEN, T_STR, 0),                               \
    KG("Region", K_REGION, T_STR, 0)
static const keyspec top_keys[] = {PAGE_KEYS};

#define VPC_KEYS                                                           \
    KV("VpcId", K_VPC_ID, T_STR, 0), KV("OwnerId", K_OWNER, T_STR, 0),      \
    KV("CidrBlock", K_CIDR, T_STR, 0),                                      \
    KV("CidrBlockAssociationSet", K_V4_SET, T_ARR, X_V4_SET),              \
    KV("Ipv6CidrBlockAssociationSet", K_V6_SET, T_ARR, X_V6_SET),          \
    KV("IsDefault", K_IS_DEFAULT, T_BOOL, 0),                              \
    KV("State", K_STATE, T_STR, 0),                                        \
    KV("DhcpOptionsId", K_IGNORED, T_STR, 0),                              \
    KV("InstanceTenancy", K_IGNORED, T_STR, 0)
#define PCX_KEYS                                                           \
    KP("VpcPeeringConnectionId", K_PCX_ID, T_STR, 0),                      \
    KP("Status", K_STATUS, T_OBJ, X_STATUS),                               \
    KP("RequesterVpcInfo", K_REQUESTER, T_OBJ, X_SIDE_REQ),                \
    KP("AccepterVpcInfo", K_ACCEPTER, T_OBJ, X_SIDE_ACC),                  \
    KP("ExpirationTime", K_IGNORED, T_STR, 0)

static const keyspec vpc_keys[] = {VPC_KEYS, KS("Tags", K_TAGS, T_ARR, X_TAGS)};
static const keyspec pcx_keys[] = {PCX_KEYS, KS("Tags", K_TAGS, T_ARR, X_TAGS)};
/* An element of a top-level array: a Vpc, a Pcx, or a whole page (the
 * `jq -s` array of describe-vpcs pages). */
static const keyspec item_keys[] = {VPC_KEYS, PCX_KEYS, PAGE_KEYS,
                                    KS("Tags", K_TAGS, T_ARR, X_TAGS)};
static const keyspec v4_keys[] = {
    KS("AssociationId", K_ASSOC_ID, T_STR, 0),
    KS("CidrBlock", K_CIDR, T_STR, 0),
    KS("CidrBlockState", K_BSTATE, T_OBJ, X_BSTATE),
};
static const keyspec v6_keys[] = {
    KS("AssociationId", K_ASSOC_ID, T_STR, 0),
    KS("Ipv6CidrBlock", K_V6_CIDR, T_STR, 0),
    KS("Ipv6CidrBlockState", K_BSTATE, T_OBJ, X_BSTATE),
    KS("NetworkBorderGroup", K_IGNORED, T_STR, 0),
    KS("Ipv6Pool", K_POOL, T_STR, 0),
    KS("Ipv6AddressAttribute", K_V6_ATTR, T_STR, 0),
    KS("IpSource", K_IP_SOURCE, T_STR, 0),
};
static const keyspec bstate_keys[] = {
    KS("State", K_BSTATE_STATE, T_STR, 0),
    KS("StatusMessage", K_IGNORED, T_STR, 0),
};
static const keyspec tag_keys[] = {
    KS("Key", K_TAG_KEY, T_STR, 0),
    KS("Value", K_TAG_VALUE, T_STR, 0),
};
static const keyspec status_keys[] = {
    KS("Code", K_CODE, T_STR, 0),
    KS("Message", K_IGNORED, T_STR, 0),
};
static const keyspec side_keys[] = {
    KS("VpcId", K_SIDE_VPC, T_STR, 0),
    KS("OwnerId", K_SIDE_OWNER, T_STR, 0),
    KS("Region", K_SIDE_REGION, T_STR, 0),
    KS("PeeringOptions", K_OPTIONS, T_OBJ, X_OPTIONS),
    /* Present only for active connections, and never read: CIDRs come from
     * the VPC inventory. */
    KS("CidrBlock", K_IGNORED, T_ANY, 0),
    KS("CidrBlockSet", K_IGNORED, T_ANY, 0),
    KS("Ipv6CidrBlockSet", K_IGNORED, T_ANY, 0),
};
static const keyspec option_keys[] = {
    KS("AllowDnsResolutionFromRemoteVpc", K_ALLOW_DNS, T_BOOL, 0),
    KS("AllowEgressFromLocalClassicLinkToRemoteVpc", K_IGNORED, T_BOOL, 0),
    KS("AllowEgressFromLocalVpcToRemoteClassicLink", K_IGNORED, T_BOOL, 0),
};

typedef struct ctxspec {
    const char *what;      /* for messages: the EC2 shape name */
    const keyspec *keys;   /* objects: their keys */
    uint8_t nkeys;
    uint8_t elem;          /* arrays: X_* of their (object) elements */
} ctxspec;

#define CTX_OBJ(w, k) {w, k, (uint8_t)(sizeof k / sizeof *k), 0}
#define CTX_ARR(w, e) {w, NULL, 0, e}

static const ctxspec ctxs[X_COUNT] = {
    [X_ROOT] = {"document", NULL, 0, 0},
    [X_TOP] = CTX_OBJ("the top-level object", top_keys),
    [X_VPC_LIST] = CTX_ARR("Vpcs", X_VPC),
    [X_PCX_LIST] = CTX_ARR("VpcPeeringConnections", X_PCX),
    [X_ANY_LIST] = CTX_ARR("the top-level array", X_ITEM),
    [X_VPC] = CTX_OBJ("Vpc", vpc_keys),
    [X_PCX] = CTX_OBJ("VpcPeeringConnection", pcx_keys),
    [X_ITEM] = CTX_OBJ("Vpc or VpcPeeringConnection", item_keys),
    [X_V4_SET] = CTX_ARR("CidrBlockAssociationSet", X_V4),
    [X_V4] = CTX_OBJ("VpcCidrBlockAssociation", v4_keys),
    [X_V6_SET] = CTX_ARR("Ipv6CidrBlockAssociationSet", X_V6),
    [X_V6] = CTX_OBJ("VpcIpv6CidrBlockAssociation", v6_keys),
    [X_BSTATE] = CTX_OBJ("VpcCidrBlockState", bstate_keys),
    [X_TAGS] = CTX_ARR("Tags", X_TAG),
    [X_TAG] = CTX_OBJ("Tag", tag_keys),
    [X_STATUS] = CTX_OBJ("Status", status_keys),
    [X_SIDE_REQ] = CTX_OBJ("RequesterVpcInfo", side_keys),
    [X_SIDE_ACC] = CTX_OBJ("AccepterVpcInfo", side_keys),
    [X_OPTIONS] = CTX_OBJ("PeeringOptions", option_keys),
};

void cs_aj_rec_reset(aj *p)
{
    memset(&p->rec, 0, sizeof p->rec);
    p->rec.vpc_id = p->rec.owner = p->rec.primary_raw = p->rec.pcx_id =
        ASTR_NONE;
    for (int s = 0; s < 2; s++)
        p->rec.sides[s].vpc = p->rec.sides[s].owner =
            p->rec.sides[s].region = ASTR_NONE;
    p->res->arena_len = 0;
    p->res->n_assoc = 0;
    p->res->n_tag = 0;
    p->item_sp = -1;
}

/*
 * An error in p->tmp about a record (or a bad element of a record list).
 * `delta` corrects the count of open containers for the event being
 * handled: +1 when it opens one (not pushed yet), -1 when it closes the
 * innermost frame (still on the stack), 0 otherwise. With keep_going the
 * record is rejected, the stack drops back to its list, the rest of the
 * record is skipped, and H_REJECTED is returned; otherwise H_STOP.
 */
static int fail_record(aj *p, int delta)
{
    if (!cs_aj_settle(p, true)) {
        p->stopped = true;
        return H_STOP;
    }
    int64_t open = delta;
    if (p->item_sp >= 0) {
        open += p->sp - p->item_sp + 1;
        p->sp = p->item_sp - 1;
    }
    p->skip = open > 0 ? (uint64_t)open : 0;
    cs_aj_rec_reset(p);
    return H_REJECTED;
}

/* The error path for a failure at `at` inside a record. */
#define REC_FAIL(p, delta, at, span, ...)                                    \
    (cs_aj_error((p), (at), (span), CS_EPARSE, __VA_ARGS__),                \
     fail_record((p), (delta)))

/* ---- the record arena ----------------------------------------------------------- */

static bool arena_put(aj *p, const unsigned char *s, size_t len, astr *out)
{
    aj_res *r = p->res;
    if (cs_grow((void **)&r->arena, &r->arena_cap, r->arena_len + len + 1, 1,
                SIZE_MAX))
        return false;
    if (len)
        memcpy(r->arena + r->arena_len, s, len);
    out->off = (uint32_t)r->arena_len;
    out->len = (uint32_t)len;
    r->arena_len += len;
    return true;
}

static cs_str view(const aj *p, astr a)
{
    cs_str v = {NULL, 0};
    if (a.off != UINT32_MAX) {
        v.ptr = p->res->arena + a.off;
        v.len = a.len;
    }
    return v;
}

/* ---- delivering records --------------------------------------------------------- */

static cs_srcloc srcloc(const aj *p, const aj_pos *at)
{
    cs_srcloc l;
    l.source = p->source;
    l.line = at->line;
    l.column = at->col;
    return l;
}

/* A builder call failed with rc (details in p->tmp, located by the builder
 * from the srcloc): the record is rejected (keep_going) unless the builder
 * is out of memory or dead. Called on the record's closing brace. */
static int builder_fail(aj *p, int rc)
{
    if (p->tmp.code == 0)
        cs_fail(&p->tmp, rc, "%s", cs_strerror(rc));
    if (!p->tmp.source[0])
        cs_error_source(&p->tmp, p->source);
    if (rc == CS_ENOMEM || rc == CS_ESTATE)
        return cs_aj_fail_fatal(p);
    return fail_record(p, -1);
}

static int host_bits_finding(aj *p, const aj_pos *at, astr raw,
                             const cs_prefix *pfx, const char *key)
{
    char canon[CS_PREFIX_STRCAP], msg[256];
    cs_prefix_format(pfx, canon, sizeof canon);
    cs_str r = view(p, raw);
    snprintf(msg, sizeof msg, "%s \"%.*s\" has host bits set; read as %s",
             key, (int)r.len, r.ptr ? r.ptr : "", canon);
    cs_srcloc l = srcloc(p, at);
    int rc = cs_ingest_add_finding(p->e, CS_FINDING_HOST_BITS, &l, msg);
    if (rc < 0) {
        cs_error_clear(&p->tmp);
        return builder_fail(p, rc);
    }
    return H_OK;
}

static int add_cidr(aj *p, const cs_cidr_desc *c, const aj_pos *at)
{
    cs_srcloc l = srcloc(p, at);
    cs_error_clear(&p->tmp);
    int rc = cs_ingest_add_cidr(p->e, c, &l, &p->tmp);
    return rc < 0 ? builder_fail(p, rc) : H_OK;
}

/* A Vpc record is complete: check it and hand it to the builder. */
static int deliver_vpc(aj *p)
{
    record *r = &p->rec;
    aj_res *res = p->res;
    if (r->vpc_id.off == UINT32_MAX)
        return REC_FAIL(p, -1, &r->at, 1,
                        "missing required key \"VpcId\" in Vpc");
    cs_str id = view(p, r->vpc_id);
    cs_str owner = view(p, r->owner);
    if (r->owner.off == UINT32_MAX) {
        if (!p->account)
            return REC_FAIL(p, -1, &r->at, 1,
                            "missing key \"OwnerId\" in Vpc %.*s: the account "
                            "comes from OwnerId (or pass --source-account, or lay "
                            "the files out as ESTATE/ACCOUNT/REGION/vpcs.json)",
                            cs_aj_shown(id.len), id.ptr);
        owner = cs_str_c(p->account);
    }
    if (!p->region) {
        cs_aj_error(p, &r->at, 1, CS_EINVAL,
                    "describe-vpcs output carries no region: pass --source-region "
                    "REGION (or lay the files out as "
                    "ESTATE/ACCOUNT/REGION/vpcs.json)");
        return cs_aj_fail_file(p);
    }

    /* The primary block: the top-level CidrBlock is repeated inside
     * CidrBlockAssociationSet (10.0.0.0/16 twice, the second time with its
     * association id and state): one association. A live repeat wins over
     * a dead one. */
    bool primary_found = false, primary_said = false;
    bool any_v4 = r->have_primary;
    if (r->have_primary) {
        size_t pick = SIZE_MAX;
        for (size_t i = 0; i < res->n_assoc; i++) {
            const assoc *a = &res->assocs[i];
            if (a->family != CS_AF_V4 ||
                cs_prefix_compare(&a->prefix, &r->primary) != 0)
                continue;
            if (pick == SIZE_MAX ||
                (cs_assoc_state_live(a->state) &&
                 !cs_assoc_state_live(res->assocs[pick].state)))
                pick = i;
        }
        if (pick != SIZE_MAX) {
            res->assocs[pick].primary = true;
            primary_found = true;
            /* Its host bits are reported once, at the association. */
            primary_said = res->assocs[pick].normalised;
        }
    }
    for (size_t i = 0; i < res->n_assoc && !any_v4; i++)
        any_v4 = res->assocs[i].family == CS_AF_V4;
    if (!any_v4)
        return REC_FAIL(p, -1, &r->at, 1,
                        "missing key \"CidrBlock\" in Vpc %.*s: it has no "
                        "IPv4 block (CidrBlockAssociationSet is empty or "
                        "absent too)", cs_aj_shown(id.len), id.ptr);

    if (cs_grow((void **)&res->desc_tags, &res->cap_desc_tags, res->n_tag,
              sizeof *res->desc_tags, SIZE_MAX))
        return cs_aj_oom(p);
    for (size_t i = 0; i < res->n_tag; i++) {
        res->desc_tags[i].key = view(p, res->tags[i].key);
        res->desc_tags[i].value = view(p, res->tags[i].value);
    }

    cs_vpc_desc d;
    memset(&d, 0, sizeof d);
    d.id = id;
    d.owner = owner;
    d.region = cs_str_c(p->region);
    d.tags = res->n_tag ? res->desc_tags : NULL;
    d.tag_count = res->n_tag;
    d.state = r->vpc_state;
    d.is_default = r->is_default;
    cs_srcloc loc = srcloc(p, &r->at);
    cs_error_clear(&p->tmp);
    int rc = cs_ingest_add_vpc(p->e, &d, &loc, &p->tmp);
    if (rc < 0)
        return builder_fail(p, rc);

    if (r->have_primary && !primary_found) {
        /* Output of an older CLI, or a trimmed one: the primary block is
         * only the top-level CidrBlock. */
        cs_cidr_desc c;
        memset(&c, 0, sizeof c);
        c.vpc_id = id;
        c.prefix = r->primary;
        c.state = CS_ASSOC_UNSPECIFIED;
        c.primary = true;
        if ((rc = add_cidr(p, &c, &r->primary_at)) != H_OK)
            return rc;
    }
    if (r->primary_normalised && !primary_said &&
        (rc = host_bits_finding(p, &r->primary_at, r->primary_raw,
                                &r->primary, "CidrBlock")) != H_OK)
        return rc;
    for (size_t i = 0; i < res->n_assoc; i++) {
        const assoc *a = &res->assocs[i];
        cs_cidr_desc c;
        memset(&c, 0, sizeof c);
        c.vpc_id = id;
        c.prefix = a->prefix;
        c.association_id = view(p, a->id);
        c.state = a->state;
        c.primary = a->primary;
        c.ip_source = a->ip_source;
        c.ipv6_attr = a->ipv6_attr;
        c.pool = view(p, a->pool);
        if ((rc = add_cidr(p, &c, &a->at)) != H_OK)
            return rc;
        if (a->normalised &&
            (rc = host_bits_finding(p, &a->at, a->raw, &a->prefix,
                                    a->family == CS_AF_V4 ? "CidrBlock"
                                                          : "Ipv6CidrBlock"))
                != H_OK)
            return rc;
    }
    return H_OK;
}

/* A VpcPeeringConnection record is complete. */
static int deliver_pcx(aj *p)
{
    record *r = &p->rec;
    if (r->pcx_id.off == UINT32_MAX)
        return REC_FAIL(p, -1, &r->at, 1,
                        "missing required key \"VpcPeeringConnectionId\" in "
                        "VpcPeeringConnection");
    cs_str id = view(p, r->pcx_id);
    static const char *const side_key[2] = {"RequesterVpcInfo",
                                            "AccepterVpcInfo"};
    for (int s = 0; s < 2; s++)
        if (!r->sides[s].present)
            return REC_FAIL(p, -1, &r->at, 1,
                            "missing required key \"%s\" in "
                            "VpcPeeringConnection %.*s", side_key[s],
                            cs_aj_shown(id.len), id.ptr);
    if (!r->have_status)
        return REC_FAIL(p, -1, &r->at, 1,
                        "missing required key \"Status\" in "
                        "VpcPeeringConnection %.*s", cs_aj_shown(id.len), id.ptr);
    cs_peering_desc d;
    memset(&d, 0, sizeof d);
    d.id = id;
    d.status = r->status;
    cs_peering_side *ds[2] = {&d.requester, &d.accepter};
    for (int s = 0; s < 2; s++) {
        ds[s]->vpc_id = view(p, r->sides[s].vpc);
        ds[s]->owner = view(p, r->sides[s].owner);
        ds[s]->region = view(p, r->sides[s].region);
        ds[s]->allow_dns = r->sides[s].allow_dns;
    }
    cs_srcloc loc = srcloc(p, &r->at);
    cs_error_clear(&p->tmp);
    int rc = cs_ingest_add_peering(p->e, &d, &loc, &p->tmp);
    return rc < 0 ? builder_fail(p, rc) : H_OK;
}

/* ---- values ------------------------------------------------------------------- */

static const char *type_name(int t)
{
    switch (t) {
    case V_STR: return "a string";
    case V_BOOL: return "a boolean (true or false)";
    case V_OBJ: return "an object";
    case V_ARR: return "an array";
    case V_NUM: return "a number";
    default: return "null";
    }
}

static bool type_ok(int want, int got)
{
    return want == T_ANY || want == got;
}

/* A string we keep: no control bytes (a decoded \u0000 would reach the
 * builder as a NUL), at most CS_ESTATE_STR_MAX bytes. */
static int keep_str(aj *p, const keyspec *ks, const aj_pos *at,
                    const unsigned char *s, size_t len, astr *out)
{
    if (len > CS_ESTATE_STR_MAX)
        return REC_FAIL(p, 0, at, 1,
                        "\"%s\" is %zu bytes long; at most %u are accepted",
                        ks->name, len, CS_ESTATE_STR_MAX);
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x20 || s[i] == 0x7f)
            return REC_FAIL(p, 0, at, cs_aj_clamp_span(len + 2),
                            "\"%s\" holds control character U+%04X (escaped "
                            "as \\u%04x); not accepted in ids, names and tags",
                            ks->name, s[i], s[i]);
    if (!arena_put(p, s, len, out))
        return cs_aj_oom(p);
    return H_OK;
}

/* Parses a CIDR value of family `fam` ("CidrBlock": "10.0.0.0/16"). */
static int read_prefix(aj *p, const keyspec *ks, const aj_pos *at,
                       const unsigned char *s, size_t len, uint8_t fam,
                       cs_prefix *out, bool *normalised, astr *raw)
{
    cs_error pe;
    unsigned flags = fam == CS_AF_V4 ? CS_PARSE_V4_ONLY : CS_PARSE_V6_ONLY;
    if (p->opts && p->opts->lenient)
        flags |= CS_PARSE_LENIENT;
    /* A clean parse writes nothing to its error: clear one only on failure. */
    int rc = cs_prefix_parse((const char *)s, len, flags, out, NULL);
    if (rc < 0) {
        cs_error_clear(&pe);
        cs_prefix_parse((const char *)s, len, flags, out, &pe);
        /* The prefix parser counts columns inside the value: shift them
         * past the opening quote (CIDRs never hold escapes). */
        aj_pos a = *at;
        if (pe.column && a.col) {
            uint64_t c = (uint64_t)a.col + pe.column;
            a.col = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
            a.off = at->off + pe.column;
        }
        return REC_FAIL(p, 0, &a, pe.span ? pe.span : 1, "\"%s\": %s",
                        ks->name, pe.message);
    }
    *normalised = rc == CS_PARSE_NORMALISED;
    if (*normalised && !arena_put(p, s, len > 64 ? 64 : len, raw))
        return cs_aj_oom(p);
    return H_OK;
}

static int bad_enum(aj *p, const keyspec *ks, const aj_pos *at,
                    const unsigned char *s, size_t len, const char *expected)
{
    return REC_FAIL(p, 0, at, cs_aj_clamp_span(len + 2),
                    "unknown \"%s\" value \"%.*s\" (expected %s)", ks->name,
                    cs_aj_shown(len), (const char *)s, expected);
}

/* A word AWS could add as a state ("pending-verification"): lower-case
 * letters, digits and '-', 1..64 bytes. Anything else (empty, upper case,
 * spaces, garbage) is an error, not a new state. */
static bool plain_word(const unsigned char *s, size_t len)
{
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '-'))
            return false;
    return true;
}

/* A state AWS added after this version: a warning finding naming it, and
 * the value read as not live (`effect` says what that means). */
static int unknown_state(aj *p, const keyspec *ks, const aj_pos *at,
                         const unsigned char *s, size_t len,
                         const char *effect)
{
    char msg[256];
    snprintf(msg, sizeof msg, "unknown \"%s\" value \"%.*s\": %s",
             ks->name, cs_aj_shown(len), (const char *)s, effect);
    cs_srcloc l = srcloc(p, at);
    int rc = cs_ingest_add_finding(p->e, CS_FINDING_UNKNOWN_STATE, &l, msg);
    if (rc < 0) {
        cs_error_clear(&p->tmp);
        return builder_fail(p, rc);
    }
    return H_OK;
}

/* "vpc-0a1b2c3d4e5f60718", "pcx-...": the prefix, then letters and digits. */
static int id_check(aj *p, const keyspec *ks, const aj_pos *at,
                    const unsigned char *s, size_t len, const char *prefix)
{
    size_t pl = strlen(prefix);
    bool ok = len > pl && len <= 64 && memcmp(s, prefix, pl) == 0;
    for (size_t i = pl; ok && i < len; i++)
        ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
             (s[i] >= 'A' && s[i] <= 'Z');
    if (!ok)
        return REC_FAIL(p, 0, at, cs_aj_clamp_span(len + 2),
                        "\"%s\" value \"%.*s\" is not an id of the form "
                        "%s<letters and digits>", ks->name, cs_aj_shown(len),
                        (const char *)s, prefix);
    return H_OK;
}

static int account_check(aj *p, const keyspec *ks, const aj_pos *at,
                         const unsigned char *s, size_t len)
{
    if (!cs_aws_account_valid((const char *)s, len))
        return REC_FAIL(p, 0, at, cs_aj_clamp_span(len + 2),
                        "\"%s\" value \"%.*s\" is not a 12-digit AWS account "
                        "id", ks->name, cs_aj_shown(len), (const char *)s);
    return H_OK;
}

static assoc *cur_assoc(aj *p)
{
    return &p->res->assocs[p->res->n_assoc - 1];
}

/* A string value for key `ks` of the innermost object. */
/* "NextToken": a non-empty one means the page is not the last one printed:
 * the VPCs of the pages after it are missing from this file. */
static int next_token(aj *p, const aj_pos *at, size_t len)
{
    if (len == 0)
        return H_OK;
    cs_srcloc l = srcloc(p, at);
    int rc = cs_ingest_add_finding(
        p->e, CS_FINDING_INCOMPLETE_PAGE, &l,
        "a page carries a non-empty NextToken: the pages after it are not "
        "in this file, so the inventory is incomplete (save every page, or "
        "run the AWS CLI without --max-items)");
    if (rc < 0) {
        cs_error_clear(&p->tmp);
        return builder_fail(p, rc);
    }
    return H_OK;
}

/* "Region" of a {"Region": ..., "Vpcs": [...]} wrapper: the region of the
 * VPCs that follow in this document or page. */
static int page_region(aj *p, const aj_pos *at, const unsigned char *s,
                       size_t len)
{
    if (len >= sizeof p->doc_region ||
        !cs_aws_region_valid((const char *)s, len)) {
        cs_aj_error(p, at, cs_aj_clamp_span(len + 2), CS_EPARSE,
                    "\"Region\" value \"%.*s\" is not an AWS region name "
                    "(such as us-east-1)", cs_aj_shown(len), (const char *)s);
        return cs_aj_fail_file(p);
    }
    if (p->base_region && p->region_from_dir &&
        (strlen(p->base_region) != len ||
         memcmp(p->base_region, s, len) != 0)) {
        cs_aj_error(p, at, cs_aj_clamp_span(len + 2), CS_EPARSE,
                    "\"Region\" is \"%.*s\" but the file is in the "
                    "directory of region %s", cs_aj_shown(len),
                    (const char *)s, p->base_region);
        return cs_aj_fail_file(p);
    }
    memcpy(p->doc_region, s, len);
    p->doc_region[len] = '\0';
    p->region = p->doc_region;
    return H_OK;
}

static int string_value(aj *p, const keyspec *ks, const aj_pos *at,
                        const unsigned char *s, size_t len)
{
    record *r = &p->rec;
    aj_res *res = p->res;
    frame *f = &p->st[p->sp];
    int rc, v;
    switch (ks->key) {
    case K_NEXT_TOKEN:
        return next_token(p, at, len);
    case K_REGION:
        return page_region(p, at, s, len);
    case K_VPC_ID:
        if ((rc = id_check(p, ks, at, s, len, "vpc-")) != H_OK)
            return rc;
        cs_ingest_prefetch(p->e, CS_PREFETCH_VPC_ID, (const char *)s, len); /* a hint */
        return keep_str(p, ks, at, s, len, &r->vpc_id);
    case K_OWNER:
        if ((rc = account_check(p, ks, at, s, len)) != H_OK)
            return rc;
        return keep_str(p, ks, at, s, len, &r->owner);
    case K_STATE:
        if ((v = cs_vpc_state_parse((const char *)s, len)) < 0)
            return bad_enum(p, ks, at, s, len, "pending or available");
        r->vpc_state = (uint8_t)v;
        return H_OK;
    case K_CIDR:
        if (f->ctx == X_V4) {
            assoc *a = cur_assoc(p);
            rc = read_prefix(p, ks, at, s, len, CS_AF_V4, &a->prefix,
                             &a->normalised, &a->raw);
            a->have_prefix = rc == H_OK;
            if (a->have_prefix)
                a->at = *at;
            return rc;
        }
        rc = read_prefix(p, ks, at, s, len, CS_AF_V4, &r->primary,
                         &r->primary_normalised, &r->primary_raw);
        r->have_primary = rc == H_OK;
        r->primary_at = *at;
        return rc;
    case K_V6_CIDR: {
        assoc *a = cur_assoc(p);
        rc = read_prefix(p, ks, at, s, len, CS_AF_V6, &a->prefix,
                         &a->normalised, &a->raw);
        a->have_prefix = rc == H_OK;
        if (a->have_prefix)
            a->at = *at;
        return rc;
    }
    case K_ASSOC_ID:
        cs_ingest_prefetch(p->e, CS_PREFETCH_ASSOC_ID, (const char *)s, len);
        return keep_str(p, ks, at, s, len, &cur_assoc(p)->id);
    case K_POOL:
        return keep_str(p, ks, at, s, len, &cur_assoc(p)->pool);
    case K_V6_ATTR:
        v = cs_ipv6_attr_parse((const char *)s, len);
        cur_assoc(p)->ipv6_attr = (uint8_t)(v < 0 ? CS_IPV6ATTR_UNSPECIFIED : v);
        return H_OK;
    case K_IP_SOURCE:
        v = cs_ip_source_parse((const char *)s, len);
        cur_assoc(p)->ip_source = (uint8_t)(v < 0 ? CS_IPSRC_UNSPECIFIED : v);
        return H_OK;
    case K_BSTATE_STATE:
        v = cs_assoc_state_parse((const char *)s, len);
        if (v == CS_ASSOC_UNSPECIFIED || (v < 0 && !plain_word(s, len)))
            return bad_enum(p, ks, at, s, len,
                            "associating, associated, disassociating, "
                            "disassociated, failing or failed");
        if (v < 0) {
            v = CS_ASSOC_UNKNOWN;
            if ((rc = unknown_state(p, ks, at, s, len,
                                    "the block is read as not live "
                                    "(no overlap, no peering)")) != H_OK)
                return rc;
        }
        cur_assoc(p)->state = (uint8_t)v;
        return H_OK;
    case K_TAG_KEY:
        return keep_str(p, ks, at, s, len, &res->tags[res->n_tag - 1].key);
    case K_TAG_VALUE:
        return keep_str(p, ks, at, s, len, &res->tags[res->n_tag - 1].value);
    case K_PCX_ID:
        if ((rc = id_check(p, ks, at, s, len, "pcx-")) != H_OK)
            return rc;
        return keep_str(p, ks, at, s, len, &r->pcx_id);
    case K_CODE:
        if ((v = cs_pcx_status_parse((const char *)s, len)) < 0 &&
            !plain_word(s, len))
            return bad_enum(p, ks, at, s, len,
                            "initiating-request, pending-acceptance, "
                            "provisioning, active, deleting, deleted, "
                            "rejected, failed or expired");
        if (v < 0) {
            v = CS_PCX_UNKNOWN;
            if ((rc = unknown_state(p, ks, at, s, len,
                                    "the connection is read as not "
                                    "active")) != H_OK)
                return rc;
        }
        r->status = (uint8_t)v;
        r->have_status = true;
        return H_OK;
    case K_SIDE_VPC:
        if ((rc = id_check(p, ks, at, s, len, "vpc-")) != H_OK)
            return rc;
        return keep_str(p, ks, at, s, len, &r->sides[f->ctx == X_SIDE_ACC].vpc);
    case K_SIDE_OWNER:
        if ((rc = account_check(p, ks, at, s, len)) != H_OK)
            return rc;
        return keep_str(p, ks, at, s, len,
                        &r->sides[f->ctx == X_SIDE_ACC].owner);
    case K_SIDE_REGION:
        if (!cs_aws_region_valid((const char *)s, len))
            return REC_FAIL(p, 0, at, cs_aj_clamp_span(len + 2),
                            "\"Region\" value \"%.*s\" is not an AWS region "
                            "name (such as us-east-1)", cs_aj_shown(len),
                            (const char *)s);
        return keep_str(p, ks, at, s, len,
                        &r->sides[f->ctx == X_SIDE_ACC].region);
    default:
        return H_OK;
    }
}

static int bool_value(aj *p, const keyspec *ks, int v)
{
    if (ks->key == K_IS_DEFAULT) {
        p->rec.is_default = v != 0;
    } else if (ks->key == K_ALLOW_DNS) {
        /* PeeringOptions is open in a side's frame, one below. */
        int side_ctx = p->st[p->sp - 1].ctx;
        p->rec.sides[side_ctx == X_SIDE_ACC].allow_dns =
            (uint8_t)(v ? CS_TRI_TRUE : CS_TRI_FALSE);
    }
    return H_OK;
}

/*
 * A value event in the innermost frame: finds its slot (the pending key of
 * an object, or an element of an array) and checks its type. *out is the
 * key to act on, NULL to ignore the value (containers: skip them). Returns
 * H_OK, H_STOP, or H_REJECTED (the value failed; its record was rejected
 * and the skip counter covers a container it opens).
 */
static int slot(aj *p, int vkind, size_t len, const keyspec **out)
{
    *out = NULL;
    frame *f = &p->st[p->sp];
    const ctxspec *cs = &ctxs[f->ctx];
    int delta = (vkind == V_OBJ || vkind == V_ARR) ? 1 : 0;
    if (f->ctx == X_ROOT) {
        if (delta)
            return H_OK;
        aj_pos at = cs_aj_locate(p, cs_aj_token_start(p, vkind, len));
        cs_aj_error(p, &at, 1, CS_EPARSE,
                    "expected describe-vpcs or describe-vpc-peering-"
                    "connections output (an object or an array), found %s",
                    type_name(vkind));
        return cs_aj_fail_file(p);
    }
    if (!cs->keys) {
        /* Arrays (of records, associations, tags) hold objects; a null is
         * nothing. */
        if (vkind == V_OBJ || vkind == V_NULL)
            return H_OK;
        aj_pos at = cs_aj_locate(p, cs_aj_token_start(p, vkind, len));
        cs_aj_error(p, &at, vkind == V_STR ? cs_aj_clamp_span(len + 2) : 1,
                    CS_EPARSE,
                    "wrong type: elements of %s must be objects (%s), not %s",
                    cs->what, ctxs[cs->elem].what, type_name(vkind));
        return fail_record(p, delta);
    }
    if (f->key < 0)
        return H_OK; /* a key we do not know: ignored, whatever it holds */
    const keyspec *ks = &cs->keys[f->key];
    if (vkind == V_NULL || ks->type == T_ANY)
        return H_OK;
    if (!type_ok(ks->type, vkind)) {
        aj_pos at = cs_aj_locate(p, cs_aj_token_start(p, vkind, len));
        cs_aj_error(p, &at, vkind == V_STR ? cs_aj_clamp_span(len + 2) : 1,
                    CS_EPARSE, "wrong type: \"%s\" in %s must be %s, not %s",
                    ks->name, cs->what, type_name(ks->type), type_name(vkind));
        if (f->ctx == X_TOP)
            return cs_aj_fail_file(p);
        return fail_record(p, delta);
    }
    *out = ks;
    return H_OK;
}

/* ---- yajl callbacks ------------------------------------------------------------- */

static int scalar(aj *p, int vkind, const unsigned char *s, size_t len)
{
    p->saw_value = true;
    if (p->skip)
        return H_OK;
    const keyspec *ks;
    int rc = slot(p, vkind, len, &ks);
    if (rc != H_OK || !ks)
        return rc;
    if (vkind == V_BOOL)
        return bool_value(p, ks, len == 4);
    if (ks->key == K_IGNORED)
        return H_OK;
    aj_pos at = cs_aj_locate(p, cs_aj_token_start(p, V_STR, len));
    return string_value(p, ks, &at, s, len);
}

static int cb_null(void *ctx)
{
    return scalar(ctx, V_NULL, NULL, 4);
}

static int cb_boolean(void *ctx, int v)
{
    /* The length of the literal finds its start ("true" or "false"). */
    return scalar(ctx, V_BOOL, NULL, v ? 4 : 5);
}

static int cb_number(void *ctx, const char *s, size_t len)
{
    return scalar(ctx, V_NUM, (const unsigned char *)s, len);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
    return scalar(ctx, V_STR, s, len);
}

static int too_deep(aj *p)
{
    aj_pos at = cs_aj_locate(p, cs_aj_token_start(p, V_OBJ, 0));
    cs_aj_error(p, &at, 1, CS_EPARSE, "nesting deeper than %d levels",
                CS_AWS_JSON_DEPTH_MAX);
    return cs_aj_fail_file(p);
}

/* Sets up a record, association or tag frame just pushed. */
static int enter(aj *p, int child, const aj_pos *at)
{
    aj_res *res = p->res;
    switch (child) {
    case X_TOP:
        /* A new document or page: its own "Region", if any. */
        p->region = p->base_region;
        return H_OK;
    case X_VPC:
    case X_PCX:
    case X_ITEM:
        cs_aj_rec_reset(p);
        p->item_sp = p->sp;
        p->rec.at = *at;
        if (child == X_VPC && !p->region) {
            cs_aj_error(p, at, 1, CS_EINVAL,
                        "describe-vpcs output carries no region: pass "
                        "--source-region REGION (or lay the files out as "
                        "ESTATE/ACCOUNT/REGION/vpcs.json)");
            return cs_aj_fail_file(p);
        }
        return H_OK;
    case X_V4:
    case X_V6: {
        if (res->n_assoc >= CS_AWS_ASSOC_MAX)
            return REC_FAIL(p, 0, at, 1,
                            "more than %d CIDR block associations in one Vpc",
                            CS_AWS_ASSOC_MAX);
        if (cs_grow((void **)&res->assocs, &res->cap_assoc, res->n_assoc + 1,
                  sizeof *res->assocs, SIZE_MAX))
            return cs_aj_oom(p);
        assoc *a = &res->assocs[res->n_assoc++];
        memset(a, 0, sizeof *a);
        a->id = a->pool = a->raw = ASTR_NONE;
        a->at = *at;
        a->family = child == X_V4 ? CS_AF_V4 : CS_AF_V6;
        /* No CidrBlockState printed: unspecified, which the builder merges
         * with any other sighting and freezes as associated. */
        a->state = CS_ASSOC_UNSPECIFIED;
        return H_OK;
    }
    case X_TAG: {
        if (res->n_tag >= CS_AWS_TAG_MAX)
            return REC_FAIL(p, 0, at, 1, "more than %d tags in one %s",
                            CS_AWS_TAG_MAX, ctxs[p->st[p->item_sp].ctx].what);
        if (cs_grow((void **)&res->tags, &res->cap_tag, res->n_tag + 1,
                  sizeof *res->tags, SIZE_MAX))
            return cs_aj_oom(p);
        tag *t = &res->tags[res->n_tag++];
        t->key = t->value = ASTR_NONE;
        t->at = *at;
        return H_OK;
    }
    case X_SIDE_REQ:
    case X_SIDE_ACC:
        p->rec.sides[child == X_SIDE_ACC].present = true;
        return H_OK;
    default:
        return H_OK;
    }
}

/* Opens an object or array (vkind V_OBJ / V_ARR). */
static int open_container(aj *p, int vkind)
{
    p->saw_value = true;
    if (p->skip) {
        if (p->skip + (uint64_t)p->sp >= CS_AWS_JSON_DEPTH_MAX)
            return too_deep(p);
        p->skip++;
        return H_OK;
    }
    const keyspec *ks;
    int rc = slot(p, vkind, 1, &ks);
    if (rc != H_OK)
        return rc;
    frame *f = &p->st[p->sp];
    int child = -1;
    if (f->ctx == X_ROOT)
        child = vkind == V_OBJ ? X_TOP : X_ANY_LIST;
    else if (!ctxs[f->ctx].keys)
        child = ctxs[f->ctx].elem;
    else if (ks)
        child = ks->child;
    if (child <= 0) {
        p->skip = 1; /* an unknown key's (or an unread key's) subtree */
        return H_OK;
    }
    if (p->sp + 1 >= AJ_FRAMES)
        return too_deep(p);
    aj_pos at = cs_aj_locate(p, cs_aj_token_start(p, vkind, 0));
    frame *n = &p->st[++p->sp];
    n->ctx = (uint8_t)child;
    n->key = -1;
    n->seen = 0;
    n->open = at;
    return enter(p, child, &at);
}

static int cb_start_map(void *ctx)
{
    return open_container(ctx, V_OBJ);
}

static int cb_start_array(void *ctx)
{
    return open_container(ctx, V_ARR);
}

/* An element of a top-level array named a page key ("Vpcs", ...): it is a
 * page of a `jq -s` array, read as a top-level object from here on. */
static int item_is_page(aj *p, frame *f, const keyspec *ks, size_t len)
{
    if (p->rec.vpc_keys || p->rec.pcx_keys) {
        aj_pos at = cs_aj_locate(p, cs_aj_token_start(p, V_STR, len));
        cs_aj_error(p, &at, cs_aj_clamp_span(len + 2), CS_EPARSE,
                    "an element of the top-level array mixes record keys "
                    "and the page key \"%s\"", ks->name);
        return cs_aj_fail_file(p);
    }
    cs_aj_rec_reset(p);
    f->ctx = X_TOP;
    p->region = p->base_region;
    for (uint8_t i = 0; i < ctxs[X_TOP].nkeys; i++)
        if (ctxs[X_TOP].keys[i].key == ks->key) {
            f->seen = 1ull << i;
            f->key = (int8_t)i;
        }
    return H_OK;
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
    aj *p = ctx;
    if (p->skip)
        return H_OK;
    frame *f = &p->st[p->sp];
    const ctxspec *cs = &ctxs[f->ctx];
    f->key = -1;
    for (uint8_t i = 0; i < cs->nkeys; i++) {
        const keyspec *ks = &cs->keys[i];
        if (ks->len != len || memcmp(ks->name, s, len) != 0)
            continue;
        if (f->seen & (1ull << i)) {
            aj_pos at = cs_aj_locate(p, cs_aj_token_start(p, V_STR, len));
            cs_aj_error(p, &at, cs_aj_clamp_span(len + 2), CS_EPARSE,
                        "duplicate key \"%s\" in %s", ks->name, cs->what);
            return f->ctx == X_TOP ? cs_aj_fail_file(p) : fail_record(p, 0);
        }
        if (f->ctx == X_ITEM && ks->rk == R_PAGE)
            return item_is_page(p, f, ks, len);
        f->seen |= 1ull << i;
        f->key = (int8_t)i;
        if (f->ctx == X_ITEM) {
            /* A bare-array element learns its kind from its keys. */
            if (ks->rk == R_VPC)
                p->rec.vpc_keys++;
            else if (ks->rk == R_PCX)
                p->rec.pcx_keys++;
        }
        break;
    }
    return H_OK;
}

/* Checks the innermost object as it closes: H_OK (pop it), H_STOP, or
 * H_REJECTED (the stack was unwound already). */
static int close_object(aj *p)
{
    frame *f = &p->st[p->sp];
    aj_res *res = p->res;
    switch (f->ctx) {
    case X_TOP:
        if (!(f->seen & 3u) && p->foreign_ok) {
            /* A JSON file of a region directory that is not ours
             * (subnets.json): listed, never silently passed over. */
            cs_srcloc l = srcloc(p, &f->open);
            int rc = cs_ingest_add_finding(
                p->e, CS_FINDING_SKIPPED_FILE, &l,
                "skipped: not a VPC inventory (no \"Vpcs\" or "
                "\"VpcPeeringConnections\" key)");
            if (rc < 0) {
                cs_error_clear(&p->tmp);
                return builder_fail(p, rc);
            }
            return H_OK;
        }
        if (!(f->seen & 3u)) {
            cs_aj_error(p, &f->open, 1, CS_EPARSE,
                        "neither describe-vpcs nor describe-vpc-peering-"
                        "connections output: no \"Vpcs\" or "
                        "\"VpcPeeringConnections\" key");
            return cs_aj_fail_file(p);
        }
        return H_OK;
    case X_V4:
    case X_V6:
        if (!cur_assoc(p)->have_prefix)
            return REC_FAIL(p, -1, &cur_assoc(p)->at, 1,
                            "missing required key \"%s\" in %s",
                            f->ctx == X_V4 ? "CidrBlock" : "Ipv6CidrBlock",
                            ctxs[f->ctx].what);
        return H_OK;
    case X_TAG:
        if (res->tags[res->n_tag - 1].key.off == UINT32_MAX)
            return REC_FAIL(p, -1, &res->tags[res->n_tag - 1].at, 1,
                            "missing required key \"Key\" in Tag");
        return H_OK;
    case X_STATUS:
        if (!p->rec.have_status)
            return REC_FAIL(p, -1, &f->open, 1,
                            "missing required key \"Code\" in Status");
        return H_OK;
    case X_SIDE_REQ:
    case X_SIDE_ACC:
        if (p->rec.sides[f->ctx == X_SIDE_ACC].vpc.off == UINT32_MAX)
            return REC_FAIL(p, -1, &f->open, 1,
                            "missing required key \"VpcId\" in %s",
                            ctxs[f->ctx].what);
        return H_OK;
    case X_VPC:
    case X_PCX:
    case X_ITEM: {
        int kind = f->ctx;
        if (kind == X_ITEM) {
            if (p->rec.vpc_keys && p->rec.pcx_keys)
                return REC_FAIL(p, -1, &p->rec.at, 1,
                                "an element of the top-level array mixes Vpc "
                                "and VpcPeeringConnection keys");
            if (!p->rec.vpc_keys && !p->rec.pcx_keys)
                return REC_FAIL(p, -1, &p->rec.at, 1,
                                "an element of the top-level array is "
                                "neither a Vpc nor a VpcPeeringConnection "
                                "(no VpcId or VpcPeeringConnectionId)");
            kind = p->rec.pcx_keys ? X_PCX : X_VPC;
        }
        int rc = kind == X_VPC ? deliver_vpc(p) : deliver_pcx(p);
        if (rc == H_OK)
            cs_aj_rec_reset(p);
        return rc;
    }
    default:
        return H_OK;
    }
}

static int cb_end_map(void *ctx)
{
    aj *p = ctx;
    if (p->skip) {
        p->skip--;
        return H_OK;
    }
    int rc = close_object(p);
    if (rc == H_OK)
        p->sp--;
    return rc;
}

static int cb_end_array(void *ctx)
{
    aj *p = ctx;
    if (p->skip)
        p->skip--;
    else
        p->sp--;
    return H_OK;
}

const yajl_callbacks cs_aj_callbacks = {
    cb_null, cb_boolean, NULL, NULL, cb_number, cb_string,
    cb_start_map, cb_map_key, cb_end_map, cb_start_array, cb_end_array,
};
