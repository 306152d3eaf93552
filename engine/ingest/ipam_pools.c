/*
 * engine/ingest/ipam_pools.c — pools from AWS VPC IPAM (include/cidrscope/
 * ipam.h, "pools from AWS IPAM"): the output of
 *
 *   aws ec2 describe-ipam-pools            {"IpamPools":[{IpamPoolId,
 *                                            AddressFamily, Locale,
 *                                            SourceIpamPoolId,
 *                                            AllocationMinNetmaskLength,
 *                                            AllocationMaxNetmaskLength,
 *                                            AllocationDefaultNetmaskLength,
 *                                            ...}], "NextToken"}
 *   aws ec2 get-ipam-pool-cidrs            {"IpamPoolCidrs":[{Cidr, State,
 *       --ipam-pool-id ID                    ...}]}
 *   aws ec2 get-ipam-pool-allocations      {"IpamPoolAllocations":[{Cidr,
 *       --ipam-pool-id ID                    ResourceType, ResourceId, ...}]}
 *
 * (shapes of the botocore EC2 model: IpamPool, IpamPoolCidr,
 * IpamPoolAllocation). A file is told apart by its top-level key. The last
 * two outputs do not name their pool, so their FILE NAME must hold the pool
 * id ("ipam-pool-" and hex digits), as `... --ipam-pool-id ID > ID.cidrs.json`
 * writes it. Several documents in one file (concatenated pages) are read
 * one after the other. Keys this reader does not use are skipped, with any
 * value. A pool's CIDRs count only in State "provisioned"; every allocation
 * counts as used, whatever its ResourceType (a child pool's CIDR is an
 * allocation of its source pool).
 *
 * Does: parse with yajl (the whole file in memory: these outputs are small)
 * and report every bad value with file, line and column. Does not: know
 * estates (engine/build), allocate blocks (engine/query/ipam.c).
 *
 * Tests: tests/test_ipam.c (ipam__pools_from_aws_ipam_*), tests/cli/
 * test_ipam.sh (--ipam-pools with alloc and free).
 */
#include <cidrscope/ipam.h>

#include "core/error_internal.h"
#include "ingest/ingest_internal.h"

#include <yajl/yajl_parse.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define POOL_FILE_MAX (64u << 20)

typedef struct pool_prefix {
    char pool[CS_IPAM_POOL_ID_MAX + 1];
    cs_prefix prefix;
    bool allocation; /* from get-ipam-pool-allocations, else a provisioned CIDR */
    uint32_t file;   /* index into the set's file names */
    uint64_t line;   /* of its Cidr value */
    uint32_t column;
} pool_prefix;

struct cs_ipam_pools {
    cs_ipam_pool_info *pools;
    size_t n_pools, cap_pools;
    pool_prefix *pp;
    size_t n_pp, cap_pp;
    char **files;
    size_t n_files, cap_files;
};

int cs_ipam_pools_new(cs_ipam_pools **out)
{
    if (!out)
        return CS_EINVAL;
    *out = calloc(1, sizeof **out);
    return *out ? 0 : CS_ENOMEM;
}

void cs_ipam_pools_free(cs_ipam_pools *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_files; i++)
        free(p->files[i]);
    free(p->files);
    free(p->pools);
    free(p->pp);
    free(p);
}

/* ---- the parse ---------------------------------------------------------------- */

enum section { SEC_NONE, SEC_POOLS, SEC_CIDRS, SEC_ALLOCS };
enum field {
    F_NONE,
    F_ID,
    F_FAMILY,
    F_LOCALE,
    F_SOURCE,
    F_MIN,
    F_MAX,
    F_DEFAULT,
    F_CIDR,
    F_STATE
};

typedef struct parse {
    cs_ipam_pools *set;
    const char *path, *buf;
    size_t len;
    yajl_handle y;
    cs_error *err;
    int rc;                   /* the first error */
    unsigned depth;           /* open maps and arrays */
    enum section sec;         /* the array at depth 2 being read */
    enum field field;         /* the key just read at depth 3 */
    char file_pool[CS_IPAM_POOL_ID_MAX + 1]; /* the pool a cidrs/allocations file is of */
    /* the record being read (depth 3) */
    size_t rec_off;
    cs_ipam_pool_info pool;
    bool has_family;
    cs_prefix cidr;
    bool has_cidr, provisioned;
    size_t cidr_off, family_off;
} parse;

/* The offset of the token yajl just handed over (its end is the bytes
 * consumed; a string is found back to its opening quote). */
