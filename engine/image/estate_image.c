/*
 * engine/image/estate_image.c — the estate's tables inside a snapshot image:
 * serialisation (build side), validation of untrusted images, and the read
 * accessors of estate.h (read side).
 *
 * Does: lay the frozen tables that cs_estate_freeze assembles out as image
 * sections (ids CS_SEC_ESTATE_FIRST.., engine/image/estate_image_internal.h), build the
 * VPC id hash table stored in the image, check every index and offset of
 * those sections when an image is opened, and answer record look-ups from
 * any image (heap, file, shared memory) with no allocation. Does not: sort or
 * deduplicate (engine/build/estate.c), touch the tries (engine/image/snapshot.c).
 *
 * FORMAT. All fields little-endian, fixed width, records packed with no
 * implicit padding (every size pinned by a static_assert below). Indices are
 * dense u32 positions in their table; CS_IDX_NONE (0xffffffff) = none.
 * String references (`*_off`) are byte offsets into STRINGS, where every
 * string is NUL-terminated; offset 0 is the empty string.
 *
 * HEADER (0x100), one record of 88 bytes:
 *   OFFSET SIZE FIELD
 *        0    4 magic 0x54455343 ("CSET")
 *        4    4 version (4; 3 had 24-byte VPC records with account_idx
 *                and extra_idx, and no VPC_DIR; refused with CS_EVERSION)
 *        8    4 n_accounts
 *       12    4 n_regions
 *       16    4 n_vpcs
 *       20    4 n_assocs
 *       24    4 n_peerings
 *       28    4 n_edges
 *       32    4 n_tags
 *       36    4 n_findings
 *       40    4 n_vpc_pcx      entries of VPC_PCX
 *       44    4 hash_slots     n_vpcs + n_vpcs / 4 + 1 (load < 0.8)
 *       48    8 live[2]        live associations, IPv4 then IPv6
 *       56    8 dead[2]
 *       64    4 default_vpcs
 *       68    4 pseudo_vpcs
 *       72    4 rejected       findings of kind "rejected-input"
 *       76    4 n_vpc_extra    records of VPC_EXTRA
 *       80    4 n_pools        records of ASSOC_POOL
 *       84    4 reserved (0)
 *
 * STRINGS (0x101): bytes; starts and ends with NUL.
 *
 * ACCOUNTS (0x102), sorted by id (strcmp), 16 bytes each:
 *        0    4 id_off
 *        4    4 vpc_begin      its VPCs are [vpc_begin, vpc_begin+vpc_count);
 *                              the ranges follow each other in account
 *                              order from 0 (an account without VPCs has
 *                              an empty one where it would be)
 *        8    4 vpc_count
 *       12    4 flags          CS_ACCOUNT_PSEUDO | CS_ACCOUNT_EXTERNAL
 *
 * REGIONS (0x103), sorted by name, 8 bytes each:
 *        0    4 name_off
 *        4    4 vpc_count
 *
 * VPCS (0x104), sorted by (account, region, id), 16 bytes each (its
 * account and VPC_EXTRA record are found through VPC_DIR):
 *        0    4 id_off
 *        4    4 name_off
 *        8    4 assoc_begin    its associations (contiguous per VPC) end at
 *                              the next VPC's begin (the last VPC's at
 *                              n_assocs)
 *       12    2 region_idx     (at most 65,535 regions)
 *       14    1 state          enum cs_vpc_state
 *       15    1 flags          1 default, 2 pseudo (prefix-list owner),
 *                              bits 2-7 zero
 *
 * VPC_DIR (0x110), one per 64 VPCs (ceil(n_vpcs / 64)), 16 bytes each;
 * record b covers VPCs [64 b, 64 b + 64):
 *        0    4 account_idx    the account of VPC 64 b; VPC v's account is
 *                              the last account whose vpc_begin is <= v,
 *                              between its record's account_idx and the
 *                              next record's (or the last account)
 *        4    4 extra_before   VPC_EXTRA records of the VPCs before 64 b
 *        8    8 extra_bits     bit j: VPC 64 b + j has a VPC_EXTRA record,
 *                              which is VPC_EXTRA[extra_before + the set
 *                              bits below j]; bits past n_vpcs zero
 * (format 3 stored the account and that rank in every VPC record: 8 bytes
 * a VPC, 6.3 B per CIDR of org-83k; this is 0.25 B a VPC)
 *
 * VPC_EXTRA (0x10e), one per VPC with edges, tags or peering connections,
 * in VPC order, 12 bytes each (most VPCs have none, so their ranges are not
 * stored per VPC); a VPC's ranges end at the next record's begins (the last
 * record's at the tables' counts), a VPC without a record has empty ranges
 * at the begins of the record the next VPC with one has (or the counts):
 *        0    4 edge_begin     into EDGES
 *        4    4 tag_begin      into TAGS
 *        8    4 pcx_begin      into VPC_PCX
 *
 * ASSOCS (0x105), sorted by (VPC, family, primary first, prefix, id), 12
 * bytes each; an association's index is the value of its trie entry:
 *        0    4 addr           IPv4: the address, host order (bits past len
 *                              zero); IPv6: index of its key in ASSOC_V6
 *        4    4 id_off         association id ("" = none)
 *        8    1 len
 *        9    1 family         4 or 6
 *       10    1 state          enum cs_assoc_state, 1..6
 *       11    1 flags          bit 0 primary, bits 1-2 IpSource, 3-4
 *                              Ipv6AddressAttribute, 5 a pool in
 *                              ASSOC_POOL, 6-7 zero
 *
 * ASSOC_POOL (0x10f), one per association with a pool (Ipv6Pool or an
 * IPAM pool; flag 5), ascending by association, 8 bytes each:
 *        0    4 assoc_idx
 *        4    4 pool_off
 *
 * ASSOC_VPC (0x106): u32 per association: its VPC. A dense column for hot
 * loops (cs_estate_assoc_vpc_map); the only place an association's VPC is
 * stored.
 *
 * ASSOC_V6 (0x10d), one per IPv6 association in table order, 16 bytes each
 * (the k-th IPv6 association has addr = k):
 *        0    8 hi             address bits 0..63 (cs_prefix.hi)
 *        8    8 lo             address bits 64..127; bits past len zero
 *
 * PEERINGS (0x107), sorted by id, 40 bytes each ([0] requester, [1] accepter):
 *        0    4 id_off
 *        4    8 vpc_id_off[2]  the VPC ids as read (also when unknown)
 *       12    8 vpc_idx[2]     CS_IDX_NONE = not in the inventory
 *       20    8 account_idx[2] CS_IDX_NONE = unknown
 *       28    8 region_idx[2]  CS_IDX_NONE = unknown
 *       36    1 status         enum cs_pcx_status
 *       37    2 dns[2]         enum cs_tri
 *       39    1 pad (0)
 *
 * VPC_PCX (0x108): u32 peering indices; VPC v's are [pcx_begin(v),
 * pcx_begin(v+1)), ascending; a connection is listed under each known side.
 *
 * EDGES (0x109), sorted by (VPC, kind, id), 12 bytes each:
 *        0    4 vpc_idx
 *        4    4 id_off
 *        8    1 kind           enum cs_edge_kind
 *        9    3 pad (0)
 *
 * TAGS (0x10a), sorted by (VPC, key), 8 bytes each:
 *        0    4 key_off
 *        4    4 value_off
 *
 * FINDINGS (0x10b), 32 bytes each:
 *        0    8 line           0 = unknown
 *        8    4 kind_off
 *       12    4 msg_off
 *       16    4 src_off
 *       20    4 column
 *       24    4 vpc_idx        CS_IDX_NONE = about no VPC
 *       28    4 pad (0)
 *
 * VPC_HASH (0x10c): u32[hash_slots], open addressing with linear probing
 * (past the last slot: slot 0); 0 = empty, else tag | (vpc_idx + 1), where
 * vpc_idx + 1 takes the low B bits, B = the bit width of n_vpcs, and the tag
 * is the top 32 - B bits of h = XXH3-64 of the VPC id's bytes (no NUL), so
 * a probe compares a string only when the tags agree (1M VPCs: 12-bit
 * tags); a VPC's home slot is ((h mod 2^32) * hash_slots) >> 32.
 *
 * Invariants checked by cs_estate_image_validate (failure = CS_ECORRUPT):
 * every section present with the length its count implies; every index in
 * range; every string offset inside STRINGS; per-VPC ranges monotonic and
 * exact (each association, edge, VPC-of-account lies in its owner's range,
 * and the ranges add up); accounts and peerings strictly sorted (look-ups
 * binary-search them); every trie entry's value is a live association of the
 * same prefix, and their counts agree; the hash table holds each VPC once,
 * reachable from its home slot with the right tag. After it, accessors need
 * no checks beyond the caller's index.
 *
 * Concurrency: images are immutable; every function here is thread-safe.
 * Tests: tests/test_estate.c (round trips, corrupted images).
 */
