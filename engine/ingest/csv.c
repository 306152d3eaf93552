/*
 * engine/ingest/csv.c — the CSV readers: VPC CIDRs, peering connections and
 * prefix lists, into a cs_estate.
 *
 * Does: read RFC 4180 CSV (quoted fields with "" escapes and embedded line
 * breaks, CRLF or LF, an optional UTF-8 byte-order mark) from a file
 * descriptor in bounded chunks or from memory; map header columns by name;
 * turn each row into builder calls; report every bad byte, field or row with
 * file, line and column and the offending line for a caret. Does not: guess
 * a file's kind (engine/ingest/load.c), read JSON (aws_json.c).
 *
 * Shapes:
 *
 *   VPC CIDRs     header required, columns in any order, unknown ignored:
 *                 account, region, vpc_id, cidr   (required)
 *                 state, is_default, name          (optional)
 *                 One row per CIDR; rows of one VPC repeat its columns (the
 *                 same VPC twice with other content is a conflict). The
 *                 first IPv4 row of a VPC new to the estate is its primary
 *                 block.
 *   peerings      header required: pcx_id, requester_vpc, accepter_vpc,
 *                 status; optional requester_account, accepter_account,
 *                 requester_region, accepter_region.
 *   edges         header required: vpc_id, kind, edge_id — the ways out of
 *                 a VPC that peering traffic may not use (no edge-to-edge
 *                 routing): kind is internet-gateway, nat, vpn,
 *                 direct-connect or gateway-endpoint (or the AWS id
 *                 prefixes igw, nat, vgw/vpn, dx/dxgw, vpce). The VPC must
 *                 be read before (an earlier source).
 *   prefix lists  owner,prefix lines, header optional (it is recognised
 *                 when its prefix column does not parse and names a column
 *                 "prefix" or "cidr"); with a header, any columns in any
 *                 order: owner (or provider), prefix (or cidr), family
 *                 (optional: ipv4/ipv6, checked against the prefix). A bare
 *                 address is a /32 or /128. Lines starting with '#' are
 *                 comments. Each owner becomes a pseudo-account and a
 *                 pseudo-VPC of that name (CS_VPC_PSEUDO) holding its
 *                 prefixes, so lookups answer "who owns this".
 *
 * Column names match case-insensitively, ignoring '_', '-' and spaces
 * ("VpcId" = "vpc_id"); a few aliases are accepted (owner_id, vpc,
 * cidr_block, vpc_peering_connection_id, provider, ...).
 *
 * Strict vs lenient: a CIDR with host bits is an error unless
 * opts->lenient, which clears them and records CS_FINDING_HOST_BITS.
 *
 * Reading (windows, quoting, bytes, the one-pass path): csv_reader.c.
 * Speed: VPC rows hint the builder with the next row's VPC id (a cache miss
 * in a million-id table), and a row repeating the VPC columns of the row
 * before skips the VPC call.
 *
 * Tests: tests/test_csv.c (fixtures under tests/fixtures/csv/, every error
 * with its location; the one-pass path against the general scanner, the
 * builder's deduplication against a brute-force reading),
 * tests/fuzz/fuzz_csv.c.
 */
#include "ingest/ingest_internal.h"

#include "core/error_internal.h"
#include "ingest/csv_reader_internal.h"
#include "ingest/replay_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- rows ------------------------------------------------------------------ */

