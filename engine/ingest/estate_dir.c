/*
 * engine/ingest/estate_dir.c — the org-wide collection reader: walks
 * ESTATE/<account-id>/<region>/ and hands each inventory file to the AWS
 * CLI JSON reader (engine/ingest/aws_json.c) with the directory's account
 * and region.
 *
 * DIRECTORIES. ESTATE/<12-digit account>/<region>/vpcs.json and
 * peering.json, either may be absent but not both; entries are read in
 * byte order (strcmp), so results do not depend on the file system; names
 * starting with '.' are ignored; any other entry of ESTATE or of an account
 * directory that is not a well-named directory is an error (reported, never
 * skipped silently). Other files inside a region directory (subnets.json,
 * ...) are not ours and are left alone. The account of a VPC is its OwnerId
 * (a shared VPC printed in a participant's file keeps its owner), else the
 * directory's account; its region is the directory's region.
 * *
 * Does not: parse JSON (json_stream.c and aws_json.c do), or decide what a
 * VPC's account is beyond passing the directory's as the default.
 * Concurrency: none inside; one walk works on one estate.
 * Tests: tests/test_aws_json.c (directory cases), tests/cli/test_stat.sh.
 */
#include "ingest/aws_json_internal.h"

#include "core/error_internal.h"
#include "core/grow_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- directories ---------------------------------------------------------------- */

typedef struct names {
    char **v;      /* each name is preceded by one byte: its d_type */
    size_t n, cap;
} names;

static void names_free(names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a + 1, *(char *const *)b + 1);
}

static const char *name_of(const names *l, size_t i)
{
    return l->v[i] + 1;
}

/* Whether entry i of `l` (full path `path`) is a directory: from readdir's
 * d_type, or stat when the file system does not say. */
static bool entry_is_dir(const names *l, size_t i, const char *path)
{
    unsigned char t = (unsigned char)l->v[i][0];
    if (t == DT_DIR)
        return true;
    if (t != DT_UNKNOWN && t != DT_LNK)
        return false;
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Lists `dir` (without "." names), sorted by strcmp (bytes, not the
 * locale). Returns 0, or -errno / CS_ENOMEM. */
static int list_dir(const char *dir, names *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (cs_grow((void **)&out->v, &out->cap, out->n + 1, sizeof *out->v,
                    SIZE_MAX)) {
            closedir(d);
            names_free(out);
            return CS_ENOMEM;
        }
        size_t nl = strlen(de->d_name);
        char *copy = malloc(nl + 2);
        if (!copy) {
            closedir(d);
            names_free(out);
            return CS_ENOMEM;
        }
        copy[0] = (char)de->d_type;
        memcpy(copy + 1, de->d_name, nl + 1);
        out->v[out->n++] = copy;
    }
    closedir(d);
    if (out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, cmp_names);
    return 0;
}

/* The state of one directory walk. */
typedef struct walk {
    cs_estate *e;
    const cs_load_options *opts;
    cs_error *err;
    aj_res res;
    int rejected;
} walk;

/* Reports a problem with a path (no line): rejected with keep_going, else
 * the error. Returns 0 to go on, < 0 to stop. */
static int walk_fail(walk *w, const char *path, int code, const char *fmt,
                     ...) CS_PRINTF(4, 5);
