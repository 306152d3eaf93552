/*
 * cli/cmd_check.c — `cidrscope check VPC_A VPC_B` and `cidrscope check
 * --pairs FILE|-`: may these VPCs be peered now, and if not, why
 * (include/cidrscope/peering.h has the rules and their reason codes).
 *
 * One pair, or a pairs file of fewer than FEW_PAIRS pairs, is decided from
 * the snapshot alone (cs_peering_check: overlaps through the trie). More
 * pairs build the bulk index once and are decided BATCH at a time
 * (BATCH_MANY with --threads) with cs_peering_check_bulk; text, CSV and NDJSON
 * results stream out in input order as each batch is decided, so a million
 * pairs need memory for one batch only. JSON prints its summary first, so
 * its pairs are all read and decided before anything is written.
 *
 * The pairs file is CSV (RFC 4180 fields: quotes, "" inside quotes; no line
 * breaks inside fields) with a header naming the columns vpc_a and vpc_b
 * (others are allowed and ignored); blank lines and lines starting with '#'
 * are skipped; a UTF-8 BOM is ignored. A malformed line stops the verb with
 * exit 2 naming file, line and column (results before it were printed in
 * the streaming formats). An id that names no VPC is not an error: its
 * pair's verdict is unknown-vpc.
 *
 * Exit: 0; 1 when --fail-on ineligible is given and a pair is ineligible;
 * 2 usage or bad input; 3 internal error.
 */
#include "cli.h"
#include "peer_cli.h"
#include "progress.h"
#include "source.h"
#include "verbs.h"

#include <cidrscope/peering.h>

#include <errno.h>
#include <pthread.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define VERB "check"
#define BATCH 4096
/* --threads: pairs per batch: a part's rows (~480 bytes a pair in CSV)
 * fill a buffer kept for the next batch, so its pages are touched once;
 * a batch costs a thread start and a join per part. */
#define BATCH_MANY 16384
#define MAX_FIELDS 64
/* Fewer pairs than this in all are decided without building the index. */
#define FEW_PAIRS 64

enum { OPT_PAIRS = 0x300, OPT_FAIL_ON, OPT_REGION_ALIAS, OPT_THREADS };
#define MAX_THREADS 64

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cidrscope check [options] -e SOURCE VPC_A VPC_B\n"
        "       cidrscope check [options] -e SOURCE --pairs FILE|-\n"
        "\n"
        "Whether AWS would let a peering connection between each pair of VPCs\n"
        "become active, and why not: eligible, eligible-with-warnings or\n"
        "ineligible, with reason codes and their evidence (blocks, connection ids):\n"
        "  blocks: same-vpc, unknown-vpc, cidr-overlap-ipv4, cidr-overlap-ipv6,\n"
        "          already-peered, quota-exceeded\n"
        "  warns:  cross-region, cross-account, routing-ambiguity\n"
        "\n"
        "      --pairs FILE       CSV with a header naming vpc_a and vpc_b ('-' =\n"
        "                         stdin); results come in input order\n"
        PEER_CLI_QUOTA_HELP
        "      --fail-on ineligible  exit 1 when any pair is ineligible\n"
        "      --threads N        --pairs: decide and write on N threads (same\n"
        "                         output, same order; json decides on N, writes on one)\n"
        "      --format F         text (default), json, csv or ndjson\n"
        PEER_CLI_OUTPUT_HELP
        "\n" CLI_SOURCE_HELP
        "\nExit: 0 done, 1 an ineligible pair with --fail-on ineligible, 2 usage or\n"
        "bad input, 3 internal error.\n");
}

/* A whole decimal number in [lo, hi], or -1. */
/* ---- the pairs ---------------------------------------------------------------- */

/* A batch of pairs: ids as given (in one arena), indices, verdicts. */
typedef struct batch {
    char *arena;
    size_t arena_len, arena_cap;
    size_t *a_off, *b_off;
    cs_peering_pair *pairs;
    cs_peering_verdict *verdicts;
    size_t n, cap;
} batch;

