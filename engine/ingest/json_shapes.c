/*
 * engine/ingest/json_shapes.c — which JSON inventory a source is, and what
 * the readers of the smaller shapes share.
 *
 * CLASSIFICATION. A JSON source is told apart by its top-level keys, never
 * by its name: the first of "Vpcs" / "VpcPeeringConnections" (EC2
 * describe-* output, engine/ingest/aws_json.c), "IpamResourceCidrs"
 * (get-ipam-resource-cidrs, engine/ingest/ipam_cidrs.c) or "Results" (AWS
 * Config advanced query, engine/ingest/config_vpcs.c) decides; other keys
 * before it ("NextToken", "QueryInfo") are stepped over. A `jq -s` array
 * of pages is judged by its first page. What decides nothing goes to the
 * EC2 reader, which reports it (a file named on the command line) or lists
 * it as skipped (a file of an estate directory). The same dispatch serves
 * `-e file.json` (load.c) and the files of ESTATE/<account>/<region>/
 * (estate_dir.c).
 *
 * SHARED READING (the jr helpers). Documents of a file: concatenated JSON
 * documents and arrays of pages, page by page. A page with a non-empty
 * NextToken is an incomplete-page finding naming the file. A record's
 * problems (a wrong type, a missing key, a bad CIDR, a builder conflict)
 * reject that record only: without --keep-going the first stops the load
 * with its error, with it the record is recorded (cs_estate_reject) and
 * reading goes on. Invalid JSON stops the file (one rejection under
 * keep-going). Locations are line and column in the file, for inner
 * documents too (json_pull_internal.h).
 *
 * Does not: know the fields of the shapes (the readers do). Tests:
 * tests/test_json_shapes.c, tests/cli/test_edges.sh.
 */
#include "ingest/shapes_internal.h"

#include "core/error_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- classification ------------------------------------------------------- */

/* A tiny scanner over possibly partial text: -1 means "ran out". */
typedef struct scan {
    const char *s;
    size_t n, i;
} scan;

static void sc_blanks(scan *c)
{
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t' ||
                           c->s[c->i] == '\n' || c->s[c->i] == '\r'))
        c->i++;
}

/* Skips a string at s[i] == '"'. 0, -1 out of text. */
static int sc_string(scan *c)
{
    for (size_t i = c->i + 1; i < c->n; i++) {
        if (c->s[i] == '\\') {
            i++;
            continue;
        }
        if (c->s[i] == '"') {
            c->i = i + 1;
            return 0;
        }
    }
    return -1;
}

/* Skips one value (not checking it: the reader will). 0, -1 out of text,
 * -2 not JSON. */
static int sc_value(scan *c)
{
    sc_blanks(c);
    if (c->i >= c->n)
        return -1;
    char ch = c->s[c->i];
    if (ch == '"')
        return sc_string(c);
    if (ch == '{' || ch == '[') {
        int depth = 0;
        while (c->i < c->n) {
            ch = c->s[c->i];
            if (ch == '"') {
                if (sc_string(c) < 0)
                    return -1;
                continue;
            }
            if (ch == '{' || ch == '[')
                depth++;
            else if (ch == '}' || ch == ']') {
                if (--depth == 0) {
                    c->i++;
                    return 0;
                }
            }
            c->i++;
        }
        return -1;
    }
    while (c->i < c->n && c->s[c->i] != ',' && c->s[c->i] != '}' &&
           c->s[c->i] != ']' && c->s[c->i] != ' ' && c->s[c->i] != '\n' &&
           c->s[c->i] != '\r' && c->s[c->i] != '\t')
        c->i++;
    return c->i < c->n ? 0 : -1;
}

static bool key_is(const char *k, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(k, lit, n) == 0;
}