static size_t token_end(const parse *p)
{
    return yajl_get_bytes_consumed(p->y);
}

static size_t string_start(const parse *p, size_t slen)
{
    size_t end = token_end(p);
    if (end >= slen + 2 && p->buf[end - slen - 2] == '"')
        return end - slen - 2;
    size_t i = end >= 2 ? end - 2 : 0;
    while (i > 0 && !(p->buf[i] == '"' && p->buf[i - 1] != '\\'))
        i--;
    return i;
}

static int fail_at(parse *p, size_t off, uint32_t span, int code, const char *fmt,
                   const char *a, const char *b)
{
    if (p->rc)
        return 0;
    cs_fail(p->err, code, fmt, a, b);
    cs_ingest_locate(p->err, p->path, p->buf, p->len, off, span);
    p->rc = code;
    return 0; /* stops yajl */
}

static int grow(void **a, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? 2 * *cap : 16;
    void *q = realloc(*a, c * size);
    if (!q)
        return CS_ENOMEM;
    *a = q;
    *cap = c;
    return 0;
}

static int cb_null(void *ctx)
{
    (void)ctx;
    return 1;
}

static int cb_bool(void *ctx, int v)
{
    (void)ctx;
    (void)v;
    return 1;
}

static int16_t *len_field(parse *p)
{
    switch (p->field) {
    case F_MIN:
        return &p->pool.min_len;
    case F_MAX:
        return &p->pool.max_len;
    case F_DEFAULT:
        return &p->pool.default_len;
    default:
        return NULL;
    }
}

static const char *field_name(enum field f)
{
    switch (f) {
    case F_MIN:
        return "AllocationMinNetmaskLength";
    case F_MAX:
        return "AllocationMaxNetmaskLength";
    case F_DEFAULT:
        return "AllocationDefaultNetmaskLength";
    case F_ID:
        return "IpamPoolId";
    case F_FAMILY:
        return "AddressFamily";
    case F_LOCALE:
        return "Locale";
    case F_SOURCE:
        return "SourceIpamPoolId";
    case F_CIDR:
        return "Cidr";
    default:
        return "State";
    }
}

static int cb_number(void *ctx, const char *s, size_t n)
{
    parse *p = ctx;
    int16_t *dst = p->depth == 3 ? len_field(p) : NULL;
    if (!dst)
        return 1;
    size_t off = token_end(p) - n;
    long v = 0;
    bool ok = n > 0 && n <= 3;
    for (size_t i = 0; ok && i < n; i++) {
        ok = s[i] >= '0' && s[i] <= '9';
        v = v * 10 + (s[i] - '0');
    }
    if (!ok || v > 128)
        return fail_at(p, off, (uint32_t)n, CS_EPARSE, "%s: expected a netmask length from 0 to "
                       "128%s", field_name(p->field), "");
    *dst = (int16_t)v;
    return 1;
}

static int cb_string(void *ctx, const unsigned char *sv, size_t n)
{
    parse *p = ctx;
    const char *s = (const char *)sv;
    if (p->depth != 3 || p->field == F_NONE)
        return 1;
    size_t off = string_start(p, n);
    char *dst = NULL;
    switch (p->field) {
    case F_ID:
        dst = p->pool.id;
        break;
    case F_LOCALE:
        dst = p->pool.locale;
        break;
    case F_SOURCE:
        dst = p->pool.source_id;
        break;
    case F_FAMILY:
        if (n == 4 && memcmp(s, "ipv4", 4) == 0)
            p->pool.family = CS_AF_V4;
        else if (n == 4 && memcmp(s, "ipv6", 4) == 0)
            p->pool.family = CS_AF_V6;
        else
            return fail_at(p, off, (uint32_t)n + 2, CS_EPARSE,
                           "AddressFamily: expected \"ipv4\" or \"ipv6\"%s%s", "", "");
        p->has_family = true;
        p->family_off = off;
        return 1;
    case F_STATE:
        p->provisioned = n == 11 && memcmp(s, "provisioned", 11) == 0;
        return 1;
    case F_CIDR: {
        cs_error perr;
        cs_error_clear(&perr);
        if (cs_prefix_parse(s, n, 0, &p->cidr, &perr) != 0) {
            size_t col = perr.column ? perr.column - 1 : 0;
            return fail_at(p, off + 1 + (col < n ? col : 0), perr.span ? perr.span : 1,
                           CS_EPARSE, "Cidr: %s%s", perr.message, "");
        }
        p->has_cidr = true;
        p->cidr_off = off;
        return 1;
    }
    default:
        return 1;
    }
    if (n > CS_IPAM_POOL_ID_MAX || memchr(s, '\0', n))
        return fail_at(p, off, (uint32_t)n + 2, CS_EPARSE, "%s: longer than 63 bytes%s",
                       field_name(p->field), "");
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 1;
}