#include <cidrscope/estate.h>

#include "core/error_internal.h"
#include "image/estate_image_internal.h"
#include "core/hash_internal.h"

#include <stdlib.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "cidrscope images are little-endian; this build targets a big-endian CPU"
#endif

static_assert(sizeof(cs_ehdr) == 88, "estate header is 88 bytes");
static_assert(offsetof(cs_ehdr, live) == 48, "live counts at 48");
static_assert(offsetof(cs_ehdr, n_pools) == 80, "pool count at 80");
static_assert(sizeof(cs_eaccount) == 16, "account record is 16 bytes");
static_assert(sizeof(cs_eregion) == 8, "region record is 8 bytes");
static_assert(sizeof(cs_evpc) == 16, "VPC record is 16 bytes");
static_assert(offsetof(cs_evpc, region_idx) == 12, "VPC region at 12");
static_assert(offsetof(cs_evpc, state) == 14, "VPC state at 14");
static_assert(sizeof(cs_evpc_dir) == 16, "VPC directory record is 16 bytes");
static_assert(offsetof(cs_evpc_dir, extra_bits) == 8, "VPC extra bits at 8");
static_assert(sizeof(cs_evpc_extra) == 12, "VPC extra record is 12 bytes");
static_assert(sizeof(cs_eassoc) == 12, "association record is 12 bytes");
static_assert(offsetof(cs_eassoc, len) == 8, "association len at 8");
static_assert(sizeof(cs_eassoc_pool) == 8, "pool record is 8 bytes");
static_assert(sizeof(cs_eaddr6) == 16, "IPv6 key record is 16 bytes");
static_assert(sizeof(cs_epeering) == 40, "peering record is 40 bytes");
static_assert(offsetof(cs_epeering, status) == 36, "peering status at 36");
static_assert(sizeof(cs_eedge) == 12, "edge record is 12 bytes");
static_assert(sizeof(cs_etag) == 8, "tag record is 8 bytes");
static_assert(sizeof(cs_efinding) == 32, "finding record is 32 bytes");
static_assert(offsetof(cs_efinding, vpc_idx) == 24, "finding vpc at 24");

/* ---- the VPC id table (both sides) ------------------------------------------ */

/* Bits of a slot that hold vpc_idx + 1 (1..n); the rest hold the tag. */
static unsigned hash_idx_bits(uint32_t n)
{
    return n ? 32u - (unsigned)__builtin_clz(n) : 1u;
}

static uint32_t hash_tag_mask(uint32_t n)
{
    unsigned b = hash_idx_bits(n);
    return b >= 32 ? 0 : ~0u << b;
}

static uint64_t hash_slots_for(uint32_t n)
{
    return (uint64_t)n + n / 4 + 1; /* load < 0.8, one empty slot at least */
}

static uint32_t hash_home(uint64_t h, uint32_t slots)
{
    return (uint32_t)(((h & 0xffffffffull) * slots) >> 32);
}

/* VPC_DIR records for n VPCs. */
static uint64_t vpc_dir_count(uint32_t n)
{
    return ((uint64_t)n + CS_EVPC_DIR_SPAN - 1) / CS_EVPC_DIR_SPAN;
}

/* ---- build side ------------------------------------------------------------ */