static int batch_reserve(batch *b, size_t n, size_t bytes)
{
    if (n > b->cap) {
        size_t nc = b->cap ? b->cap : BATCH;
        while (nc < n)
            nc *= 2;
        size_t *ao = realloc(b->a_off, nc * sizeof *ao);
        if (!ao)
            return -1;
        b->a_off = ao;
        size_t *bo = realloc(b->b_off, nc * sizeof *bo);
        if (!bo)
            return -1;
        b->b_off = bo;
        cs_peering_pair *p = realloc(b->pairs, nc * sizeof *p);
        if (!p)
            return -1;
        b->pairs = p;
        cs_peering_verdict *v = realloc(b->verdicts, nc * sizeof *v);
        if (!v)
            return -1;
        b->verdicts = v;
        b->cap = nc;
    }
    if (b->arena_len + bytes > b->arena_cap) {
        size_t nc = b->arena_cap ? b->arena_cap : 65536;
        while (nc < b->arena_len + bytes)
            nc *= 2;
        char *ar = realloc(b->arena, nc);
        if (!ar)
            return -1;
        b->arena = ar;
        b->arena_cap = nc;
    }
    return 0;
}

static size_t arena_put(batch *b, const char *s, size_t len)
{
    size_t off = b->arena_len;
    memcpy(b->arena + off, s, len);
    b->arena[off + len] = '\0';
    b->arena_len += len + 1;
    return off;
}

static void batch_free(batch *b)
{
    free(b->arena);
    free(b->a_off);
    free(b->b_off);
    free(b->pairs);
    free(b->verdicts);
}

/* ---- CSV -------------------------------------------------------------------------- */

typedef struct fields {
    const char *f[MAX_FIELDS];
    size_t len[MAX_FIELDS];
    uint32_t col[MAX_FIELDS]; /* 1-based column where the field starts */
    int n;
} fields;

static int csv_error(const char *path, unsigned long line_no, const char *line, size_t col,
                     const char *fmt, const char *arg)
{
    cs_error err;
    cs_error_clear(&err);
    err.code = CS_EPARSE;
    snprintf(err.message, sizeof err.message, fmt, arg);
    snprintf(err.source, sizeof err.source, "%s", strcmp(path, "-") == 0 ? "<stdin>" : path);
    err.line = line_no;
    err.column = (uint32_t)col;
    /* A window of the line around the column, for the caret. */
    size_t len = strlen(line), start = col > 60 ? col - 60 : 0;
    size_t take = len - start < sizeof err.text - 1 ? len - start : sizeof err.text - 1;
    memcpy(err.text, line + start, take);
    err.text[take] = '\0';
    err.text_col = (uint32_t)(col - start);
    return cli_report_error(VERB, &err);
}

/*
 * Splits `line` (NUL-terminated, no line break) into fields, in place:
 * quoted fields lose their quotes and "" becomes ". Unquoted fields are
 * trimmed of blanks. Returns 0, or an exit code after reporting the error.
 */