static int cb_start_map(void *ctx)
{
    parse *p = ctx;
    p->depth++;
    if (p->depth == 3 && p->sec != SEC_NONE) {
        p->rec_off = token_end(p) - 1;
        memset(&p->pool, 0, sizeof p->pool);
        p->pool.min_len = p->pool.max_len = p->pool.default_len = -1;
        p->has_family = p->has_cidr = p->provisioned = false;
    }
    p->field = F_NONE;
    return 1;
}

static int cb_key(void *ctx, const unsigned char *kv, size_t n)
{
    parse *p = ctx;
    const char *k = (const char *)kv;
#define IS(lit) (n == sizeof lit - 1 && memcmp(k, lit, n) == 0)
    if (p->depth == 1) {
        p->sec = IS("IpamPools")             ? SEC_POOLS
                 : IS("IpamPoolCidrs")       ? SEC_CIDRS
                 : IS("IpamPoolAllocations") ? SEC_ALLOCS
                                             : SEC_NONE;
        if (p->sec != SEC_NONE && p->sec != SEC_POOLS && !p->file_pool[0])
            return fail_at(p, string_start(p, n), (uint32_t)n + 2, CS_EPARSE,
                           "%s output names no pool: its file name must hold the pool id "
                           "(e.g. ipam-pool-0abc.cidrs.json)%s",
                           p->sec == SEC_CIDRS ? "get-ipam-pool-cidrs"
                                               : "get-ipam-pool-allocations", "");
        return 1;
    }
    if (p->depth != 3 || p->sec == SEC_NONE)
        return 1;
    if (p->sec == SEC_POOLS)
        p->field = IS("IpamPoolId")                       ? F_ID
                   : IS("AddressFamily")                  ? F_FAMILY
                   : IS("Locale")                         ? F_LOCALE
                   : IS("SourceIpamPoolId")               ? F_SOURCE
                   : IS("AllocationMinNetmaskLength")     ? F_MIN
                   : IS("AllocationMaxNetmaskLength")     ? F_MAX
                   : IS("AllocationDefaultNetmaskLength") ? F_DEFAULT
                                                          : F_NONE;
    else
        p->field = IS("Cidr") ? F_CIDR : IS("State") && p->sec == SEC_CIDRS ? F_STATE : F_NONE;
#undef IS
    return 1;
}

static int end_pool(parse *p)
{
    cs_ipam_pool_info *q = &p->pool;
    if (!q->id[0])
        return fail_at(p, p->rec_off, 1, CS_EPARSE, "a pool without IpamPoolId%s%s", "", "");
    if (!p->has_family)
        return fail_at(p, p->rec_off, 1, CS_EPARSE, "pool %s: no AddressFamily%s", q->id, "");
    unsigned w = q->family == CS_AF_V4 ? 32 : 128;
    const int16_t lens[3] = {q->min_len, q->max_len, q->default_len};
    for (int i = 0; i < 3; i++)
        if (lens[i] > (int)w)
            return fail_at(p, p->rec_off, 1, CS_EPARSE,
                           "pool %s: %s longer than the family's width", q->id,
                           field_name((enum field)(F_MIN + i)));
    if (q->min_len >= 0 && q->max_len >= 0 && q->min_len > q->max_len)
        return fail_at(p, p->rec_off, 1, CS_EPARSE,
                       "pool %s: AllocationMinNetmaskLength is longer than "
                       "AllocationMaxNetmaskLength%s", q->id, "");
    if (q->default_len >= 0 && ((q->min_len >= 0 && q->default_len < q->min_len) ||
                                (q->max_len >= 0 && q->default_len > q->max_len)))
        return fail_at(p, p->rec_off, 1, CS_EPARSE,
                       "pool %s: AllocationDefaultNetmaskLength outside the min/max%s", q->id,
                       "");
    for (size_t i = 0; i < p->set->n_pools; i++)
        if (strcmp(p->set->pools[i].id, q->id) == 0)
            return fail_at(p, p->rec_off, 1, CS_EPARSE, "pool %s described twice (first in %s)",
                           q->id, p->set->pools[i].file);
    snprintf(q->file, sizeof q->file, "%s", p->path);
    cs_error where;
    cs_error_clear(&where);
    cs_ingest_locate(&where, p->path, p->buf, p->len, p->rec_off, 1);
    q->line = where.line;
    q->column = where.column;
    if (grow((void **)&p->set->pools, &p->set->cap_pools, p->set->n_pools, sizeof *q))
        return fail_at(p, p->rec_off, 1, CS_ENOMEM, "out of memory%s%s", "", "");
    p->set->pools[p->set->n_pools++] = *q;
    return 1;
}