int cs_estate_image_sections(cs_estate_tables *t, cs_section_blob *blobs, cs_error *err)
{
    cs_ehdr *h = &t->hdr;
    h->magic = CS_EHDR_MAGIC;
    h->version = CS_EHDR_VERSION;
    h->reserved = 0;
    /* 32-bit slots at load < 0.8 (was 64-bit at a power of two, 12.7 B per
     * CIDR on org-83k). */
    uint64_t slots = hash_slots_for(h->n_vpcs);
    if (slots > UINT32_MAX)
        return cs_fail(err, CS_ERANGE, "too many VPCs for the image's id table");
    h->hash_slots = (uint32_t)slots;
    t->hash = calloc((size_t)slots, sizeof *t->hash);
    if (!t->hash)
        return cs_fail(err, CS_ENOMEM, "out of memory building the VPC id table");
    uint32_t tmask = hash_tag_mask(h->n_vpcs), n = (uint32_t)slots;
    for (uint32_t v = 0; v < h->n_vpcs; v++) {
        const char *id = t->strings + t->vpcs[v].id_off;
        uint64_t hv = cs_hash_bytes(id, strlen(id));
        uint32_t j = hash_home(hv, n);
        while (t->hash[j])
            j = j + 1 == n ? 0 : j + 1;
        t->hash[j] = ((uint32_t)(hv >> 32) & tmask) | (v + 1);
    }
    const struct { const void *p; uint64_t len; } sec[CS_ESEC_COUNT] = {
        {h, sizeof *h},
        {t->strings, t->strings_len},
        {t->accounts, (uint64_t)h->n_accounts * sizeof(cs_eaccount)},
        {t->regions, (uint64_t)h->n_regions * sizeof(cs_eregion)},
        {t->vpcs, (uint64_t)h->n_vpcs * sizeof(cs_evpc)},
        {t->assocs, (uint64_t)h->n_assocs * sizeof(cs_eassoc)},
        {t->assoc_vpc, (uint64_t)h->n_assocs * sizeof(uint32_t)},
        {t->peerings, (uint64_t)h->n_peerings * sizeof(cs_epeering)},
        {t->vpc_pcx, (uint64_t)h->n_vpc_pcx * sizeof(uint32_t)},
        {t->edges, (uint64_t)h->n_edges * sizeof(cs_eedge)},
        {t->tags, (uint64_t)h->n_tags * sizeof(cs_etag)},
        {t->findings, (uint64_t)h->n_findings * sizeof(cs_efinding)},
        {t->hash, slots * sizeof(uint32_t)},
        {t->assoc_v6, ((uint64_t)h->live[1] + h->dead[1]) * sizeof(cs_eaddr6)},
        {t->vpc_extra, (uint64_t)h->n_vpc_extra * sizeof(cs_evpc_extra)},
        {t->assoc_pools, (uint64_t)h->n_pools * sizeof(cs_eassoc_pool)},
        {t->vpc_dir, vpc_dir_count(h->n_vpcs) * sizeof(cs_evpc_dir)},
    };
    for (unsigned i = 0; i < CS_ESEC_COUNT; i++) {
        blobs[i].id = CS_ESEC_HEADER + i;
        blobs[i].data = sec[i].p;
        blobs[i].len = sec[i].len;
    }
    return 0;
}

/* ---- read side: locating the tables ------------------------------------------ */


static const cs_ehdr *ehdr(const cs_snapshot *s)
{
    uint64_t len;
    const cs_ehdr *h = s ? snap_section(s, CS_ESEC_HEADER, &len) : NULL;
    return h && len == sizeof *h ? h : NULL;
}

static const void *sec(const cs_snapshot *s, uint32_t id)
{
    return snap_section(s, id, NULL);
}

/* ---- validation ------------------------------------------------------------------ */

static int bad(cs_error *err, const char *section, uint64_t rec, const char *what)
{
    return cs_fail(err, CS_ECORRUPT, "corrupt image: estate section %s, record %llu: %s",
                   section, (unsigned long long)rec, what);
}

static int badsec(cs_error *err, const char *section, const char *what)
{
    return cs_fail(err, CS_ECORRUPT, "corrupt image: estate section %s: %s", section, what);
}

/* The k-th begin of a VPC_EXTRA record: edges, tags, peering list. */
static uint32_t xbegin(const cs_evpc_extra *x, int k)
{
    return k == 0 ? x->edge_begin : k == 1 ? x->tag_begin : x->pcx_begin;
}

/* Whether VPC v has a VPC_EXTRA record; *x = the records of the VPCs
 * before it (its record's index when it has one). */
static bool vpc_extra(const cs_evpc_dir *dir, uint32_t v, uint32_t *x)
{
    const cs_evpc_dir *d = &dir[v / CS_EVPC_DIR_SPAN];
    const unsigned j = v % CS_EVPC_DIR_SPAN;
    *x = d->extra_before + (uint32_t)__builtin_popcountll(d->extra_bits & ((1ull << j) - 1));
    return (d->extra_bits >> j) & 1;
}

/* VPC v's account: the last account whose range begins at or before v
 * (accounts' ranges follow each other; an empty one ends where the next
 * begins, so it is never the last such), between the account of v's block
 * and that of the next block (the validator checked both). */
