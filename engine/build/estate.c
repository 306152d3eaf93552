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
 *                     |  by (VPC, prefix):  pmap (open addressing) + next_same,
 *                     |  lazily: a VPC new to the estate is searched in its own
 *                     |  run of records until a lookup needs the whole index
 *
 * Every array grows by doubling: no allocation per record.
 *
 * Invariants: a VPC's index is its id in the `vpcs` intern table; an
 * association's VPC exists; a state is UNSPECIFIED only until freeze; after
 * CS_ENOMEM `failed` is set and every call but _free returns CS_ESTATE.
 *
 * Freeze (canonical order, AWS checks, hand-off to the image) is in
 * engine/build/estate_freeze.c.
 *
 * Files: this one holds the builder's lifecycle, its shared helpers, VPCs and
 * CIDR associations; estate_links.c peerings, edges, scopes and findings;
 * estate_freeze.c the canonical order, the AWS checks and the hand-off to
 * the image; estate_names.c the names of the enumerations. The records all
 * four share are in build/estate_builder_internal.h.
 *
 * Concurrency: a builder is used by one thread at a time; freeze only reads
 * it. Tests: tests/test_estate.c (rules, round trips, differential overlap
 * queries), tests/test_csv.c.
 */
#include <cidrscope/estate.h>

#include "core/error_internal.h"
#include "core/key_internal.h"
#include "build/estate_builder_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

int cs_estate_keymap_reserve(keymap *m)
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

/* The (VPC, prefix) key's hash in pmap: a multiply-xorshift mix, not XXH3
 * (the key is four words and the map never leaves memory). */
static uint32_t prefix_key_hash(uint32_t vpc, const cs_prefix *p)
{
    uint64_t x = p->hi ^ (p->lo * 0x9e3779b97f4a7c15ull) ^
                 (((uint64_t)vpc << 16 | (uint64_t)p->len << 8 | p->family) * 0xc2b2ae3d27d4eb4full);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return (uint32_t)x;
}

uint32_t cs_estate_edge_hash(uint32_t vpc, uint8_t kind, uint32_t ref)
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
    e->last_vpc = e->last_account = e->last_region = CS_INTERN_NONE;
    e->pmap.run_vpc = CS_IDX_NONE;
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
    for (uint32_t i = 0; i < e->assoc_chunks; i++)
        free(e->assoc[i]);
    free(e->assoc);
    free(e->bigloc);
    free(e->assoc_of_sid);
    free(e->pmap.idx);
    free(e->pmap.tag);
    free(e->pcx);
    free(e->edge);
    free(e->emap.slots);
    free(e->tag);
    free(e->finding);
    free(e);
}

void cs_estate_release_assocs(cs_estate *e, bool records)
{
    if (records) {
        for (uint32_t i = 0; i < e->assoc_chunks; i++)
            free(e->assoc[i]);
        free(e->assoc);
        e->assoc = NULL;
        e->assoc_chunks = e->assoc_chunk_cap = 0;
        e->n_assoc = 0;
    }
    free(e->assoc_of_sid);
    e->assoc_of_sid = NULL;
    e->aos_cap = 0;
    free(e->pmap.idx);
    free(e->pmap.tag);
    memset(&e->pmap, 0, sizeof e->pmap);
    e->pmap.run_vpc = CS_IDX_NONE;
    e->failed = true;
}

/* ---- helpers -------------------------------------------------------------- */

/* Maps an allocation or capacity failure to the builder's state. */
/* Maps an allocation or capacity failure met midway through an add: the
 * estate may hold part of the record, so it refuses everything but _free
 * from now on (STYLE.md, "Errors"). */
int cs_estate_fail_alloc(cs_estate *e, int rc, cs_error *err, const char *what)
{
    if (e)
        e->failed = true;
    if (rc == CS_ENOMEM)
        return cs_fail(err, CS_ENOMEM, "out of memory adding %s; the estate refuses further use",
                       what);
    return cs_fail(err, rc, "too many %s (or strings over 4 GiB); the estate refuses further use",
                   what);
}

