/*
 * engine/build/estate.c — the estate builder: accounts, regions, VPCs, CIDR
 * associations, peering connections, edges, tags and findings, collected from
 * any number of sources, deduplicated by the rules of estate.h, and frozen
 * into a snapshot image.
 *
 * Does: validate and intern what ingest hands it (ids -> dense u32 through
 * engine/build/intern.c); merge duplicate sightings (same VPC from a shared-VPC
 * participant, the primary CidrBlock printed twice, a peering connection seen
 * from both sides); record conflicts with both locations; at freeze, sort
 * every table into a canonical order, run the estate-wide AWS checks, put the
 * live associations into the trie and hand the tables to engine/image/estate_image.c.
 * Does not: read files (engine/ingest/), answer queries (engine/query/query.c and
 * the read accessors in engine/image/estate_image.c), print anything.
 *
 * Structure (build side):
 *
 *   strbuf arena  <── every string, NUL-terminated, u32 offsets (becomes the
 *    ^                image's string section verbatim)
 *    | offsets
 *   intern tables: accounts, regions, vpcs, pcxs, assoc ids, misc (names,
 *    |              tags, pools, sources, kinds)     -- id = dense index
 *    v
 *   vpc_b[vpc id]   assoc_b[]   pcx_b[pcx id]   edge_b[]   tag_b[]   finding_b[]
 *                     ^  by association id: assoc_of_sid[sid]
 *                     |  by (VPC, prefix):  pmap (open addressing) + next_same
 *
 * Every array grows by doubling: no allocation per record.
 *
 * Invariants: a VPC's index is its id in the `vpcs` intern table; an
 * association's VPC exists; a state is UNSPECIFIED only until freeze; after
 * CS_ENOMEM `failed` is set and every call but _free returns CS_ESTATE.
 *
 * Freeze order (estate.h, "FROZEN ORDER") is computed with a stable merge
 * sort on index arrays, so the image does not depend on input order, and each
 * VPC's associations, edges and tags are contiguous ranges.
 *
 * AWS checks at freeze (live blocks of non-pseudo VPCs only), by the one
 * copy of AWS's block rules, engine/core/aws_rules.c (sources cited there):
 *   - block sizes (IPv4 /16../28; IPv6 /44../60 in steps of /4);
 *   - nothing inside 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4 (reserved-range
 *     finding) or 169.254.0.0/16 (link-local finding);
 *   - at most 5 live IPv4 blocks per VPC (the default quota);
 *   - secondary IPv4 blocks per the association-restriction table, its row
 *     chosen by the primary's range, the 10.0.0.0/15 clause by the VPC's
 *     other blocks; and a secondary may not overlap another block of the
 *     same VPC;
 *   - a peering side whose VPC is not in the inventory.
 *
 * Concurrency: a builder is used by one thread at a time; freeze only reads
 * it. Tests: tests/test_estate.c (rules, round trips, differential overlap
 * queries), tests/test_csv.c.
 */
#include <cidrscope/estate.h>

#include "core/error_internal.h"
#include "build/estate_internal.h"
#include "build/intern_internal.h"
#include "build/trie_internal.h"
#include "core/aws_rules_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

/* ---- names of enumerations ------------------------------------------------ */

static const char *const assoc_state_names[CS_ASSOC_STATE_COUNT] = {
    "unspecified", "associating", "associated", "disassociating",
    "disassociated", "failing", "failed", "unknown"};
static const char *const pcx_status_names[CS_PCX_STATUS_COUNT] = {
    "initiating-request", "pending-acceptance", "provisioning", "active",
    "deleting", "deleted", "rejected", "failed", "expired", "unknown"};
static const char *const edge_kind_names[CS_EDGE_KIND_COUNT] = {
    "internet-gateway", "nat", "vpn", "direct-connect", "gateway-endpoint"};
static const char *const vpc_state_names[CS_VPC_STATE_COUNT] = {
    "unspecified", "pending", "available"};
static const char *const ip_source_names[CS_IPSRC_COUNT] = {
    "unspecified", "amazon", "byoip", "none"};
static const char *const ipv6_attr_names[CS_IPV6ATTR_COUNT] = {
    "unspecified", "public", "private"};

static int parse_name(const char *const *names, unsigned n, unsigned first,
                      const char *s, size_t len)
{
    if (!s)
        return CS_EPARSE;
    for (unsigned i = first; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
            return (int)i;
    return CS_EPARSE;
}

const char *cs_assoc_state_name(unsigned st)
{
    return st < CS_ASSOC_STATE_COUNT ? assoc_state_names[st] : "?";
}

int cs_assoc_state_parse(const char *s, size_t len)
{
    /* "unknown" is what the reader makes of a state it does not know, never
     * a state to read. */
    return parse_name(assoc_state_names, CS_ASSOC_UNKNOWN, 1, s, len);
}

const char *cs_pcx_status_name(unsigned st)
{
    return st < CS_PCX_STATUS_COUNT ? pcx_status_names[st] : "?";
}

int cs_pcx_status_parse(const char *s, size_t len)
{
    return parse_name(pcx_status_names, CS_PCX_UNKNOWN, 0, s, len);
}

const char *cs_edge_kind_name(unsigned kind)
{
    return kind < CS_EDGE_KIND_COUNT ? edge_kind_names[kind] : "?";
}

int cs_edge_kind_parse(const char *s, size_t len)
{
    int k = parse_name(edge_kind_names, CS_EDGE_KIND_COUNT, 0, s, len);
    if (k >= 0)
        return k;
    /* The resource-id prefixes, as they appear in route tables. */
    static const struct { const char *p; int kind; } alias[] = {
        {"igw", CS_EDGE_INTERNET_GATEWAY}, {"nat", CS_EDGE_NAT},
        {"vgw", CS_EDGE_VPN}, {"vpn", CS_EDGE_VPN},
        {"dx", CS_EDGE_DIRECT_CONNECT}, {"dxgw", CS_EDGE_DIRECT_CONNECT},
        {"vpce", CS_EDGE_GATEWAY_ENDPOINT}};
    for (size_t i = 0; s && i < sizeof alias / sizeof *alias; i++)
        if (strlen(alias[i].p) == len && memcmp(alias[i].p, s, len) == 0)
            return alias[i].kind;
    return CS_EPARSE;
}

const char *cs_vpc_state_name(unsigned st)
{
    return st < CS_VPC_STATE_COUNT ? vpc_state_names[st] : "?";
}

int cs_vpc_state_parse(const char *s, size_t len)
{
    return parse_name(vpc_state_names, CS_VPC_STATE_COUNT, 1, s, len);
}

const char *cs_ip_source_name(unsigned src)
{
    return src < CS_IPSRC_COUNT ? ip_source_names[src] : "?";
}

int cs_ip_source_parse(const char *s, size_t len)
{
    return parse_name(ip_source_names, CS_IPSRC_COUNT, 1, s, len);
}

const char *cs_ipv6_attr_name(unsigned a)
{
    return a < CS_IPV6ATTR_COUNT ? ipv6_attr_names[a] : "?";
}

int cs_ipv6_attr_parse(const char *s, size_t len)
{
    return parse_name(ipv6_attr_names, CS_IPV6ATTR_COUNT, 1, s, len);
}

/* ---- builder records ------------------------------------------------------ */

typedef struct loc_b {
    uint64_t line;
    uint32_t src_off;      /* arena offset of the source name; 0 = "" */
    uint32_t column;
} loc_b;

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
    uint8_t pad;
    loc_b loc;
} vpc_b;

typedef struct assoc_b {
    uint64_t hi, lo;
    uint32_t vpc;
    uint32_t sid;          /* id in the assoc-id table, CS_INTERN_NONE */
    uint32_t pool_off;
    uint32_t next_same;    /* next association with the same (VPC, prefix) */
    uint8_t len, family, state, primary, ip_source, ipv6_attr;
    loc_b loc;
} assoc_b;

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
    assoc_b *assoc;
    uint32_t n_assoc, assoc_cap;
    uint32_t *assoc_of_sid;/* assoc-id table id -> association */
    uint32_t aos_cap;
    keymap pmap;           /* (VPC, prefix) -> first association */
    pcx_b *pcx;            /* by pcx id */
    uint32_t pcx_cap;
    edge_b *edge;
    uint32_t n_edge, edge_cap;
    keymap emap;           /* (VPC, kind, id) -> edge */
    tag_b *tag;
    uint32_t n_tag, tag_cap;
    finding_b *finding;
    uint32_t n_finding, finding_cap;
    uint32_t rejected;
    bool failed;
};

/* Grows *p (elements of `size` bytes, capacity *cap) to hold `need`. */
static int grow(void **p, uint32_t *cap, size_t size, uint64_t need)
{
    if (need <= *cap)
        return 0;
    if (need > UINT32_MAX - 1)
        return CS_ERANGE;
    uint64_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    if (c > UINT32_MAX - 1)
        c = UINT32_MAX - 1;
    void *q = realloc(*p, (size_t)c * size);
    if (!q)
        return CS_ENOMEM;
    *p = q;
    *cap = (uint32_t)c;
    return 0;
}

static int keymap_reserve(keymap *m)
{
    uint64_t nslots = m->slots ? (uint64_t)m->mask + 1 : 0;
    if ((uint64_t)(m->count + 1) * 2 <= nslots)
        return 0;
    uint64_t n = nslots ? nslots * 2 : 256;
    if (n > ((uint64_t)1 << 32))
        return CS_ERANGE;
    uint64_t *ns = calloc((size_t)n, sizeof *ns);
    if (!ns)
        return CS_ENOMEM;
    uint64_t mask = n - 1;
    for (uint64_t i = 0; i < nslots; i++) {
        uint64_t v = m->slots[i];
        if (!v)
            continue;
        uint64_t j = (v >> 32) & mask;
        while (ns[j])
            j = (j + 1) & mask;
        ns[j] = v;
    }
    free(m->slots);
    m->slots = ns;
    m->mask = (uint32_t)mask;
    return 0;
}

static uint32_t prefix_key_hash(uint32_t vpc, const cs_prefix *p)
{
    struct { uint64_t hi, lo; uint32_t vpc; uint8_t len, fam, pad[2]; } k;
    memset(&k, 0, sizeof k);
    k.hi = p->hi;
    k.lo = p->lo;
    k.vpc = vpc;
    k.len = p->len;
    k.fam = p->family;
    return (uint32_t)XXH3_64bits(&k, sizeof k);
}