int cs_ingest_json_shape(const char *buf, size_t len)
{
    scan c = {buf, len, 0};
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        c.i = 3;
    sc_blanks(&c);
    if (c.i >= c.n)
        return -1;
    if (c.s[c.i] == '[') {
        c.i++;
        sc_blanks(&c);
        if (c.i >= c.n)
            return -1;
    }
    if (c.s[c.i] != '{')
        return CS_SHAPE_EC2;
    c.i++;
    for (;;) {
        sc_blanks(&c);
        if (c.i >= c.n)
            return -1;
        if (c.s[c.i] != '"')
            return CS_SHAPE_EC2; /* '}' or not JSON: the EC2 reader says */
        size_t k0 = c.i + 1;
        if (sc_string(&c) < 0)
            return -1;
        const char *k = c.s + k0;
        size_t kn = c.i - 1 - k0;
        if (key_is(k, kn, "IpamResourceCidrs"))
            return CS_SHAPE_IPAM;
        if (key_is(k, kn, "Results"))
            return CS_SHAPE_CONFIG;
        if (key_is(k, kn, "Vpcs") || key_is(k, kn, "VpcPeeringConnections"))
            return CS_SHAPE_EC2;
        sc_blanks(&c);
        if (c.i >= c.n)
            return -1;
        if (c.s[c.i] != ':')
            return CS_SHAPE_EC2;
        c.i++;
        int rc = sc_value(&c);
        if (rc < 0)
            return -1;
        sc_blanks(&c);
        if (c.i >= c.n)
            return -1;
        if (c.s[c.i] != ',')
            return CS_SHAPE_EC2;
        c.i++;
    }
}

/* ---- dispatch ----------------------------------------------------------------- */

#define SHAPE_WINDOW (64u * 1024u)
#define SHAPE_FILE_MAX ((size_t)1 << 32) /* 4 GiB of IPAM or Config text */