void cs_estate_locate(cs_error *err, const cs_srcloc *loc)
{
    if (err && loc)
        cs_error_locate(err, loc->source, loc->line, loc->column, 0, 0, NULL, 0);
}

int cs_estate_check_str(cs_str s, const char *what, bool required, cs_error *err)
{
    if (s.len && !s.ptr)
        return cs_fail(err, CS_EINVAL, "%s: NULL pointer with length %zu", what, s.len);
    if (required && s.len == 0)
        return cs_fail(err, CS_EINVAL, "%s is missing", what);
    if (s.len > CS_ESTATE_STR_MAX)
        return cs_fail(err, CS_ERANGE, "%s is %zu bytes long (the limit is %u)", what, s.len,
                       CS_ESTATE_STR_MAX);
    /* Eight bytes at a time (every row checks several ids): a word with no
     * byte below 0x20 and none equal to 0x7f is skipped whole, exactly
     * (the classic has-less-than and has-zero-byte tests, exact for these
     * constants); the byte loop finds the culprit. */
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t i = 0;
    for (; i + 8 <= s.len; i += 8) {
        uint64_t x, d;
        memcpy(&x, s.ptr + i, 8);
        d = x ^ (0x7f * ones);
        if (((x - 0x20 * ones) & ~x & highs) | ((d - ones) & ~d & highs))
            break;
    }
    for (; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c < 0x20 || c == 0x7f)
            return cs_fail(err, CS_EINVAL, "%s contains control byte 0x%02x at byte %zu", what,
                           c, i + 1);
    }
    return 0;
}