static int end_cidr(parse *p)
{
    if (!p->has_cidr)
        return fail_at(p, p->rec_off, 1, CS_EPARSE, "%s without a Cidr%s",
                       p->sec == SEC_CIDRS ? "an IpamPoolCidr" : "an IpamPoolAllocation", "");
    if (p->sec == SEC_CIDRS && !p->provisioned)
        return 1;
    if (grow((void **)&p->set->pp, &p->set->cap_pp, p->set->n_pp, sizeof *p->set->pp))
        return fail_at(p, p->rec_off, 1, CS_ENOMEM, "out of memory%s%s", "", "");
    pool_prefix *x = &p->set->pp[p->set->n_pp++];
    memset(x, 0, sizeof *x);
    memcpy(x->pool, p->file_pool, sizeof x->pool);
    x->prefix = p->cidr;
    x->allocation = p->sec == SEC_ALLOCS;
    x->file = (uint32_t)(p->set->n_files - 1);
    cs_error where;
    cs_error_clear(&where);
    cs_ingest_locate(&where, p->path, p->buf, p->len, p->cidr_off, 1);
    x->line = where.line;
    x->column = where.column;
    return 1;
}

static int cb_end_map(void *ctx)
{
    parse *p = ctx;
    int r = 1;
    if (p->depth == 3 && p->sec == SEC_POOLS)
        r = end_pool(p);
    else if (p->depth == 3 && p->sec != SEC_NONE)
        r = end_cidr(p);
    p->depth--;
    if (p->depth == 0)
        p->sec = SEC_NONE;
    p->field = F_NONE;
    return r;
}

static int cb_start_array(void *ctx)
{
    parse *p = ctx;
    p->depth++;
    p->field = F_NONE;
    return 1;
}

static int cb_end_array(void *ctx)
{
    parse *p = ctx;
    p->depth--;
    return 1;
}

static const yajl_callbacks callbacks = {
    cb_null, cb_bool, NULL, NULL, cb_number, cb_string, cb_start_map,
    cb_key,  cb_end_map, cb_start_array, cb_end_array};

/* The pool id in a file name ("ipam-pool-" and hex digits), or "". */
static void pool_of_name(const char *path, char *out)
{
    out[0] = '\0';
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *m = strstr(base, "ipam-pool-");
    if (!m)
        return;
    size_t n = 10;
    while (n < CS_IPAM_POOL_ID_MAX && ((m[n] >= '0' && m[n] <= '9') || (m[n] >= 'a' && m[n] <= 'f')))
        n++;
    if (n == 10)
        return;
    memcpy(out, m, n);
    out[n] = '\0';
}

static int read_file(cs_ipam_pools *set, const char *path, cs_error *err)
{
    char *name = strdup(path);
    if (!name || grow((void **)&set->files, &set->cap_files, set->n_files, sizeof *set->files)) {
        free(name);
        return cs_fail(err, CS_ENOMEM, "out of memory");
    }
    set->files[set->n_files++] = name;
    cs_ingest_file f;
    int rc = cs_ingest_file_read(path, POOL_FILE_MAX, &f, err);
    if (rc)
        return rc;
    parse p = {.set = set, .path = path, .buf = f.data, .len = f.len, .err = err};
    pool_of_name(path, p.file_pool);
    p.y = yajl_alloc(&callbacks, NULL, &p);
    if (!p.y) {
        cs_ingest_file_free(&f);
        return cs_fail(err, CS_ENOMEM, "out of memory");
    }
    yajl_config(p.y, yajl_allow_multiple_values, 1);
    yajl_status st = yajl_parse(p.y, (const unsigned char *)f.data, f.len);
    bool at_end = false;
    if (st == yajl_status_ok) {
        st = yajl_complete_parse(p.y);
        at_end = true; /* an error now is a document cut short */
    }
    if (st != yajl_status_ok && !p.rc) {
        size_t off = at_end ? f.len : yajl_get_bytes_consumed(p.y);
        unsigned char *m = yajl_get_error(p.y, 0, NULL, 0);
        p.rc = cs_fail(err, CS_EPARSE, "not JSON: %s", m ? (const char *)m : "parse error");
        if (m)
            yajl_free_error(p.y, m);
        cs_ingest_locate(err, path, f.data, f.len, off > f.len ? f.len : off, 1);
    }
    yajl_free(p.y);
    cs_ingest_file_free(&f);
    return p.rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cs_ipam_pools_read(cs_ipam_pools *set, const char *path, cs_error *err)
{
    if (!set || !path)
        return cs_fail(err, CS_EINVAL, "no pool set or path");
    struct stat sb;
    if (stat(path, &sb) != 0)
        return cs_ingest_open_error(err, path, "cannot open", errno);
    if (!S_ISDIR(sb.st_mode))
        return read_file(set, path, err);
    /* A directory: its .json files in name order. */
    DIR *d = opendir(path);
    if (!d)
        return cs_ingest_open_error(err, path, "cannot open", errno);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0 || de->d_name[0] == '.')
            continue;
        char *full = malloc(strlen(path) + l + 2);
        if (!full || grow((void **)&names, &cap, n, sizeof *names)) {
            free(full);
            rc = cs_fail(err, CS_ENOMEM, "out of memory");
            break;
        }
        sprintf(full, "%s/%s", path, de->d_name);
        names[n++] = full;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; !rc && i < n; i++)
        rc = read_file(set, names[i], err);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* ---- lookups ------------------------------------------------------------------- */