static uint32_t vpc_account(const cs_ehdr *h, const cs_eaccount *acc, const cs_evpc_dir *dir,
                            uint32_t v)
{
    const uint32_t b = v / CS_EVPC_DIR_SPAN;
    uint32_t lo = dir[b].account_idx; /* vpc_begin(lo) <= v */
    uint32_t hi = b + 1 < vpc_dir_count(h->n_vpcs) ? dir[b + 1].account_idx + 1 : h->n_accounts;
    while (hi - lo > 1) { /* answer in [lo, hi) */
        const uint32_t mid = lo + (hi - lo) / 2;
        if (acc[mid].vpc_begin <= v)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* VPC v's edges (k 0), tags (1) or peering list (2) as [*begin, *end), from
 * VPC_EXTRA `ex` through VPC_DIR `dir` (both checked by the validator). */
static void vpc_range(const cs_ehdr *h, const cs_evpc_dir *dir, uint32_t v,
                      const cs_evpc_extra *ex, int k, uint32_t *begin, uint32_t *end)
{
    const uint32_t total = k == 0 ? h->n_edges : k == 1 ? h->n_tags : h->n_vpc_pcx;
    uint32_t x;
    const bool has = vpc_extra(dir, v, &x);
    *begin = x < h->n_vpc_extra ? xbegin(&ex[x], k) : total;
    *end = *begin;
    if (has)
        *end = x + 1 < h->n_vpc_extra ? xbegin(&ex[x + 1], k) : total;
}

/* The prefix of association record `a` (v6: key from `v6`, whose index the
 * caller has checked). */
static cs_prefix assoc_prefix(const cs_eassoc *a, const cs_eaddr6 *v6)
{
    cs_prefix p;
    if (a->family == CS_AF_V4) {
        p.hi = (uint64_t)a->addr << 32;
        p.lo = 0;
    } else {
        p.hi = v6[a->addr].hi;
        p.lo = v6[a->addr].lo;
    }
    p.len = a->len;
    p.family = a->family;
    return p;
}

static bool prefix_ok(const cs_prefix *p)
{
    if (p->len > cs_family_bits(p->family))
        return false;
    unsigned len = p->len;
    uint64_t mhi = len >= 64 ? ~0ull : len ? ~0ull << (64 - len) : 0;
    uint64_t mlo = len <= 64 ? 0 : len >= 128 ? ~0ull : ~0ull << (128 - len);
    return (p->hi & ~mhi) == 0 && (p->lo & ~mlo) == 0;
}

int cs_estate_image_validate(const cs_snapshot *s, cs_error *err)
{
    static const char *const names[CS_ESEC_COUNT] = {
        "HEADER", "STRINGS", "ACCOUNTS", "REGIONS", "VPCS", "ASSOCS", "ASSOC_VPC",
        "PEERINGS", "VPC_PCX", "EDGES", "TAGS", "FINDINGS", "VPC_HASH", "ASSOC_V6",
        "VPC_EXTRA", "ASSOC_POOL", "VPC_DIR"};
    const void *p[CS_ESEC_COUNT];
    uint64_t len[CS_ESEC_COUNT];
    unsigned present = 0;
    for (unsigned i = 0; i < CS_ESEC_COUNT; i++) {
        p[i] = snap_section(s, CS_ESEC_HEADER + i, &len[i]);
        present += p[i] != NULL;
    }
    if (present == 0)
        return 0; /* a plain prefix snapshot */
    for (unsigned i = 0; i < CS_ESEC_COUNT; i++)
        if (!p[i])
            return badsec(err, names[i], "missing");
    const cs_ehdr *h = p[0];
    if (len[0] != sizeof *h)
        return badsec(err, "HEADER", "wrong length");
    if (h->magic != CS_EHDR_MAGIC)
        return badsec(err, "HEADER", "bad magic");
    if (h->version != CS_EHDR_VERSION)
        return cs_fail(err, CS_EVERSION, "estate tables of version %u; this build reads version %u",
                       h->version, CS_EHDR_VERSION);
    const uint64_t want[CS_ESEC_COUNT] = {
        sizeof *h, len[1],
        (uint64_t)h->n_accounts * sizeof(cs_eaccount),
        (uint64_t)h->n_regions * sizeof(cs_eregion),
        (uint64_t)h->n_vpcs * sizeof(cs_evpc),
        (uint64_t)h->n_assocs * sizeof(cs_eassoc),
        (uint64_t)h->n_assocs * sizeof(uint32_t),
        (uint64_t)h->n_peerings * sizeof(cs_epeering),
        (uint64_t)h->n_vpc_pcx * sizeof(uint32_t),
        (uint64_t)h->n_edges * sizeof(cs_eedge),
        (uint64_t)h->n_tags * sizeof(cs_etag),
        (uint64_t)h->n_findings * sizeof(cs_efinding),
        (uint64_t)h->hash_slots * sizeof(uint32_t),
        ((uint64_t)h->live[1] + h->dead[1]) * sizeof(cs_eaddr6),
        (uint64_t)h->n_vpc_extra * sizeof(cs_evpc_extra),
        (uint64_t)h->n_pools * sizeof(cs_eassoc_pool),
        vpc_dir_count(h->n_vpcs) * sizeof(cs_evpc_dir)};
    for (unsigned i = 0; i < CS_ESEC_COUNT; i++)
        if (len[i] != want[i])
            return badsec(err, names[i], "length disagrees with the header's count");
    const uint64_t sl = len[1];
    const char *str = p[1];
    if (sl < 1 || sl > UINT32_MAX || str[0] != '\0' || str[sl - 1] != '\0')
        return badsec(err, "STRINGS", "must start and end with NUL and be under 4 GiB");
    if (h->n_accounts == CS_IDX_NONE || h->n_regions == CS_IDX_NONE || h->n_vpcs == CS_IDX_NONE ||
        h->n_assocs == CS_IDX_NONE || h->n_peerings == CS_IDX_NONE)
        return badsec(err, "HEADER", "a count equals the 'none' index");
    const uint32_t na = h->n_accounts, nr = h->n_regions, nv = h->n_vpcs, nas = h->n_assocs,
                   np = h->n_peerings, ne = h->n_edges, nt = h->n_tags, nf = h->n_findings,
                   nvp = h->n_vpc_pcx, nx = h->n_vpc_extra;
    if (h->reserved)
        return badsec(err, "HEADER", "reserved field not zero");
#define STR_OK(off) ((uint64_t)(off) < sl)

    const cs_eaccount *acc = p[2];
    uint64_t acc_total = 0;
    for (uint32_t i = 0; i < na; i++) {
        if (!STR_OK(acc[i].id_off))
            return bad(err, "ACCOUNTS", i, "id offset outside STRINGS");
        if ((uint64_t)acc[i].vpc_begin + acc[i].vpc_count > nv || acc[i].vpc_begin != acc_total)
            return bad(err, "ACCOUNTS", i, "VPC range outside VPCS or not after the last one");
        if (acc[i].flags & ~(uint32_t)(CS_ACCOUNT_PSEUDO | CS_ACCOUNT_EXTERNAL))
            return bad(err, "ACCOUNTS", i, "unknown flags");
        if (i && strcmp(str + acc[i - 1].id_off, str + acc[i].id_off) >= 0)
            return bad(err, "ACCOUNTS", i, "not sorted by id");
        acc_total += acc[i].vpc_count;
    }
    if (acc_total != nv)
        return badsec(err, "ACCOUNTS", "VPC ranges do not add up to the VPC count");
    const cs_eregion *reg = p[3];
    uint64_t reg_total = 0;
    for (uint32_t i = 0; i < nr; i++) {
        if (!STR_OK(reg[i].name_off))
            return bad(err, "REGIONS", i, "name offset outside STRINGS");
        reg_total += reg[i].vpc_count;
    }
    if (reg_total != nv)
        return badsec(err, "REGIONS", "VPC counts do not add up to the VPC count");

    /* VPC_EXTRA: every range begin ascending from 0 up to its table's count
     * (so each VPC's ranges below are in bounds and add up). */
    const cs_evpc_extra *ex = p[14];
    const uint32_t xtot[3] = {ne, nt, nvp};
    for (int k = 0; k < 3; k++) {
        if (nx == 0 && xtot[k])
            return badsec(err, "VPC_EXTRA", "edges, tags or peerings but no VPC holds them");
        for (uint32_t j = 0; j < nx; j++) {
            uint32_t b = xbegin(&ex[j], k), next = j + 1 < nx ? xbegin(&ex[j + 1], k) : xtot[k];
            if ((j == 0 && b != 0) || b > next || next > xtot[k])
                return bad(err, "VPC_EXTRA", j, "edge, tag or peering range not monotonic");
        }
    }
    /* VPC_DIR: each record's account is its first VPC's (the accounts'
     * ranges were checked to follow each other, so that is the one account
     * whose non-empty range holds it), its rank the count of set bits
     * before it, no bit past the last VPC. */
    const cs_evpc_dir *dir = p[16];
    const uint32_t ndir = (uint32_t)vpc_dir_count(nv);
    uint32_t xseen = 0;
    for (uint32_t b = 0, a = 0; b < ndir; b++) {
        const uint32_t v = b * CS_EVPC_DIR_SPAN;
        while (a < na && (uint64_t)acc[a].vpc_begin + acc[a].vpc_count <= v)
            a++; /* a < na: the ranges add up to nv > v */
        if (dir[b].account_idx != a)
            return bad(err, "VPC_DIR", b, "account is not its first VPC's");
        if (dir[b].extra_before != xseen)
            return bad(err, "VPC_DIR", b, "extra count is not the set bits before it");
        const unsigned span = nv - v < CS_EVPC_DIR_SPAN ? nv - v : CS_EVPC_DIR_SPAN;
        if (span < 64 && dir[b].extra_bits >> span)
            return bad(err, "VPC_DIR", b, "extra bit past the last VPC");
        xseen += (uint32_t)__builtin_popcountll(dir[b].extra_bits);
    }
    if (xseen != nx)
        return badsec(err, "VPC_EXTRA", "record count differs from the VPCs flagged with extras");
    const cs_evpc *vpc = p[4];
    uint32_t defaults = 0, pseudos = 0;
    for (uint32_t i = 0; i < nv; i++) {
        const cs_evpc *x = &vpc[i];
        if (!STR_OK(x->id_off) || !STR_OK(x->name_off))
            return bad(err, "VPCS", i, "string offset outside STRINGS");
        if (x->region_idx >= nr)
            return bad(err, "VPCS", i, "region index out of range");
        if (x->state >= CS_VPC_STATE_COUNT || (x->flags & ~3u))
            return bad(err, "VPCS", i, "state or flags out of range");
        uint32_t b = x->assoc_begin, next = i + 1 < nv ? vpc[i + 1].assoc_begin : nas;
        if ((i == 0 && b != 0) || b > next || next > nas)
            return bad(err, "VPCS", i, "association range not monotonic");
        defaults += (x->flags & CS_EVPC_DEFAULT) != 0;
        pseudos += (x->flags & CS_EVPC_PSEUDO) != 0;
    }
    if (nv == 0 && (nas || ne || nt || nvp))
        return badsec(err, "VPCS", "records that need a VPC exist but no VPC does");
    if (defaults != h->default_vpcs || pseudos != h->pseudo_vpcs)
        return badsec(err, "HEADER", "default or pseudo VPC count disagrees with VPCS");

    const cs_eassoc *as = p[5];
    const uint32_t *as_vpc = p[6];
    const cs_eaddr6 *as6 = p[13];
    uint64_t n6 = len[13] / sizeof(cs_eaddr6);
    uint32_t live[2] = {0, 0}, dead[2] = {0, 0}, k6 = 0, pooled = 0;
    for (uint32_t i = 0; i < nas; i++) {
        const cs_eassoc *a = &as[i];
        if (a->family == CS_AF_V6) {
            if (a->addr != k6 || k6 >= n6)
                return bad(err, "ASSOCS", i, "IPv6 key index out of order or range");
            k6++;
        } else if (a->family != CS_AF_V4) {
            return bad(err, "ASSOCS", i, "family neither 4 nor 6");
        }
        cs_prefix ap = assoc_prefix(a, as6);
        if (!prefix_ok(&ap))
            return bad(err, "ASSOCS", i, "bad prefix (length or host bits)");
        uint32_t vi = as_vpc[i];
        if (vi >= nv)
            return bad(err, "ASSOC_VPC", i, "VPC index out of range");
        const cs_evpc *x = &vpc[vi];
        if (i < x->assoc_begin || i >= (vi + 1 < nv ? x[1].assoc_begin : nas))
            return bad(err, "ASSOCS", i, "outside its VPC's association range");
        if (!STR_OK(a->id_off))
            return bad(err, "ASSOCS", i, "string offset outside STRINGS");
        if (a->state == CS_ASSOC_UNSPECIFIED || a->state >= CS_ASSOC_STATE_COUNT ||
            (a->flags >> 6) || ((a->flags >> CS_EASSOC_V6ATTR_SHIFT) & 3u) >= CS_IPV6ATTR_COUNT)
            return bad(err, "ASSOCS", i, "state or flags out of range");
        pooled += (a->flags & CS_EASSOC_POOL) != 0;
        unsigned f = cs_family_index(a->family);
        if (cs_assoc_state_live(a->state))
            live[f]++;
        else
            dead[f]++;
    }
    if (live[0] != h->live[0] || live[1] != h->live[1] || dead[0] != h->dead[0] ||
        dead[1] != h->dead[1])
        return badsec(err, "HEADER", "live or dead association counts disagree with ASSOCS");
    /* Pools: one record per flagged association, ascending, so a look-up
     * may binary-search them. */
    const cs_eassoc_pool *pool = p[15];
    if (pooled != h->n_pools)
        return badsec(err, "ASSOC_POOL", "count differs from the associations flagged with a pool");
    for (uint32_t j = 0; j < h->n_pools; j++) {
        uint32_t ai = pool[j].assoc_idx;
        if (ai >= nas || !(as[ai].flags & CS_EASSOC_POOL) || (j && ai <= pool[j - 1].assoc_idx))
            return bad(err, "ASSOC_POOL", j, "association out of range, unflagged or out of order");
        if (!STR_OK(pool[j].pool_off))
            return bad(err, "ASSOC_POOL", j, "string offset outside STRINGS");
    }
    /* The tries and the table must tell the same story: every entry is a
     * live association of exactly its prefix. */
    for (unsigned f = 0; f < 2; f++) {
        const cs_famview *fv = snap_family(s, f);
        if (fv->n_entries != live[f])
            return badsec(err, "ASSOCS", "live associations and trie entries differ in number");
        uint8_t fam = f ? CS_AF_V6 : CS_AF_V4;
        /* node by node (the tries are valid by now): entries [k, own end)
         * are stored at node i's prefix */
        for (uint32_t i = 0; i < fv->n_nodes; i++) {
            cs_prefix ep = snap_node_prefix(fv, f, i);
            for (uint32_t k = fv->cold[i].ent_begin, ke = snap_own_end(fv, f, i); k < ke; k++) {
                uint32_t a = fv->values[k];
                if (a >= nas)
                    return bad(err, "ASSOCS", k, "named by a trie entry but out of range");
                const cs_eassoc *x = &as[a];
                cs_prefix xp = assoc_prefix(x, as6);
                if (x->family != fam || !cs_assoc_state_live(x->state) ||
                    cs_prefix_compare(&xp, &ep) != 0)
                    return bad(err, "ASSOCS", a, "disagrees with its trie entry");
            }
        }
    }

    const cs_epeering *pcx = p[7];
    for (uint32_t i = 0; i < np; i++) {
        const cs_epeering *x = &pcx[i];
        if (!STR_OK(x->id_off) || !STR_OK(x->vpc_id_off[0]) || !STR_OK(x->vpc_id_off[1]))
            return bad(err, "PEERINGS", i, "string offset outside STRINGS");
        if (i && strcmp(str + pcx[i - 1].id_off, str + x->id_off) >= 0)
            return bad(err, "PEERINGS", i, "not sorted by id");
        for (int k = 0; k < 2; k++) {
            if ((x->vpc_idx[k] != CS_IDX_NONE && x->vpc_idx[k] >= nv) ||
                (x->account_idx[k] != CS_IDX_NONE && x->account_idx[k] >= na) ||
                (x->region_idx[k] != CS_IDX_NONE && x->region_idx[k] >= nr) ||
                x->dns[k] > CS_TRI_TRUE)
                return bad(err, "PEERINGS", i, "index or option out of range");
        }
        if (x->status >= CS_PCX_STATUS_COUNT || x->pad)
            return bad(err, "PEERINGS", i, "status out of range");
    }
    const uint32_t *vp = p[8];
    for (uint32_t v = 0; v < nv; v++) {
        uint32_t b, end;
        vpc_range(h, dir, v, ex, 2, &b, &end);
        for (uint32_t k = b; k < end; k++) {
            if (vp[k] >= np || (pcx[vp[k]].vpc_idx[0] != v && pcx[vp[k]].vpc_idx[1] != v))
                return bad(err, "VPC_PCX", k, "names a peering connection not of its VPC");
            if (k > b && vp[k] <= vp[k - 1])
                return bad(err, "VPC_PCX", k, "not ascending");
        }
    }
    const cs_eedge *edge = p[9];
    for (uint32_t i = 0; i < ne; i++) {
        const cs_eedge *x = &edge[i];
        if (x->vpc_idx >= nv || !STR_OK(x->id_off) || x->kind >= CS_EDGE_KIND_COUNT ||
            x->pad[0] || x->pad[1] || x->pad[2])
            return bad(err, "EDGES", i, "index, string or kind out of range");
        uint32_t b, end;
        vpc_range(h, dir, x->vpc_idx, ex, 0, &b, &end);
        if (i < b || i >= end)
            return bad(err, "EDGES", i, "outside its VPC's edge range");
    }
    const cs_etag *tag = p[10];
    for (uint32_t i = 0; i < nt; i++)
        if (!STR_OK(tag[i].key_off) || !STR_OK(tag[i].value_off))
            return bad(err, "TAGS", i, "string offset outside STRINGS");
    const cs_efinding *fnd = p[11];
    uint32_t rejected = 0;
    for (uint32_t i = 0; i < nf; i++) {
        const cs_efinding *x = &fnd[i];
        if (!STR_OK(x->kind_off) || !STR_OK(x->msg_off) || !STR_OK(x->src_off))
            return bad(err, "FINDINGS", i, "string offset outside STRINGS");
        if (x->vpc_idx != CS_IDX_NONE && x->vpc_idx >= nv)
            return bad(err, "FINDINGS", i, "VPC index out of range");
        rejected += strcmp(str + x->kind_off, CS_FINDING_REJECTED) == 0;
    }
    if (rejected != h->rejected)
        return badsec(err, "HEADER", "rejected count disagrees with FINDINGS");

    /* The id table: exactly n + n/4 + 1 slots (so at least one is empty);
     * every VPC exactly once, with its hash's tag, reachable from its home
     * slot (no empty slot between home and where it sits). */
    const uint32_t *hash = p[12];
    uint64_t slots = h->hash_slots;
    if (slots != hash_slots_for(nv))
        return badsec(err, "VPC_HASH", "slot count is not the VPC count's");
    uint64_t used = 0, start = slots;
    const uint32_t tmask = hash_tag_mask(nv);
    for (uint64_t j = 0; j < slots; j++) {
        if (!hash[j] && start == slots)
            start = j;
        used += hash[j] != 0;
    }
    if (used != nv || start == slots)
        return badsec(err, "VPC_HASH", "holds a different number of VPCs than VPCS");
    uint8_t *seen = calloc((size_t)nv / 8 + 1, 1);
    if (!seen)
        return cs_fail(err, CS_ENOMEM, "out of memory validating the VPC id table");
    /* Walk the ring once from an empty slot; `run` is where the current
     * cluster of occupied slots began. */
    uint64_t run = 0;
    int rc = 0;
    for (uint64_t k = 1; k <= slots && !rc; k++) {
        uint64_t j = (start + k) % slots;
        uint32_t v1 = hash[j];
        if (!v1) {
            run = 0;
            continue;
        }
        if (run == 0)
            run = k;
        uint32_t vi = (v1 & ~tmask) - 1;
        if ((v1 & ~tmask) == 0 || vi >= nv || (seen[vi / 8] >> (vi % 8)) & 1u) {
            rc = bad(err, "VPC_HASH", j, "VPC index out of range or twice");
            break;
        }
        seen[vi / 8] |= (uint8_t)(1u << (vi % 8));
        const char *id = str + vpc[vi].id_off;
        uint64_t hv = cs_hash_bytes(id, strlen(id));
        /* home as a ring position counted from the empty slot */
        uint64_t home_k = (hash_home(hv, (uint32_t)slots) + slots - start) % slots;
        if (((uint32_t)(hv >> 32) & tmask) != (v1 & tmask) || home_k < run || home_k > k)
            rc = bad(err, "VPC_HASH", j, "VPC not reachable from its home slot");
    }
    free(seen);
#undef STR_OK
    return rc;
}

/* ---- read accessors ----------------------------------------------------------------- */

bool cs_estate_present(const cs_snapshot *s)
{
    return ehdr(s) != NULL;
}

void cs_estate_counts_get(const cs_snapshot *s, cs_estate_counts *out)
{
    memset(out, 0, sizeof *out);
    const cs_ehdr *h = ehdr(s);
    if (!h)
        return;
    out->accounts = h->n_accounts;
    out->regions = h->n_regions;
    out->vpcs = h->n_vpcs;
    out->default_vpcs = h->default_vpcs;
    out->pseudo_vpcs = h->pseudo_vpcs;
    out->assocs = h->n_assocs;
    out->live[0] = h->live[0];
    out->live[1] = h->live[1];
    out->dead[0] = h->dead[0];
    out->dead[1] = h->dead[1];
    out->peerings = h->n_peerings;
    out->edges = h->n_edges;
    out->tags = h->n_tags;
    out->findings = h->n_findings;
    out->rejected = h->rejected;
}

static const char *strs(const cs_snapshot *s)
{
    return sec(s, CS_ESEC_STRINGS);
}

int cs_estate_account(const cs_snapshot *s, uint32_t idx, cs_account *out)
{
    const cs_ehdr *h = ehdr(s);
    if (!h || idx >= h->n_accounts || !out)
        return CS_ERANGE;
    const cs_eaccount *r = (const cs_eaccount *)sec(s, CS_ESEC_ACCOUNTS) + idx;
    out->id = strs(s) + r->id_off;
    out->vpc_begin = r->vpc_begin;
    out->vpc_count = r->vpc_count;
    out->flags = r->flags;
    return 0;
}

int cs_estate_region(const cs_snapshot *s, uint32_t idx, cs_region *out)
{
    const cs_ehdr *h = ehdr(s);
    if (!h || idx >= h->n_regions || !out)
        return CS_ERANGE;
    const cs_eregion *r = (const cs_eregion *)sec(s, CS_ESEC_REGIONS) + idx;
    out->name = strs(s) + r->name_off;
    out->vpc_count = r->vpc_count;
    return 0;
}

int cs_estate_vpc(const cs_snapshot *s, uint32_t idx, cs_vpc *out)
{
    const cs_ehdr *h = ehdr(s);
    if (!h || idx >= h->n_vpcs || !out)
        return CS_ERANGE;
    const cs_evpc *all = sec(s, CS_ESEC_VPCS);
    const cs_evpc *r = all + idx;
    const char *st = strs(s);
    bool last = idx + 1 == h->n_vpcs;
    out->id = st + r->id_off;
    out->name = st + r->name_off;
    const cs_evpc_extra *ex = sec(s, CS_ESEC_VPC_EXTRA);
    const cs_evpc_dir *dir = sec(s, CS_ESEC_VPC_DIR);
    uint32_t b, e;
    out->account_idx = vpc_account(h, sec(s, CS_ESEC_ACCOUNTS), dir, idx);
    out->region_idx = r->region_idx;
    out->assoc_begin = r->assoc_begin;
    out->assoc_count = (last ? h->n_assocs : r[1].assoc_begin) - r->assoc_begin;
    vpc_range(h, dir, idx, ex, 0, &b, &e);
    out->edge_begin = b;
    out->edge_count = e - b;
    vpc_range(h, dir, idx, ex, 1, &b, &e);
    out->tag_begin = b;
    out->tag_count = e - b;
    vpc_range(h, dir, idx, ex, 2, &b, &e);
    out->pcx_count = e - b;
    out->state = r->state;
    out->is_default = (r->flags & CS_EVPC_DEFAULT) != 0;
    out->pseudo = (r->flags & CS_EVPC_PSEUDO) != 0;
    return 0;
}

int cs_estate_assoc(const cs_snapshot *s, uint32_t idx, cs_assoc *out)
{
    const cs_ehdr *h = ehdr(s);
    if (!h || idx >= h->n_assocs || !out)
        return CS_ERANGE;
    const cs_eassoc *r = (const cs_eassoc *)sec(s, CS_ESEC_ASSOCS) + idx;
    const char *st = strs(s);
    out->prefix = assoc_prefix(r, r->family == CS_AF_V6 ? sec(s, CS_ESEC_ASSOC_V6) : NULL);
    out->id = st + r->id_off;
    out->pool = st; /* "" */
    if (r->flags & CS_EASSOC_POOL) {
        /* binary search: the validator checked they ascend and cover every
         * flagged association */
        const cs_eassoc_pool *pool = sec(s, CS_ESEC_ASSOC_POOL);
        uint32_t lo = 0, hi = h->n_pools;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (pool[mid].assoc_idx < idx)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < h->n_pools && pool[lo].assoc_idx == idx)
            out->pool = st + pool[lo].pool_off;
    }
    out->vpc_idx = ((const uint32_t *)sec(s, CS_ESEC_ASSOC_VPC))[idx];
    out->state = r->state;
    out->primary = (r->flags & CS_EASSOC_PRIMARY) != 0;
    out->live = cs_assoc_state_live(r->state);
    out->ip_source = (r->flags >> CS_EASSOC_IPSRC_SHIFT) & 3u;
    out->ipv6_attr = (r->flags >> CS_EASSOC_V6ATTR_SHIFT) & 3u;
    return 0;
}

int cs_estate_peering(const cs_snapshot *s, uint32_t idx, cs_peering *out)
{
    const cs_ehdr *h = ehdr(s);
    if (!h || idx >= h->n_peerings || !out)
        return CS_ERANGE;
    const cs_epeering *r = (const cs_epeering *)sec(s, CS_ESEC_PEERINGS) + idx;
    const char *st = strs(s);
    out->id = st + r->id_off;
    cs_peering_end *end[2] = {&out->requester, &out->accepter};
    for (int k = 0; k < 2; k++) {
        end[k]->vpc_id = st + r->vpc_id_off[k];
        end[k]->vpc_idx = r->vpc_idx[k];
        end[k]->account_idx = r->account_idx[k];
        end[k]->region_idx = r->region_idx[k];
        end[k]->allow_dns = r->dns[k];
    }
    out->status = r->status;
    return 0;
}

int cs_estate_edge(const cs_snapshot *s, uint32_t idx, cs_edge *out)
{
    const cs_ehdr *h = ehdr(s);
    if (!h || idx >= h->n_edges || !out)
        return CS_ERANGE;
    const cs_eedge *r = (const cs_eedge *)sec(s, CS_ESEC_EDGES) + idx;
    out->id = strs(s) + r->id_off;
    out->vpc_idx = r->vpc_idx;
    out->kind = r->kind;
    return 0;
}

int cs_estate_tag(const cs_snapshot *s, uint32_t idx, const char **key, const char **value)
{
    const cs_ehdr *h = ehdr(s);
    if (!h || idx >= h->n_tags)
        return CS_ERANGE;
    const cs_etag *r = (const cs_etag *)sec(s, CS_ESEC_TAGS) + idx;
    const char *st = strs(s);
    if (key)
        *key = st + r->key_off;
    if (value)
        *value = st + r->value_off;
    return 0;
}

int cs_estate_finding(const cs_snapshot *s, uint32_t idx, cs_finding *out)
{
    const cs_ehdr *h = ehdr(s);
    if (!h || idx >= h->n_findings || !out)
        return CS_ERANGE;
    const cs_efinding *r = (const cs_efinding *)sec(s, CS_ESEC_FINDINGS) + idx;
    const char *st = strs(s);
    out->kind = st + r->kind_off;
    out->message = st + r->msg_off;
    out->source = st + r->src_off;
    out->line = r->line;
    out->column = r->column;
    out->vpc_idx = r->vpc_idx;
    return 0;
}

uint32_t cs_estate_assoc_vpc(const cs_snapshot *s, uint32_t assoc_idx)
{
    const cs_ehdr *h = ehdr(s);
    if (!h || assoc_idx >= h->n_assocs)
        return CS_IDX_NONE;
    return ((const uint32_t *)sec(s, CS_ESEC_ASSOC_VPC))[assoc_idx];
}

const uint32_t *cs_estate_assoc_vpc_map(const cs_snapshot *s, uint32_t *count)
{
    const cs_ehdr *h = ehdr(s);
    if (count)
        *count = h ? h->n_assocs : 0;
    return h ? sec(s, CS_ESEC_ASSOC_VPC) : NULL;
}

const uint32_t *cs_estate_vpc_peerings(const cs_snapshot *s, uint32_t vpc_idx, uint32_t *count)
{
    const cs_ehdr *h = ehdr(s);
    if (count)
        *count = 0;
    if (!h || vpc_idx >= h->n_vpcs)
        return NULL;
    uint32_t begin, end;
    vpc_range(h, sec(s, CS_ESEC_VPC_DIR), vpc_idx, sec(s, CS_ESEC_VPC_EXTRA), 2, &begin, &end);
    if (end == begin)
        return NULL;
    if (count)
        *count = end - begin;
    return (const uint32_t *)sec(s, CS_ESEC_VPC_PCX) + begin;
}

int cs_estate_vpc_find(const cs_snapshot *s, const char *id, size_t len, uint32_t *idx)
{
    if (!s || (!id && len) || !idx)
        return CS_EINVAL;
    const cs_ehdr *h = ehdr(s);
    if (!h || !h->n_vpcs || memchr(id ? id : "", '\0', len))
        return 0;
    const uint32_t *hash = sec(s, CS_ESEC_VPC_HASH);
    const cs_evpc *vpc = sec(s, CS_ESEC_VPCS);
    const char *st = strs(s);
    uint64_t hv = cs_hash_bytes(id ? id : "", len);
    const uint32_t slots = h->hash_slots, tmask = hash_tag_mask(h->n_vpcs);
    const uint32_t tag = (uint32_t)(hv >> 32) & tmask;
    for (uint32_t j = hash_home(hv, slots), n = 0; n < slots; j = j + 1 == slots ? 0 : j + 1, n++) {
        uint32_t v1 = hash[j];
        if (!v1)
            return 0;
        if ((v1 & tmask) != tag)
            continue;
        uint32_t vi = (v1 & ~tmask) - 1;
        const char *x = st + vpc[vi].id_off;
        if (strncmp(x, id, len) == 0 && x[len] == '\0') {
            *idx = vi;
            return 1;
        }
    }
    return 0;
}

/* Binary search in a table sorted by the string at `off(i)` (strcmp order). */
static int find_sorted(const char *st, const void *recs, size_t rec_size, size_t off_at,
                       uint32_t n, const char *id, size_t len, uint32_t *idx)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t off;
        memcpy(&off, (const char *)recs + (size_t)mid * rec_size + off_at, sizeof off);
        const char *x = st + off;
        int c = strncmp(x, id, len);
        if (c == 0)
            c = x[len] != '\0'; /* x is longer: it sorts after id */
        if (c == 0) {
            *idx = mid;
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

int cs_estate_account_find(const cs_snapshot *s, const char *id, size_t len, uint32_t *idx)
{
    if (!s || (!id && len) || !idx)
        return CS_EINVAL;
    const cs_ehdr *h = ehdr(s);
    if (!h || memchr(id ? id : "", '\0', len))
        return 0;
    return find_sorted(strs(s), sec(s, CS_ESEC_ACCOUNTS), sizeof(cs_eaccount),
                       offsetof(cs_eaccount, id_off), h->n_accounts, id ? id : "", len, idx);
}

int cs_estate_peering_find(const cs_snapshot *s, const char *id, size_t len, uint32_t *idx)
{
    if (!s || (!id && len) || !idx)
        return CS_EINVAL;
    const cs_ehdr *h = ehdr(s);
    if (!h || memchr(id ? id : "", '\0', len))
        return 0;
    return find_sorted(strs(s), sec(s, CS_ESEC_PEERINGS), sizeof(cs_epeering),
                       offsetof(cs_epeering, id_off), h->n_peerings, id ? id : "", len, idx);
}