static uint32_t edge_key_hash(uint32_t vpc, uint8_t kind, uint32_t ref)
{
    uint32_t k[3] = {vpc, kind, ref};
    return (uint32_t)XXH3_64bits(k, sizeof k);
}

/* ---- lifecycle ------------------------------------------------------------ */

cs_estate *cs_estate_new(void)
{
    cs_estate *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    if (cs_strbuf_init(&e->strs)) {
        free(e);
        return NULL;
    }
    cs_intern_init(&e->accounts, &e->strs);
    cs_intern_init(&e->regions, &e->strs);
    cs_intern_init(&e->vpcs, &e->strs);
    cs_intern_init(&e->pcxs, &e->strs);
    cs_intern_init(&e->assoc_ids, &e->strs);
    cs_intern_init(&e->misc, &e->strs);
    return e;
}

void cs_estate_free(cs_estate *e)
{
    if (!e)
        return;
    cs_intern_release(&e->accounts);
    cs_intern_release(&e->regions);
    cs_intern_release(&e->vpcs);
    cs_intern_release(&e->pcxs);
    cs_intern_release(&e->assoc_ids);
    cs_intern_release(&e->misc);
    cs_strbuf_release(&e->strs);
    free(e->acct_flags);
    free(e->vpc);
    free(e->assoc);
    free(e->assoc_of_sid);
    free(e->pmap.slots);
    free(e->pcx);
    free(e->edge);
    free(e->emap.slots);
    free(e->tag);
    free(e->finding);
    free(e);
}

/* ---- helpers -------------------------------------------------------------- */

/* Maps an allocation or capacity failure to the builder's state. */
/* Maps an allocation or capacity failure met midway through an add: the
 * estate may hold part of the record, so it refuses everything but _free
 * from now on (STYLE.md, "Errors"). */
static int fail_alloc(cs_estate *e, int rc, cs_error *err, const char *what)
{
    if (e)
        e->failed = true;
    if (rc == CS_ENOMEM)
        return cs_fail(err, CS_ENOMEM, "out of memory adding %s; the estate refuses further use",
                       what);
    return cs_fail(err, rc, "too many %s (or strings over 4 GiB); the estate refuses further use",
                   what);
}

static void locate(cs_error *err, const cs_srcloc *loc)
{
    if (err && loc)
        cs_error_locate(err, loc->source, loc->line, loc->column, 0, 0, NULL, 0);
}

static int check_str(cs_str s, const char *what, bool required, cs_error *err)
{
    if (s.len && !s.ptr)
        return cs_fail(err, CS_EINVAL, "%s: NULL pointer with length %zu", what, s.len);
    if (required && s.len == 0)
        return cs_fail(err, CS_EINVAL, "%s is missing", what);
    if (s.len > CS_ESTATE_STR_MAX)
        return cs_fail(err, CS_ERANGE, "%s is %zu bytes long (the limit is %u)", what, s.len,
                       CS_ESTATE_STR_MAX);
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c < 0x20 || c == 0x7f)
            return cs_fail(err, CS_EINVAL, "%s contains control byte 0x%02x at byte %zu", what,
                           c, i + 1);
    }
    return 0;
}