int cs_ipam_pools_check(const cs_ipam_pools *set, cs_error *err)
{
    if (!set)
        return cs_fail(err, CS_EINVAL, "no pool set");
    for (size_t i = 0; i < set->n_pp; i++) {
        const pool_prefix *x = &set->pp[i];
        const cs_ipam_pool_info *q = cs_ipam_pools_find(set, x->pool);
        const char *why = !q                               ? "is not in any describe-ipam-pools output read"
                          : q->family != x->prefix.family ? "is of the other address family"
                                                           : NULL;
        if (why) {
            cs_fail(err, CS_EPARSE, "pool %s (named by the file) %s", x->pool, why);
            cs_error_locate(err, set->files[x->file], x->line, x->column, 0, 1, NULL, 0);
            return CS_EPARSE;
        }
    }
    return 0;
}

size_t cs_ipam_pools_count(const cs_ipam_pools *set)
{
    return set ? set->n_pools : 0;
}

const cs_ipam_pool_info *cs_ipam_pools_find(const cs_ipam_pools *set, const char *id)
{
    for (size_t i = 0; set && id && i < set->n_pools; i++)
        if (strcmp(set->pools[i].id, id) == 0)
            return &set->pools[i];
    return NULL;
}

static int64_t list(const cs_ipam_pools *set, const char *id, bool allocation, cs_prefix *out,
                    size_t cap)
{
    if (!set || !id || (cap && !out))
        return CS_EINVAL;
    int64_t n = 0;
    for (size_t i = 0; i < set->n_pp; i++)
        if (set->pp[i].allocation == allocation && strcmp(set->pp[i].pool, id) == 0) {
            if ((size_t)n < cap)
                out[n] = set->pp[i].prefix;
            n++;
        }
    return n;
}

int64_t cs_ipam_pools_cidrs(const cs_ipam_pools *set, const char *id, cs_prefix *out, size_t cap)
{
    return list(set, id, false, out, cap);
}

int64_t cs_ipam_pools_allocations(const cs_ipam_pools *set, const char *id, cs_prefix *out,
                                  size_t cap)
{
    return list(set, id, true, out, cap);
}

int cs_ipam_pool_length(const cs_ipam_pool_info *pool, int length, unsigned *out, cs_error *err)
{
    if (!pool || !out)
        return cs_fail(err, CS_EINVAL, "no pool");
    if (length < 0) {
        if (pool->default_len < 0)
            return cs_fail(err, CS_EINVAL,
                           "pool %s has no AllocationDefaultNetmaskLength: give --length",
                           pool->id);
        *out = (unsigned)pool->default_len;
        return 0;
    }
    if (pool->min_len >= 0 && length < pool->min_len)
        return cs_fail(err, CS_EINVAL,
                       "/%d is refused by pool %s: shorter than its AllocationMinNetmaskLength "
                       "%d", length, pool->id, pool->min_len);
    if (pool->max_len >= 0 && length > pool->max_len)
        return cs_fail(err, CS_EINVAL,
                       "/%d is refused by pool %s: longer than its AllocationMaxNetmaskLength "
                       "%d", length, pool->id, pool->max_len);
    *out = (unsigned)length;
    return 0;
}
