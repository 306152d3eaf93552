/*
 * engine/ingest/estate_dir.c — the org-wide collection reader: walks
 * ESTATE/<account-id>/<region>/ and hands each inventory file to the AWS
 * CLI JSON reader (engine/ingest/aws_json.c) with the directory's account
 * and region.
 *
 * DIRECTORIES. ESTATE/<12-digit account>/<region>/: every .json
 * file of a region directory is read, in byte order (strcmp) so results do
 * not depend on the file system, and classified by its content
 * (json_shapes.c): pages of describe-vpcs or
 * describe-vpc-peering-connections output (vpcs.json, vpcs-2.json,
 * peering.json, a `cat` of pages, a `jq -s` array of pages),
 * get-ipam-resource-cidrs output and AWS Config query results for
 * AWS::EC2::VPC are read (the last two carry each VPC's own account and
 * region; the directory's are only defaults); a JSON document holding none
 * of these lists (subnets.json) and every
 * other entry (README, notes.txt, a sub-directory) is a skipped-file
 * finding, listed by `stat --findings`, never passed over silently. A
 * region directory needs at least one *.json file. Names starting with '.'
 * are ignored; any other entry of ESTATE or of an account directory that is
 * not a well-named directory is an error. The account of a VPC is its
 * OwnerId (a shared VPC printed in a participant's file keeps its owner),
 * else the directory's account; its region is the directory's region (a
 * "Region" wrapper inside that says otherwise is an error).
 *
 * Files that cannot be opened (permission denied) are bad input like an
 * unreadable file named on the command line: CS_EINVAL with the path named
 * once, a rejection under keep-going.
 *
 * Also holds the two AWS name checks every part of the reader uses
 * (cs_aws_account_valid: 12 digits; cs_aws_region_valid: us-east-1 shape).
 * Does not: parse JSON (json_stream.c and aws_json.c do), or decide what a
 * VPC's account is beyond passing the directory's as the default.
 * Concurrency: none inside; one walk works on one estate.
 * Tests: tests/test_aws_json.c (directory cases), tests/cli/test_stat.sh.
 */
#include "ingest/aws_json_internal.h"
#include "ingest/shapes_internal.h"

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


/* ---- AWS names (also used by json_stream.c and aws_json.c) ------------------ */

bool cs_aws_account_valid(const char *s, size_t len)
{
    if (len != 12)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

bool cs_aws_region_valid(const char *s, size_t len)
{
    /* "us-east-1", "us-gov-west-1", "ap-southeast-7", "us-isob-east-1":
     * lower-case words joined by '-', the first two letters, the last one or
     * two digits, at least three parts. */
    if (!s || len < 6 || len > 32)
        return false;
    size_t parts = 1, word = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '-') {
            if (word == 0 || (parts == 1 && word != 2))
                return false;
            parts++;
            word = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return false;
        word++;
    }
    if (parts < 3 || word == 0 || word > 2)
        return false;
    for (size_t k = len - word; k < len; k++)
        if (s[k] < '0' || s[k] > '9')
            return false;
    return s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z';
}

/* ---- listing directories ----------------------------------------------------- */

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
 * locale). Returns 0, CS_ENOMEM, or the (positive) errno of opendir. */
static int list_dir(const char *dir, names *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return errno; /* positive: never equal to CS_ENOMEM */
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

/* A directory that cannot be listed (errno `en`): bad input, like a file
 * that cannot be opened (json_stream.c's cs_aj_open_failed). */
static int open_fail(walk *w, const char *path, int en)
{
    return walk_fail(w, path, cs_ingest_errno_status(en),
                     "cannot read directory: %s", strerror(en));
}

static int join(char *out, size_t cap, const char *a, const char *b)
{
    size_t al = strlen(a);
    bool slash = al && a[al - 1] == '/';
    int n = snprintf(out, cap, "%s%s%s", a, slash ? "" : "/", b);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Whether `name` ends in ".json" (an inventory candidate). */
static bool is_json_name(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, ".json") == 0;
}

/* An entry of a region directory that is not read: listed as a finding so
 * `stat --findings` shows it (never passed over silently). */
static int skipped(walk *w, const char *path, const char *why)
{
    cs_srcloc l = {path, 0, 0};
    int rc = cs_estate_add_finding(w->e, CS_FINDING_SKIPPED_FILE, &l, why);
    if (rc < 0)
        return walk_fail(w, path, rc, "out of memory recording a skipped file");
    return 0;
}

/* Reads one file of a region directory; returns 0 go on, < 0 stop. */
static int walk_file(walk *w, const char *path, const char *account,
                     const char *region)
{
    int rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = cs_aj_open_failed(&w->res, w->e, path, errno, w->opts, w->err);
    } else {
        rc = cs_ingest_json_fd(w->e, path, fd, NULL, 0, region, account,
                               &w->res, w->opts, w->err);
        close(fd);
    }
    if (rc < 0)
        return rc;
    w->rejected += rc;
    return 0;
}

/*
 * A region directory: every *.json file in name order, each classified by
 * its content (Vpcs, VpcPeeringConnections pages; any other JSON document
 * is a skipped-file finding); every other entry is a skipped-file finding.
 * At least one *.json file must be there.
 */
static int walk_region(walk *w, const char *path, const char *account,
                       const char *region)
{
    names files;
    int rc = list_dir(path, &files);
    if (rc != 0)
        return rc == CS_ENOMEM ? walk_fail(w, path, CS_ENOMEM, "out of memory")
                               : open_fail(w, path, rc);
    size_t n_json = 0;
    for (size_t i = 0; i < files.n; i++)
        n_json += is_json_name(name_of(&files, i));
    if (n_json == 0) {
        names_free(&files);
        return walk_fail(w, path, CS_EPARSE,
                         "region directory holds no *.json inventory "
                         "(aws ec2 describe-vpcs, "
                         "describe-vpc-peering-connections or "
                         "get-ipam-resource-cidrs output, or AWS Config "
                         "query results, such as vpcs.json and "
                         "peering.json)");
    }
    cs_error tmp;
    cs_error_clear(&tmp);
    rc = cs_estate_add_scope(w->e, cs_str_c(account), cs_str_c(region), &tmp);
    if (rc < 0 && w->err)
        *w->err = tmp;
    w->res.in_dir = true;
    for (size_t i = 0; i < files.n && rc >= 0; i++) {
        const char *nm = name_of(&files, i);
        char sub[4096];
        if (join(sub, sizeof sub, path, nm)) {
            rc = walk_fail(w, path, CS_ERANGE, "path too long");
            continue;
        }
        if (entry_is_dir(&files, i, sub))
            rc = skipped(w, sub, "skipped: a directory inside a region "
                                 "directory (inventories are REGION/*.json)");
        else if (!is_json_name(nm))
            rc = skipped(w, sub, "skipped: not a *.json inventory file");
        else
            rc = walk_file(w, sub, account, region);
    }
    names_free(&files);
    return rc;
}

static int walk_account(walk *w, const char *path, const char *account)
{
    names regions;
    int rc = list_dir(path, &regions);
    if (rc != 0)
        return rc == CS_ENOMEM
                   ? walk_fail(w, path, CS_ENOMEM, "out of memory")
                   : open_fail(w, path, rc);
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
    if (rc != 0) {
        cs_error_clear(err);
        cs_error_source(err, dir);
        if (rc == CS_ENOMEM)
            return cs_fail(err, CS_ENOMEM, "%s: out of memory", dir);
        return cs_ingest_open_error(err, dir, "cannot read directory", rc);
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
                    "with --source-region for one region)", dir, nm);
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