static int split(char *line, const char *orig, const char *path, unsigned long line_no,
                 fields *out)
{
    out->n = 0;
    char *p = line;
    for (;;) {
        if (out->n == MAX_FIELDS)
            return csv_error(path, line_no, orig, (size_t)(p - line) + 1,
                             "more than %s fields", "64");
        while (*p == ' ' || *p == '\t')
            p++;
        uint32_t col = (uint32_t)(p - line) + 1;
        char *start = p, *w = p;
        if (*p == '"') {
            size_t open = (size_t)(p - line) + 1;
            p++;
            start = w = p;
            for (;;) {
                if (!*p)
                    return csv_error(path, line_no, orig, open, "%s",
                                     "unterminated quoted field");
                if (*p == '"') {
                    if (p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            char *endq = w;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p && *p != ',')
                return csv_error(path, line_no, orig, (size_t)(p - line) + 1, "%s",
                                 "text after a closing quote (expected ',' or the end of "
                                 "the line)");
            out->f[out->n] = start;
            out->len[out->n] = (size_t)(endq - start);
        } else {
            while (*p && *p != ',') {
                if (*p == '"')
                    return csv_error(path, line_no, orig, (size_t)(p - line) + 1, "%s",
                                     "a quote inside an unquoted field");
                p++;
            }
            char *e = p;
            while (e > start && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            out->f[out->n] = start;
            out->len[out->n] = (size_t)(e - start);
        }
        out->col[out->n] = col;
        out->n++;
        if (!*p)
            return 0;
        p++; /* the comma */
    }
}

/* ---- the verb ---------------------------------------------------------------------- */

typedef struct part part;
typedef struct crew crew;

/* --threads, streaming formats: the batch being decided on the threads
 * while main reads the next one. */
typedef struct flight {
    batch b;                  /* the batch in flight (buffers swapped with
                                 the one being read) */
    part *ps;                 /* its parts (MAX_THREADS) */
    unsigned t;               /* parts */
    bool busy;
} flight;

/* The part threads, started once (a thread started per batch paid its
 * start and cold caches every batch): thread x decides part x of each
 * batch handed out. One mutex guards gen, left and quit; main hands out a
 * batch (ps, gen + 1, left = n) and sleeps until left is 0. */
struct crew {
    pthread_mutex_t mu;
    pthread_cond_t go;        /* a batch was handed out, or quit */
    pthread_cond_t done;      /* left reached 0 */
    part *ps;                 /* the batch's parts; thread x runs ps[x] */
    unsigned gen;             /* batches handed out */
    unsigned left;            /* parts of the batch not done */
    bool quit;
    unsigned n;               /* threads started */
    pthread_t tid[MAX_THREADS];
    struct crew_member {
        crew *c;
        unsigned x;
    } m[MAX_THREADS];
};

typedef struct run {
    const cs_snapshot *snap;
    cs_peering_index *ix;
    cs_peering_opts opts;
    enum cs_report_format format;
    cs_peering_report *rep;
    cs_peering_summary sum;
    bool began;
    unsigned threads;         /* --threads */
    FILE *out;                /* the report's stream */
    flight fly;
    part *fly_parts;          /* MAX_THREADS parts for fly */
    crew *crew;               /* --threads: started on first need */
    cli_membuf pbuf[MAX_THREADS]; /* part x's rows, reused batch after batch */
    cli_sink psink[MAX_THREADS];
} run;

/*
 * --threads: a batch split in `threads` contiguous parts; each part's ids
 * resolved and verdicts decided on its own thread (the index and snapshot
 * are read-only and thread-safe, peering.h) and, when `write`, written by
 * its own report into its own memory stream; the main thread then writes
 * the parts in order, so the output is the bytes one thread writes. The
 * main thread only splits the CSV lines and writes: in the streaming
 * formats a full batch is taken off (flight) and decided while main reads
 * the next one, and written once that one is full too (or the input ends,
 * or a bad line stops it: the pairs before the bad line's batch are
 * written, as on one thread).
 */
struct part {
    run *r;
    batch *b;
    size_t from, to;
    bool write;
    FILE *out;                /* into r->pbuf[x] */
    int rc;
};

/* The VPC indices of pairs [from, to) of b, from their ids (read_pairs
 * leaves them to the thread that decides them). */
static void resolve(const run *r, batch *b, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        b->pairs[i].a = peer_cli_vpc(r->snap, b->arena + b->a_off[i]);
        b->pairs[i].b = peer_cli_vpc(r->snap, b->arena + b->b_off[i]);
    }
}

static void *part_work(void *arg)
{
    part *p = arg;
    run *r = p->r;
    batch *b = p->b;
    resolve(r, b, p->from, p->to);
    p->rc = cs_peering_check_bulk(r->ix, b->pairs + p->from, p->to - p->from, &r->opts,
                                  b->verdicts + p->from);
    if (p->rc < 0 || !p->write)
        return NULL;
    cs_peering_report *rep = cs_peering_report_new(p->out, r->format, r->snap, &r->opts);
    if (!rep) {
        p->rc = CS_ENOMEM;
        return NULL;
    }
    for (size_t i = p->from; i < p->to; i++)
        cs_peering_report_pair(rep, b->arena + b->a_off[i], b->arena + b->b_off[i],
                               b->pairs[i].a, b->pairs[i].b, &b->verdicts[i]);
    cs_peering_report_free(rep);
    return NULL;
}

static void *crew_thread(void *arg)
{
    struct crew_member *m = arg;
    crew *c = m->c;
    unsigned seen = 0;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (c->gen == seen && !c->quit)
            pthread_cond_wait(&c->go, &c->mu);
        if (c->quit)
            break;
        seen = c->gen;
        part *p = &c->ps[m->x];
        pthread_mutex_unlock(&c->mu);
        part_work(p);
        pthread_mutex_lock(&c->mu);
        if (--c->left == 0)
            pthread_cond_signal(&c->done);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void crew_stop(crew *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->quit = true;
    pthread_cond_broadcast(&c->go);
    pthread_mutex_unlock(&c->mu);
    for (unsigned x = 0; x < c->n; x++)
        pthread_join(c->tid[x], NULL);
    pthread_cond_destroy(&c->go);
    pthread_cond_destroy(&c->done);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* Up to t part threads; NULL when none could start (the parts then run on
 * main). */
static crew *crew_start(unsigned t)
{
    crew *c = calloc(1, sizeof *c);
    if (!c || pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        return NULL;
    }
    pthread_cond_init(&c->go, NULL);
    pthread_cond_init(&c->done, NULL);
    for (unsigned x = 0; x < t; x++) {
        c->m[x] = (struct crew_member){c, x};
        if (pthread_create(&c->tid[x], NULL, crew_thread, &c->m[x]) != 0)
            break;
        c->n = x + 1;
    }
    if (!c->n) {
        crew_stop(c);
        return NULL;
    }
    return c;
}

/* Starts deciding batch b in r->threads parts on the crew (each part
 * written into r->pbuf[x] when `write`). Fills f. Returns 0 or an exit
 * code (then nothing runs). */
static int parts_start(run *r, batch *b, bool write, flight *f, part *ps)
{
    unsigned t = r->threads;
    size_t per = (b->n + t - 1) / t;
    if (!r->crew)
        r->crew = crew_start(t);
    f->ps = ps;
    f->t = t;
    for (unsigned x = 0; x < t; x++) {
        part *p = &ps[x];
        memset(p, 0, sizeof *p);
        p->r = r;
        p->b = b;
        p->from = x * per < b->n ? x * per : b->n;
        p->to = (x + 1) * per < b->n ? (x + 1) * per : b->n;
        p->write = write;
        r->pbuf[x].len = 0;
        r->psink[x] = (cli_sink){&r->pbuf[x], false};
        if (write && !(p->out = cli_sink_open(&r->psink[x]))) {
            for (unsigned y = 0; y < x; y++)
                fclose(ps[y].out);
            cli_errorf(VERB, "deciding on %u threads: %s", t, cs_strerror(CS_ENOMEM));
            return CLI_INTERNAL;
        }
    }
    crew *c = r->crew;
    if (c) {
        pthread_mutex_lock(&c->mu);
        c->ps = ps;
        c->left = c->n;
        c->gen++;
        pthread_cond_broadcast(&c->go);
        pthread_mutex_unlock(&c->mu);
    }
    f->busy = true;
    return 0;
}

/* Waits for the parts of parts_start (those no thread runs: here) and
 * writes them in order. Returns 0 or an exit code. */
static int parts_finish(run *r, flight *f)
{
    part *ps = f->ps;
    crew *c = r->crew;
    int rc = 0;
    unsigned on_crew = c ? c->n : 0;
    for (unsigned x = on_crew; x < f->t; x++)
        part_work(&ps[x]); /* a thread could not start: its part here */
    if (c) {
        pthread_mutex_lock(&c->mu);
        while (c->left)
            pthread_cond_wait(&c->done, &c->mu);
        pthread_mutex_unlock(&c->mu);
    }
    f->busy = false;
    for (unsigned x = 0; x < f->t; x++) {
        part *p = &ps[x];
        if (p->out && fclose(p->out) != 0 && r->psink[x].oom)
            p->rc = CS_ENOMEM;
        if (!rc && p->rc < 0)
            rc = CLI_INTERNAL;
        if (!rc && p->write)
            fwrite(r->pbuf[x].p, 1, r->pbuf[x].len, r->out);
    }
    if (rc)
        cli_errorf(VERB, "deciding on %u threads: %s", f->t, cs_strerror(CS_ENOMEM));
    return rc;
}

/* Decides batch b on r->threads threads, and writes it when `write`.
 * Returns 0 or an exit code. */
static int threaded(run *r, batch *b, bool write)
{
    part ps[MAX_THREADS];
    flight f;
    memset(&f, 0, sizeof f);
    int rc = parts_start(r, b, write, &f, ps);
    return rc ? rc : parts_finish(r, &f);
}

/* Verdicts for a batch: a few pairs one by one from the snapshot (an index
 * over a million VPCs takes a second or two to build), more through the
 * bulk index, built on first need. Both give the same verdicts
 * (tests/test_peering.c). Returns 0, or an exit code. */
static int verdicts(run *r, batch *b)
{
    if (r->threads < 2 || b->n < 2 * FEW_PAIRS)
        resolve(r, b, 0, b->n); /* else each part resolves its own */
    if (b->n < FEW_PAIRS && !r->ix) {
        for (size_t i = 0; i < b->n; i++) {
            int rc = cs_peering_check(r->snap, b->pairs[i].a, b->pairs[i].b, &r->opts,
                                      &b->verdicts[i]);
            if (rc < 0) {
                cli_errorf(VERB, "cs_peering_check: %s", cs_strerror(rc));
                return CLI_INTERNAL;
            }
        }
        return 0;
    }
    if (!r->ix) {
        cs_error err;
        cs_error_clear(&err);
        if (cs_peering_index_new(r->snap, &r->ix, &err) < 0)
            return cli_report_error(VERB, &err);
    }
    if (r->threads > 1 && b->n >= 2 * FEW_PAIRS)
        return threaded(r, b, false);
    int rc = cs_peering_check_bulk(r->ix, b->pairs, b->n, &r->opts, b->verdicts);
    if (rc < 0) {
        cli_errorf(VERB, "cs_peering_check_bulk: %s", cs_strerror(rc));
        return CLI_INTERNAL;
    }
    return 0;
}

/* The batch in flight: waits for it, writes it and counts it. Returns 0 or
 * an exit code. */
static int land(run *r)
{
    flight *f = &r->fly;
    if (!f->busy)
        return 0;
    int rc = parts_finish(r, f);
    for (size_t i = 0; !rc && i < f->b.n; i++)
        cs_peering_summary_add(&r->sum, &f->b.verdicts[i]);
    cli_progress_count("pairs decided", r->sum.pairs, 0);
    f->b.n = 0;
    f->b.arena_len = 0;
    return rc;
}

/* --threads, streaming formats: full batch b goes to the threads (after the
 * one in flight is written) and main reads on into the flight's old
 * buffers. Returns 0 or an exit code. */
static int take_off(run *r, batch *b)
{
    int rc = land(r);
    if (rc)
        return rc;
    if (!r->ix) {
        cs_error err;
        cs_error_clear(&err);
        if (cs_peering_index_new(r->snap, &r->ix, &err) < 0)
            return cli_report_error(VERB, &err);
    }
    if (!r->began) {
        cs_peering_report_begin(r->rep, NULL);
        r->began = true;
    }
    batch t = r->fly.b;
    r->fly.b = *b;
    *b = t;
    return parts_start(r, &r->fly.b, true, &r->fly, r->fly_parts);
}

/* Decides and (except for JSON) prints a batch. */
static int decide(run *r, batch *b)
{
    if (!b->n)
        return 0;
    bool parts = r->threads > 1 && r->format != CS_REPORT_JSON && b->n >= 2 * FEW_PAIRS;
    if (parts && !r->ix) {
        cs_error err;
        cs_error_clear(&err);
        if (cs_peering_index_new(r->snap, &r->ix, &err) < 0)
            return cli_report_error(VERB, &err);
    }
    if (parts && !r->began) {
        cs_peering_report_begin(r->rep, NULL);
        r->began = true;
    }
    int rc = parts ? threaded(r, b, true) : verdicts(r, b);
    if (rc)
        return rc;
    for (size_t i = 0; i < b->n; i++)
        cs_peering_summary_add(&r->sum, &b->verdicts[i]);
    cli_progress_count("pairs decided", r->sum.pairs, 0);
    if (r->format == CS_REPORT_JSON)
        return 0;
    if (!r->began) {
        cs_peering_report_begin(r->rep, NULL);
        r->began = true;
    }
    for (size_t i = 0; !parts && i < b->n; i++)
        cs_peering_report_pair(r->rep, b->arena + b->a_off[i], b->arena + b->b_off[i],
                               b->pairs[i].a, b->pairs[i].b, &b->verdicts[i]);
    b->n = 0;
    b->arena_len = 0;
    return 0;
}

static int read_pairs(run *r, const char *path, batch *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        cli_errorf(VERB, "%s: %s", path, strerror(errno));
        return CLI_USAGE;
    }
    char *line = NULL, *copy = NULL;
    size_t cap = 0, copy_cap = 0;
    ssize_t got;
    unsigned long no = 0;
    int col_a = -1, col_b = -1, nf = 0, rc = 0;
    while ((got = getline(&line, &cap, f)) >= 0) {
        no++;
        size_t len = (size_t)got;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        line[len] = '\0';
        char *text = line;
        if (no == 1 && len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
            text += 3;
            len -= 3;
        }
        size_t lead = strspn(text, " \t");
        if (text[lead] == '\0' || text[lead] == '#')
            continue;
        if (len + 1 > copy_cap) {
            char *c = realloc(copy, len + 1);
            if (!c) {
                rc = CLI_INTERNAL;
                cli_errorf(VERB, "out of memory");
                break;
            }
            copy = c;
            copy_cap = len + 1;
        }
        memcpy(copy, text, len + 1);
        fields fs;
        if ((rc = split(text, copy, path, no, &fs)) != 0)
            break;
        if (col_a < 0) {
            for (int i = 0; i < fs.n; i++) {
                if (fs.len[i] == 5 && memcmp(fs.f[i], "vpc_a", 5) == 0)
                    col_a = i;
                else if (fs.len[i] == 5 && memcmp(fs.f[i], "vpc_b", 5) == 0)
                    col_b = i;
            }
            if (col_a < 0 || col_b < 0) {
                rc = csv_error(path, no, copy, 1, "%s",
                               "expected a header line naming the columns vpc_a and vpc_b");
                break;
            }
            nf = fs.n;
            continue;
        }
        if (fs.n != nf) {
            char msg[96];
            snprintf(msg, sizeof msg, "expected %d field%s as in the header, found %d", nf,
                     nf == 1 ? "" : "s", fs.n);
            size_t col = fs.n > nf ? fs.col[nf] : len + 1;
            rc = csv_error(path, no, copy, col, "%s", msg);
            break;
        }
        for (int k = 0; k < 2 && !rc; k++) {
            int c = k ? col_b : col_a;
            if (!fs.len[c])
                rc = csv_error(path, no, copy, fs.col[c], "empty %s", k ? "vpc_b" : "vpc_a");
        }
        if (rc)
            break;
        if (batch_reserve(b, b->n + 1, fs.len[col_a] + fs.len[col_b] + 2) != 0) {
            cli_errorf(VERB, "out of memory");
            rc = CLI_INTERNAL;
            break;
        }
        size_t ao = arena_put(b, fs.f[col_a], fs.len[col_a]);
        size_t bo = arena_put(b, fs.f[col_b], fs.len[col_b]);
        b->a_off[b->n] = ao;
        b->b_off[b->n] = bo;
        b->n++; /* its VPC indices: resolve(), on the thread deciding it */
        if (r->format != CS_REPORT_JSON && b->n == (r->threads > 1 ? BATCH_MANY : BATCH) &&
            (rc = r->threads > 1 ? take_off(r, b) : decide(r, b)) != 0)
            break;
    }
    int lrc = land(r); /* the batch in flight is written, also before a bad line */
    if (!rc)
        rc = lrc;
    if (!rc && ferror(f)) {
        cli_errorf(VERB, "%s: %s", path, strerror(errno));
        rc = CLI_USAGE;
    }
    if (!rc && col_a < 0) {
        cs_error err;
        cs_error_clear(&err);
        err.code = CS_EPARSE;
        snprintf(err.message, sizeof err.message,
                 "no header line: expected one naming the columns vpc_a and vpc_b");
        snprintf(err.source, sizeof err.source, "%s", strcmp(path, "-") == 0 ? "<stdin>" : path);
        err.line = no ? no : 1;
        rc = cli_report_error(VERB, &err);
    }
    free(line);
    free(copy);
    if (f != stdin)
        fclose(f);
    return rc;
}

int cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        PEER_CLI_LONGOPTS,
        PEER_CLI_QUOTA_LONGOPT,
        {"pairs", required_argument, NULL, OPT_PAIRS},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"fail-on", required_argument, NULL, OPT_FAIL_ON},
        CLI_SOURCE_REFUSED_OPTIONS,
        CLI_SOURCE_LONGOPTS,
        {NULL, 0, NULL, 0}};
    cli_sources src;
    cli_sources_init(&src);
    peer_cli p;
    peer_cli_init(&p, VERB,
                  1u << CS_REPORT_TEXT | 1u << CS_REPORT_JSON | 1u << CS_REPORT_CSV |
                      1u << CS_REPORT_NDJSON);
    const char *pairs_path = NULL;
    unsigned threads = 1;
    bool fail_on = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":he:o:", opts, NULL)) != -1) {
        int used = cli_source_option(VERB, &src, c, optarg);
        if (used == 0)
            used = peer_cli_option(&p, c, optarg, argv, optind);
        if (used < 0)
            return CLI_USAGE;
        if (used)
            continue;
        switch (c) {
        case 'h':
            usage(stdout);
            return CLI_OK;
        case OPT_THREADS: {
            long t = cli_parse_count(optarg, 1, MAX_THREADS);
            if (t < 0) {
                cli_errorf(VERB, "--threads %s: expected a number from 1 to %d", optarg,
                           MAX_THREADS);
                return CLI_USAGE;
            }
            threads = (unsigned)t;
            break;
        }
        case OPT_PAIRS:
            pairs_path = optarg;
            break;
        case OPT_FAIL_ON:
            if (strcmp(optarg, "ineligible") != 0) {
                cli_errorf(VERB, "--fail-on %s: the only condition is 'ineligible'", optarg);
                return CLI_USAGE;
            }
            fail_on = true;
            break;
        default:
            usage(stderr);
            return CLI_USAGE;
        }
    }
    int npos = argc - optind;
    if (pairs_path ? npos != 0 : npos != 2) {
        cli_errorf(VERB, pairs_path ? "--pairs takes no VPC arguments"
                                    : "expected two VPC ids, or --pairs FILE (see --help)");
        return CLI_USAGE;
    }
    cli_estate est;
    int rc = cli_estate_open(VERB, &src, &est);
    if (rc)
        return rc;
    run r;
    memset(&r, 0, sizeof r);
    r.snap = est.snap;
    r.opts.quota = (uint32_t)p.quota;
    r.format = p.fmt;
    r.threads = threads;
    if ((rc = peer_cli_open(&p)) != 0) {
        cli_estate_close(&est);
        return rc;
    }
    r.out = p.out;
    r.rep = cs_peering_report_new(p.out, r.format, est.snap, &r.opts);
    if (!r.rep) {
        cli_errorf(VERB, "out of memory");
        cli_estate_close(&est);
        return CLI_INTERNAL;
    }
    cs_error err;
    cs_error_clear(&err);
    if (!pairs_path) {
        const char *ia = argv[optind], *ib = argv[optind + 1];
        uint32_t a = peer_cli_vpc(est.snap, ia), b = peer_cli_vpc(est.snap, ib);
        cs_peering_verdict v;
        if (cs_peering_check(est.snap, a, b, &r.opts, &v) < 0) {
            cli_errorf(VERB, "cs_peering_check: bad arguments");
            cs_peering_report_free(r.rep);
            cli_estate_close(&est);
            return peer_cli_close(&p, CLI_INTERNAL);
        }
        cs_peering_summary_add(&r.sum, &v);
        cs_peering_report_begin(r.rep, &r.sum);
        cs_peering_report_pair(r.rep, ia, ib, a, b, &v);
    } else {
        batch b;
        memset(&b, 0, sizeof b);
        part fly_parts[MAX_THREADS];
        r.fly_parts = fly_parts;
        cli_progress_begin(VERB);
        rc = read_pairs(&r, pairs_path, &b);
        if (!rc && r.format == CS_REPORT_JSON)
            rc = verdicts(&r, &b);
        if (!rc && r.format == CS_REPORT_JSON) {
            for (size_t i = 0; i < b.n; i++)
                cs_peering_summary_add(&r.sum, &b.verdicts[i]);
            cs_peering_report_begin(r.rep, &r.sum);
            for (size_t i = 0; i < b.n; i++)
                cs_peering_report_pair(r.rep, b.arena + b.a_off[i], b.arena + b.b_off[i],
                                       b.pairs[i].a, b.pairs[i].b, &b.verdicts[i]);
        } else if (!rc && (rc = decide(&r, &b)) == 0) {
            if (!r.began)
                cs_peering_report_begin(r.rep, NULL);
        }
        crew_stop(r.crew);
        batch_free(&b);
        batch_free(&r.fly.b);
        for (unsigned x = 0; x < MAX_THREADS; x++)
            free(r.pbuf[x].p);
        cli_progress_end();
        cs_peering_index_free(r.ix);
        if (rc) {
            fflush(p.out);
            cs_peering_report_free(r.rep);
            cli_estate_close(&est);
            return peer_cli_close(&p, rc);
        }
    }
    rc = cs_peering_report_end(r.rep, &r.sum, &err);
    cs_peering_report_free(r.rep);
    cli_estate_close(&est);
    if (rc < 0)
        return peer_cli_close(&p, cli_report_error(VERB, &err));
    return peer_cli_close(&p, fail_on && r.sum.verdicts[CS_PEER_INELIGIBLE] ? CLI_FINDINGS
                                                                             : CLI_OK);
}