/* Lower-cases and drops '_', '-', ' ' ("Vpc_Id" -> "vpcid"), into out. */
static void norm_name(const csv_field *f, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < f->len && k + 1 < cap; i++) {
        char c = f->p[i];
        if (c == '_' || c == '-' || c == ' ')
            continue;
        out[k++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[k] = '\0';
}

typedef struct colspec {
    const char *name;          /* canonical name for messages */
    const char *alias[5];      /* normalised names accepted */
    bool required;
} colspec;

/* Maps header fields to the columns of `spec` (col[i] = field index or -1).
 * Returns 0 or CS_EPARSE (a required column missing, or one twice). */
static int map_header(csv_reader *r, const colspec *spec, unsigned n, int *col, cs_error *err)
{
    for (unsigned i = 0; i < n; i++)
        col[i] = -1;
    for (unsigned k = 0; k < r->nf; k++) {
        char nm[64];
        norm_name(&r->f[k], nm, sizeof nm);
        for (unsigned i = 0; i < n; i++) {
            for (unsigned a = 0; a < 5 && spec[i].alias[a]; a++) {
                if (strcmp(nm, spec[i].alias[a]) != 0)
                    continue;
                if (col[i] >= 0) {
                    cs_csv_locate_field(r, err, &r->f[k], 0, 0);
                    return cs_fail(err, CS_EPARSE, "column '%s' appears twice in the header",
                                   spec[i].name);
                }
                col[i] = (int)k;
            }
        }
    }
    for (unsigned i = 0; i < n; i++) {
        if (spec[i].required && col[i] < 0) {
            cs_csv_locate_at(r, err, r->rec_line, r->rec_start, r->rec_start, 1);
            return cs_fail(err, CS_EPARSE,
                           "the header names no '%s' column (a header row is required; "
                           "columns may come in any order)",
                           spec[i].name);
        }
    }
    return 0;
}

/* Field `c` of the current record, or an empty one when the row is short
 * (a short row is an error only for required columns, reported by caller). */
static const csv_field *fld(const csv_reader *r, int c)
{
    static const csv_field empty = {"", 0, 0, 0, 0, false};
    return c >= 0 && (unsigned)c < r->nf ? &r->f[c] : &empty;
}

static cs_str fstr(const csv_field *f)
{
    return (cs_str){f->p, f->len};
}

static cs_srcloc floc(const csv_reader *r, const csv_field *f)
{
    cs_srcloc l = {r->source, f->line ? f->line : r->rec_line, f->col ? f->col : 1};
    return l;
}

/* A required field that is missing (short row) or empty. */
static int need(csv_reader *r, int c, const char *name, cs_error *err)
{
    const csv_field *f = fld(r, c);
    if (f->len)
        return 0;
    if ((unsigned)c >= r->nf) {
        cs_csv_locate_at(r, err, r->rec_line, r->rec_start, r->rec_start, 1);
        return cs_fail(err, CS_EPARSE, "row has %u fields; column '%s' (field %d) is missing",
                       r->nf, name, c + 1);
    }
    cs_csv_locate_field(r, err, f, 0, 1);
    return cs_fail(err, CS_EPARSE, "column '%s' is empty", name);
}

/* Relocates an error the builder reported for field f, so it carries the
 * line text and a caret. */
static int relocate(csv_reader *r, const csv_field *f, int rc, cs_error *err)
{
    if (err && rc < 0 && rc != CS_ENOMEM)
        cs_csv_locate_field(r, err, f, 0, 0);
    return rc;
}

/*
 * Parses a CIDR field: strict, or lenient with a host-bits finding. With
 * `bare`, an address is a /32 or /128.
 */
static int parse_cidr(cs_estate *e, csv_reader *r, const csv_field *f, bool lenient, bool bare,
                      cs_prefix *out, cs_error *err)
{
    cs_error pe;
    unsigned flags = (lenient ? CS_PARSE_LENIENT : 0) | (bare ? CS_PARSE_BARE_ADDRESS : 0);
    /* A clean parse writes nothing to its error (prefix.h): clear one, and
     * parse again into it, only when there is something to say. */
    int rc = cs_prefix_parse(f->p, f->len, flags, out, NULL);
    if (rc != 0) {
        cs_error_clear(&pe);
        rc = cs_prefix_parse(f->p, f->len, flags, out, &pe);
    }
    if (rc < 0) {
        size_t k = pe.column ? pe.column - 1 : 0;
        cs_csv_locate_field(r, err, f, k, pe.span ? pe.span : 1);
        return cs_fail(err, CS_EPARSE, "bad CIDR '%.*s': %s", (int)(f->len > 64 ? 64 : f->len),
                       f->p, pe.message);
    }
    if (rc == CS_PARSE_NORMALISED) {
        cs_srcloc l = floc(r, f);
        char msg[CS_ERROR_MSG_CAP + 32];
        snprintf(msg, sizeof msg, "%s", pe.message);
        rc = cs_estate_add_finding(e, CS_FINDING_HOST_BITS, &l, msg);
        if (rc)
            return cs_fail(err, rc, "out of memory recording a finding");
    }
    return 0;
}

/* true/yes/1/y/t or false/no/0/n/f/empty, any case. Matched by length,
 * then bytes: it runs once per row (is_default). */
static int parse_bool(const csv_field *f, bool *out)
{
    char v[8];
    if (f->len >= sizeof v)
        return -1;
    for (size_t i = 0; i < f->len; i++)
        v[i] = (f->p[i] >= 'A' && f->p[i] <= 'Z') ? (char)(f->p[i] - 'A' + 'a') : f->p[i];
    switch (f->len) {
    case 0:
        return *out = false, 0;
    case 1:
        if (v[0] == '1' || v[0] == 'y' || v[0] == 't')
            return *out = true, 0;
        if (v[0] == '0' || v[0] == 'n' || v[0] == 'f')
            return *out = false, 0;
        return -1;
    case 2:
        return memcmp(v, "no", 2) == 0 ? (*out = false, 0) : -1;
    case 3:
        return memcmp(v, "yes", 3) == 0 ? (*out = true, 0) : -1;
    case 4:
        return memcmp(v, "true", 4) == 0 ? (*out = true, 0) : -1;
    case 5:
        return memcmp(v, "false", 5) == 0 ? (*out = false, 0) : -1;
    default:
        return -1;
    }
}

/* ---- the driver --------------------------------------------------------------- */

#define VPC_KEY_MAX 256u

typedef struct row_ctx row_ctx;
typedef int (*row_fn)(row_ctx *c, cs_error *err);

struct row_ctx {
    cs_estate *e;
    csv_reader *r;
    const cs_load_options *opts;
    int col[16];
    bool comments;             /* '#' lines are comments (prefix lists) */
    bool headerless;
    char last_owner[CS_ESTATE_STR_MAX + 1];
    size_t last_owner_len;
    /* The VPC columns of the last row whose cs_estate_add_vpc succeeded
     * (vpc_key), when they fit: a row repeating them byte for byte would
     * only merge a VPC into itself, so it skips the call. */
    char last_vpc[VPC_KEY_MAX];
    size_t last_vpc_len;
};

/* Runs `row` over every record after the header. Keep-going contract of
 * ingest_internal.h. */
static void progress(const row_ctx *c, uint64_t rows, bool done)
{
    struct stat st;
    cs_load_progress p = {c->r->source, rows, c->r->base + c->r->pos,
                          c->r->fd >= 0 && fstat(c->r->fd, &st) == 0 ? (uint64_t)st.st_size : 0,
                          done};
    c->opts->progress(&p, c->opts->progress_ctx);
}

static int drive(row_ctx *c, row_fn row, cs_error *err)
{
    int rejected = 0;
    uint64_t rows = 0;
    /* Cleared once and again after each failure only: a call that succeeds
     * writes nothing to its error (STYLE.md), and clearing 700 bytes per row
     * was a tenth of the reader's time. */
    cs_error re;
    cs_error_clear(&re);
    for (;;) {
        if (re.code)
            cs_error_clear(&re);
        int rc = cs_csv_next(c->r, &re);
        if (c->opts && c->opts->progress && (rc == 0 || ++rows % CS_LOAD_PROGRESS_ROWS == 0))
            progress(c, rows, rc == 0);
        if (rc == 0)
            break;
        if (rc > 0) {
            /* prefix lists: '#' comments */
            if (c->comments) {
                const csv_field *f0 = &c->r->f[0];
                if (!f0->quoted && f0->len && f0->p[0] == '#')
                    continue;
            }
            rc = row(c, &re);
            if (rc >= 0)
                continue;
        }
        if (rc == CS_ENOMEM || rc == CS_EIO || rc == CS_ESTATE || !c->opts || !c->opts->keep_going) {
            if (err)
                *err = re;
            return rc;
        }
        int fr = cs_estate_reject(c->e, &re);
        if (fr) {
            if (err)
                *err = re;
            return cs_fail(err, fr, "out of memory recording a rejected record");
        }
        rejected++;
        cs_error_clear(&re);
    }
    return rejected;
}

/* Reads the header record (after comment lines where they are allowed);
 * CS_EPARSE "empty file" when there is none. */
static int header(row_ctx *c, cs_error *err)
{
    int rc;
    do
        rc = cs_csv_next(c->r, err);
    while (rc > 0 && c->comments && !c->r->f[0].quoted && c->r->f[0].len &&
           c->r->f[0].p[0] == '#');
    if (rc == 0) {
        cs_error_locate(err, c->r->source, 1, 1, 0, 0, NULL, 0);
        return cs_fail(err, CS_EPARSE, "empty file: expected a header row");
    }
    return rc < 0 ? rc : 0;
}

/* ---- VPC CIDRs -------------------------------------------------------------- */

enum { V_ACCOUNT, V_REGION, V_VPC, V_CIDR, V_STATE, V_DEFAULT, V_NAME, V_NCOLS };
static const colspec vpc_cols[V_NCOLS] = {
    {"account", {"account", "accountid", "owner", "ownerid", NULL}, true},
    {"region", {"region", NULL}, true},
    {"vpc_id", {"vpcid", "vpc", NULL}, true},
    {"cidr", {"cidr", "cidrblock", "prefix", NULL}, true},
    {"state", {"state", "cidrblockstate", NULL}, false},
    {"is_default", {"isdefault", "default", NULL}, false},
    {"name", {"name", "vpcname", NULL}, false},
};

/* The VPC columns of a row as one byte string (each length-prefixed, then
 * is_default) in key[VPC_KEY_MAX]; 0 when they do not fit. */
static size_t vpc_key(const cs_vpc_desc *d, char *key)
{
    const cs_str part[4] = {d->id, d->owner, d->region, d->name};
    size_t n = 0;
    for (unsigned i = 0; i < 4; i++) {
        if (part[i].len > 255 || n + 1 + part[i].len + 1 > VPC_KEY_MAX)
            return 0;
        key[n++] = (char)part[i].len;
        memcpy(key + n, part[i].ptr, part[i].len);
        n += part[i].len;
    }
    key[n++] = (char)d->is_default;
    return n;
}

/* Hints the builder with the VPC id of the record after the current one,
 * when that record is already in the window and has no quote before the
 * field: a VPC new to the estate costs a cache miss in the VPC-id table
 * (a million ids), which then overlaps this row's work. */
static void prefetch_next_vpc(const row_ctx *c)
{
    const char *id;
    size_t len;
    if (c->col[V_VPC] >= 0 && cs_csv_peek_field(c->r, (unsigned)c->col[V_VPC], &id, &len))
        cs_ingest_prefetch(c->e, CS_PREFETCH_VPC_ID, id, len);
}

static int vpc_row(row_ctx *c, cs_error *err)
{
    csv_reader *r = c->r;
    int rc;
    prefetch_next_vpc(c);
    if ((rc = need(r, c->col[V_ACCOUNT], "account", err)) ||
        (rc = need(r, c->col[V_REGION], "region", err)) ||
        (rc = need(r, c->col[V_VPC], "vpc_id", err)) ||
        (rc = need(r, c->col[V_CIDR], "cidr", err)))
        return rc;
    const csv_field *fa = fld(r, c->col[V_ACCOUNT]), *fr = fld(r, c->col[V_REGION]),
                    *fv = fld(r, c->col[V_VPC]), *fc = fld(r, c->col[V_CIDR]),
                    *fs = fld(r, c->col[V_STATE]), *fd = fld(r, c->col[V_DEFAULT]),
                    *fn = fld(r, c->col[V_NAME]);
    cs_prefix p;
    if ((rc = parse_cidr(c->e, r, fc, c->opts && c->opts->lenient, false, &p, err)))
        return rc;
    int state = CS_ASSOC_UNSPECIFIED;
    if (fs->len && (state = cs_assoc_state_parse(fs->p, fs->len)) < 0) {
        cs_csv_locate_field(r, err, fs, 0, 0);
        return cs_fail(err, CS_EPARSE,
                       "unknown CIDR state '%.*s' (expected associating, associated, "
                       "disassociating, disassociated, failing or failed)",
                       (int)(fs->len > 64 ? 64 : fs->len), fs->p);
    }
    bool is_default = false;
    if (parse_bool(fd, &is_default) < 0) {
        cs_csv_locate_field(r, err, fd, 0, 0);
        return cs_fail(err, CS_EPARSE, "is_default '%.*s' is not true or false",
                       (int)(fd->len > 64 ? 64 : fd->len), fd->p);
    }
    cs_vpc_desc vd = {.id = fstr(fv), .owner = fstr(fa), .region = fstr(fr), .name = fstr(fn),
                      .is_default = is_default};
    char key[VPC_KEY_MAX];
    size_t klen = vpc_key(&vd, key);
    if (klen && klen == c->last_vpc_len && memcmp(key, c->last_vpc, klen) == 0) {
        rc = 1; /* the VPC of the row before, as it was added: merged */
    } else {
        cs_srcloc lv = floc(r, fv);
        rc = cs_estate_add_vpc(c->e, &vd, &lv, err);
        c->last_vpc_len = rc >= 0 ? klen : 0;
        if (rc >= 0)
            memcpy(c->last_vpc, key, klen);
    }
    if (rc < 0) {
        /* Point at the field the builder complained about. */
        const char *m = err ? err->message : "";
        const csv_field *at = strstr(m, "VPC name") ? fn
                              : strstr(m, "VPC region") ? fr
                              : strstr(m, "owner") ? fa
                                                   : fv;
        return relocate(r, at->line ? at : fv, rc, err);
    }
    bool fresh = rc == 0;
    cs_cidr_desc cd = {.vpc_id = fstr(fv), .prefix = p, .state = (uint8_t)state,
                       .primary = fresh && p.family == CS_AF_V4};
    cs_srcloc lc = floc(r, fc);
    rc = cs_estate_add_cidr(c->e, &cd, &lc, err);
    return rc < 0 ? relocate(r, fc, rc, err) : 0;
}

/* ---- peerings ----------------------------------------------------------------- */

enum { P_ID, P_REQ, P_ACC, P_STATUS, P_REQ_ACCT, P_ACC_ACCT, P_REQ_REGION, P_ACC_REGION, P_NCOLS };
static const colspec pcx_cols[P_NCOLS] = {
    {"pcx_id", {"pcxid", "vpcpeeringconnectionid", "peeringid", "id", NULL}, true},
    {"requester_vpc", {"requestervpc", "requestervpcid", NULL}, true},
    {"accepter_vpc", {"acceptervpc", "acceptervpcid", NULL}, true},
    {"status", {"status", "statuscode", "state", NULL}, true},
    {"requester_account", {"requesteraccount", "requesterowner", "requesterownerid", NULL}, false},
    {"accepter_account", {"accepteraccount", "accepterowner", "accepterownerid", NULL}, false},
    {"requester_region", {"requesterregion", NULL}, false},
    {"accepter_region", {"accepterregion", NULL}, false},
};

static int pcx_row(row_ctx *c, cs_error *err)
{
    csv_reader *r = c->r;
    int rc;
    if ((rc = need(r, c->col[P_ID], "pcx_id", err)) ||
        (rc = need(r, c->col[P_REQ], "requester_vpc", err)) ||
        (rc = need(r, c->col[P_ACC], "accepter_vpc", err)) ||
        (rc = need(r, c->col[P_STATUS], "status", err)))
        return rc;
    const csv_field *fs = fld(r, c->col[P_STATUS]);
    int st = cs_pcx_status_parse(fs->p, fs->len);
    if (st < 0) {
        cs_csv_locate_field(r, err, fs, 0, 0);
        return cs_fail(err, CS_EPARSE,
                       "unknown peering status '%.*s' (expected initiating-request, "
                       "pending-acceptance, provisioning, active, deleting, deleted, rejected, "
                       "failed or expired)",
                       (int)(fs->len > 64 ? 64 : fs->len), fs->p);
    }
    const csv_field *fi = fld(r, c->col[P_ID]);
    cs_peering_desc d = {
        .id = fstr(fi),
        .requester = {.vpc_id = fstr(fld(r, c->col[P_REQ])),
                      .owner = fstr(fld(r, c->col[P_REQ_ACCT])),
                      .region = fstr(fld(r, c->col[P_REQ_REGION]))},
        .accepter = {.vpc_id = fstr(fld(r, c->col[P_ACC])),
                     .owner = fstr(fld(r, c->col[P_ACC_ACCT])),
                     .region = fstr(fld(r, c->col[P_ACC_REGION]))},
        .status = (uint8_t)st};
    cs_srcloc l = floc(r, fi);
    rc = cs_estate_add_peering(c->e, &d, &l, err);
    if (rc < 0) {
        const csv_field *at = fi;
        const char *m = err ? err->message : "";
        if (strstr(m, "requester owner"))
            at = fld(r, c->col[P_REQ_ACCT]);
        else if (strstr(m, "accepter owner"))
            at = fld(r, c->col[P_ACC_ACCT]);
        return relocate(r, at->line ? at : fi, rc, err);
    }
    return 0;
}

/* ---- edge attachments -------------------------------------------------------------- */

enum { E_VPC, E_KIND, E_ID, E_NCOLS };
static const colspec edge_cols[E_NCOLS] = {
    {"vpc_id", {"vpcid", "vpc", NULL}, true},
    {"kind", {"kind", "type", "edgekind", NULL}, true},
    {"edge_id", {"edgeid", "gatewayid", "attachmentid", NULL}, true},
};

static int edge_row(row_ctx *c, cs_error *err)
{
    csv_reader *r = c->r;
    int rc;
    if ((rc = need(r, c->col[E_VPC], "vpc_id", err)) ||
        (rc = need(r, c->col[E_KIND], "kind", err)) ||
        (rc = need(r, c->col[E_ID], "edge_id", err)))
        return rc;
    const csv_field *fv = fld(r, c->col[E_VPC]), *fk = fld(r, c->col[E_KIND]),
                    *fi = fld(r, c->col[E_ID]);
    int kind = cs_edge_kind_parse(fk->p, fk->len);
    if (kind < 0) {
        cs_csv_locate_field(r, err, fk, 0, 0);
        return cs_fail(err, CS_EPARSE,
                       "unknown edge kind '%.*s' (expected internet-gateway, nat, vpn, "
                       "direct-connect or gateway-endpoint)",
                       (int)(fk->len > 64 ? 64 : fk->len), fk->p);
    }
    cs_edge_desc d = {.vpc_id = fstr(fv), .kind = (uint8_t)kind, .id = fstr(fi)};
    cs_srcloc l = floc(r, fv);
    rc = cs_estate_add_edge(c->e, &d, &l, err);
    if (rc == CS_ENOTFOUND && err)
        /* the builder's message names the VPC; say how to fix the order */
        snprintf(err->message + strlen(err->message),
                 sizeof err->message - strlen(err->message),
                 " (give the VPC sources before the edges file)");
    return rc < 0 ? relocate(r, rc == CS_ENOTFOUND ? fv : fi, rc, err) : 0;
}

/* ---- prefix lists ----------------------------------------------------------------- */

enum { L_OWNER, L_PREFIX, L_FAMILY, L_NCOLS };
static const colspec list_cols[L_NCOLS] = {
    {"owner", {"owner", "provider", "name", "service", "source"}, true},
    {"prefix", {"prefix", "cidr", "ipprefix", "ipv6prefix", "network"}, true},
    {"family", {"family", "af", "ipversion", NULL}, false},
};

static int list_row(row_ctx *c, cs_error *err)
{
    csv_reader *r = c->r;
    int rc;
    int co = c->col[L_OWNER], cp = c->col[L_PREFIX], cf = c->col[L_FAMILY];
    if (c->headerless) {
        if (r->nf == 2) {
            co = 0;
            cp = 1;
            cf = -1;
        } else if (r->nf == 3) {
            co = 0;
            cf = 1;
            cp = 2;
        } else {
            cs_csv_locate_at(r, err, r->rec_line, r->rec_start, r->rec_start, 1);
            return cs_fail(err, CS_EPARSE,
                           "expected owner,prefix (or owner,family,prefix): row has %u fields",
                           r->nf);
        }
    }
    if ((rc = need(r, co, "owner", err)) || (rc = need(r, cp, "prefix", err)))
        return rc;
    const csv_field *fo = fld(r, co), *fp = fld(r, cp), *ff = fld(r, cf);
    cs_prefix p;
    if ((rc = parse_cidr(c->e, r, fp, c->opts && c->opts->lenient, true, &p, err)))
        return rc;
    if (ff->len) {
        char v[16];
        norm_name(ff, v, sizeof v);
        int fam = strcmp(v, "ipv4") == 0 || strcmp(v, "4") == 0 || strcmp(v, "v4") == 0 ? CS_AF_V4
                  : strcmp(v, "ipv6") == 0 || strcmp(v, "6") == 0 || strcmp(v, "v6") == 0
                      ? CS_AF_V6
                      : 0;
        if (!fam) {
            cs_csv_locate_field(r, err, ff, 0, 0);
            return cs_fail(err, CS_EPARSE, "unknown family '%.*s' (expected ipv4 or ipv6)",
                           (int)(ff->len > 16 ? 16 : ff->len), ff->p);
        }
        if (fam != p.family) {
            cs_csv_locate_field(r, err, fp, 0, 0);
            return cs_fail(err, CS_EPARSE, "prefix '%.*s' is not %s as its family column says",
                           (int)(fp->len > 64 ? 64 : fp->len), fp->p,
                           fam == CS_AF_V4 ? "IPv4" : "IPv6");
        }
    }
    cs_str owner = fstr(fo);
    if (owner.len != c->last_owner_len || memcmp(owner.ptr, c->last_owner, owner.len) != 0) {
        cs_vpc_desc vd = {.id = owner, .owner = owner, .name = owner, .flags = CS_VPC_PSEUDO};
        cs_srcloc lo = floc(r, fo);
        rc = cs_estate_add_vpc(c->e, &vd, &lo, err);
        if (rc < 0)
            return relocate(r, fo, rc, err);
        if (owner.len <= CS_ESTATE_STR_MAX) {
            memcpy(c->last_owner, owner.ptr, owner.len);
            c->last_owner_len = owner.len;
        }
    }
    cs_cidr_desc cd = {.vpc_id = owner, .prefix = p, .state = CS_ASSOC_ASSOCIATED};
    cs_srcloc lp = floc(r, fp);
    rc = cs_estate_add_cidr(c->e, &cd, &lp, err);
    return rc < 0 ? relocate(r, fp, rc, err) : 0;
}

/* Decides whether the first record of a prefix list is a header: its fields
 * name an owner and a prefix column and its would-be prefix does not parse. */
static bool list_header(row_ctx *c)
{
    csv_reader *r = c->r;
    int col[L_NCOLS];
    cs_error tmp;
    cs_error_clear(&tmp);
    if (map_header(r, list_cols, L_NCOLS, col, &tmp) != 0)
        return false;
    const csv_field *fp = &r->f[col[L_PREFIX]];
    cs_prefix p;
    return cs_prefix_parse(fp->p, fp->len, CS_PARSE_LENIENT | CS_PARSE_BARE_ADDRESS, &p, &tmp) < 0;
}

/* ---- entry points ------------------------------------------------------------------- */

enum { SHAPE_VPCS, SHAPE_PCX, SHAPE_LIST, SHAPE_EDGES };

static int run(cs_estate *e, csv_reader *r, int shape, const cs_load_options *opts,
               cs_error *err)
{
    row_ctx c;
    memset(&c, 0, sizeof c);
    c.e = e;
    c.r = r;
    c.opts = opts;
    c.comments = shape == SHAPE_LIST;
    cs_error he;
    cs_error_clear(&he);
    int rc = header(&c, &he);
    if (rc == 0) {
        switch (shape) {
        case SHAPE_VPCS:
            rc = map_header(r, vpc_cols, V_NCOLS, c.col, &he);
            if (!rc)
                rc = drive(&c, vpc_row, err);
            break;
        case SHAPE_PCX:
            rc = map_header(r, pcx_cols, P_NCOLS, c.col, &he);
            if (!rc)
                rc = drive(&c, pcx_row, err);
            break;
        case SHAPE_EDGES:
            rc = map_header(r, edge_cols, E_NCOLS, c.col, &he);
            if (!rc)
                rc = drive(&c, edge_row, err);
            break;
        default:
            if (list_header(&c)) {
                rc = map_header(r, list_cols, L_NCOLS, c.col, &he);
            } else {
                c.headerless = true;
                /* The first record is data. */
                rc = list_row(&c, &he);
                if (rc < 0 && rc != CS_ENOMEM && opts && opts->keep_going) {
                    int fr = cs_estate_reject(e, &he);
                    if (fr)
                        return cs_fail(err, fr, "out of memory recording a rejected record");
                    int more = drive(&c, list_row, err);
                    return more < 0 ? more : more + 1;
                }
            }
            if (!rc)
                rc = drive(&c, list_row, err);
            break;
        }
        if (rc >= 0)
            return rc;
        if (he.code == 0)
            return rc; /* err already filled by drive */
    }
    /* The header (or an empty file) failed: the whole file is rejected. */
    if (rc != CS_ENOMEM && rc != CS_EIO && opts && opts->keep_going) {
        int fr = cs_estate_reject(e, &he);
        if (fr)
            return cs_fail(err, fr, "out of memory recording a rejected file");
        return 1;
    }
    if (err)
        *err = he;
    return rc;
}

int cs_ingest_csv_vpcs(cs_estate *e, const char *source, const char *buf, size_t len,
                       const cs_load_options *opts, cs_error *err)
{
    if (!e || (!buf && len))
        return cs_fail(err, CS_EINVAL, "NULL estate or buffer");
    csv_reader r;
    cs_csv_reader_mem(&r, source ? source : "(memory)", buf ? buf : "", len);
    int rc = run(e, &r, SHAPE_VPCS, opts, err);
    cs_csv_reader_free(&r);
    return rc;
}

int cs_ingest_csv_peerings(cs_estate *e, const char *source, const char *buf, size_t len,
                           const cs_load_options *opts, cs_error *err)
{
    if (!e || (!buf && len))
        return cs_fail(err, CS_EINVAL, "NULL estate or buffer");
    csv_reader r;
    cs_csv_reader_mem(&r, source ? source : "(memory)", buf ? buf : "", len);
    int rc = run(e, &r, SHAPE_PCX, opts, err);
    cs_csv_reader_free(&r);
    return rc;
}

int cs_ingest_prefix_list(cs_estate *e, const char *source, const char *buf, size_t len,
                          const cs_load_options *opts, cs_error *err)
{
    if (!e || (!buf && len))
        return cs_fail(err, CS_EINVAL, "NULL estate or buffer");
    csv_reader r;
    cs_csv_reader_mem(&r, source ? source : "(memory)", buf ? buf : "", len);
    int rc = run(e, &r, SHAPE_LIST, opts, err);
    cs_csv_reader_free(&r);
    return rc;
}

int cs_ingest_csv_fd(cs_estate *e, const char *source, int fd, int kind,
                     const cs_load_options *opts, cs_error *err)
{
    return cs_ingest_csv_fd_head(e, source, fd, NULL, 0, kind, opts, err);
}

int cs_ingest_csv_fd_head(cs_estate *e, const char *source, int fd,
                          const void *head, size_t head_len, int kind,
                          const cs_load_options *opts, cs_error *err)
{
    if (!e || fd < 0)
        return cs_fail(err, CS_EINVAL, "NULL estate or bad descriptor");
    int shape = kind == CS_SRC_CSV_VPCS ? SHAPE_VPCS : kind == CS_SRC_CSV_PEERINGS ? SHAPE_PCX
                : kind == CS_SRC_CSV_EDGES ? SHAPE_EDGES
                : kind == CS_SRC_PREFIX_LIST ? SHAPE_LIST : -1;
    if (shape < 0)
        return cs_fail(err, CS_EINVAL, "source kind %d is not a CSV shape", kind);
    csv_reader r;
    if (head_len > CSV_CHUNK)
        return cs_fail(err, CS_EINVAL, "cs_ingest_csv_fd_head: head longer than %u bytes",
                       CSV_CHUNK);
    if (cs_csv_reader_fd(&r, source ? source : "(input)", fd))
        return cs_fail(err, CS_ENOMEM, "out of memory reading %s", source ? source : "input");
    if (head_len) {
        /* The bytes read to tell the kind are the window's first. */
        memcpy(r.own, head, head_len);
        r.len = head_len;
    }
    int rc = run(e, &r, shape, opts, err);
    cs_csv_reader_free(&r);
    return rc;
}

int cs_ingest_csv_header_kind(const char *line, size_t len)
{
    csv_reader r;
    cs_csv_reader_mem(&r, "(header)", line, len);
    cs_error tmp;
    cs_error_clear(&tmp);
    int kind = CS_SRC_PREFIX_LIST;
    if (cs_csv_next(&r, &tmp) > 0) {
        int col[16];
        if (map_header(&r, pcx_cols, P_NCOLS, col, &tmp) == 0)
            kind = CS_SRC_CSV_PEERINGS;
        else if (map_header(&r, edge_cols, E_NCOLS, col, &tmp) == 0)
            kind = CS_SRC_CSV_EDGES;
        else if (map_header(&r, vpc_cols, V_NCOLS, col, &tmp) == 0)
            kind = CS_SRC_CSV_VPCS;
    }
    cs_csv_reader_free(&r);
    return kind;
}