static bool is_account_id(cs_str s)
{
    if (s.len != 12)
        return false;
    for (size_t i = 0; i < 12; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
    return true;
}

/* Interns a string into the misc table; returns its id or a negative code. */
static int64_t misc_put(cs_estate *e, cs_str s)
{
    return cs_intern_put(&e->misc, s.ptr ? s.ptr : "", s.len, NULL);
}

static int64_t misc_off(cs_estate *e, cs_str s)
{
    int64_t id = misc_put(e, s);
    return id < 0 ? id : (int64_t)cs_intern_off(&e->misc, (uint32_t)id);
}

static int make_loc(cs_estate *e, const cs_srcloc *loc, loc_b *out)
{
    memset(out, 0, sizeof *out);
    if (!loc)
        return 0;
    out->line = loc->line;
    out->column = loc->column;
    if (loc->source && loc->source[0]) {
        size_t n = strnlen(loc->source, CS_ESTATE_STR_MAX);
        int64_t off = misc_off(e, (cs_str){loc->source, n});
        if (off < 0)
            return (int)off;
        out->src_off = (uint32_t)off;
    }
    return 0;
}

/* "file:line:col" of a stored location, for conflict messages. */
static void loc_text(const cs_estate *e, const loc_b *l, char *buf, size_t cap)
{
    const char *src = cs_strbuf_at(&e->strs, l->src_off);
    if (!src[0])
        src = "(unknown source)";
    if (l->line)
        snprintf(buf, cap, "%s:%llu:%u", src, (unsigned long long)l->line, l->column);
    else
        snprintf(buf, cap, "%s", src);
}

static void cur_loc_text(const cs_srcloc *loc, char *buf, size_t cap)
{
    const char *src = loc && loc->source && loc->source[0] ? loc->source : "(unknown source)";
    if (loc && loc->line)
        snprintf(buf, cap, "%s:%llu:%u", src, (unsigned long long)loc->line, loc->column);
    else
        snprintf(buf, cap, "%s", src);
}

/* The account `id`, interned now if new (its flags start at zero), with
 * `flags` added. */
static int account_get(cs_estate *e, cs_str id, uint8_t flags, uint32_t *out)
{
    *out = CS_IDX_NONE;
    uint32_t before = e->accounts.count;
    int64_t a = cs_intern_put(&e->accounts, id.ptr ? id.ptr : "", id.len, NULL);
    if (a < 0)
        return (int)a;
    int rc = grow((void **)&e->acct_flags, &e->acct_cap, 1, (uint64_t)a + 1);
    if (rc)
        return rc;
    if (e->accounts.count != before)
        e->acct_flags[a] = 0;
    e->acct_flags[a] |= flags;
    *out = (uint32_t)a;
    return 0;
}

static int region_get(cs_estate *e, cs_str r, uint32_t *out)
{
    *out = CS_IDX_NONE;
    int64_t id = cs_intern_put(&e->regions, r.ptr ? r.ptr : "", r.len, NULL);
    if (id < 0)
        return (int)id;
    *out = (uint32_t)id;
    return 0;
}

static int refuse(const cs_estate *e, cs_error *err)
{
    if (!e)
        return cs_fail(err, CS_EINVAL, "NULL estate");
    if (e->failed)
        return cs_fail(err, CS_ESTATE, "the estate failed earlier (out of memory); only "
                                       "cs_estate_free is allowed");
    return 0;
}

/* ---- VPCs ------------------------------------------------------------------ */

/* Copies the tags of `d` to VPC v (which has none yet). */
static int vpc_tags(cs_estate *e, uint32_t v, const cs_vpc_desc *d, cs_error *err)
{
    int rc = grow((void **)&e->tag, &e->tag_cap, sizeof *e->tag, (uint64_t)e->n_tag + d->tag_count);
    if (rc)
        return fail_alloc(e, rc, err, "tags");
    uint32_t first = e->n_tag;
    for (size_t i = 0; i < d->tag_count; i++) {
        int64_t k = misc_put(e, d->tags[i].key);
        if (k < 0)
            return fail_alloc(e, (int)k, err, "strings");
        int64_t val = misc_put(e, d->tags[i].value);
        if (val < 0)
            return fail_alloc(e, (int)val, err, "strings");
        e->tag[first + i] = (tag_b){v, (uint32_t)k, (uint32_t)val};
    }
    e->n_tag = first + (uint32_t)d->tag_count;
    e->vpc[v].tag_first = first;
    e->vpc[v].tag_count = (uint32_t)d->tag_count;
    return 0;
}

/* A second sighting of VPC v: CS_ECONFLICT naming both locations when a
 * field both sightings give differs; otherwise fills in what the first
 * sighting lacked (region, state, Name) and returns 0. */
static int vpc_merge(cs_estate *e, uint32_t v, const cs_vpc_desc *d, cs_str name,
                     const cs_srcloc *loc, cs_error *err)
{
    vpc_b *x = &e->vpc[v];
    bool pseudo = (d->flags & CS_VPC_PSEUDO) != 0;
    uint32_t owner = cs_intern_find(&e->accounts, d->owner.ptr, d->owner.len);
    uint32_t region = cs_intern_find(&e->regions, d->region.ptr ? d->region.ptr : "", d->region.len);
    const char *xregion = cs_intern_str(&e->regions, x->region);
    const char *xname = cs_strbuf_at(&e->strs, x->name_off);
    const char *field = NULL;
    char was[96], now[96];
    if (owner != x->account) {
        field = "owner";
        snprintf(was, sizeof was, "%s", cs_intern_str(&e->accounts, x->account));
        snprintf(now, sizeof now, "%.*s", (int)(d->owner.len > 90 ? 90 : d->owner.len),
                 d->owner.ptr);
    } else if (d->region.len && xregion[0] && region != x->region) {
        field = "region";
        snprintf(was, sizeof was, "%s", xregion);
        snprintf(now, sizeof now, "%.*s", (int)(d->region.len > 90 ? 90 : d->region.len),
                 d->region.ptr);
    } else if ((bool)d->is_default != (bool)x->is_default) {
        field = "IsDefault";
        snprintf(was, sizeof was, "%s", x->is_default ? "true" : "false");
        snprintf(now, sizeof now, "%s", d->is_default ? "true" : "false");
    } else if (d->state && x->state && d->state != x->state) {
        field = "state";
        snprintf(was, sizeof was, "%s", cs_vpc_state_name(x->state));
        snprintf(now, sizeof now, "%s", cs_vpc_state_name(d->state));
    } else if (name.len && xname[0] &&
               (strlen(xname) != name.len || memcmp(xname, name.ptr, name.len) != 0)) {
        field = "Name tag";
        snprintf(was, sizeof was, "%.90s", xname);
        snprintf(now, sizeof now, "%.*s", (int)(name.len > 90 ? 90 : name.len), name.ptr);
    } else if (pseudo != (bool)x->pseudo) {
        field = "kind";
        snprintf(was, sizeof was, "%s", x->pseudo ? "prefix-list owner" : "VPC");
        snprintf(now, sizeof now, "%s", pseudo ? "prefix-list owner" : "VPC");
    }
    if (field) {
        char l1[300], l2[300];
        loc_text(e, &x->loc, l1, sizeof l1);
        cur_loc_text(loc, l2, sizeof l2);
        cs_fail(err, CS_ECONFLICT, "VPC %.*s seen twice with a different %s: '%s' at %s, '%s' at %s",
                (int)(d->id.len > 64 ? 64 : d->id.len), d->id.ptr, field, was, l1, now, l2);
        locate(err, loc);
        return CS_ECONFLICT;
    }
    /* Decide before anything is interned: the arena may move. */
    bool need_region = !xregion[0] && d->region.len;
    bool need_name = !xname[0] && name.len;
    int rc;
    if (need_region) {
        uint32_t r;
        if ((rc = region_get(e, d->region, &r)))
            return fail_alloc(e, rc, err, "regions");
        e->vpc[v].region = r;
    }
    if (!e->vpc[v].state)
        e->vpc[v].state = d->state;
    if (need_name) {
        int64_t off = misc_off(e, name);
        if (off < 0)
            return fail_alloc(e, (int)off, err, "strings");
        e->vpc[v].name_off = (uint32_t)off;
    }
    return 0;
}

int cs_estate_add_vpc(cs_estate *e, const cs_vpc_desc *d, const cs_srcloc *loc,
                      cs_error *err)
{
    int rc = refuse(e, err);
    if (rc)
        return rc;
    if (!d)
        return cs_fail(err, CS_EINVAL, "NULL VPC descriptor");
    bool pseudo = (d->flags & CS_VPC_PSEUDO) != 0;
    if ((rc = check_str(d->id, "VPC id", true, err)) ||
        (rc = check_str(d->owner, "VPC owner", true, err)) ||
        (rc = check_str(d->region, "VPC region", false, err)) ||
        (rc = check_str(d->name, "VPC name", false, err))) {
        locate(err, loc);
        return rc;
    }
    if (!pseudo && !is_account_id(d->owner)) {
        cs_fail(err, CS_EINVAL, "VPC %.*s: owner '%.*s' is not a 12-digit account id",
                (int)d->id.len, d->id.ptr, (int)(d->owner.len > 64 ? 64 : d->owner.len),
                d->owner.ptr);
        locate(err, loc);
        return CS_EINVAL;
    }
    if (d->state >= CS_VPC_STATE_COUNT) {
        cs_fail(err, CS_EINVAL, "VPC %.*s: state %u out of range", (int)d->id.len, d->id.ptr,
                d->state);
        locate(err, loc);
        return CS_EINVAL;
    }
    if (d->tag_count && !d->tags) {
        cs_fail(err, CS_EINVAL, "VPC %.*s: NULL tags with count %zu", (int)d->id.len,
                d->id.ptr, d->tag_count);
        locate(err, loc);
        return CS_EINVAL;
    }
    cs_str name = d->name;
    for (size_t i = 0; i < d->tag_count; i++) {
        if ((rc = check_str(d->tags[i].key, "tag key", false, err)) ||
            (rc = check_str(d->tags[i].value, "tag value", false, err))) {
            locate(err, loc);
            return rc;
        }
        if (!name.len && d->tags[i].key.len == 4 && memcmp(d->tags[i].key.ptr, "Name", 4) == 0)
            name = d->tags[i].value;
    }

    /* An existing VPC: compare, merge the unknowns, or report a conflict. */
    uint32_t v = cs_intern_find(&e->vpcs, d->id.ptr, d->id.len);
    if (v != CS_INTERN_NONE) {
        rc = vpc_merge(e, v, d, name, loc, err);
        if (rc < 0)
            return rc;
        if (!e->vpc[v].tag_count && d->tag_count && (rc = vpc_tags(e, v, d, err)))
            return rc;
        return 1;
    }
    uint32_t acct, region;
    if ((rc = account_get(e, d->owner, (uint8_t)(ACCT_OWNS_VPC | (pseudo ? ACCT_PSEUDO : 0)),
                          &acct)))
        return fail_alloc(e, rc, err, "accounts");
    if ((rc = region_get(e, d->region, &region)))
        return fail_alloc(e, rc, err, "regions");
    int64_t name_off = misc_off(e, name);
    if (name_off < 0)
        return fail_alloc(e, (int)name_off, err, "strings");
    loc_b lb;
    if ((rc = make_loc(e, loc, &lb)))
        return fail_alloc(e, rc, err, "strings");
    if ((rc = grow((void **)&e->vpc, &e->vpc_cap, sizeof *e->vpc, (uint64_t)e->vpcs.count + 1)))
        return fail_alloc(e, rc, err, "VPCs");
    int64_t id = cs_intern_put(&e->vpcs, d->id.ptr, d->id.len, NULL);
    if (id < 0)
        return fail_alloc(e, (int)id, err, "VPCs");
    v = (uint32_t)id;
    vpc_b *x = &e->vpc[v];
    memset(x, 0, sizeof *x);
    x->account = acct;
    x->region = region;
    x->name_off = (uint32_t)name_off;
    x->state = d->state;
    x->is_default = d->is_default;
    x->pseudo = pseudo;
    x->loc = lb;
    if (d->tag_count && (rc = vpc_tags(e, v, d, err)))
        return rc;
    return 0;
}

/* ---- CIDR associations ------------------------------------------------------ */

static bool prefix_ok(const cs_prefix *p)
{
    if (p->family != CS_AF_V4 && p->family != CS_AF_V6)
        return false;
    if (p->len > cs_family_bits(p->family))
        return false;
    if (p->family == CS_AF_V4 && (p->lo || (p->hi & 0xffffffffull)))
        return false;
    return true;
}

static bool prefix_canonical(const cs_prefix *p)
{
    unsigned len = p->len;
    uint64_t mhi = len >= 64 ? ~0ull : len ? ~0ull << (64 - len) : 0;
    uint64_t mlo = len <= 64 ? 0 : len >= 128 ? ~0ull : ~0ull << (128 - len);
    return (p->hi & ~mhi) == 0 && (p->lo & ~mlo) == 0;
}

static void assoc_prefix(const assoc_b *a, cs_prefix *p)
{
    p->hi = a->hi;
    p->lo = a->lo;
    p->len = a->len;
    p->family = a->family;
}

/* The assoc-id table id of `id`, interned now if new (then mapped to no
 * association yet). */
static int sid_get(cs_estate *e, cs_str id, uint32_t *out)
{
    uint32_t before = e->assoc_ids.count;
    int64_t s = cs_intern_put(&e->assoc_ids, id.ptr, id.len, NULL);
    if (s < 0)
        return (int)s;
    int rc = grow((void **)&e->assoc_of_sid, &e->aos_cap, sizeof(uint32_t), e->assoc_ids.count);
    if (rc)
        return rc;
    if (e->assoc_ids.count != before)
        e->assoc_of_sid[s] = CS_IDX_NONE;
    *out = (uint32_t)s;
    return 0;
}

/* Merges sighting `d` into association a (same association). Returns 1, or
 * CS_ECONFLICT when both give a state and the states differ. */
static int assoc_merge(cs_estate *e, uint32_t a, const cs_cidr_desc *d, uint32_t sid,
                       const cs_srcloc *loc, cs_error *err)
{
    assoc_b *x = &e->assoc[a];
    char pbuf[CS_PREFIX_STRCAP];
    if (d->state && x->state && d->state != x->state) {
        char l1[300], l2[300];
        cs_prefix p;
        assoc_prefix(x, &p);
        cs_prefix_format(&p, pbuf, sizeof pbuf);
        loc_text(e, &x->loc, l1, sizeof l1);
        cur_loc_text(loc, l2, sizeof l2);
        cs_fail(err, CS_ECONFLICT,
                "CIDR %s of VPC %s seen twice with a different state: '%s' at %s, '%s' at %s",
                pbuf, cs_intern_str(&e->vpcs, x->vpc), cs_assoc_state_name(x->state), l1,
                cs_assoc_state_name(d->state), l2);
        locate(err, loc);
        return CS_ECONFLICT;
    }
    if (!x->state)
        x->state = d->state;
    if (d->primary)
        x->primary = 1;
    if (!x->ip_source)
        x->ip_source = d->ip_source;
    if (!x->ipv6_attr)
        x->ipv6_attr = d->ipv6_attr;
    if (!x->pool_off && d->pool.len) {
        int64_t off = misc_off(e, d->pool);
        if (off < 0)
            return fail_alloc(e, (int)off, err, "strings");
        e->assoc[a].pool_off = (uint32_t)off;
    }
    if (x->sid == CS_INTERN_NONE && sid != CS_INTERN_NONE) {
        x->sid = sid;
        e->assoc_of_sid[sid] = a;
    }
    return 1;
}

int cs_estate_add_cidr(cs_estate *e, const cs_cidr_desc *d, const cs_srcloc *loc,
                       cs_error *err)
{
    int rc = refuse(e, err);
    if (rc)
        return rc;
    if (!d)
        return cs_fail(err, CS_EINVAL, "NULL CIDR descriptor");
    if ((rc = check_str(d->vpc_id, "VPC id of a CIDR", true, err)) ||
        (rc = check_str(d->association_id, "association id", false, err)) ||
        (rc = check_str(d->pool, "IPv6 pool", false, err))) {
        locate(err, loc);
        return rc;
    }
    const cs_prefix *p = &d->prefix;
    if (!prefix_ok(p)) {
        cs_fail(err, CS_EINVAL, "CIDR of VPC %.*s: bad family %u or length %u",
                (int)(d->vpc_id.len > 64 ? 64 : d->vpc_id.len), d->vpc_id.ptr, p->family, p->len);
        locate(err, loc);
        return CS_EINVAL;
    }
    char pbuf[CS_PREFIX_STRCAP];
    if (!prefix_canonical(p)) {
        cs_prefix c = p->family == CS_AF_V4 ? cs_prefix_from_v4((uint32_t)(p->hi >> 32), p->len)
                                            : cs_prefix_from_v6(p->hi, p->lo, p->len);
        char cbuf[CS_PREFIX_STRCAP];
        cs_prefix_format(&c, cbuf, sizeof cbuf);
        cs_address_format(p, pbuf, sizeof pbuf);
        cs_fail(err, CS_EINVAL, "CIDR %s/%u has host bits set (did you mean %s?)", pbuf, p->len,
                cbuf);
        locate(err, loc);
        return CS_EINVAL;
    }
    if (d->state >= CS_ASSOC_STATE_COUNT || d->ip_source >= CS_IPSRC_COUNT ||
        d->ipv6_attr >= CS_IPV6ATTR_COUNT) {
        cs_fail(err, CS_EINVAL, "CIDR of VPC %.*s: state, IpSource or address attribute out of range",
                (int)(d->vpc_id.len > 64 ? 64 : d->vpc_id.len), d->vpc_id.ptr);
        locate(err, loc);
        return CS_EINVAL;
    }
    uint32_t v = cs_intern_find(&e->vpcs, d->vpc_id.ptr, d->vpc_id.len);
    if (v == CS_INTERN_NONE) {
        cs_prefix_format(p, pbuf, sizeof pbuf);
        cs_fail(err, CS_ENOTFOUND, "CIDR %s names VPC %.*s, which has not been read", pbuf,
                (int)(d->vpc_id.len > 64 ? 64 : d->vpc_id.len), d->vpc_id.ptr);
        locate(err, loc);
        return CS_ENOTFOUND;
    }

    /* 1. By association id. */
    uint32_t sid = CS_INTERN_NONE;
    if (d->association_id.len) {
        sid = cs_intern_find(&e->assoc_ids, d->association_id.ptr, d->association_id.len);
        if (sid != CS_INTERN_NONE && e->assoc_of_sid[sid] != CS_IDX_NONE) {
            uint32_t a = e->assoc_of_sid[sid];
            assoc_b *x = &e->assoc[a];
            cs_prefix xp;
            assoc_prefix(x, &xp);
            if (x->vpc != v || cs_prefix_compare(&xp, p) != 0) {
                char l1[300], l2[300], xb[CS_PREFIX_STRCAP];
                cs_prefix_format(&xp, xb, sizeof xb);
                cs_prefix_format(p, pbuf, sizeof pbuf);
                loc_text(e, &x->loc, l1, sizeof l1);
                cur_loc_text(loc, l2, sizeof l2);
                cs_fail(err, CS_ECONFLICT,
                        "association %.*s seen twice with different content: %s of %s at %s, "
                        "%s of %.*s at %s",
                        (int)(d->association_id.len > 64 ? 64 : d->association_id.len),
                        d->association_id.ptr, xb, cs_intern_str(&e->vpcs, x->vpc), l1, pbuf,
                        (int)(d->vpc_id.len > 64 ? 64 : d->vpc_id.len), d->vpc_id.ptr, l2);
                locate(err, loc);
                return CS_ECONFLICT;
            }
            return assoc_merge(e, a, d, sid, loc, err);
        }
    }

    /* 2. By (VPC, prefix), when one of the two sightings has no id. */
    if ((rc = keymap_reserve(&e->pmap)))
        return fail_alloc(e, rc, err, "associations");
    uint32_t h = prefix_key_hash(v, p);
    uint64_t j = h & e->pmap.mask;
    uint32_t head = CS_IDX_NONE;
    for (; e->pmap.slots[j]; j = (j + 1) & e->pmap.mask) {
        uint64_t s = e->pmap.slots[j];
        if ((uint32_t)(s >> 32) != h)
            continue;
        const assoc_b *x = &e->assoc[(uint32_t)s - 1];
        cs_prefix xp;
        assoc_prefix(x, &xp);
        if (x->vpc == v && cs_prefix_compare(&xp, p) == 0) {
            head = (uint32_t)s - 1;
            break;
        }
    }
    if (head != CS_IDX_NONE) {
        uint32_t target = CS_IDX_NONE, first_live = CS_IDX_NONE;
        for (uint32_t c = head; c != CS_IDX_NONE; c = e->assoc[c].next_same) {
            if (d->association_id.len) {
                if (e->assoc[c].sid == CS_INTERN_NONE) {
                    target = c;
                    break;
                }
            } else {
                if (target == CS_IDX_NONE)
                    target = c;
                if (first_live == CS_IDX_NONE && cs_assoc_state_live(e->assoc[c].state))
                    first_live = c;
            }
        }
        if (!d->association_id.len && first_live != CS_IDX_NONE)
            target = first_live;
        if (target != CS_IDX_NONE) {
            if (d->association_id.len && (rc = sid_get(e, d->association_id, &sid)))
                return fail_alloc(e, rc, err, "association ids");
            return assoc_merge(e, target, d, sid, loc, err);
        }
    }

    /* 3. A new association. */
    loc_b lb;
    if ((rc = make_loc(e, loc, &lb)))
        return fail_alloc(e, rc, err, "strings");
    int64_t pool_off = misc_off(e, d->pool);
    if (pool_off < 0)
        return fail_alloc(e, (int)pool_off, err, "strings");
    if ((rc = grow((void **)&e->assoc, &e->assoc_cap, sizeof *e->assoc, (uint64_t)e->n_assoc + 1)))
        return fail_alloc(e, rc, err, "associations");
    if (d->association_id.len && (rc = sid_get(e, d->association_id, &sid)))
        return fail_alloc(e, rc, err, "association ids");
    uint32_t a = e->n_assoc++;
    assoc_b *x = &e->assoc[a];
    memset(x, 0, sizeof *x);
    x->hi = p->hi;
    x->lo = p->lo;
    x->len = p->len;
    x->family = p->family;
    x->vpc = v;
    x->sid = sid;
    x->pool_off = (uint32_t)pool_off;
    x->state = d->state;
    x->primary = d->primary;
    x->ip_source = d->ip_source;
    x->ipv6_attr = d->ipv6_attr;
    x->loc = lb;
    x->next_same = CS_IDX_NONE;
    if (sid != CS_INTERN_NONE)
        e->assoc_of_sid[sid] = a;
    if (head == CS_IDX_NONE) {
        e->pmap.slots[j] = ((uint64_t)h << 32) | ((uint64_t)a + 1);
        e->pmap.count++;
    } else {
        x->next_same = e->assoc[head].next_same;
        e->assoc[head].next_same = a;
    }
    return 0;
}

/* ---- peering connections -------------------------------------------------- */

static int check_side(const cs_peering_side *s, const char *which, cs_error *err)
{
    char what[48];
    int rc;
    snprintf(what, sizeof what, "%s VPC id", which);
    if ((rc = check_str(s->vpc_id, what, true, err)))
        return rc;
    snprintf(what, sizeof what, "%s owner", which);
    if ((rc = check_str(s->owner, what, false, err)))
        return rc;
    if (s->owner.len && !is_account_id(s->owner))
        return cs_fail(err, CS_EINVAL, "%s owner '%.*s' is not a 12-digit account id", which,
                       (int)(s->owner.len > 64 ? 64 : s->owner.len), s->owner.ptr);
    snprintf(what, sizeof what, "%s region", which);
    if ((rc = check_str(s->region, what, false, err)))
        return rc;
    if (s->allow_dns > CS_TRI_TRUE)
        return cs_fail(err, CS_EINVAL, "%s DNS option %u out of range", which, s->allow_dns);
    return 0;
}

static bool side_str_eq(const cs_intern *t, uint32_t id, cs_str s)
{
    return id != CS_IDX_NONE && cs_intern_len(t, id) == s.len &&
           memcmp(cs_intern_str(t, id), s.ptr, s.len) == 0;
}

int cs_estate_add_peering(cs_estate *e, const cs_peering_desc *d, const cs_srcloc *loc,
                          cs_error *err)
{
    int rc = refuse(e, err);
    if (rc)
        return rc;
    if (!d)
        return cs_fail(err, CS_EINVAL, "NULL peering descriptor");
    if ((rc = check_str(d->id, "peering connection id", true, err)) ||
        (rc = check_side(&d->requester, "requester", err)) ||
        (rc = check_side(&d->accepter, "accepter", err))) {
        locate(err, loc);
        return rc;
    }
    if (d->status >= CS_PCX_STATUS_COUNT) {
        cs_fail(err, CS_EINVAL, "peering connection %.*s: status %u out of range",
                (int)(d->id.len > 64 ? 64 : d->id.len), d->id.ptr, d->status);
        locate(err, loc);
        return CS_EINVAL;
    }
    const cs_peering_side *in[2] = {&d->requester, &d->accepter};
    static const char *const side_name[2] = {"requester", "accepter"};
    uint32_t x = cs_intern_find(&e->pcxs, d->id.ptr, d->id.len);
    if (x != CS_INTERN_NONE) {
        pcx_b *c = &e->pcx[x];
        for (int k = 0; k < 2; k++) {
            const side_b *s = &c->side[k];
            const char *field = NULL, *was = NULL;
            cs_str now = {0};
            if (!side_str_eq(&e->misc, s->vpc_ref, in[k]->vpc_id)) {
                field = "VPC";
                was = cs_intern_str(&e->misc, s->vpc_ref);
                now = in[k]->vpc_id;
            } else if (in[k]->owner.len && s->account != CS_IDX_NONE &&
                       !side_str_eq(&e->accounts, s->account, in[k]->owner)) {
                field = "owner";
                was = cs_intern_str(&e->accounts, s->account);
                now = in[k]->owner;
            } else if (in[k]->region.len && s->region != CS_IDX_NONE &&
                       !side_str_eq(&e->regions, s->region, in[k]->region)) {
                field = "region";
                was = cs_intern_str(&e->regions, s->region);
                now = in[k]->region;
            }
            if (field) {
                char l1[300], l2[300];
                loc_text(e, &c->loc, l1, sizeof l1);
                cur_loc_text(loc, l2, sizeof l2);
                cs_fail(err, CS_ECONFLICT,
                        "peering connection %.*s seen twice with a different %s %s: '%.64s' at "
                        "%s, '%.*s' at %s",
                        (int)(d->id.len > 64 ? 64 : d->id.len), d->id.ptr, side_name[k], field,
                        was, l1, (int)(now.len > 64 ? 64 : now.len), now.ptr, l2);
                locate(err, loc);
                return CS_ECONFLICT;
            }
        }
        /* One connection: fill in what the first sighting did not give. */
        for (int k = 0; k < 2; k++) {
            if (e->pcx[x].side[k].account == CS_IDX_NONE && in[k]->owner.len) {
                uint32_t a;
                if ((rc = account_get(e, in[k]->owner, 0, &a)))
                    return fail_alloc(e, rc, err, "accounts");
                e->pcx[x].side[k].account = a;
            }
            if (e->pcx[x].side[k].region == CS_IDX_NONE && in[k]->region.len) {
                uint32_t r;
                if ((rc = region_get(e, in[k]->region, &r)))
                    return fail_alloc(e, rc, err, "regions");
                e->pcx[x].side[k].region = r;
            }
            if (!e->pcx[x].side[k].dns)
                e->pcx[x].side[k].dns = in[k]->allow_dns;
        }
        if (d->status != e->pcx[x].status) {
            char l1[300], l2[300], msg[800];
            loc_text(e, &e->pcx[x].loc, l1, sizeof l1);
            cur_loc_text(loc, l2, sizeof l2);
            snprintf(msg, sizeof msg,
                     "peering connection %.*s has status '%s' at %s but '%s' at %s; keeping '%s'",
                     (int)(d->id.len > 64 ? 64 : d->id.len), d->id.ptr,
                     cs_pcx_status_name(e->pcx[x].status), l1, cs_pcx_status_name(d->status), l2,
                     cs_pcx_status_name(e->pcx[x].status));
            if ((rc = cs_estate_add_finding(e, CS_FINDING_PCX_STATUS, loc, msg)))
                return fail_alloc(e, rc, err, "findings");
        }
        return 1;
    }
    pcx_b c;
    memset(&c, 0, sizeof c);
    c.status = d->status;
    for (int k = 0; k < 2; k++) {
        int64_t ref = misc_put(e, in[k]->vpc_id);
        if (ref < 0)
            return fail_alloc(e, (int)ref, err, "strings");
        c.side[k].vpc_ref = (uint32_t)ref;
        c.side[k].account = CS_IDX_NONE;
        c.side[k].region = CS_IDX_NONE;
        c.side[k].dns = in[k]->allow_dns;
        if (in[k]->owner.len && (rc = account_get(e, in[k]->owner, 0, &c.side[k].account)))
            return fail_alloc(e, rc, err, "accounts");
        if (in[k]->region.len && (rc = region_get(e, in[k]->region, &c.side[k].region)))
            return fail_alloc(e, rc, err, "regions");
    }
    if ((rc = make_loc(e, loc, &c.loc)))
        return fail_alloc(e, rc, err, "strings");
    if ((rc = grow((void **)&e->pcx, &e->pcx_cap, sizeof *e->pcx, (uint64_t)e->pcxs.count + 1)))
        return fail_alloc(e, rc, err, "peering connections");
    int64_t id = cs_intern_put(&e->pcxs, d->id.ptr, d->id.len, NULL);
    if (id < 0)
        return fail_alloc(e, (int)id, err, "peering connections");
    e->pcx[id] = c;
    return 0;
}

/* ---- edges, scopes, findings -------------------------------------------------- */

int cs_estate_add_edge(cs_estate *e, const cs_edge_desc *d, const cs_srcloc *loc,
                       cs_error *err)
{
    int rc = refuse(e, err);
    if (rc)
        return rc;
    if (!d)
        return cs_fail(err, CS_EINVAL, "NULL edge descriptor");
    if ((rc = check_str(d->vpc_id, "VPC id of an edge", true, err)) ||
        (rc = check_str(d->id, "edge id", true, err))) {
        locate(err, loc);
        return rc;
    }
    if (d->kind >= CS_EDGE_KIND_COUNT) {
        cs_fail(err, CS_EINVAL, "edge %.*s: kind %u out of range",
                (int)(d->id.len > 64 ? 64 : d->id.len), d->id.ptr, d->kind);
        locate(err, loc);
        return CS_EINVAL;
    }
    uint32_t v = cs_intern_find(&e->vpcs, d->vpc_id.ptr, d->vpc_id.len);
    if (v == CS_INTERN_NONE) {
        cs_fail(err, CS_ENOTFOUND, "edge %.*s names VPC %.*s, which has not been read",
                (int)(d->id.len > 64 ? 64 : d->id.len), d->id.ptr,
                (int)(d->vpc_id.len > 64 ? 64 : d->vpc_id.len), d->vpc_id.ptr);
        locate(err, loc);
        return CS_ENOTFOUND;
    }
    int64_t ref = misc_put(e, d->id);
    if (ref < 0)
        return fail_alloc(e, (int)ref, err, "strings");
    if ((rc = keymap_reserve(&e->emap)))
        return fail_alloc(e, rc, err, "edges");
    uint32_t h = edge_key_hash(v, d->kind, (uint32_t)ref);
    uint64_t j = h & e->emap.mask;
    for (; e->emap.slots[j]; j = (j + 1) & e->emap.mask) {
        uint64_t s = e->emap.slots[j];
        const edge_b *x = &e->edge[(uint32_t)s - 1];
        if ((uint32_t)(s >> 32) == h && x->vpc == v && x->kind == d->kind &&
            x->ref == (uint32_t)ref)
            return 1;
    }
    loc_b lb;
    if ((rc = make_loc(e, loc, &lb)))
        return fail_alloc(e, rc, err, "strings");
    if ((rc = grow((void **)&e->edge, &e->edge_cap, sizeof *e->edge, (uint64_t)e->n_edge + 1)))
        return fail_alloc(e, rc, err, "edges");
    uint32_t a = e->n_edge++;
    e->edge[a] = (edge_b){.vpc = v, .ref = (uint32_t)ref, .kind = d->kind, .loc = lb};
    e->emap.slots[j] = ((uint64_t)h << 32) | ((uint64_t)a + 1);
    e->emap.count++;
    return 0;
}

int cs_estate_add_scope(cs_estate *e, cs_str account, cs_str region, cs_error *err)
{
    int rc = refuse(e, err);
    if (rc)
        return rc;
    if ((rc = check_str(account, "account", false, err)) ||
        (rc = check_str(region, "region", false, err)))
        return rc;
    if (account.len && !is_account_id(account))
        return cs_fail(err, CS_EINVAL, "account '%.*s' is not a 12-digit account id",
                       (int)(account.len > 64 ? 64 : account.len), account.ptr);
    uint32_t idx;
    if (account.len && (rc = account_get(e, account, ACCT_REGISTERED, &idx)))
        return fail_alloc(e, rc, err, "accounts");
    if (region.len && (rc = region_get(e, region, &idx)))
        return fail_alloc(e, rc, err, "regions");
    return 0;
}

int cs_estate_add_finding(cs_estate *e, const char *kind, const cs_srcloc *loc,
                          const char *message)
{
    int rc = refuse(e, NULL);
    if (rc)
        return rc;
    if (!kind || !kind[0])
        return CS_EINVAL;
    if (!message)
        message = "";
    finding_b f;
    memset(&f, 0, sizeof f);
    f.vpc = CS_IDX_NONE;
    int64_t k = misc_off(e, (cs_str){kind, strnlen(kind, CS_ESTATE_STR_MAX)});
    if (k < 0)
        return fail_alloc(e, (int)k, NULL, "strings");
    f.kind_off = (uint32_t)k;
    if ((rc = cs_strbuf_add(&e->strs, message, strnlen(message, CS_ESTATE_STR_MAX), &f.msg_off)))
        return fail_alloc(e, rc, NULL, "strings");
    if ((rc = make_loc(e, loc, &f.loc)))
        return fail_alloc(e, rc, NULL, "strings");
    if ((rc = grow((void **)&e->finding, &e->finding_cap, sizeof *e->finding,
                   (uint64_t)e->n_finding + 1)))
        return fail_alloc(e, rc, NULL, "findings");
    e->finding[e->n_finding++] = f;
    return 0;
}

int cs_estate_reject(cs_estate *e, const cs_error *rejected)
{
    int rc = refuse(e, NULL);
    if (rc)
        return rc;
    if (!rejected)
        return CS_EINVAL;
    cs_srcloc loc = {rejected->source, rejected->line, rejected->column};
    char msg[CS_ERROR_MSG_CAP + 64];
    snprintf(msg, sizeof msg, "%s", rejected->message[0] ? rejected->message
                                                         : cs_strerror(rejected->code));
    if ((rc = cs_estate_add_finding(e, CS_FINDING_REJECTED, &loc, msg)))
        return rc;
    e->rejected++;
    return 0;
}

void cs_estate_build_counts(const cs_estate *e, cs_estate_counts *out)
{
    memset(out, 0, sizeof *out);
    if (!e)
        return;
    out->accounts = e->accounts.count;
    out->regions = e->regions.count;
    out->vpcs = e->vpcs.count;
    for (uint32_t v = 0; v < e->vpcs.count; v++) {
        out->default_vpcs += e->vpc[v].is_default;
        out->pseudo_vpcs += e->vpc[v].pseudo;
    }
    out->assocs = e->n_assoc;
    for (uint32_t a = 0; a < e->n_assoc; a++) {
        unsigned f = cs_family_index(e->assoc[a].family);
        if (cs_assoc_state_live(e->assoc[a].state))
            out->live[f]++;
        else
            out->dead[f]++;
    }
    out->peerings = e->pcxs.count;
    out->edges = e->n_edge;
    out->tags = e->n_tag;
    out->findings = e->n_finding;
    out->rejected = e->rejected;
}

int cs_estate_build_finding(const cs_estate *e, uint32_t i, cs_finding *out)
{
    if (!e || !out || i >= e->n_finding)
        return CS_ERANGE;
    const finding_b *f = &e->finding[i];
    out->kind = cs_strbuf_at(&e->strs, f->kind_off);
    out->message = cs_strbuf_at(&e->strs, f->msg_off);
    out->source = cs_strbuf_at(&e->strs, f->loc.src_off);
    out->line = f->loc.line;
    out->column = f->loc.column;
    out->vpc_idx = CS_IDX_NONE;
    return 0;
}

/* ---- freeze: canonical order ---------------------------------------------- */

typedef int (*cmp_fn)(const void *ctx, uint32_t a, uint32_t b);

/* Stable bottom-up merge sort of idx[0..n) under cmp (insertion-sorted runs
 * of 16 first). O(n log n); `tmp` holds n elements. */
static void sort_idx(uint32_t *idx, uint32_t *tmp, uint32_t n, cmp_fn cmp, const void *ctx)
{
    const uint32_t run = 16;
    for (uint32_t lo = 0; lo < n; lo += run) {
        uint32_t hi = lo + run < n ? lo + run : n;
        for (uint32_t i = lo + 1; i < hi; i++) {
            uint32_t x = idx[i], j = i;
            while (j > lo && cmp(ctx, idx[j - 1], x) > 0) {
                idx[j] = idx[j - 1];
                j--;
            }
            idx[j] = x;
        }
    }
    uint32_t *src = idx, *dst = tmp;
    for (uint64_t w = run; w < n; w *= 2) {
        for (uint64_t lo = 0; lo < n; lo += 2 * w) {
            uint64_t mid = lo + w < n ? lo + w : n;
            uint64_t hi = lo + 2 * w < n ? lo + 2 * w : n;
            uint64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = cmp(ctx, src[j], src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != idx)
        memcpy(idx, src, (size_t)n * sizeof *idx);
}

typedef struct order_ctx {
    const cs_estate *e;
    const uint32_t *acct_new, *reg_new, *vpc_new;
} order_ctx;

static int cmp_u32v(uint32_t a, uint32_t b)
{
    return (a > b) - (a < b);
}

static int cmp_account(const void *c, uint32_t a, uint32_t b)
{
    const cs_estate *e = ((const order_ctx *)c)->e;
    return strcmp(cs_intern_str(&e->accounts, a), cs_intern_str(&e->accounts, b));
}

static int cmp_region(const void *c, uint32_t a, uint32_t b)
{
    const cs_estate *e = ((const order_ctx *)c)->e;
    return strcmp(cs_intern_str(&e->regions, a), cs_intern_str(&e->regions, b));
}

static int cmp_vpc(const void *c, uint32_t a, uint32_t b)
{
    const order_ctx *o = c;
    const vpc_b *x = &o->e->vpc[a], *y = &o->e->vpc[b];
    int r = cmp_u32v(o->acct_new[x->account], o->acct_new[y->account]);
    if (!r)
        r = cmp_u32v(o->reg_new[x->region], o->reg_new[y->region]);
    return r ? r : strcmp(cs_intern_str(&o->e->vpcs, a), cs_intern_str(&o->e->vpcs, b));
}

static const char *assoc_id_str(const cs_estate *e, const assoc_b *x)
{
    return x->sid == CS_INTERN_NONE ? "" : cs_intern_str(&e->assoc_ids, x->sid);
}

static int cmp_assoc(const void *c, uint32_t a, uint32_t b)
{
    const order_ctx *o = c;
    const assoc_b *x = &o->e->assoc[a], *y = &o->e->assoc[b];
    int r = cmp_u32v(o->vpc_new[x->vpc], o->vpc_new[y->vpc]);
    if (!r)
        r = cmp_u32v(x->family, y->family);
    if (!r)
        r = cmp_u32v(!x->primary, !y->primary);
    if (!r)
        r = x->hi != y->hi ? (x->hi < y->hi ? -1 : 1) : x->lo != y->lo ? (x->lo < y->lo ? -1 : 1) : 0;
    if (!r)
        r = cmp_u32v(x->len, y->len);
    return r ? r : strcmp(assoc_id_str(o->e, x), assoc_id_str(o->e, y));
}

static int cmp_pcx(const void *c, uint32_t a, uint32_t b)
{
    const cs_estate *e = ((const order_ctx *)c)->e;
    return strcmp(cs_intern_str(&e->pcxs, a), cs_intern_str(&e->pcxs, b));
}

static int cmp_edge(const void *c, uint32_t a, uint32_t b)
{
    const order_ctx *o = c;
    const edge_b *x = &o->e->edge[a], *y = &o->e->edge[b];
    int r = cmp_u32v(o->vpc_new[x->vpc], o->vpc_new[y->vpc]);
    if (!r)
        r = cmp_u32v(x->kind, y->kind);
    return r ? r : strcmp(cs_intern_str(&o->e->misc, x->ref), cs_intern_str(&o->e->misc, y->ref));
}

static int cmp_tag(const void *c, uint32_t a, uint32_t b)
{
    const order_ctx *o = c;
    const tag_b *x = &o->e->tag[a], *y = &o->e->tag[b];
    int r = cmp_u32v(o->vpc_new[x->vpc], o->vpc_new[y->vpc]);
    return r ? r : strcmp(cs_intern_str(&o->e->misc, x->key), cs_intern_str(&o->e->misc, y->key));
}

/* A record's group key for the linear-time passes below. */
typedef uint64_t (*key_fn)(const void *ctx, uint32_t i);

/* Stable counting sort of ord[0..n) by key(ord[i]) (< nb). O(n + nb). */
static int bucket_sort(uint32_t *ord, uint32_t *tmp, uint32_t n, uint32_t nb, key_fn key,
                       const void *ctx)
{
    uint32_t *cnt = calloc((size_t)nb + 1, sizeof *cnt);
    if (!cnt)
        return CS_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        cnt[(uint32_t)key(ctx, ord[i]) + 1]++;
    for (uint32_t b = 0; b < nb; b++)
        cnt[b + 1] += cnt[b];
    for (uint32_t i = 0; i < n; i++)
        tmp[cnt[(uint32_t)key(ctx, ord[i])]++] = ord[i];
    memcpy(ord, tmp, (size_t)n * sizeof *ord);
    free(cnt);
    return 0;
}

/* Sorts each run of equal key(.) in ord[0..n) under cmp: after a bucket
 * sort by the major key, only the (small) groups need comparisons. */
static void sort_runs(uint32_t *ord, uint32_t *tmp, uint32_t n, key_fn key, cmp_fn cmp,
                      const void *ctx)
{
    for (uint32_t i = 0; i < n;) {
        uint64_t k = key(ctx, ord[i]);
        uint32_t j = i + 1;
        while (j < n && key(ctx, ord[j]) == k)
            j++;
        if (j - i > 1)
            sort_idx(ord + i, tmp, j - i, cmp, ctx);
        i = j;
    }
}

static uint64_t key_vpc_region(const void *c, uint32_t v)
{
    const order_ctx *o = c;
    return o->reg_new[o->e->vpc[v].region];
}

static uint64_t key_vpc_account(const void *c, uint32_t v)
{
    const order_ctx *o = c;
    return o->acct_new[o->e->vpc[v].account];
}

static uint64_t key_vpc_group(const void *c, uint32_t v)
{
    const order_ctx *o = c;
    return (uint64_t)o->acct_new[o->e->vpc[v].account] << 32 | o->reg_new[o->e->vpc[v].region];
}

static uint64_t key_assoc_vpc(const void *c, uint32_t a)
{
    const order_ctx *o = c;
    return o->vpc_new[o->e->assoc[a].vpc];
}

static uint64_t key_edge_vpc(const void *c, uint32_t a)
{
    const order_ctx *o = c;
    return o->vpc_new[o->e->edge[a].vpc];
}

static uint64_t key_tag_vpc(const void *c, uint32_t a)
{
    const order_ctx *o = c;
    return o->vpc_new[o->e->tag[a].vpc];
}

/* Orders ord (identity on entry) by a major key in [0, nb) with a bucket
 * sort, then each group under cmp. */
static int group_order(uint32_t n, uint32_t nb, key_fn major, key_fn group, cmp_fn cmp,
                       const order_ctx *o, uint32_t *ord, uint32_t *tmp)
{
    for (uint32_t i = 0; i < n; i++)
        ord[i] = i;
    int rc = bucket_sort(ord, tmp, n, nb, major, o);
    if (rc)
        return rc;
    sort_runs(ord, tmp, n, group, cmp, o);
    return 0;
}

/* Sorts 0..n-1 under cmp into ord (new -> old) and fills inv (old -> new,
 * may be NULL). */
static void make_order(uint32_t n, cmp_fn cmp, const order_ctx *o, uint32_t *ord, uint32_t *inv,
                       uint32_t *tmp)
{
    for (uint32_t i = 0; i < n; i++)
        ord[i] = i;
    sort_idx(ord, tmp, n, cmp, o);
    if (inv)
        for (uint32_t i = 0; i < n; i++)
            inv[ord[i]] = i;
}

/* ---- freeze: estate-wide checks --------------------------------------------- */

/* Findings made at freeze: records plus their own strings, which land after
 * the builder's arena in the image's string section. */
typedef struct fz_findings {
    cs_efinding *f;
    uint32_t n, cap;
    cs_strbuf extra;       /* offsets are relative: add base */
    uint64_t base;         /* the builder arena's length */
    uint32_t kind_off[8];  /* per check kind, cached */
    int rc;
    cs_trie blocks;        /* one VPC's live IPv4 blocks so far (check_vpc) */
} fz_findings;

enum {
    K_V4_SIZE, K_V6_SIZE, K_V4_QUOTA, K_RESTRICTED, K_LINK_LOCAL, K_UNKNOWN_VPC, K_RESERVED,
    K_COUNT
};
static const char *const fz_kind[K_COUNT] = {
    CS_FINDING_V4_SIZE,    CS_FINDING_V6_SIZE,     CS_FINDING_V4_QUOTA, CS_FINDING_RESTRICTED,
    CS_FINDING_LINK_LOCAL, CS_FINDING_UNKNOWN_VPC, CS_FINDING_RESERVED};

static void fz_add(fz_findings *z, unsigned kind, const loc_b *loc, uint32_t vpc,
                   const char *fmt, ...) CS_PRINTF(5, 6);

static void fz_add(fz_findings *z, unsigned kind, const loc_b *loc, uint32_t vpc,
                   const char *fmt, ...)
{
    if (z->rc)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    uint32_t off;
    int rc = grow((void **)&z->f, &z->cap, sizeof *z->f, (uint64_t)z->n + 1);
    if (!rc && !z->kind_off[kind]) {
        rc = cs_strbuf_add(&z->extra, fz_kind[kind], strlen(fz_kind[kind]), &off);
        if (!rc)
            z->kind_off[kind] = off;
    }
    if (!rc)
        rc = cs_strbuf_add(&z->extra, msg, strlen(msg), &off);
    if (!rc && z->base + z->extra.len > UINT32_MAX)
        rc = CS_ERANGE;
    if (rc) {
        z->rc = rc;
        return;
    }
    cs_efinding *f = &z->f[z->n++];
    memset(f, 0, sizeof *f);
    f->kind_off = (uint32_t)(z->base + z->kind_off[kind]);
    f->msg_off = (uint32_t)(z->base + off);
    f->src_off = loc->src_off;
    f->line = loc->line;
    f->column = loc->column;
    f->vpc_idx = vpc;
}

/* The AWS checks on VPC `vn` (new index) whose associations are
 * ord[begin..end) (new -> old). */
static void check_vpc(const cs_estate *e, uint32_t vn, uint32_t vold, const uint32_t *ord,
                      uint32_t begin, uint32_t end, fz_findings *z)
{
    if (e->vpc[vold].pseudo)
        return;
    const char *vid = cs_intern_str(&e->vpcs, vold);
    uint32_t live4 = 0, primary = CS_IDX_NONE;
    char pb[CS_PREFIX_STRCAP], qb[CS_PREFIX_STRCAP];
    for (uint32_t i = begin; i < end; i++) {
        const assoc_b *a = &e->assoc[ord[i]];
        if (!cs_assoc_state_live(a->state))
            continue;
        cs_prefix p;
        assoc_prefix(a, &p);
        cs_prefix_format(&p, pb, sizeof pb);
        if (!cs_aws_block_size_ok(&p))
            fz_add(z, a->family == CS_AF_V4 ? K_V4_SIZE : K_V6_SIZE, &a->loc, vn,
                   "VPC %s: block %s is not among the sizes AWS allows (%s)", vid, pb,
                   cs_aws_block_sizes_text(a->family));
        if (a->family != CS_AF_V4)
            continue;
        live4++;
        if (a->primary && primary == CS_IDX_NONE)
            primary = ord[i];
        bool link_local;
        const char *range = cs_aws_reserved_range(&p, &link_local);
        if (range)
            fz_add(z, link_local ? K_LINK_LOCAL : K_RESERVED, &a->loc, vn,
                   "VPC %s: block %s is inside %s%s, which AWS never associates", vid, pb, range,
                   link_local ? " (link-local)" : "");
    }
    if (live4 > CS_AWS_BLOCK_QUOTA)
        fz_add(z, K_V4_QUOTA, &e->vpc[vold].loc, vn,
               "VPC %s has %u live IPv4 blocks; the default quota is %u", vid, live4,
               CS_AWS_BLOCK_QUOTA);
    if (primary == CS_IDX_NONE)
        return;
    cs_prefix pp;
    assoc_prefix(&e->assoc[primary], &pp);
    cs_prefix_format(&pp, qb, sizeof qb);
    /* Secondaries: the restriction table, and no overlap within the VPC
     * (among the first 64 live IPv4 blocks; more is a quota finding
     * already). */
    cs_prefix blk[64];
    uint32_t blk_ord[64], nb = 0;
    for (uint32_t i = begin; i < end && nb < 64; i++) {
        const assoc_b *a = &e->assoc[ord[i]];
        if (a->family != CS_AF_V4 || !cs_assoc_state_live(a->state))
            continue;
        assoc_prefix(a, &blk[nb]);
        blk_ord[nb++] = ord[i];
    }
    trie_clear(&z->blocks);
    for (uint32_t i = 0; i < nb; i++) {
        const cs_prefix s = blk[i];
        /* an earlier live block of the VPC that this one overlaps */
        uint32_t hit = blk_ord[i] == primary ? TRIE_NONE : trie_overlap_any(&z->blocks, &s);
        int trc = trie_insert(&z->blocks, &s, i);
        if (trc) {
            z->rc = trc;
            return;
        }
        if (blk_ord[i] == primary)
            continue;
        const assoc_b *a = &e->assoc[blk_ord[i]];
        cs_prefix_format(&s, pb, sizeof pb);
        /* The table sees the VPC's other blocks: s itself moved out of the
         * way by swapping it with the first. */
        cs_prefix others[64];
        memcpy(others, blk, nb * sizeof *blk);
        others[i] = others[0];
        size_t culprit;
        unsigned rule = cs_aws_restriction(&pp, others + 1, nb - 1, &s, &culprit);
        if (rule) {
            char cb[CS_PREFIX_STRCAP];
            if (culprit != (size_t)-1)
                cs_prefix_format(&others[culprit + 1], cb, sizeof cb);
            else
                memcpy(cb, qb, sizeof cb);
            fz_add(z, K_RESTRICTED, &a->loc, vn,
                   "VPC %s: secondary block %s is not allowed with %s %s: %s", vid, pb,
                   culprit != (size_t)-1 ? "block" : "primary", cb, cs_aws_rule_text(rule));
            continue;
        }
        if (hit != TRIE_NONE) {
            char tb[CS_PREFIX_STRCAP];
            cs_prefix t = trie_node_prefix(&z->blocks, hit);
            cs_prefix_format(&t, tb, sizeof tb);
            fz_add(z, K_RESTRICTED, &a->loc, vn,
                   "VPC %s: secondary block %s overlaps %s of the same VPC", vid, pb, tb);
        }
    }
}

/* ---- freeze ------------------------------------------------------------------ */

int cs_estate_freeze(const cs_estate *e, cs_snapshot **out, cs_error *err)
{
    if (!e || !out)
        return cs_fail(err, CS_EINVAL, "NULL estate or out");
    if (e->failed)
        return cs_fail(err, CS_ESTATE, "the estate failed earlier (out of memory); it cannot "
                                       "be frozen");
    const uint32_t na = e->accounts.count, nr = e->regions.count, nv = e->vpcs.count,
                   nas = e->n_assoc, np = e->pcxs.count, ne = e->n_edge, nt = e->n_tag;
    uint32_t nmax = na;
    const uint32_t ns[] = {nr, nv, nas, np, ne, nt};
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++)
        if (ns[i] > nmax)
            nmax = ns[i];

    int rc = CS_ENOMEM;
    cs_snapshot_builder *sb = NULL;
    fz_findings z;
    memset(&z, 0, sizeof z);
    trie_init(&z.blocks, 32);
    /* Check-made strings follow the builder's arena in the image; z.extra
     * starts with its own "" at offset 0, which is dropped, hence the -1. */
    z.base = e->strs.len - 1;
    cs_estate_tables t;
    memset(&t, 0, sizeof t);
    char *strings = NULL;
    uint32_t *tmp = malloc(((size_t)nmax + 1) * sizeof *tmp);
    uint32_t *acct_ord = malloc(((size_t)na + 1) * sizeof *acct_ord);
    uint32_t *acct_new = malloc(((size_t)na + 1) * sizeof *acct_new);
    uint32_t *reg_ord = malloc(((size_t)nr + 1) * sizeof *reg_ord);
    uint32_t *reg_new = malloc(((size_t)nr + 1) * sizeof *reg_new);
    uint32_t *vpc_ord = malloc(((size_t)nv + 1) * sizeof *vpc_ord);
    uint32_t *vpc_new = malloc(((size_t)nv + 1) * sizeof *vpc_new);
    uint32_t *as_ord = malloc(((size_t)nas + 1) * sizeof *as_ord);
    uint32_t *pcx_ord = malloc(((size_t)np + 1) * sizeof *pcx_ord);
    uint32_t *edge_ord = malloc(((size_t)ne + 1) * sizeof *edge_ord);
    uint32_t *tag_ord = malloc(((size_t)nt + 1) * sizeof *tag_ord);
    uint32_t *pcx_cnt = calloc((size_t)nv + 1, sizeof *pcx_cnt);
    cs_eaccount *eacc = calloc((size_t)na + 1, sizeof *eacc);
    cs_eregion *ereg = calloc((size_t)nr + 1, sizeof *ereg);
    cs_evpc *evpc = calloc((size_t)nv + 1, sizeof *evpc);
    cs_eassoc *eas = calloc((size_t)nas + 1, sizeof *eas);
    cs_eaddr6 *eas6 = calloc((size_t)nas + 1, sizeof *eas6);
    uint32_t *eas_vpc = calloc((size_t)nas + 1, sizeof *eas_vpc);
    cs_epeering *epcx = calloc((size_t)np + 1, sizeof *epcx);
    uint32_t *vpc_pcx = calloc((size_t)np * 2 + 1, sizeof *vpc_pcx);
    cs_eedge *eedge = calloc((size_t)ne + 1, sizeof *eedge);
    cs_etag *etag = calloc((size_t)nt + 1, sizeof *etag);
    if (!tmp || !acct_ord || !acct_new || !reg_ord || !reg_new || !vpc_ord || !vpc_new ||
        !as_ord || !pcx_ord || !edge_ord || !tag_ord || !pcx_cnt || !eacc || !ereg || !evpc ||
        !eas || !eas6 || !eas_vpc || !epcx || !vpc_pcx || !eedge || !etag)
        goto out;
    if (cs_strbuf_init(&z.extra))
        goto out;

    /* 1. Canonical order of every table. */
    order_ctx o = {e, acct_new, reg_new, vpc_new};
    make_order(na, cmp_account, &o, acct_ord, acct_new, tmp);
    make_order(nr, cmp_region, &o, reg_ord, reg_new, tmp);
    make_order(np, cmp_pcx, &o, pcx_ord, NULL, tmp);
    /* VPCs: by region, then (stably) by account, then by id within each
     * (account, region); the per-VPC tables: by VPC, then within it. Linear
     * but for the small groups, where 1M VPCs would otherwise spend most of
     * freeze in comparisons. */
    for (uint32_t i = 0; i < nv; i++)
        vpc_ord[i] = i;
    if (bucket_sort(vpc_ord, tmp, nv, nr, key_vpc_region, &o) ||
        bucket_sort(vpc_ord, tmp, nv, na, key_vpc_account, &o))
        goto out;
    sort_runs(vpc_ord, tmp, nv, key_vpc_group, cmp_vpc, &o);
    for (uint32_t i = 0; i < nv; i++)
        vpc_new[vpc_ord[i]] = i;
    if (group_order(nas, nv, key_assoc_vpc, key_assoc_vpc, cmp_assoc, &o, as_ord, tmp) ||
        group_order(ne, nv, key_edge_vpc, key_edge_vpc, cmp_edge, &o, edge_ord, tmp) ||
        group_order(nt, nv, key_tag_vpc, key_tag_vpc, cmp_tag, &o, tag_ord, tmp))
        goto out;

    /* 2. Accounts, regions, VPCs. VPCs are sorted by account, then region,
     * so an account's VPCs are one range. */
    for (uint32_t i = 0; i < na; i++) {
        uint32_t a = acct_ord[i];
        uint8_t fl = e->acct_flags[a];
        eacc[i].id_off = cs_intern_off(&e->accounts, a);
        eacc[i].flags = ((fl & ACCT_PSEUDO) ? CS_ACCOUNT_PSEUDO : 0) |
                        ((fl & (ACCT_OWNS_VPC | ACCT_REGISTERED)) ? 0 : CS_ACCOUNT_EXTERNAL);
        eacc[i].vpc_begin = CS_IDX_NONE;
    }
    for (uint32_t i = 0; i < nr; i++)
        ereg[i].name_off = cs_intern_off(&e->regions, reg_ord[i]);
    uint32_t default_vpcs = 0, pseudo_vpcs = 0;
    for (uint32_t i = 0; i < nv; i++) {
        const vpc_b *x = &e->vpc[vpc_ord[i]];
        cs_evpc *r = &evpc[i];
        r->id_off = cs_intern_off(&e->vpcs, vpc_ord[i]);
        r->name_off = x->name_off;
        r->account_idx = acct_new[x->account];
        r->region_idx = reg_new[x->region];
        r->state = x->state;
        r->flags = (uint8_t)((x->is_default ? CS_EVPC_DEFAULT : 0) | (x->pseudo ? CS_EVPC_PSEUDO : 0));
        default_vpcs += x->is_default;
        pseudo_vpcs += x->pseudo;
        cs_eaccount *acc = &eacc[r->account_idx];
        if (acc->vpc_begin == CS_IDX_NONE)
            acc->vpc_begin = i;
        acc->vpc_count++;
        ereg[r->region_idx].vpc_count++;
    }
    /* An account without VPCs gets an empty range where it would be. */
    for (uint32_t i = 0, next = 0; i < na; i++) {
        if (eacc[i].vpc_begin == CS_IDX_NONE)
            eacc[i].vpc_begin = next;
        next = eacc[i].vpc_begin + eacc[i].vpc_count;
    }

    /* 3. Associations (contiguous per VPC), entries of the trie. */
    sb = cs_snapshot_builder_new();
    if (!sb)
        goto out;
    uint32_t live[2] = {0, 0}, dead[2] = {0, 0}, n6 = 0;
    uint32_t v = 0;
    for (uint32_t i = 0; i < nas; i++) {
        const assoc_b *x = &e->assoc[as_ord[i]];
        uint32_t vn = vpc_new[x->vpc];
        while (v <= vn && v < nv)
            evpc[v++].assoc_begin = i;
        cs_eassoc *r = &eas[i];
        if (x->family == CS_AF_V4) {
            r->addr = (uint32_t)(x->hi >> 32);
        } else {
            eas6[n6] = (cs_eaddr6){x->hi, x->lo};
            r->addr = n6++;
        }
        r->len = x->len;
        r->family = x->family;
        eas_vpc[i] = vn;
        r->id_off = x->sid == CS_INTERN_NONE ? 0 : cs_intern_off(&e->assoc_ids, x->sid);
        r->pool_off = x->pool_off;
        r->state = x->state ? x->state : CS_ASSOC_ASSOCIATED;
        r->flags = (uint8_t)((x->primary ? CS_EASSOC_PRIMARY : 0) |
                             (x->ip_source << CS_EASSOC_IPSRC_SHIFT) |
                             (x->ipv6_attr << CS_EASSOC_V6ATTR_SHIFT));
        unsigned f = cs_family_index(x->family);
        if (cs_assoc_state_live(r->state)) {
            live[f]++;
            cs_prefix p;
            assoc_prefix(x, &p);
            if ((rc = cs_snapshot_builder_add(sb, &p, i, err)))
                goto out_rc;
        } else {
            dead[f]++;
        }
    }
    for (; v < nv; v++)
        evpc[v].assoc_begin = nas;

    /* 4. Edges and tags (contiguous per VPC). */
    v = 0;
    for (uint32_t i = 0; i < ne; i++) {
        const edge_b *x = &e->edge[edge_ord[i]];
        uint32_t vn = vpc_new[x->vpc];
        while (v <= vn && v < nv)
            evpc[v++].edge_begin = i;
        eedge[i].vpc_idx = vn;
        eedge[i].id_off = cs_intern_off(&e->misc, x->ref);
        eedge[i].kind = x->kind;
    }
    for (; v < nv; v++)
        evpc[v].edge_begin = ne;
    /* Only tags still attached to their VPC count (a VPC keeps the tags of
     * the first sighting that had any). */
    uint32_t ntags = 0;
    v = 0;
    for (uint32_t i = 0; i < nt; i++) {
        uint32_t old = tag_ord[i];
        const tag_b *x = &e->tag[old];
        const vpc_b *owner = &e->vpc[x->vpc];
        if (old < owner->tag_first || old >= owner->tag_first + owner->tag_count)
            continue;
        uint32_t vn = vpc_new[x->vpc];
        while (v <= vn && v < nv)
            evpc[v++].tag_begin = ntags;
        etag[ntags].key_off = cs_intern_off(&e->misc, x->key);
        etag[ntags].value_off = cs_intern_off(&e->misc, x->value);
        ntags++;
    }
    for (; v < nv; v++)
        evpc[v].tag_begin = ntags;

    /* 5. Peering connections, their sides resolved against the inventory, and
     * the per-VPC lists (CSR). */
    for (uint32_t i = 0; i < np; i++) {
        const pcx_b *x = &e->pcx[pcx_ord[i]];
        cs_epeering *r = &epcx[i];
        r->id_off = cs_intern_off(&e->pcxs, pcx_ord[i]);
        r->status = x->status;
        for (int k = 0; k < 2; k++) {
            const side_b *s = &x->side[k];
            r->vpc_id_off[k] = cs_intern_off(&e->misc, s->vpc_ref);
            r->dns[k] = s->dns;
            uint32_t vo = cs_intern_find(&e->vpcs, cs_intern_str(&e->misc, s->vpc_ref),
                                         cs_intern_len(&e->misc, s->vpc_ref));
            r->vpc_idx[k] = vo == CS_INTERN_NONE ? CS_IDX_NONE : vpc_new[vo];
            r->account_idx[k] = s->account != CS_IDX_NONE ? acct_new[s->account]
                                : vo != CS_INTERN_NONE   ? acct_new[e->vpc[vo].account]
                                                         : CS_IDX_NONE;
            r->region_idx[k] = s->region != CS_IDX_NONE ? reg_new[s->region]
                               : vo != CS_INTERN_NONE  ? reg_new[e->vpc[vo].region]
                                                       : CS_IDX_NONE;
        }
        for (int k = 0; k < 2; k++) {
            if (r->vpc_idx[k] == CS_IDX_NONE) {
                uint32_t other = r->vpc_idx[1 - k];
                fz_add(&z, K_UNKNOWN_VPC, &x->loc, other,
                       "peering connection %s (%s): %s VPC %s is not in the inventory",
                       cs_intern_str(&e->pcxs, pcx_ord[i]), cs_pcx_status_name(x->status),
                       k ? "accepter" : "requester", cs_intern_str(&e->misc, x->side[k].vpc_ref));
            }
        }
        if (r->vpc_idx[0] != CS_IDX_NONE)
            pcx_cnt[r->vpc_idx[0]]++;
        if (r->vpc_idx[1] != CS_IDX_NONE && r->vpc_idx[1] != r->vpc_idx[0])
            pcx_cnt[r->vpc_idx[1]]++;
    }
    uint32_t n_vpc_pcx = 0;
    for (v = 0; v < nv; v++) {
        evpc[v].pcx_begin = n_vpc_pcx;
        n_vpc_pcx += pcx_cnt[v];
        pcx_cnt[v] = evpc[v].pcx_begin; /* now: fill position */
    }
    for (uint32_t i = 0; i < np; i++) {
        const cs_epeering *r = &epcx[i];
        if (r->vpc_idx[0] != CS_IDX_NONE)
            vpc_pcx[pcx_cnt[r->vpc_idx[0]]++] = i;
        if (r->vpc_idx[1] != CS_IDX_NONE && r->vpc_idx[1] != r->vpc_idx[0])
            vpc_pcx[pcx_cnt[r->vpc_idx[1]]++] = i;
    }

    /* 6. AWS checks per VPC, in VPC order. */
    for (v = 0; v < nv; v++) {
        uint32_t end = v + 1 < nv ? evpc[v + 1].assoc_begin : nas;
        check_vpc(e, v, vpc_ord[v], as_ord, evpc[v].assoc_begin, end, &z);
    }
    if (z.rc) {
        rc = cs_fail(err, z.rc, "out of memory (or strings over 4 GiB) recording findings");
        goto out_rc;
    }

    /* 7. Findings: the builder's, then the checks'. One string section:
     * the builder's arena followed by the checks' strings. */
    uint64_t nf = (uint64_t)e->n_finding + z.n;
    if (nf > UINT32_MAX - 1) {
        rc = cs_fail(err, CS_ERANGE, "more than 2^32-2 findings");
        goto out_rc;
    }
    cs_efinding *efind = calloc((size_t)nf + 1, sizeof *efind);
    if (!efind)
        goto out;
    for (uint32_t i = 0; i < e->n_finding; i++) {
        const finding_b *f = &e->finding[i];
        efind[i] = (cs_efinding){.line = f->loc.line, .kind_off = f->kind_off,
                                 .msg_off = f->msg_off, .src_off = f->loc.src_off,
                                 .column = f->loc.column, .vpc_idx = CS_IDX_NONE};
    }
    if (z.n)
        memcpy(efind + e->n_finding, z.f, (size_t)z.n * sizeof *efind);
    uint64_t slen = e->strs.len + (z.extra.len - 1);
    strings = malloc((size_t)slen);
    if (!strings) {
        free(efind);
        goto out;
    }
    memcpy(strings, e->strs.data, (size_t)e->strs.len);
    memcpy(strings + e->strs.len, z.extra.data + 1, (size_t)(z.extra.len - 1));

    t.strings = strings;
    t.strings_len = slen;
    t.accounts = eacc;
    t.regions = ereg;
    t.vpcs = evpc;
    t.assocs = eas;
    t.assoc_vpc = eas_vpc;
    t.assoc_v6 = eas6;
    t.peerings = epcx;
    t.vpc_pcx = vpc_pcx;
    t.edges = eedge;
    t.tags = etag;
    t.findings = efind;
    t.hdr.n_accounts = na;
    t.hdr.n_regions = nr;
    t.hdr.n_vpcs = nv;
    t.hdr.n_assocs = nas;
    t.hdr.n_peerings = np;
    t.hdr.n_edges = ne;
    t.hdr.n_tags = ntags;
    t.hdr.n_findings = (uint32_t)nf;
    t.hdr.n_vpc_pcx = n_vpc_pcx;
    t.hdr.live[0] = live[0];
    t.hdr.live[1] = live[1];
    t.hdr.dead[0] = dead[0];
    t.hdr.dead[1] = dead[1];
    t.hdr.default_vpcs = default_vpcs;
    t.hdr.pseudo_vpcs = pseudo_vpcs;
    t.hdr.rejected = e->rejected;
    cs_section_blob blobs[CS_ESEC_COUNT];
    rc = cs_estate_image_sections(&t, blobs, err);
    if (!rc)
        rc = cs_snapshot_build_image(sb, blobs, CS_ESEC_COUNT, out, err);
    free(efind);
    goto out_rc;

out:
    rc = cs_fail(err, CS_ENOMEM, "out of memory freezing the estate");
out_rc:
    free(t.hash);
    free(strings);
    cs_snapshot_builder_free(sb);
    cs_strbuf_release(&z.extra);
    trie_release(&z.blocks);
    free(z.f);
    free(tmp);
    free(acct_ord);
    free(acct_new);
    free(reg_ord);
    free(reg_new);
    free(vpc_ord);
    free(vpc_new);
    free(as_ord);
    free(pcx_ord);
    free(edge_ord);
    free(tag_ord);
    free(pcx_cnt);
    free(eacc);
    free(ereg);
    free(evpc);
    free(eas);
    free(eas6);
    free(eas_vpc);
    free(epcx);
    free(vpc_pcx);
    free(eedge);
    free(etag);
    return rc;
}