/* Reads the rest of fd after head into one buffer (NUL-terminated). */
static int read_whole(const char *path, int fd, const char *head,
                      size_t head_len, char **out, size_t *out_len,
                      cs_error *err)
{
    size_t cap = head_len + SHAPE_WINDOW, len = head_len;
    char *buf = malloc(cap + 1);
    if (!buf)
        return cs_fail(err, CS_ENOMEM, "out of memory reading %s", path);
    memcpy(buf, head, head_len);
    for (;;) {
        if (len == cap) {
            if (cap >= SHAPE_FILE_MAX) {
                free(buf);
                cs_error_clear(err);
                cs_error_source(err, path);
                return cs_fail(err, CS_ERANGE,
                               "larger than the %zu bytes accepted",
                               SHAPE_FILE_MAX);
            }
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                return cs_fail(err, CS_ENOMEM, "out of memory reading %s",
                               path);
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int en = errno;
            free(buf);
            return cs_ingest_open_error(err, path, "read failed", en);
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

int cs_ingest_json_fd(cs_estate *e, const char *path, int fd,
                      const void *head, size_t head_len, const char *region,
                      const char *account, aj_res *res,
                      const cs_load_options *opts, cs_error *err)
{
    if ((region && !cs_aws_region_valid(region, strlen(region))) ||
        (account && !cs_aws_account_valid(account, strlen(account)))) {
        cs_error_clear(err);
        cs_error_source(err, path);
        return cs_fail(err, CS_EINVAL,
                       region && !cs_aws_region_valid(region, strlen(region))
                           ? "region \"%s\" does not look like an AWS region "
                             "name (such as us-east-1)"
                           : "account \"%s\" is not a 12-digit AWS account "
                             "id",
                       region && !cs_aws_region_valid(region, strlen(region))
                           ? region
                           : account);
    }
    /* the bytes read so far, in `win` unless the caller's head is already
     * the whole window */
    char win[SHAPE_WINDOW];
    const char *h = head;
    size_t n = head_len;
    if (n < sizeof win) {
        if (n)
            memcpy(win, head, n);
        h = win;
    }
    int shape = cs_ingest_json_shape(h, n);
    while (shape < 0 && n < sizeof win) {
        ssize_t got = read(fd, win + n, sizeof win - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return cs_ingest_open_error(err, path, "read failed", errno);
        if (got == 0)
            break;
        n += (size_t)got;
        shape = cs_ingest_json_shape(win, n);
    }
    if (shape < 0 || shape == CS_SHAPE_EC2) {
        if (res)
            return cs_aj_read_fd(res, e, fd, h, n, path, region, account,
                                 opts, err);
        cs_load_options o = opts ? *opts : (cs_load_options){0};
        o.region = region;
        o.account = account;
        return cs_ingest_aws_json_fd(e, path, fd, h, n, &o, err);
    }
    char *text = NULL;
    size_t len = 0;
    int rc = read_whole(path, fd, h, n, &text, &len, err);
    if (rc < 0)
        return rc;
    if (shape == CS_SHAPE_IPAM)
        rc = cs_ingest_ipam_cidrs_buf(e, path, text, len, region, account,
                                      opts, err);
    else
        rc = cs_ingest_config_vpcs_buf(e, path, text, len, region, account,
                                       opts, err);
    free(text);
    return rc;
}

/* ---- shared reading ------------------------------------------------------------ */

void cs_jr_init(jr *r, cs_estate *e, const char *source, const char *buf,
                size_t len, const char *region, const char *account,
                const cs_load_options *opts, cs_error *err)
{
    memset(r, 0, sizeof *r);
    r->e = e;
    r->opts = opts;
    r->source = source;
    r->region = region;
    r->account = account;
    r->err = err;
    cs_error_clear(&r->tmp);
    cs_jp_init(&r->p, source, buf, len, &r->tmp);
    r->lc_line = 1;
}

void cs_jr_free(jr *r)
{
    cs_jp_free(&r->p);
}

cs_srcloc cs_jr_loc(jr *r, size_t off)
{
    const char *t = r->p.file;
    if (off > r->p.file_len)
        off = r->p.file_len;
    if (off < r->lc_off) {
        r->lc_off = 0;
        r->lc_line = 1;
        r->lc_line_start = 0;
    }
    while (r->lc_off < off) {
        const char *nl = memchr(t + r->lc_off, '\n', off - r->lc_off);
        if (!nl) {
            r->lc_off = off;
            break;
        }
        r->lc_line++;
        r->lc_off = (size_t)(nl - t) + 1;
        r->lc_line_start = r->lc_off;
    }
    cs_srcloc l;
    l.source = r->source;
    l.line = r->lc_line;
    uint64_t col = off - r->lc_line_start + 1;
    l.column = col > UINT32_MAX ? UINT32_MAX : (uint32_t)col;
    return l;
}

static bool keep_going(const jr *r)
{
    return r->opts && r->opts->keep_going;
}

int cs_jr_record_error(jr *r)
{
    if (!r->rec_failed) {
        r->rec_err = r->tmp;
        r->rec_failed = true;
    }
    return 0;
}

int cs_jr_record_end(jr *r)
{
    if (!r->rec_failed)
        return 0;
    r->rec_failed = false;
    if (!keep_going(r)) {
        r->tmp = r->rec_err;
        return r->tmp.code < 0 ? r->tmp.code : CS_EPARSE;
    }
    int rc = cs_ingest_reject(r->e, &r->rec_err);
    if (rc < 0) {
        cs_error_clear(&r->tmp);
        cs_error_source(&r->tmp, r->source);
        return cs_fail(&r->tmp, rc, "out of memory recording a rejected "
                                    "record");
    }
    r->rejected++;
    return 0;
}

int cs_jr_file_error(jr *r, int rc)
{
    if (!r->tmp.source[0])
        cs_error_source(&r->tmp, r->source);
    if (r->tmp.code == 0)
        cs_fail(&r->tmp, rc, "%s", cs_strerror(rc));
    if (keep_going(r) && rc != CS_ENOMEM && rc != CS_ESTATE) {
        int fr = cs_ingest_reject(r->e, &r->tmp);
        if (fr == 0) {
            r->rejected++;
            return r->rejected;
        }
        rc = fr;
    }
    if (r->err)
        *r->err = r->tmp;
    return rc;
}

int cs_jr_builder_error(jr *r, int rc)
{
    if (r->tmp.code == 0)
        cs_fail(&r->tmp, rc, "%s", cs_strerror(rc));
    if (!r->tmp.source[0])
        cs_error_source(&r->tmp, r->source);
    if (rc == CS_ENOMEM || rc == CS_ESTATE)
        return rc;
    return cs_jr_record_error(r);
}

int cs_jr_finding(jr *r, const char *kind, size_t off, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cs_srcloc l = cs_jr_loc(r, off);
    int rc = cs_ingest_add_finding(r->e, kind, &l, msg);
    if (rc < 0) {
        cs_error_clear(&r->tmp);
        cs_error_source(&r->tmp, r->source);
        return cs_fail(&r->tmp, rc, "out of memory recording a finding");
    }
    return 0;
}

/* A value of the wrong type for `key`: the record's error, value skipped. */
static int wrong_type(jr *r, jp *q, const char *key, int want)
{
    cs_jp_type_error(q, key, want);
    cs_jr_record_error(r);
    return cs_jp_skip(q);
}

int cs_jr_str(jr *r, jp *q, const char *key, jp_str *out, bool *have)
{
    *have = false;
    int k = cs_jp_peek(q);
    if (k == JP_NULL)
        return cs_jp_null(q) < 0 ? CS_EPARSE : 0;
    if (k != JP_STR)
        return k == JP_END || k == JP_BAD ? cs_jp_skip(q)
                                          : wrong_type(r, q, key, JP_STR);
    int rc = cs_jp_string(q, key, out);
    *have = rc == 0;
    return rc;
}

int cs_jr_bool(jr *r, jp *q, const char *key, bool *out, bool *have)
{
    *have = false;
    int k = cs_jp_peek(q);
    if (k == JP_NULL)
        return cs_jp_null(q) < 0 ? CS_EPARSE : 0;
    if (k != JP_TRUE && k != JP_FALSE)
        return k == JP_END || k == JP_BAD ? cs_jp_skip(q)
                                          : wrong_type(r, q, key, JP_TRUE);
    int rc = cs_jp_bool(q, key, out);
    *have = rc == 0;
    return rc;
}

int cs_jr_prefix(jr *r, jp *q, jp_str s, const char *key, unsigned fam,
                 cs_prefix *out, bool *ok)
{
    *ok = false;
    cs_error pe;
    cs_error_clear(&pe);
    unsigned flags = fam;
    if (r->opts && r->opts->lenient)
        flags |= CS_PARSE_LENIENT;
    const char *text = cs_jp_ptr(q, s);
    int rc = cs_prefix_parse(text, s.len, flags, out, &pe);
    if (rc < 0) {
        /* the parser counts columns inside the value (CIDRs hold no
         * escapes): the value starts after the quote */
        size_t k = s.pos + (pe.column ? pe.column : 1);
        cs_jp_fail_at(q, k, pe.span ? pe.span : 1, CS_EPARSE, "\"%s\": %s", key,
                   pe.message);
        return cs_jr_record_error(r);
    }
    *ok = true;
    if (rc == CS_PARSE_NORMALISED) {
        char canon[CS_PREFIX_STRCAP];
        cs_prefix_format(out, canon, sizeof canon);
        return cs_jr_finding(r, CS_FINDING_HOST_BITS,
                             cs_jp_file_off(q, s.pos + 1),
                             "%s \"%.*s\" has host bits set; read as %s", key,
                             (int)(s.len > 64 ? 64 : s.len), text, canon);
    }
    return 0;
}

int cs_jr_next_token(jr *r, jp *q, jp_str tok)
{
    if (tok.len == 0)
        return 0;
    r->incomplete = true;
    return cs_jr_finding(r, CS_FINDING_INCOMPLETE_PAGE, cs_jp_file_off(q, tok.pos),
                         "a page carries a non-empty NextToken: the pages "
                         "after it are not in this file, so the inventory is "
                         "incomplete (save every page, or run the AWS CLI "
                         "without --max-items)");
}

int cs_jr_open(jr *r, jp *q, const char *what, int kind)
{
    int k = cs_jp_peek(q);
    if (k == JP_NULL)
        return cs_jp_null(q) < 0 ? CS_EPARSE : 0;
    if (k != kind) {
        if (k == JP_END || k == JP_BAD)
            return cs_jp_skip(q);
        cs_jp_type_error(q, what, kind);
        cs_jr_record_error(r);
        int rc = cs_jp_skip(q);
        return rc < 0 ? rc : 0;
    }
    int rc = kind == JP_OBJ ? cs_jp_object(q, what) : cs_jp_array(q, what);
    return rc < 0 ? rc : 1;
}

int cs_jr_tags(jr *r, jp *q, const char *what, const char *kname,
               const char *vname, jp_str *k, jp_str *v, size_t *n)
{
    int rc = cs_jr_open(r, q, what, JP_ARR);
    if (rc <= 0)
        return rc;
    bool first = true;
    while ((rc = cs_jp_element(q, &first)) > 0) {
        size_t at = q->i;
        if ((rc = cs_jr_open(r, q, "a tag", JP_OBJ)) < 0)
            return rc;
        if (rc == 0)
            continue;
        bool f2 = true, hk = false, hv = false;
        jp_str key, tk, tv = {0, 0, 0, 0};
        while (rc >= 0 && (rc = cs_jp_member(q, &f2, &key)) > 0) {
            if (cs_jp_eq(q, key, kname))
                rc = cs_jr_str(r, q, kname, &tk, &hk);
            else if (cs_jp_eq(q, key, vname))
                rc = cs_jr_str(r, q, vname, &tv, &hv);
            else
                rc = cs_jp_skip(q);
        }
        if (rc < 0)
            return rc;
        if (!hk || *n == CS_AWS_TAG_MAX) {
            if (hk)
                cs_jp_fail_at(q, at, 1, CS_EPARSE, "more than %u tags in %s",
                           CS_AWS_TAG_MAX, what);
            else
                cs_jp_fail_at(q, at, 1, CS_EPARSE,
                           "missing required key \"%s\" in a tag of %s", kname,
                           what);
            cs_jr_record_error(r);
            continue;
        }
        if (!hv)
            tv = (jp_str){0, 0, 0, 0};
        k[*n] = tk;
        v[*n] = tv;
        (*n)++;
    }
    return rc;
}

/* One page: {LIST_KEY: [...], "NextToken": s, ...}. 0 or < 0. */
static int read_page(jr *r, const char *list_key, const char *what,
                     int (*on_record)(jr *r, void *ctx), void *ctx)
{
    jp *q = &r->p;
    size_t at = q->i;
    r->incomplete = false;
    int rc = cs_jp_object(q, "a page");
    bool first = true, listed = false;
    jp_str key;
    while (rc >= 0 && (rc = cs_jp_member(q, &first, &key)) > 0) {
        if (cs_jp_eq(q, key, list_key)) {
            if (listed)
                return cs_jp_fail_at(q, key.pos, (uint32_t)key.len + 2,
                                  CS_EPARSE, "duplicate key \"%s\"", list_key);
            listed = true;
            if ((rc = cs_jp_array(q, list_key)) < 0)
                return rc;
            bool f2 = true;
            while ((rc = cs_jp_element(q, &f2)) > 0)
                if ((rc = on_record(r, ctx)) < 0)
                    return rc;
        } else if (cs_jp_eq(q, key, "NextToken")) {
            if (cs_jp_null(q) == 1)
                continue;
            if (cs_jp_peek(q) != JP_STR)
                return cs_jp_type_error(q, "NextToken", JP_STR);
            jp_str tok;
            if ((rc = cs_jp_string(q, "NextToken", &tok)) < 0 ||
                (rc = cs_jr_next_token(r, q, tok)) < 0)
                return rc;
        } else {
            rc = cs_jp_skip(q);
        }
    }
    if (rc < 0)
        return rc;
    if (!listed)
        return cs_jp_fail_at(q, at, 1, CS_EPARSE, "not %s: no \"%s\" key", what,
                          list_key);
    return 0;
}

int cs_jr_pages(jr *r, const char *list_key, const char *what,
                int (*on_record)(jr *r, void *ctx), void *ctx)
{
    jp *q = &r->p;
    bool any = false;
    int rc = 0;
    for (;;) {
        int k = cs_jp_peek(q);
        if (k == JP_END)
            break;
        any = true;
        if (k == JP_OBJ) {
            rc = read_page(r, list_key, what, on_record, ctx);
        } else if (k == JP_ARR) {
            bool first = true;
            rc = cs_jp_array(q, what);
            while (rc >= 0 && (rc = cs_jp_element(q, &first)) > 0)
                rc = cs_jp_peek(q) == JP_OBJ
                         ? read_page(r, list_key, what, on_record, ctx)
                         : cs_jp_type_error(q, "a page", JP_OBJ);
        } else {
            rc = cs_jp_type_error(q, what, JP_OBJ);
        }
        if (rc < 0)
            return cs_jr_file_error(r, rc);
    }
    if (!any) {
        cs_jp_fail_at(q, q->len, 1, CS_EPARSE, "%s",
                   q->len ? "file holds only blanks" : "empty file");
        return cs_jr_file_error(r, CS_EPARSE);
    }
    return r->rejected;
}