static int walk_fail(walk *w, const char *path, int code, const char *fmt, ...)
{
    cs_error tmp;
    cs_error_clear(&tmp);
    cs_error_source(&tmp, path);
    char msg[CS_ERROR_MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cs_fail(&tmp, code, "%s", msg);
    if (w->opts && w->opts->keep_going && code != CS_ENOMEM) {
        int rc = cs_estate_reject(w->e, &tmp);
        if (rc < 0) {
            if (w->err)
                *w->err = tmp;
            return rc;
        }
        w->rejected++;
        return 0;
    }
    if (w->err)
        *w->err = tmp;
    return code;
}

static int join(char *out, size_t cap, const char *a, const char *b)
{
    size_t al = strlen(a);
    bool slash = al && a[al - 1] == '/';
    int n = snprintf(out, cap, "%s%s%s", a, slash ? "" : "/", b);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Opens `path` for reading: the descriptor, -1 when it does not exist, or
 * -2 - errno for any other failure. */
static int open_opt(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    return errno == ENOENT ? -1 : -2 - errno;
}

/* Reads one opened file of a region directory; returns 0 go on, < 0
 * stop. */
static int walk_file(walk *w, int fd, const char *path, const char *account,
                     const char *region)
{
    int rc;
    if (fd < -1)
        rc = cs_aj_open_failed(&w->res, w->e, path, -2 - fd, w->opts, w->err);
    else
        rc = cs_aj_read_fd(&w->res, w->e, fd, path, region, account, w->opts,
                     w->err);
    if (rc < 0)
        return rc;
    w->rejected += rc;
    return 0;
}

static int walk_region(walk *w, const char *path, const char *account,
                       const char *region)
{
    char vpcs[4096], pcx[4096];
    if (join(vpcs, sizeof vpcs, path, "vpcs.json") ||
        join(pcx, sizeof pcx, path, "peering.json"))
        return walk_fail(w, path, CS_ERANGE, "path too long");
    int fv = open_opt(vpcs), fp = open_opt(pcx);
    if (fv == -1 && fp == -1)
        return walk_fail(w, path, CS_EPARSE,
                         "region directory holds neither vpcs.json "
                         "(aws ec2 describe-vpcs) nor peering.json (aws ec2 "
                         "describe-vpc-peering-connections)");
    cs_error tmp;
    cs_error_clear(&tmp);
    int rc = cs_estate_add_scope(w->e, cs_str_c(account), cs_str_c(region),
                                 &tmp);
    if (rc < 0 && w->err)
        *w->err = tmp;
    if (rc >= 0 && fv != -1)
        rc = walk_file(w, fv, vpcs, account, region);
    if (rc >= 0 && fp != -1)
        rc = walk_file(w, fp, pcx, account, region);
    if (fv >= 0)
        close(fv);
    if (fp >= 0)
        close(fp);
    return rc;
}

static int walk_account(walk *w, const char *path, const char *account)
{
    names regions;
    int rc = list_dir(path, &regions);
    if (rc < 0)
        return rc == CS_ENOMEM
                   ? walk_fail(w, path, CS_ENOMEM, "out of memory")
                   : walk_fail(w, path, CS_EIO, "%s", strerror(-rc));
    if (regions.n == 0) {
        names_free(&regions);
        return walk_fail(w, path, CS_EPARSE,
                         "account directory holds no region directory "
                         "(expected %s/REGION/vpcs.json)", path);
    }
    rc = 0;
    for (size_t i = 0; i < regions.n && rc >= 0; i++) {
        const char *r = name_of(&regions, i);
        char sub[4096];
        if (join(sub, sizeof sub, path, r)) {
            rc = walk_fail(w, path, CS_ERANGE, "path too long");
            continue;
        }
        if (!entry_is_dir(&regions, i, sub)) {
            rc = walk_fail(w, sub, CS_EPARSE,
                           "not a region directory (expected "
                           "ACCOUNT/REGION/vpcs.json; a file here?)");
            continue;
        }
        if (!cs_aws_region_valid(r, strlen(r))) {
            rc = walk_fail(w, sub, CS_EPARSE,
                           "\"%s\" is not an AWS region name (such as "
                           "us-east-1)", r);
            continue;
        }
        rc = walk_region(w, sub, account, r);
    }
    names_free(&regions);
    return rc;
}

int cs_ingest_estate_dir(cs_estate *e, const char *dir,
                         const cs_load_options *opts, cs_error *err)
{
    if (!e || !dir)
        return cs_fail(err, CS_EINVAL, "cs_ingest_estate_dir: NULL argument");
    walk w;
    memset(&w, 0, sizeof w);
    w.e = e;
    w.opts = opts;
    w.err = err;
    names accounts;
    int rc = list_dir(dir, &accounts);
    if (rc < 0) {
        cs_error_clear(err);
        cs_error_source(err, dir);
        if (rc == CS_ENOMEM)
            return cs_fail(err, CS_ENOMEM, "%s: out of memory", dir);
        return cs_fail(err, CS_EIO, "%s: %s", dir, strerror(-rc));
    }
    /* A region directory or a single-account tree passed by mistake. */
    for (size_t i = 0; i < accounts.n; i++) {
        const char *nm = name_of(&accounts, i);
        if (strcmp(nm, "vpcs.json") == 0 || strcmp(nm, "peering.json") == 0) {
            cs_error_clear(err);
            cs_error_source(err, dir);
            cs_fail(err, CS_EPARSE,
                    "%s holds %s directly: an estate directory is "
                    "ESTATE/ACCOUNT/REGION/vpcs.json (pass the file itself "
                    "with --region for one region)", dir, nm);
            names_free(&accounts);
            return CS_EPARSE;
        }
    }
    if (accounts.n == 0) {
        names_free(&accounts);
        cs_error_clear(err);
        cs_error_source(err, dir);
        return cs_fail(err, CS_EPARSE,
                       "no account directories: an estate directory is "
                       "ESTATE/ACCOUNT/REGION/vpcs.json (and peering.json); "
                       "no vpcs.json found");
    }
    rc = 0;
    for (size_t i = 0; i < accounts.n && rc >= 0; i++) {
        const char *a = name_of(&accounts, i);
        char sub[4096];
        if (join(sub, sizeof sub, dir, a)) {
            rc = walk_fail(&w, dir, CS_ERANGE, "path too long");
            continue;
        }
        if (!entry_is_dir(&accounts, i, sub)) {
            rc = walk_fail(&w, sub, CS_EPARSE,
                           "not an account directory (an estate directory "
                           "holds only ACCOUNT/REGION/ directories)");
            continue;
        }
        if (!cs_aws_account_valid(a, strlen(a))) {
            rc = walk_fail(&w, sub, CS_EPARSE,
                           "\"%s\" is not an AWS account id (12 digits)", a);
            continue;
        }
        rc = walk_account(&w, sub, a);
    }
    names_free(&accounts);
    cs_aj_res_free(&w.res);
    return rc < 0 ? rc : w.rejected;
}