bool cs_estate_is_account_id(cs_str s)
{
    if (s.len != 12)
        return false;
    for (size_t i = 0; i < 12; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
    return true;
}

/* Interns a string into the misc table; returns its id or a negative code. */
int64_t cs_estate_misc_put(cs_estate *e, cs_str s)
{
    return cs_intern_put(&e->misc, s.ptr ? s.ptr : "", s.len, NULL);
}

int64_t cs_estate_misc_off(cs_estate *e, cs_str s)
{
    if (s.len == 0)
        return 0; /* the arena's own "" */
    int64_t id = cs_estate_misc_put(e, s);
    return id < 0 ? id : (int64_t)cs_intern_off(&e->misc, (uint32_t)id);
}

int cs_estate_make_loc(cs_estate *e, const cs_srcloc *loc, loc_b *out)
{
    memset(out, 0, sizeof *out);
    if (!loc)
        return 0;
    if (loc->line < CS_LOC_BIG) {
        out->line = (uint32_t)loc->line;
        out->column = loc->column;
    } else {
        int rc = grow((void **)&e->bigloc, &e->bigloc_cap, sizeof *e->bigloc,
                      (uint64_t)e->n_bigloc + 1);
        if (rc)
            return rc;
        e->bigloc[e->n_bigloc] = (bigloc_b){loc->line, loc->column};
        out->line = CS_LOC_BIG;
        out->column = e->n_bigloc++;
    }
    if (loc->source && loc->source[0]) {
        size_t n = strnlen(loc->source, CS_ESTATE_STR_MAX);
        if (e->last_src_off && n == e->last_src_len &&
            memcmp(cs_strbuf_at(&e->strs, e->last_src_off), loc->source, n) == 0) {
            out->src_off = e->last_src_off;
            return 0;
        }
        int64_t off = cs_estate_misc_off(e, (cs_str){loc->source, n});
        if (off < 0)
            return (int)off;
        out->src_off = (uint32_t)off;
        e->last_src_off = (uint32_t)off;
        e->last_src_len = (uint32_t)n;
    }
    return 0;
}

/* "file:line:col" of a stored location, for conflict messages. */
void cs_estate_loc_text(const cs_estate *e, const loc_b *l, char *buf, size_t cap)
{
    const char *src = cs_strbuf_at(&e->strs, l->src_off);
    if (!src[0])
        src = "(unknown source)";
    uint64_t line = cs_estate_loc_line(e, l);
    if (line)
        snprintf(buf, cap, "%s:%llu:%u", src, (unsigned long long)line,
                 cs_estate_loc_column(e, l));
    else
        snprintf(buf, cap, "%s", src);
}

void cs_estate_cur_loc_text(const cs_srcloc *loc, char *buf, size_t cap)
{
    const char *src = loc && loc->source && loc->source[0] ? loc->source : "(unknown source)";
    if (loc && loc->line)
        snprintf(buf, cap, "%s:%llu:%u", src, (unsigned long long)loc->line, loc->column);
    else
        snprintf(buf, cap, "%s", src);
}

/* The account `id`, interned now if new (its flags start at zero), with
 * `flags` added. */
int cs_estate_account_get(cs_estate *e, cs_str id, uint8_t flags, uint32_t *out)
{
    *out = CS_IDX_NONE;
    uint32_t before = e->accounts.count;
    int64_t a = cs_estate_find_cached(&e->accounts, &e->last_account, id.ptr, id.len);
    if (a == CS_INTERN_NONE)
        a = cs_intern_put(&e->accounts, id.ptr ? id.ptr : "", id.len, NULL);
    if (a < 0)
        return (int)a;
    e->last_account = (uint32_t)a;
    int rc = grow((void **)&e->acct_flags, &e->acct_cap, 1, (uint64_t)a + 1);
    if (rc)
        return rc;
    if (e->accounts.count != before)
        e->acct_flags[a] = 0;
    e->acct_flags[a] |= flags;
    *out = (uint32_t)a;
    return 0;
}

int cs_estate_region_get(cs_estate *e, cs_str r, uint32_t *out)
{
    *out = CS_IDX_NONE;
    int64_t id = cs_estate_find_cached(&e->regions, &e->last_region, r.ptr, r.len);
    if (id == CS_INTERN_NONE)
        id = cs_intern_put(&e->regions, r.ptr ? r.ptr : "", r.len, NULL);
    if (id < 0)
        return (int)id;
    e->last_region = (uint32_t)id;
    *out = (uint32_t)id;
    return 0;
}

int cs_estate_refuse(const cs_estate *e, cs_error *err)
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
        return cs_estate_fail_alloc(e, rc, err, "tags");
    uint32_t first = e->n_tag;
    for (size_t i = 0; i < d->tag_count; i++) {
        int64_t k = cs_estate_misc_put(e, d->tags[i].key);
        if (k < 0)
            return cs_estate_fail_alloc(e, (int)k, err, "strings");
        int64_t val = cs_estate_misc_put(e, d->tags[i].value);
        if (val < 0)
            return cs_estate_fail_alloc(e, (int)val, err, "strings");
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
    uint32_t owner = cs_estate_find_cached(&e->accounts, &e->last_account, d->owner.ptr,
                                           d->owner.len);
    uint32_t region = cs_estate_find_cached(&e->regions, &e->last_region, d->region.ptr,
                                            d->region.len);
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
        cs_estate_loc_text(e, &x->loc, l1, sizeof l1);
        cs_estate_cur_loc_text(loc, l2, sizeof l2);
        cs_fail(err, CS_ECONFLICT, "VPC %.*s seen twice with a different %s: '%s' at %s, '%s' at %s",
                (int)(d->id.len > 64 ? 64 : d->id.len), d->id.ptr, field, was, l1, now, l2);
        cs_estate_locate(err, loc);
        return CS_ECONFLICT;
    }
    /* Decide before anything is interned: the arena may move. */
    bool need_region = !xregion[0] && d->region.len;
    bool need_name = !xname[0] && name.len;
    int rc;
    if (need_region) {
        uint32_t r;
        if ((rc = cs_estate_region_get(e, d->region, &r)))
            return cs_estate_fail_alloc(e, rc, err, "regions");
        e->vpc[v].region = r;
    }
    if (!e->vpc[v].state)
        e->vpc[v].state = d->state;
    if (need_name) {
        int64_t off = cs_estate_misc_off(e, name);
        if (off < 0)
            return cs_estate_fail_alloc(e, (int)off, err, "strings");
        e->vpc[v].name_off = (uint32_t)off;
    }
    return 0;
}

