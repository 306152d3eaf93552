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
 * PLAN, THEN FILES. The walk first lists the tree into a plan: the steps
 * one thread would take, in order (a failure to report, an account/region
 * scope, a skipped entry, a file to read). Running the plan makes the
 * builder calls. With opts->threads > 1 the files are parsed on helper
 * threads as well:
 *
 *   helper threads:  claim the next file  ->  parse it, recording every
 *                    builder call, each answered "done" (replay.c)
 *   loading thread:  step i in plan order (while waiting for a helper's
 *                    file, it parses a later file as a helper does); a
 *                    file's turn:
 *                      not claimed yet   -> parse it here, into the estate
 *                      parsed by helper  -> replay its calls; from the
 *                                           first whose answer differs (its
 *                                           records meet an earlier file's)
 *                                           read the file again here
 *
 * so the estate is built by the same calls in the same order as with one
 * thread: the same image bytes, errors, rejections and findings in the same
 * order (replay.c argues why). Helpers run at most AHEAD files past the
 * loading thread, which bounds the recorded calls held in memory.
 * Concurrency: one mutex and one condition variable guard the job states
 * and the cursors (helper claims, loading thread position); a recorded log
 * is written by its helper before the state becomes J_DONE under the mutex
 * and read by the loading thread after it saw J_DONE under the mutex. The
 * estate is touched only by the loading thread.
 * Tests: tests/test_aws_json.c (directory cases), tests/cli/test_stat.sh,
 * tests/test_estate_dir_threads.c (one thread against two: image bytes,
 * errors, findings).
 */
#include "ingest/aws_json_internal.h"
#include "ingest/shapes_internal.h"

#include "core/error_internal.h"
#include "core/grow_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

/* ---- the plan ------------------------------------------------------------------ */

enum { ST_FAIL, ST_SCOPE, ST_SKIP, ST_FILE };

/* One step of the walk, in the order one thread takes them. */
typedef struct step {
    int kind;
    int code;             /* ST_FAIL: the status */
    char *path;           /* owned; ST_SCOPE: NULL */
    char *text;           /* owned; ST_FAIL: the message, ST_SKIP: why */
    char account[16];     /* ST_SCOPE, ST_FILE (12 digits) */
    char region[40];      /* ST_SCOPE, ST_FILE (at most 32 bytes) */
} step;

typedef struct plan {
    step *v;
    size_t n, cap, files;
} plan;

static void plan_free(plan *pl)
{
    for (size_t i = 0; i < pl->n; i++) {
        free(pl->v[i].path);
        free(pl->v[i].text);
    }
    free(pl->v);
    memset(pl, 0, sizeof *pl);
}

/* The state of one directory walk. */
typedef struct walk {
    cs_estate *e;
    const cs_load_options *opts;
    cs_error *err;
    aj_res res;
    int rejected;
    plan plan;
    bool plan_oom;        /* a step could not be stored */
} walk;

/* Appends a step (path and text copied). Returns 0 or CS_ENOMEM. */
static int push(walk *w, int kind, int code, const char *path, const char *text,
                const char *account, const char *region)
{
    plan *pl = &w->plan;
    if (cs_grow((void **)&pl->v, &pl->cap, pl->n + 1, sizeof *pl->v, SIZE_MAX))
        return w->plan_oom = true, CS_ENOMEM;
    step *s = &pl->v[pl->n];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->code = code;
    s->path = path ? strdup(path) : NULL;
    s->text = text ? strdup(text) : NULL;
    if ((path && !s->path) || (text && !s->text)) {
        free(s->path);
        free(s->text);
        return w->plan_oom = true, CS_ENOMEM;
    }
    snprintf(s->account, sizeof s->account, "%s", account ? account : "");
    snprintf(s->region, sizeof s->region, "%s", region ? region : "");
    pl->n++;
    pl->files += kind == ST_FILE;
    return 0;
}

/* Plans a problem with a path (no line): rejected with keep_going, else the
 * error. Returns 0 to go on walking, < 0 when the walk stops there. */
static int walk_fail(walk *w, const char *path, int code, const char *fmt,
                     ...) CS_PRINTF(4, 5);
static int walk_fail(walk *w, const char *path, int code, const char *fmt, ...)
{
    char msg[CS_ERROR_MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (push(w, ST_FAIL, code, path, msg, NULL, NULL))
        return CS_ENOMEM;
    return w->opts && w->opts->keep_going && code != CS_ENOMEM ? 0 : code;
}

/* Runs an ST_FAIL step. Returns 0 to go on, < 0 to stop. */
static int run_fail(walk *w, const step *s)
{
    cs_error tmp;
    cs_error_clear(&tmp);
    cs_error_source(&tmp, s->path);
    cs_fail(&tmp, s->code, "%s", s->text);
    if (w->opts && w->opts->keep_going && s->code != CS_ENOMEM) {
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
    return s->code;
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
    return push(w, ST_SKIP, 0, path, why, NULL, NULL);
}

static int run_skip(walk *w, const step *s)
{
    cs_srcloc l = {s->path, 0, 0};
    int rc = cs_estate_add_finding(w->e, CS_FINDING_SKIPPED_FILE, &l, s->text);
    if (rc < 0) {
        step oom = {ST_FAIL, rc, s->path, "out of memory recording a skipped file", "", ""};
        return run_fail(w, &oom);
    }
    return 0;
}

/* Reads one file of a region directory on this thread, into the estate;
 * returns 0 go on, < 0 stop. */
static int run_file(walk *w, const step *s)
{
    int rc;
    int fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = cs_aj_open_failed(&w->res, w->e, s->path, errno, w->opts, w->err);
    } else {
        rc = cs_ingest_json_fd(w->e, s->path, fd, NULL, 0, s->region, s->account,
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
    rc = push(w, ST_SCOPE, 0, NULL, NULL, account, region);
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
            rc = push(w, ST_FILE, 0, sub, NULL, account, region);
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

/* ---- files on helper threads ------------------------------------------------------ */

/* How many files helpers may parse past the loading thread's position. */
#define AHEAD 32
#define THREADS_MAX 64

enum { J_FREE, J_HELPER, J_DONE, J_MAIN };

typedef struct job {
    const step *s;
    int state;            /* J_*, under pool.mu */
    bool again;           /* not parsed off-thread: parse on the loading
                             thread */
    int rc;               /* the reader's result */
    cs_error err;         /* its error when rc < 0 */
    cs_ingest_log log;
    bool progressed;      /* the reader reported progress: */
    cs_load_progress prog;
} job;

typedef struct pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *jobs;
    size_t n;
    size_t next;          /* the next job a helper claims */
    size_t at;            /* the job the loading thread is at */
    bool stop;
    const cs_load_options *opts;
} pool;

static void note_progress(const cs_load_progress *p, void *ctx)
{
    job *j = ctx;
    j->prog = *p;
    j->progressed = true;
}

/* Parses job j on a helper thread, recording (the scratch estate is only
 * the reader's argument: recorded calls do not touch it). */
static void parse_off(const pool *p, job *j, aj_res *res)
{
    cs_estate *scratch = cs_estate_new();
    int fd = scratch ? open(j->s->path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0) {
        /* Out of memory or an open failure: the loading thread reports
         * it as one thread would. */
        cs_estate_free(scratch);
        j->again = true;
        return;
    }
    cs_load_options o = p->opts ? *p->opts : (cs_load_options){0};
    o.progress = note_progress;
    o.progress_ctx = j;
    o.snapshot = NULL;
    cs_error_clear(&j->err);
    cs_ingest_log_begin(&j->log);
    j->rc = cs_ingest_json_fd(scratch, j->s->path, fd, NULL, 0, j->s->region,
                              j->s->account, res, &o, &j->err);
    cs_ingest_log_end();
    close(fd);
    cs_estate_free(scratch);
    if (j->log.oom || j->rc == CS_ENOMEM) {
        j->again = true;
        cs_ingest_log_free(&j->log);
    }
}

static void *helper(void *arg)
{
    pool *p = arg;
    aj_res res;
    memset(&res, 0, sizeof res);
    res.in_dir = true;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->next < p->n && p->next >= p->at + AHEAD)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop || p->next >= p->n)
            break;
        job *j = &p->jobs[p->next++];
        if (j->state != J_FREE)
            continue;
        j->state = J_HELPER;
        pthread_mutex_unlock(&p->mu);
        parse_off(p, j, &res);
        pthread_mutex_lock(&p->mu);
        j->state = J_DONE;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    cs_aj_res_free(&res);
    return NULL;
}

/* The loading thread's turn for job k: parse it here when no helper took
 * it, else wait for it and replay it (resuming the reader here when an
 * answer differs). Returns as run_file. */
static int take(walk *w, pool *p, size_t k)
{
    job *j = &p->jobs[k];
    pthread_mutex_lock(&p->mu);
    p->at = k;
    bool mine = j->state == J_FREE;
    if (mine) {
        j->state = J_MAIN;
        if (p->next <= k)
            p->next = k + 1;
    }
    pthread_cond_broadcast(&p->cv);
    while (!mine && j->state != J_DONE) {
        /* A helper is on job k: parse a later one meanwhile, as a helper
         * does (the loading thread's share of the parsing). */
        if (p->next < p->n && p->next < k + AHEAD) {
            job *h = &p->jobs[p->next++];
            if (h->state != J_FREE)
                continue;
            h->state = J_HELPER;
            pthread_mutex_unlock(&p->mu);
            parse_off(p, h, &w->res);
            pthread_mutex_lock(&p->mu);
            h->state = J_DONE;
            pthread_cond_broadcast(&p->cv);
            continue;
        }
        pthread_cond_wait(&p->cv, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    if (mine || j->again) {
        cs_ingest_log_free(&j->log);
        return run_file(w, j->s);
    }
    cs_ingest_resume at;
    int rc = cs_ingest_log_replay(w->e, &j->log, &at, w->err);
    if (rc == 1) {
        /* The file's records met the estate's: read it again here, from
         * where the answers differ. */
        cs_ingest_resume_begin(&at);
        rc = run_file(w, j->s);
        cs_ingest_resume_end();
        cs_ingest_log_free(&j->log);
        return rc;
    }
    cs_ingest_log_free(&j->log);
    if (rc < 0)
        return rc;
    if (j->progressed && w->opts && w->opts->progress)
        w->opts->progress(&j->prog, w->opts->progress_ctx);
    if (j->rc < 0) {
        if (w->err)
            *w->err = j->err;
        return j->rc;
    }
    w->rejected += j->rc;
    return 0;
}

/* ---- running the plan --------------------------------------------------------------- */

static int run_step(walk *w, pool *p, const step *s, size_t *file_k)
{
    switch (s->kind) {
    case ST_FAIL:
        return run_fail(w, s);
    case ST_SKIP:
        return run_skip(w, s);
    case ST_SCOPE: {
        cs_error tmp;
        cs_error_clear(&tmp);
        int rc = cs_estate_add_scope(w->e, cs_str_c(s->account), cs_str_c(s->region), &tmp);
        if (rc < 0 && w->err)
            *w->err = tmp;
        return rc < 0 ? rc : 0;
    }
    default:
        return p ? take(w, p, (*file_k)++) : run_file(w, s);
    }
}

/* Runs the plan's steps in order, the files on opts->threads threads.
 * Returns 0 or the first stopping status. */
static int run_plan(walk *w)
{
    plan *pl = &w->plan;
    unsigned threads = w->opts ? w->opts->threads : 0;
    if (threads > THREADS_MAX)
        threads = THREADS_MAX;
    w->res.in_dir = true;
    pool p;
    pthread_t tid[THREADS_MAX];
    unsigned started = 0;
    bool par = threads > 1 && pl->files > 1;
    if (par) {
        memset(&p, 0, sizeof p);
        p.jobs = calloc(pl->files, sizeof *p.jobs);
        par = p.jobs && pthread_mutex_init(&p.mu, NULL) == 0;
        if (par && pthread_cond_init(&p.cv, NULL) != 0) {
            pthread_mutex_destroy(&p.mu);
            par = false;
        }
        if (!par)
            free(p.jobs);
    }
    if (par) {
        p.n = pl->files;
        p.opts = w->opts;
        for (size_t i = 0, k = 0; i < pl->n; i++)
            if (pl->v[i].kind == ST_FILE)
                p.jobs[k++].s = &pl->v[i];
        /* A helper that fails to start leaves its files to the others and
         * to this thread, which parses any file nobody claimed. */
        for (unsigned t = 0; t + 1 < threads; t++)
            if (pthread_create(&tid[started], NULL, helper, &p) == 0)
                started++;
    }
    int rc = 0;
    size_t file_k = 0;
    for (size_t i = 0; i < pl->n && rc >= 0; i++)
        rc = run_step(w, par ? &p : NULL, &pl->v[i], &file_k);
    if (par) {
        pthread_mutex_lock(&p.mu);
        p.stop = true;
        pthread_cond_broadcast(&p.cv);
        pthread_mutex_unlock(&p.mu);
        for (unsigned t = 0; t < started; t++)
            pthread_join(tid[t], NULL);
        for (size_t k = 0; k < p.n; k++)
            cs_ingest_log_free(&p.jobs[k].log);
        free(p.jobs);
        pthread_cond_destroy(&p.cv);
        pthread_mutex_destroy(&p.mu);
    }
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
    /* The plan: every step one thread takes, up to the first that stops. */
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
    if (w.plan_oom) {
        /* The plan itself ran out of memory. */
        plan_free(&w.plan);
        cs_error_clear(err);
        cs_error_source(err, dir);
        return cs_fail(err, CS_ENOMEM, "%s: out of memory", dir);
    }
    rc = run_plan(&w);
    plan_free(&w.plan);
    cs_aj_res_free(&w.res);
    return rc < 0 ? rc : w.rejected;
}