void cs_estate_prefetch(const cs_estate *e, int table, const char *s, size_t len)
{
    if (e && s && len)
        cs_intern_prefetch(table == CS_PREFETCH_VPC_ID ? &e->vpcs : &e->assoc_ids,
                           cs_intern_hash(s, len));
}

int cs_estate_add_vpc(cs_estate *e, const cs_vpc_desc *d, const cs_srcloc *loc,
                      cs_error *err)
{
    int rc = cs_estate_refuse(e, err);
    if (rc)
        return rc;
    if (!d)
        return cs_fail(err, CS_EINVAL, "NULL VPC descriptor");
    bool pseudo = (d->flags & CS_VPC_PSEUDO) != 0;
    if ((rc = cs_estate_check_str(d->id, "VPC id", true, err)) ||
        (rc = cs_estate_check_str(d->owner, "VPC owner", true, err)) ||
        (rc = cs_estate_check_str(d->region, "VPC region", false, err)) ||
        (rc = cs_estate_check_str(d->name, "VPC name", false, err))) {
        cs_estate_locate(err, loc);
        return rc;
    }
    if (!pseudo && !cs_estate_is_account_id(d->owner)) {
        cs_fail(err, CS_EINVAL, "VPC %.*s: owner '%.*s' is not a 12-digit account id",
                (int)d->id.len, d->id.ptr, (int)(d->owner.len > 64 ? 64 : d->owner.len),
                d->owner.ptr);
        cs_estate_locate(err, loc);
        return CS_EINVAL;
    }
    if (d->state >= CS_VPC_STATE_COUNT) {
        cs_fail(err, CS_EINVAL, "VPC %.*s: state %u out of range", (int)d->id.len, d->id.ptr,
                d->state);
        cs_estate_locate(err, loc);
        return CS_EINVAL;
    }
    if (d->tag_count && !d->tags) {
        cs_fail(err, CS_EINVAL, "VPC %.*s: NULL tags with count %zu", (int)d->id.len,
                d->id.ptr, d->tag_count);
        cs_estate_locate(err, loc);
        return CS_EINVAL;
    }
    cs_str name = d->name;
    for (size_t i = 0; i < d->tag_count; i++) {
        if ((rc = cs_estate_check_str(d->tags[i].key, "tag key", false, err)) ||
            (rc = cs_estate_check_str(d->tags[i].value, "tag value", false, err))) {
            cs_estate_locate(err, loc);
            return rc;
        }
        if (!name.len && d->tags[i].key.len == 4 && memcmp(d->tags[i].key.ptr, "Name", 4) == 0)
            name = d->tags[i].value;
    }

    /* An existing VPC: compare, merge the unknowns, or report a conflict. */
    uint64_t vh = 0;
    uint32_t v = e->last_vpc;
    if (!(v != CS_INTERN_NONE && cs_intern_len(&e->vpcs, v) == d->id.len &&
          memcmp(cs_intern_str(&e->vpcs, v), d->id.ptr, d->id.len) == 0)) {
        vh = cs_intern_hash(d->id.ptr, d->id.len);
        v = cs_intern_find_h(&e->vpcs, d->id.ptr, d->id.len, vh);
        if (v != CS_INTERN_NONE)
            e->last_vpc = v;
    }
    if (v != CS_INTERN_NONE) {
        rc = vpc_merge(e, v, d, name, loc, err);
        if (rc < 0)
            return rc;
        if (!e->vpc[v].tag_count && d->tag_count && (rc = vpc_tags(e, v, d, err)))
            return rc;
        return 1;
    }
    uint32_t acct, region;
    if ((rc = cs_estate_account_get(e, d->owner, (uint8_t)(ACCT_OWNS_VPC | (pseudo ? ACCT_PSEUDO : 0)),
                          &acct)))
        return cs_estate_fail_alloc(e, rc, err, "accounts");
    if ((rc = cs_estate_region_get(e, d->region, &region)))
        return cs_estate_fail_alloc(e, rc, err, "regions");
    int64_t name_off = cs_estate_misc_off(e, name);
    if (name_off < 0)
        return cs_estate_fail_alloc(e, (int)name_off, err, "strings");
    loc_b lb;
    if ((rc = cs_estate_make_loc(e, loc, &lb)))
        return cs_estate_fail_alloc(e, rc, err, "strings");
    if ((rc = grow((void **)&e->vpc, &e->vpc_cap, sizeof *e->vpc, (uint64_t)e->vpcs.count + 1)))
        return cs_estate_fail_alloc(e, rc, err, "VPCs");
    int64_t id = cs_intern_put_h(&e->vpcs, d->id.ptr, d->id.len, vh, NULL);
    if (id < 0)
        return cs_estate_fail_alloc(e, (int)id, err, "VPCs");
    v = (uint32_t)id;
    e->last_vpc = v;
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

void cs_estate_assoc_prefix(const assoc_b *a, cs_prefix *p)
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

/* Room for one more association: a new chunk when the last is full. */
static int assoc_reserve(cs_estate *e)
{
    if (e->n_assoc < (uint64_t)e->assoc_chunks << CS_ASSOC_CHUNK_BITS)
        return 0;
    if (e->n_assoc >= UINT32_MAX - 1)
        return CS_ERANGE;
    int rc = grow((void **)&e->assoc, &e->assoc_chunk_cap, sizeof *e->assoc,
                  (uint64_t)e->assoc_chunks + 1);
    if (rc)
        return rc;
    assoc_b *c = malloc((size_t)CS_ASSOC_CHUNK * sizeof *c);
    if (!c)
        return CS_ENOMEM;
    e->assoc[e->assoc_chunks++] = c;
    return 0;
}

/* A run longer than this (a prefix list's owner: millions of prefixes of
 * one pseudo-VPC) is indexed and looked up in pmap instead of scanned. */
#define PMAP_RUN_SCAN 16

/* Indexes associations [upto, to) in record order, the room reserved. The
 * map holds the first record of each key (later ones hang off it by
 * next_same, linked when they were added), which record order meets first.
 * The slot of the record PMAP_AHEAD places on is prefetched: the slots are
 * random, one cache miss each at a million keys, and independent. */
#define PMAP_AHEAD 8
static void pmap_index(cs_estate *e, uint32_t to)
{
    pmap_b *m = &e->pmap;
    for (uint32_t a = m->upto; a < to; a++) {
        if (a + PMAP_AHEAD < to) {
            const assoc_b *f = &CS_ASSOC(e, a + PMAP_AHEAD);
            cs_prefix fp;
            cs_estate_assoc_prefix(f, &fp);
            uint32_t fj = prefix_key_hash(f->vpc, &fp) & m->mask;
            __builtin_prefetch(&m->idx[fj], 1);
            __builtin_prefetch(&m->tag[fj], 1);
        }
        const assoc_b *x = &CS_ASSOC(e, a);
        cs_prefix xp;
        cs_estate_assoc_prefix(x, &xp);
        uint32_t h = prefix_key_hash(x->vpc, &xp);
        uint8_t tag = (uint8_t)(h >> 24);
        uint32_t j = h & m->mask;
        bool later = false;
        for (; m->idx[j] && !later; j = (j + 1) & m->mask) {
            if (m->tag[j] != tag)
                continue;
            const assoc_b *y = &CS_ASSOC(e, m->idx[j] - 1);
            later = y->vpc == x->vpc && y->hi == x->hi && y->lo == x->lo && y->len == x->len &&
                    y->family == x->family;
        }
        if (!later) {
            m->idx[j] = a + 1;
            m->tag[j] = tag;
            m->count++;
        }
    }
    m->upto = to;
}

/* Room in pmap for `more` keys beyond its count: doubles (rehashing from
 * the indexed records, [0, upto)) past a load of 3/4. */
static int pmap_reserve(cs_estate *e, uint32_t more)
{
    pmap_b *m = &e->pmap;
    uint64_t nslots = m->idx ? (uint64_t)m->mask + 1 : 0;
    uint64_t keys = (uint64_t)m->count + more;
    if (keys * 4 <= nslots * 3)
        return 0;
    uint64_t n = nslots ? nslots * 2 : 256;
    while (keys * 4 > n * 3)
        n *= 2;
    if (n > ((uint64_t)1 << 32))
        return CS_ERANGE;
    uint32_t *ni = calloc((size_t)n, sizeof *ni);
    uint8_t *nt = malloc((size_t)n);
    if (!ni || !nt) {
        free(ni);
        free(nt);
        return CS_ENOMEM;
    }
    free(m->idx);
    free(m->tag);
    m->idx = ni;
    m->tag = nt;
    m->mask = (uint32_t)(n - 1);
    m->count = 0;
    /* Re-placed from the records in record order, not from the old slots
     * (whose order is random: one cache miss per record at a million). */
    uint32_t upto = m->upto;
    m->upto = 0;
    pmap_index(e, upto);
    return 0;
}

/* Indexes every association not yet in pmap and ends the run: before a
 * lookup the run's scan cannot answer. */
static int pmap_catch_up(cs_estate *e)
{
    pmap_b *m = &e->pmap;
    m->run_vpc = CS_IDX_NONE;
    int rc = pmap_reserve(e, e->n_assoc - m->upto + 1);
    if (rc)
        return rc;
    pmap_index(e, e->n_assoc);
    return 0;
}

/* Merges sighting `d` into association a (same association). Returns 1, or
 * CS_ECONFLICT when both give a state and the states differ. */
static int assoc_merge(cs_estate *e, uint32_t a, const cs_cidr_desc *d, uint32_t sid,
                       const cs_srcloc *loc, cs_error *err)
{
    assoc_b *x = &CS_ASSOC(e, a);
    char pbuf[CS_PREFIX_STRCAP];
    if (d->state && x->state && d->state != x->state) {
        char l1[300], l2[300];
        cs_prefix p;
        cs_estate_assoc_prefix(x, &p);
        cs_prefix_format(&p, pbuf, sizeof pbuf);
        cs_estate_loc_text(e, &x->loc, l1, sizeof l1);
        cs_estate_cur_loc_text(loc, l2, sizeof l2);
        cs_fail(err, CS_ECONFLICT,
                "CIDR %s of VPC %s seen twice with a different state: '%s' at %s, '%s' at %s",
                pbuf, cs_intern_str(&e->vpcs, x->vpc), cs_assoc_state_name(x->state), l1,
                cs_assoc_state_name(d->state), l2);
        cs_estate_locate(err, loc);
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
        int64_t off = cs_estate_misc_off(e, d->pool);
        if (off < 0)
            return cs_estate_fail_alloc(e, (int)off, err, "strings");
        CS_ASSOC(e, a).pool_off = (uint32_t)off;
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
    int rc = cs_estate_refuse(e, err);
    if (rc)
        return rc;
    if (!d)
        return cs_fail(err, CS_EINVAL, "NULL CIDR descriptor");
    if ((rc = cs_estate_check_str(d->vpc_id, "VPC id of a CIDR", true, err)) ||
        (rc = cs_estate_check_str(d->association_id, "association id", false, err)) ||
        (rc = cs_estate_check_str(d->pool, "IPv6 pool", false, err))) {
        cs_estate_locate(err, loc);
        return rc;
    }
    const cs_prefix *p = &d->prefix;
    if (!prefix_ok(p)) {
        cs_fail(err, CS_EINVAL, "CIDR of VPC %.*s: bad family %u or length %u",
                (int)(d->vpc_id.len > 64 ? 64 : d->vpc_id.len), d->vpc_id.ptr, p->family, p->len);
        cs_estate_locate(err, loc);
        return CS_EINVAL;
    }
    char pbuf[CS_PREFIX_STRCAP];
    if (!cs_key_is_canonical(p->hi, p->lo, p->len)) {
        cs_prefix c = p->family == CS_AF_V4 ? cs_prefix_from_v4((uint32_t)(p->hi >> 32), p->len)
                                            : cs_prefix_from_v6(p->hi, p->lo, p->len);
        char cbuf[CS_PREFIX_STRCAP];
        cs_prefix_format(&c, cbuf, sizeof cbuf);
        cs_address_format(p, pbuf, sizeof pbuf);
        cs_fail(err, CS_EINVAL, "CIDR %s/%u has host bits set (did you mean %s?)", pbuf, p->len,
                cbuf);
        cs_estate_locate(err, loc);
        return CS_EINVAL;
    }
    if (d->state >= CS_ASSOC_STATE_COUNT || d->ip_source >= CS_IPSRC_COUNT ||
        d->ipv6_attr >= CS_IPV6ATTR_COUNT) {
        cs_fail(err, CS_EINVAL, "CIDR of VPC %.*s: state, IpSource or address attribute out of range",
                (int)(d->vpc_id.len > 64 ? 64 : d->vpc_id.len), d->vpc_id.ptr);
        cs_estate_locate(err, loc);
        return CS_EINVAL;
    }
    uint32_t v = cs_estate_find_cached(&e->vpcs, &e->last_vpc, d->vpc_id.ptr, d->vpc_id.len);
    if (v == CS_INTERN_NONE) {
        cs_prefix_format(p, pbuf, sizeof pbuf);
        cs_fail(err, CS_ENOTFOUND, "CIDR %s names VPC %.*s, which has not been read", pbuf,
                (int)(d->vpc_id.len > 64 ? 64 : d->vpc_id.len), d->vpc_id.ptr);
        cs_estate_locate(err, loc);
        return CS_ENOTFOUND;
    }

    /* 1. By association id. */
    uint32_t sid = CS_INTERN_NONE;
    if (d->association_id.len) {
        sid = cs_intern_find(&e->assoc_ids, d->association_id.ptr, d->association_id.len);
        if (sid != CS_INTERN_NONE && e->assoc_of_sid[sid] != CS_IDX_NONE) {
            uint32_t a = e->assoc_of_sid[sid];
            assoc_b *x = &CS_ASSOC(e, a);
            cs_prefix xp;
            cs_estate_assoc_prefix(x, &xp);
            if (x->vpc != v || cs_prefix_compare(&xp, p) != 0) {
                char l1[300], l2[300], xb[CS_PREFIX_STRCAP];
                cs_prefix_format(&xp, xb, sizeof xb);
                cs_prefix_format(p, pbuf, sizeof pbuf);
                cs_estate_loc_text(e, &x->loc, l1, sizeof l1);
                cs_estate_cur_loc_text(loc, l2, sizeof l2);
                cs_fail(err, CS_ECONFLICT,
                        "association %.*s seen twice with different content: %s of %s at %s, "
                        "%s of %.*s at %s",
                        (int)(d->association_id.len > 64 ? 64 : d->association_id.len),
                        d->association_id.ptr, xb, cs_intern_str(&e->vpcs, x->vpc), l1, pbuf,
                        (int)(d->vpc_id.len > 64 ? 64 : d->vpc_id.len), d->vpc_id.ptr, l2);
                cs_estate_locate(err, loc);
                return CS_ECONFLICT;
            }
            return assoc_merge(e, a, d, sid, loc, err);
        }
    }

    /* 2. By (VPC, prefix), when one of the two sightings has no id: in the
     * current run when v is its VPC (a VPC with no association before its
     * run has all of them there), else in pmap, indexed up to date first. */
    uint32_t head = CS_IDX_NONE, j = 0;
    uint8_t tag = 0;
    bool indexed = false;
    pmap_b *m = &e->pmap;
    if (!e->vpc[v].has_assoc) {
        m->run_vpc = v;
        m->run_start = e->n_assoc;
    } else if (m->run_vpc == v && e->n_assoc - m->run_start < PMAP_RUN_SCAN) {
        for (uint32_t c = m->run_start; c < e->n_assoc; c++) {
            const assoc_b *x = &CS_ASSOC(e, c);
            if (x->hi == p->hi && x->lo == p->lo && x->len == p->len && x->family == p->family) {
                head = c;
                break;
            }
        }
    } else {
        if ((m->upto < e->n_assoc || m->run_vpc != CS_IDX_NONE) && (rc = pmap_catch_up(e)))
            return cs_estate_fail_alloc(e, rc, err, "associations");
        if ((rc = pmap_reserve(e, 1)))
            return cs_estate_fail_alloc(e, rc, err, "associations");
        indexed = true;
        uint32_t h = prefix_key_hash(v, p);
        tag = (uint8_t)(h >> 24);
        for (j = h & m->mask; m->idx[j]; j = (j + 1) & m->mask) {
            if (m->tag[j] != tag)
                continue;
            const assoc_b *x = &CS_ASSOC(e, m->idx[j] - 1);
            if (x->vpc == v && x->hi == p->hi && x->lo == p->lo && x->len == p->len &&
                x->family == p->family) {
                head = m->idx[j] - 1;
                break;
            }
        }
    }
    if (head != CS_IDX_NONE) {
        uint32_t target = CS_IDX_NONE, first_live = CS_IDX_NONE;
        for (uint32_t c = head; c != CS_IDX_NONE; c = CS_ASSOC(e, c).next_same) {
            if (d->association_id.len) {
                if (CS_ASSOC(e, c).sid == CS_INTERN_NONE) {
                    target = c;
                    break;
                }
            } else {
                if (target == CS_IDX_NONE)
                    target = c;
                if (first_live == CS_IDX_NONE && cs_assoc_state_live(CS_ASSOC(e, c).state))
                    first_live = c;
            }
        }
        if (!d->association_id.len && first_live != CS_IDX_NONE)
            target = first_live;
        if (target != CS_IDX_NONE) {
            if (d->association_id.len && (rc = sid_get(e, d->association_id, &sid)))
                return cs_estate_fail_alloc(e, rc, err, "association ids");
            return assoc_merge(e, target, d, sid, loc, err);
        }
    }

    /* 3. A new association. */
    loc_b lb;
    if ((rc = cs_estate_make_loc(e, loc, &lb)))
        return cs_estate_fail_alloc(e, rc, err, "strings");
    int64_t pool_off = cs_estate_misc_off(e, d->pool);
    if (pool_off < 0)
        return cs_estate_fail_alloc(e, (int)pool_off, err, "strings");
    if ((rc = assoc_reserve(e)))
        return cs_estate_fail_alloc(e, rc, err, "associations");
    if (d->association_id.len && (rc = sid_get(e, d->association_id, &sid)))
        return cs_estate_fail_alloc(e, rc, err, "association ids");
    uint32_t a = e->n_assoc++;
    assoc_b *x = &CS_ASSOC(e, a);
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
    e->vpc[v].has_assoc = 1;
    if (head != CS_IDX_NONE) {
        x->next_same = CS_ASSOC(e, head).next_same;
        CS_ASSOC(e, head).next_same = a;
    } else if (indexed) {
        m->idx[j] = a + 1;
        m->tag[j] = tag;
        m->count++;
    }
    if (indexed)
        m->upto = e->n_assoc;
    return 0;
}

/* ---- peering connections -------------------------------------------------- */

