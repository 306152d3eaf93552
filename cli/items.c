/*
 * cli/items.c — the bulk item pipeline of `query` and `lookup`.
 *
 * One thread (and JSON, one document that a single writer must frame):
 *
 *   main: read(2) a block into the chunk's arena, split lines in place
 *         ─> chunk of up to CHUNK_ONE items ─> answer it: parse, answer
 *         BATCH at a time through the bulk calls (cs_query_count_bulk,
 *         cs_query_walk_bulk, cs_lookup_bulk), write through the one
 *         cs_match_report on stdout ─> read on, into the same slot (one
 *         slot: the same pages serve the whole input)
 *
 * --threads N (N > 1): N - 1 workers, and main, which reads, writes, and
 * answers jobs whenever it would otherwise wait:
 *
 *   main:    read chunk c (JOBS_PER_WORKER * N jobs of JOB_ITEMS items)
 *            into slot c % SLOTS, cut it in jobs, queue them; write every
 *            finished job at the head of the queue (in queue order); before
 *            reusing a slot, wait for its jobs and write them, taking
 *            the queued jobs no worker would start next meanwhile
 *   workers: take the next queued job; parse, answer and format its items
 *            through the worker's own cs_match_report (CS_MR_BARE, kept
 *            across jobs with its owner cache) into the job's buffer (an
 *            fopencookie stream into a spare buffer of the pool, given
 *            back once main wrote it); mark it done
 *
 * Sizes: fresh pages cost more here than the answers (a page fault is
 * ~4 us on a VM, a lookup row ~0.3 us), so the memory the pipeline touches
 * is bounded and reused, never proportional to the input: one thread uses
 * one slot; --threads N uses SLOTS slots of 2N small jobs, and a job's
 * output (JOB_ITEMS rows of ~100 bytes for lookup) goes to a spare buffer
 * taken from a stack, the one given back last first, so only as many
 * buffers as jobs in flight are ever touched. Small jobs also keep the
 * workers' shares even and the wait for the last job of a chunk short.
 * Main sleeps only when no such job is left, until the last job of the
 * slot it needs is done (one wake-up per chunk, not per job): N threads
 * on N cores, no third runnable thread (with one, 2 threads cost 13-21%
 * more CPU than one: context switches, a third cold cache).
 *
 * So while the workers answer chunk c, main reads chunk c + 1 and writes
 * chunk c - 1. Jobs are written in the order they were queued, which is
 * input order: the output is byte-for-byte the same for any thread count
 * (tests/cli/test_query.sh, tests/cli/test_threads.sh: seeded inputs with
 * bad items in the middle and at chunk and job borders). A job stops at a
 * bad item unless keep_going; main writes it (the answers before the bad
 * item, then its message) and discards every later job, so the items
 * before the bad one, and only those, are answered. Warnings (host bits
 * cleared) go to each job's own stderr buffer and are printed in order too.
 * With --shm a chunk's jobs all run on the generation pinned when it was
 * queued; the queue is drained after each chunk and the pin dropped, so a
 * reader waiting for input holds no reader slot and the next chunk sees
 * the newest generation.
 *
 * Concurrency: one mutex guards the queue's `next` and `tail`, every job's
 * `done`, the spare buffers and `wait_pos`; the thread that takes a job
 * (a worker, or main in wait_for, each through its own member) owns it
 * and the buffer it took with it until it sets done (under the mutex, so
 * main sees its buffers complete); main alone moves `head` and reuses
 * slots, and touches a slot's arena only after every job reading it is
 * written. Jobs on a slot write into its arena only to join and split
 * their own items (parse_batch). Members share the snapshot (read-only,
 * thread-safe per query.h); each owns its scratch, writer and streams.
 * Warnings and errors of one thread go straight to stderr.
 */
#include "items.h"

#include "cli.h"
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH 4096
#define PREFETCH 8        /* lookup rows: prefetch distance, in matches */
#define CHUNK_ONE 16384   /* items per chunk on one thread (fits in L2) */
#define JOB_ITEMS 1024    /* items per job with --threads (see below) */
#define JOBS_PER_WORKER 2 /* jobs per worker in a chunk of --threads */
#define SLOTS 3           /* chunks: one read, one answered, one written */
#define MAX_THREADS 64
#define READ_MIN 4096     /* read(2) no less than this into an arena */

typedef struct item {
    size_t off;           /* text in the chunk's arena, NUL-terminated */
    size_t len;
    unsigned long line;
    const char *src;      /* "(command line)", "(stdin)" or a file name */
} item;

typedef struct chunk {
    item *it;
    size_t n, cap;
    char *arena;
    size_t alen, acap;
    const cs_snapshot *s; /* the generation its items are answered on */
    size_t jobs_end;      /* queue position after its last job (0 = none) */
} chunk;

typedef struct worker {
    const cli_items_opts *o;
    const cs_snapshot *s;
    const chunk *ch;
    size_t from, to;          /* items [from, to) of the chunk */
    cs_match_report *w;
    FILE *err;                /* stderr, or the job's memory stream */
    int failed;               /* exit code of what stopped it; 0 = none */
    bool had_bad;             /* keep_going: an error record was written */
    /* batch scratch */
    cs_prefix q[BATCH];
    size_t qi[BATCH];         /* item index of q[k] */
    char *msg[BATCH];         /* per batch slot: NULL or the error of a bad item */
    uint32_t counts[BATCH];
    cs_match m[BATCH];
    size_t nq, b0, nb;        /* q count; batch = items [b0, b0 + nb) */
    size_t next;              /* walk: next batch slot to open */
    bool open;                /* walk: slot next - 1 is open (has matches) */
} worker;

static const char *text_of(const worker *k, size_t i)
{
    return k->ch->arena + k->ch->it[i].off;
}

/* ---- parsing ----------------------------------------------------------------- */

/* The item without a trailing "# comment" and the blanks before it. */
static size_t strip_comment(const char *s, size_t len)
{
    const char *h = memchr(s, '#', len);
    if (h)
        len = (size_t)(h - s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return len;
}

static void warn(worker *k, size_t i, const char *msg)
{
    fprintf(k->err, "cidrscope %s: %s:%lu: warning: %s\n", k->o->verb, k->ch->it[i].src,
            k->ch->it[i].line, msg);
}

/* Parses s[0..len) as the verb's item into *p. Returns 0, or < 0 with err. */
static int parse_text(worker *k, size_t i, const char *s, size_t len, cs_prefix *p,
                      cs_error *err)
{
    int rc;
    if (!k->o->lookup) {
        rc = cs_prefix_parse(s, len, k->o->lenient ? CS_PARSE_LENIENT : 0, p, err);
        if (rc == CS_PARSE_NORMALISED)
            warn(k, i, err->message);
        return rc < 0 ? rc : 0;
    }
    const char *slash = memchr(s, '/', len);
    if (!slash)
        return cs_address_parse(s, len, 0, p, err);
    rc = cs_prefix_parse(s, len, 0, p, err);
    if (rc >= 0 || !k->o->lenient)
        return rc < 0 ? rc : 0;
    /* --lenient: 10.0.0.1/16 names the address 10.0.0.1 */
    cs_error e2;
    cs_error_clear(&e2);
    if (cs_address_parse(s, (size_t)(slash - s), 0, p, &e2) < 0)
        return rc;
    char m[CS_ERROR_MSG_CAP + 64];
    snprintf(m, sizeof m, "looked up the address %.*s of %.*s", (int)(slash - s), s, (int)len,
             s);
    warn(k, i, m);
    return 0;
}

/* Parses item i into *p. Returns 0, or < 0 with err. err is not cleared
 * first (parse fills it on failure and on a normalised prefix; clearing
 * 1 KiB per item costs more than the parse). A trailing "# comment" is
 * looked for only when the whole line does not parse: no prefix or address
 * holds '#', and the common line pays nothing for the rule. */
static int parse_item(worker *k, size_t i, cs_prefix *p, cs_error *err)
{
    const char *s = text_of(k, i);
    size_t len = k->ch->it[i].len;
    int rc = parse_text(k, i, s, len, p, err);
    if (rc < 0 && memchr(s, '#', len)) {
        size_t cut = strip_comment(s, len);
        if (cut)
            rc = parse_text(k, i, s, cut, p, err);
    }
    return rc;
}

/* ---- the batch's items in one parse -------------------------------------------- */

/* When items [from, to) lie in the arena line after line (nothing skipped,
 * trimmed or joined between them: each ends in the NUL that replaced its
 * newline, and the next begins right after), makes them one text of lines
 * ('\n' for each NUL but the last) and returns its length, *text its
 * start; else returns 0 and changes nothing. split() puts the NULs back. */
static size_t join(const worker *k, size_t from, size_t to, char **text)
{
    const item *it = k->ch->it;
    for (size_t i = from; i + 1 < to; i++)
        if (it[i + 1].off != it[i].off + it[i].len + 1)
            return 0;
    char *a = k->ch->arena;
    for (size_t i = from; i + 1 < to; i++)
        a[it[i].off + it[i].len] = '\n';
    *text = a + it[from].off;
    return it[to - 1].off + it[to - 1].len - it[from].off;
}

static void split(const worker *k, size_t from, size_t to)
{
    const item *it = k->ch->it;
    for (size_t i = from; i + 1 < to; i++)
        k->ch->arena[it[i].off + it[i].len] = '\0';
}

/* Parses the batch's items with one cs_prefix_parse_lines call, which
 * reads the same items as parse_item one by one (items hold no comment,
 * blank or CR here), so the answers are the same. Returns false, having
 * changed nothing, when the batch needs the item-by-item path: items not
 * line after line, --lenient prefixes (each gets its warning), or an item
 * that does not parse as it is (a bad item, a comment after an item, a
 * prefix given to lookup) — the item-by-item path then answers, warns and
 * stops exactly as without this one. */
static bool parse_batch(worker *k)
{
    const cli_items_opts *o = k->o;
    if (o->lenient && !o->lookup)
        return false;
    char *text;
    const size_t len = k->nb ? join(k, k->b0, k->b0 + k->nb, &text) : 0;
    if (!len)
        return false;
    cs_error err;
    const int64_t n = cs_prefix_parse_lines(text, len, 0, o->lookup, k->q, k->nb, &err);
    split(k, k->b0, k->b0 + k->nb);
    if (n != (int64_t)k->nb)
        return false;
    for (size_t slot = 0; slot < k->nb; slot++)
        k->qi[slot] = k->b0 + slot;
    k->nq = k->nb;
    return true;
}

/* ---- one batch ----------------------------------------------------------------- */

static void emit_plain(worker *k, size_t slot)
{
    size_t i = k->b0 + slot;
    if (k->msg[slot]) {
        cs_match_report_error(k->w, text_of(k, i), k->ch->it[i].line, k->msg[slot]);
        return;
    }
    cs_match_report_item(k->w, text_of(k, i));
    cs_match_report_end(k->w);
}

/* walk: the matches of batch slot `slot` begin. Closes the item open
 * before it, writes the items between (no match, or bad), opens slot. */
static int on_match(size_t qk, const cs_match *m, void *ctx)
{
    worker *k = ctx;
    size_t slot = k->qi[qk] - k->b0;
    if (k->next <= slot) {
        if (k->open)
            cs_match_report_end(k->w);
        while (k->next < slot)
            emit_plain(k, k->next++);
        cs_match_report_item(k->w, text_of(k, k->b0 + slot));
        k->next = slot + 1;
        k->open = true;
    }
    cs_match_report_match(k->w, k->s, m);
    return 0;
}

static int on_chain(const cs_match *m, void *ctx)
{
    worker *k = ctx;
    cs_match_report_match(k->w, k->s, m);
    return 0;
}

static int bulk_failed(worker *k, const char *call, int64_t rc)
{
    fprintf(k->err, "cidrscope %s: %s: %s\n", k->o->verb, call, cs_strerror((int)rc));
    k->failed = CLI_INTERNAL;
    return -1;
}

/* Answers and writes batch slots [0, nb). Returns 0 or -1 (k->failed). */
static int answer(worker *k)
{
    const cli_items_opts *o = k->o;
    const cs_snapshot *s = k->s;
    int64_t rc = 0;
    bool counted = o->count && (!o->lookup || o->all);
    if (counted) {
        rc = cs_query_count_bulk(s, k->q, k->nq, o->lookup ? CS_Q_COVERING : o->kind, k->counts);
        if (rc < 0)
            return bulk_failed(k, "cs_query_count_bulk", rc);
    } else if (o->lookup && !o->all) {
        rc = cs_lookup_bulk(s, k->q, k->nq, k->m);
        if (rc < 0)
            return bulk_failed(k, "cs_lookup_bulk", rc);
        for (size_t q = 0; q < k->nq; q++)
            k->counts[q] = k->m[q].count;
    } else if (!o->lookup) {
        k->next = 0;
        k->open = false;
        rc = cs_query_walk_bulk(s, k->q, k->nq, o->kind, on_match, k);
        if (rc < 0)
            return bulk_failed(k, "cs_query_walk_bulk", rc);
        if (k->open)
            cs_match_report_end(k->w);
        while (k->next < k->nb)
            emit_plain(k, k->next++);
        return 0;
    }
    size_t q = 0;
    for (size_t slot = 0; slot < k->nb; slot++) {
        size_t i = k->b0 + slot;
        if (k->msg[slot]) {
            cs_match_report_error(k->w, text_of(k, i), k->ch->it[i].line, k->msg[slot]);
            continue;
        }
        if (o->count) {
            cs_match_report_count(k->w, text_of(k, i), k->counts[q++]);
            continue;
        }
        if (!o->all) {
            /* the rows' two cache misses, ahead: the entry's value (the
             * image's values array), then the VPC its association maps to */
            if (q + 2 * PREFETCH < k->nq && k->m[q + 2 * PREFETCH].count)
                __builtin_prefetch(k->m[q + 2 * PREFETCH].values);
            if (q + PREFETCH < k->nq)
                cs_match_report_prefetch(k->w, s, &k->m[q + PREFETCH]);
        }
        cs_match_report_item(k->w, text_of(k, i));
        if (o->all) {
            rc = cs_query_walk(s, &k->q[q++], CS_Q_COVERING, on_chain, k);
            if (rc < 0)
                return bulk_failed(k, "cs_query_walk", rc);
        } else if (k->m[q++].count) {
            cs_match_report_match(k->w, s, &k->m[q - 1]);
        }
        cs_match_report_end(k->w);
    }
    return 0;
}

static void clear_msgs(worker *k, bool any)
{
    for (size_t slot = 0; any && slot < k->nb; slot++) {
        free(k->msg[slot]);
        k->msg[slot] = NULL;
    }
}


/* Runs items [from, to) of the chunk. */
static void *work(void *arg)
{
    worker *k = arg;
    for (size_t b0 = k->from; b0 < k->to && !k->failed; b0 += BATCH) {
        k->b0 = b0;
        k->nb = k->to - b0 < BATCH ? k->to - b0 : BATCH;
        k->nq = 0;
        bool stopped = false; /* a bad item, not keep_going */
        bool any_msg = false;
        for (size_t slot = parse_batch(k) ? k->nb : 0; slot < k->nb; slot++) {
            cs_error err;
            size_t i = b0 + slot;
            if (parse_item(k, i, &k->q[k->nq], &err) == 0) {
                k->qi[k->nq++] = i;
                continue;
            }
            snprintf(err.source, sizeof err.source, "%s", k->ch->it[i].src);
            err.line = k->ch->it[i].line;
            if (!k->o->keep_going) {
                /* answer what came before, then report and stop */
                char buf[1024];
                cs_error_format(&err, buf, sizeof buf);
                k->nb = slot;
                stopped = true;
                if (answer(k) == 0) {
                    fprintf(k->err, "cidrscope %s: %s\n", k->o->verb, buf);
                    k->failed = cli_exit_code(err.code);
                }
                break;
            }
            k->msg[slot] = strdup(err.message);
            if (!k->msg[slot]) {
                k->failed = CLI_INTERNAL;
                break;
            }
            k->had_bad = true;
            any_msg = true;
        }
        if (!stopped && !k->failed)
            answer(k);
        clear_msgs(k, any_msg);
    }
    return NULL;
}

/* ---- chunks, jobs and threads ------------------------------------------------------ */

typedef struct job {
    chunk *ch;
    size_t from, to;          /* items [from, to) of ch */
    cli_membuf out;           /* what it wrote for stdout: a spare from the pool,
                                 given back once written */
    cli_membuf err;           /* for stderr (warnings; kept by the queue entry) */
    int failed;               /* exit code of what stopped it; 0 = none */
    bool had_bad;
    bool done;                /* under the pool's mutex */
} job;

typedef struct pool pool;

typedef struct member {       /* one worker thread, its writer kept across jobs */
    pool *p;
    worker k;
    cli_sink so, se;          /* a write that did not fit fails the job */
    FILE *out, *err;          /* into so.to, se.to */
    cs_match_report *w;       /* CS_MR_BARE, on out */
} member;

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t ready;     /* a job was queued, or quit */
    pthread_cond_t done;      /* the job main waits for is done */
    size_t wait_pos;          /* queue position main waits for (SIZE_MAX: none) */
    cli_membuf *spare;        /* stack of output buffers not in a job, the last
                                 given back on top: the pages in use stay few
                                 and warm */
    size_t n_spare;
    job *q;                   /* ring: queue position x is q[x % qcap] */
    size_t qcap;
    size_t head;              /* main only: next job to write */
    size_t next;              /* next job to take */
    size_t tail;              /* next queue position */
    bool quit;
    const cli_items_opts *o;
    member *m;                /* the workers', then main's (m[started]) */
    pthread_t tid[MAX_THREADS];
    unsigned started;         /* worker threads; main answers jobs too */
};

typedef struct run {
    const cli_items_opts *o;  /* = &oc */
    cli_items_opts oc;        /* the caller's options; oc.s follows the pin */
    chunk slot[SLOTS];
    unsigned fill;            /* the slot being read into */
    cs_match_report *w;       /* the main writer (stdout) */
    worker *one;              /* one thread: the worker main runs */
    pool *p;                  /* --threads: the workers; NULL on one thread */
    const char *src;
    int failed;               /* exit code; 0 = go on */
    bool had_bad;
} run;

/* Opens member m's streams and writer. Returns 0 or -1 (out of memory). */
static int member_open(member *m, const cli_items_opts *o)
{
    m->out = cli_sink_open(&m->so);
    m->err = cli_sink_open(&m->se);
    if (!m->out || !m->err)
        return -1;
    /* text rows are gathered in the writer's own 64 KiB buffer: unbuffered,
     * each of its flushes is one copy into the job's buffer, not two */
    if (o->format == CS_REPORT_TEXT)
        setvbuf(m->out, NULL, _IONBF, 0);
    unsigned flags = CS_MR_BARE | (o->count ? CS_MR_COUNT : 0) | (o->lookup ? CS_MR_LOOKUP : 0);
    m->w = cs_match_report_open(m->out, o->format, flags);
    if (!m->w)
        return -1;
    cs_match_report_set_limit(m->w, o->limit);
    return 0;
}

static void member_close(member *m)
{
    cs_match_report_close(m->w, NULL); /* nothing left in it: flushed per job */
    if (m->out)
        fclose(m->out);
    if (m->err)
        fclose(m->err);
}

/* Runs job j on member m: its items through m's writer into j's buffers. */
static void run_job(const cli_items_opts *o, member *m, job *j)
{
    worker *k = &m->k;
    j->out.len = j->err.len = 0;
    m->so = (cli_sink){&j->out, false};
    m->se = (cli_sink){&j->err, false};
    k->o = o;
    k->s = j->ch->s;
    k->ch = j->ch;
    k->from = j->from;
    k->to = j->to;
    k->w = m->w;
    k->err = m->err;
    k->failed = 0;
    k->had_bad = false;
    work(k);
    cs_match_report_flush(m->w);
    fflush(m->out);
    fflush(m->err);
    j->failed = k->failed;
    j->had_bad = k->had_bad;
    if ((m->so.oom || m->se.oom) && !j->failed)
        j->failed = CLI_INTERNAL; /* main names it: the stream could not */
    clearerr(m->out);
    clearerr(m->err);
}

/* Takes the next queued job and runs it on member m (p->mu held, and
 * held again on return). Returns false when none is queued. */
static bool take_job(pool *p, member *m)
{
    if (p->next == p->tail)
        return false;
    size_t pos = p->next++;
    job *j = &p->q[pos % p->qcap];
    if (p->n_spare)
        j->out = p->spare[--p->n_spare];
    pthread_mutex_unlock(&p->mu);
    run_job(p->o, m, j);
    pthread_mutex_lock(&p->mu);
    j->done = true;
    if (pos == p->wait_pos) /* main sleeps until this one: one wake-up */
        pthread_cond_signal(&p->done);
    return true;
}

static void *pool_thread(void *arg)
{
    member *m = arg;
    pool *p = m->p;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->next == p->tail && !p->quit)
            pthread_cond_wait(&p->ready, &p->mu);
        if (!take_job(p, m))
            break; /* quit, and nothing left */
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void pool_stop(pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->ready);
    pthread_mutex_unlock(&p->mu);
    for (unsigned x = 0; x < p->started; x++) {
        pthread_join(p->tid[x], NULL);
        member_close(&p->m[x]);
    }
    member_close(&p->m[p->started]); /* main's */
    for (size_t x = 0; x < p->qcap; x++) {
        free(p->q[x].out.p);
        free(p->q[x].err.p);
    }
    for (size_t x = 0; x < p->n_spare; x++)
        free(p->spare[x].p);
    free(p->spare);
    pthread_cond_destroy(&p->ready);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->q);
    free(p->m);
    free(p);
}

/* Starts up to threads - 1 workers; main, which answers jobs while it
 * waits for one (wait_for), is the last member. NULL when no worker could
 * start (out of memory, or no thread): the caller answers on its own
 * thread. */
static pool *pool_start(const cli_items_opts *o, unsigned threads)
{
    pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->o = o;
    p->qcap = (size_t)SLOTS * JOBS_PER_WORKER * threads;
    p->q = calloc(p->qcap, sizeof *p->q);
    p->m = calloc(threads, sizeof *p->m);
    p->spare = calloc(p->qcap, sizeof *p->spare); /* a job holds at most one */
    p->wait_pos = SIZE_MAX;
    if (!p->q || !p->m || !p->spare || pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p->q);
        free(p->m);
        free(p->spare);
        free(p);
        return NULL;
    }
    pthread_cond_init(&p->ready, NULL);
    pthread_cond_init(&p->done, NULL);
    for (unsigned x = 0; x + 1 < threads; x++) {
        p->m[x].p = p;
        if (member_open(&p->m[x], o) != 0 ||
            pthread_create(&p->tid[x], NULL, pool_thread, &p->m[x]) != 0) {
            member_close(&p->m[x]);
            memset(&p->m[x], 0, sizeof p->m[x]); /* main's now */
            break;
        }
        p->started++;
    }
    p->m[p->started].p = p;
    if (!p->started || member_open(&p->m[p->started], o) != 0) {
        pool_stop(p);
        return NULL;
    }
    return p;
}

/* Waits (p->mu held) until the job at queue position `pos` is done,
 * answering queued jobs on main's member meanwhile: main is one of the N
 * threads, so N threads keep N cores busy and none sleeps while a job is
 * queued (with N = 2 on 2 cores, a third runnable thread only cost
 * context switches). */
static void wait_for(pool *p, size_t pos)
{
    while (!p->q[pos % p->qcap].done) {
        /* only a job the workers would not start next: main also reads
         * and writes, so its share of the jobs is what they leave */
        if (p->tail - p->next > p->started && take_job(p, &p->m[p->started]))
            continue;
        p->wait_pos = pos;
        pthread_cond_wait(&p->done, &p->mu);
        p->wait_pos = SIZE_MAX;
    }
}

/* Writes the job at the head of the queue, waiting for it when `wait`.
 * Returns 1 when one was written, 0 when none (queue empty, or not done and
 * !wait). After a failed job every later one is dropped unwritten. */
static int write_head(run *r, bool wait)
{
    pool *p = r->p;
    if (p->head == p->tail)
        return 0;
    job *j = &p->q[p->head % p->qcap];
    pthread_mutex_lock(&p->mu);
    if (wait)
        wait_for(p, p->head);
    bool done = j->done;
    pthread_mutex_unlock(&p->mu);
    if (!done)
        return 0;
    if (!r->failed) {
        fwrite(j->out.p, 1, j->out.len, stdout);
        fwrite(j->err.p, 1, j->err.len, stderr);
        if (j->failed == CLI_INTERNAL && !j->err.len)
            cli_errorf(r->o->verb, "out of memory");
        r->had_bad |= j->had_bad;
        r->failed = j->failed; /* later jobs are not written */
    }
    j->ch = NULL;
    pthread_mutex_lock(&p->mu);
    p->spare[p->n_spare++] = j->out; /* for the next job taken */
    pthread_mutex_unlock(&p->mu);
    j->out = (cli_membuf){NULL, 0, 0};
    p->head++;
    return 1;
}

/* Writes every queued job, waiting for each. */
static void drain(run *r)
{
    while (r->p && write_head(r, true))
        ;
}

/* Answers the chunk being filled: on this thread (one thread), or queued
 * as jobs of at least BATCH items, one per worker. Returns 0, or the exit
 * code of what stopped the run. */
static int submit(run *r)
{
    chunk *ch = &r->slot[r->fill];
    if (!ch->n)
        return r->failed;
    if (r->oc.est) { /* --shm: pin the current generation for this chunk */
        int prc = cli_estate_resume(r->oc.verb, r->oc.est);
        if (prc != CLI_OK) {
            ch->n = 0;
            return r->failed = prc;
        }
        r->oc.s = r->oc.est->snap;
    }
    ch->s = r->oc.s;
    if (!r->p) {
        worker *k = r->one;
        k->o = r->o;
        k->s = ch->s;
        k->ch = ch;
        k->from = 0;
        k->to = ch->n;
        k->w = r->w;
        k->err = stderr;
        k->failed = 0;
        k->had_bad = false;
        work(k);
        r->had_bad |= k->had_bad;
        if (k->failed)
            r->failed = k->failed;
    } else {
        pool *p = r->p;
        size_t parts = (ch->n + JOB_ITEMS - 1) / JOB_ITEMS;
        size_t per = (ch->n + parts - 1) / parts;
        pthread_mutex_lock(&p->mu);
        for (size_t x = 0; x < parts; x++) {
            job *j = &p->q[p->tail++ % p->qcap];
            j->ch = ch;
            j->done = false;
            j->failed = 0;
            j->had_bad = false;
            j->from = x * per;
            j->to = (x + 1) * per < ch->n ? (x + 1) * per : ch->n;
        }
        ch->jobs_end = p->tail;
        pthread_cond_broadcast(&p->ready);
        pthread_mutex_unlock(&p->mu);
        while (write_head(r, false)) /* what is done already goes out now */
            ;
        if (r->oc.est && r->oc.est->shm)
            drain(r); /* the pin is dropped below: nothing may run on it */
    }
    if (r->oc.est)
        cli_estate_idle(r->oc.est); /* --shm: no reader slot while waiting for input
                                       (every job on the pin is done: drained above) */
    return r->failed;
}

/* Grows slot ch's arena to hold at least `need` bytes. Returns 0 or -1. */
static int arena_reserve(run *r, chunk *ch, size_t need)
{
    if (need <= ch->acap)
        return 0;
    size_t cap = ch->acap * 2 > need ? ch->acap * 2 : need;
    char *a = realloc(ch->arena, cap);
    if (!a) {
        cli_errorf(r->o->verb, "out of memory");
        r->failed = CLI_INTERNAL;
        return -1;
    }
    ch->arena = a;
    ch->acap = cap;
    return 0;
}

/* Answers the chunk being filled and makes the next slot the one being
 * filled, once every job reading it is written; `tail_len` bytes at
 * `tail_off` of the old arena (a line not yet complete) move to its front.
 * Returns the new slot, or NULL when the run stopped (r->failed). */
static chunk *next_slot(run *r, size_t tail_off, size_t tail_len)
{
    chunk *old = &r->slot[r->fill];
    if (submit(r))
        return NULL;
    if (!r->p) {
        /* one thread: the chunk is written already; its slot is reused, so
         * the same pages serve the whole input */
        memmove(old->arena, old->arena + tail_off, tail_len);
        old->n = 0;
        old->alen = tail_len;
        return old;
    }
    r->fill = (r->fill + 1) % SLOTS;
    chunk *ch = &r->slot[r->fill];
    if (ch->jobs_end && r->p->head < ch->jobs_end) {
        /* sleep until the slot's last job is done (one wake-up, not one per
         * job: jobs end nearly in order), then write what is done */
        pthread_mutex_lock(&r->p->mu);
        wait_for(r->p, ch->jobs_end - 1);
        pthread_mutex_unlock(&r->p->mu);
    }
    while (ch->jobs_end && r->p->head < ch->jobs_end)
        write_head(r, true);
    if (r->failed)
        return NULL;
    ch->jobs_end = 0;
    ch->n = 0;
    ch->alen = 0;
    if (arena_reserve(r, ch, tail_len + READ_MIN))
        return NULL;
    memcpy(ch->arena, old->arena + tail_off, tail_len);
    ch->alen = tail_len;
    return ch;
}

static int add_line(const char *line, size_t len, unsigned long no, run *r)
{
    chunk *ch = &r->slot[r->fill];
    if ((ch->n == ch->cap || ch->alen + len + 1 > ch->acap) && ch->n &&
        !(ch = next_slot(r, 0, 0)))
        return -1;
    if (arena_reserve(r, ch, ch->alen + len + 1))
        return -1;
    item *it = &ch->it[ch->n++];
    it->off = ch->alen;
    it->len = len;
    it->line = no;
    it->src = r->src;
    memcpy(ch->arena + ch->alen, line, len);
    ch->arena[ch->alen + len] = '\0';
    ch->alen += len + 1;
    return 0;
}

/* Reads one source ("-" = stdin) with read(2) straight into the arena of
 * the chunk being filled: lines are split in place (the newline becomes
 * the text's NUL), blank lines and lines starting with '#' skipped,
 * surrounding blanks and CR dropped, as cli_for_each_line does, without a
 * copy or a call per line. A full chunk is answered (or queued) and the
 * line not yet complete moves to the next slot. Returns 0, or the exit code
 * (r->failed is set). */
static int read_source(run *r, const char *path)
{
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cli_errorf(r->o->verb, "%s: %s", path, strerror(errno));
        return r->failed = CLI_USAGE;
    }
    r->src = is_stdin ? "(stdin)" : path;
    chunk *ch = &r->slot[r->fill];
    unsigned long no = 0;
    size_t start = ch->alen; /* the line being read begins here */
    bool eof = false;
    while (!eof && !r->failed) {
        if (ch->acap - ch->alen < READ_MIN) {
            /* no room: answer the chunk (the partial line moves on), or
             * make room for a line that fills the arena */
            size_t tail = ch->alen - start;
            if (ch->n) {
                if (!(ch = next_slot(r, start, tail)))
                    break;
            } else if (start) {
                memmove(ch->arena, ch->arena + start, tail);
                ch->alen = tail;
            } else if (arena_reserve(r, ch, ch->acap * 2)) {
                break;
            }
            start = 0;
            continue;
        }
        ssize_t got = read(fd, ch->arena + ch->alen, ch->acap - ch->alen - 1);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            cli_errorf(r->o->verb, "%s: read error: %s", path, strerror(errno));
            r->failed = CLI_USAGE;
            break;
        }
        size_t pos = ch->alen;
        if (got == 0) {
            eof = true;
            if (ch->alen == start)
                break;
            ch->arena[ch->alen++] = '\n'; /* a last line without its newline */
        }
        size_t end = ch->alen + (size_t)got;
        ch->alen = end;
        char *nl;
        while ((nl = memchr(ch->arena + pos, '\n', end - pos)) != NULL) {
            char *a = ch->arena;
            size_t e = (size_t)(nl - a), b = start;
            pos = e + 1;
            no++;
            while (e > b && (a[e - 1] == '\r' || a[e - 1] == ' ' || a[e - 1] == '\t'))
                e--;
            while (b < e && (a[b] == ' ' || a[b] == '\t'))
                b++;
            if (b == e || a[b] == '#') {
                start = pos;
                continue;
            }
            if (ch->n == ch->cap) {
                /* answer the full chunk; this line and the rest move on */
                size_t shift = start;
                if (!(ch = next_slot(r, start, end - start)))
                    break;
                a = ch->arena;
                b -= shift;
                e -= shift;
                pos -= shift;
                end -= shift;
            }
            a[e] = '\0';
            item *it = &ch->it[ch->n++];
            it->off = b;
            it->len = e - b;
            it->line = no;
            it->src = r->src;
            start = pos;
        }
    }
    if (!is_stdin)
        close(fd);
    return r->failed;
}

static void free_slots(run *r)
{
    for (unsigned x = 0; x < SLOTS; x++) {
        free(r->slot[x].it);
        free(r->slot[x].arena);
    }
}

int cli_items_run(const cli_items_opts *o, char **args, int n_args, const char *const *files,
                  int n_files)
{
    run r;
    memset(&r, 0, sizeof r);
    r.oc = *o;
    r.o = &r.oc;
    unsigned threads = o->threads < 1 ? 1 : o->threads > MAX_THREADS ? MAX_THREADS : o->threads;
    if (o->format == CS_REPORT_JSON)
        threads = 1; /* one document: one writer frames it */
    r.w = cs_match_report_open(stdout, o->format,
                               (o->count ? CS_MR_COUNT : 0) | (o->lookup ? CS_MR_LOOKUP : 0));
    if (threads > 1)
        r.p = pool_start(r.o, threads);
    if (!r.p) /* one thread, or none could start: answered on this one */
        r.one = calloc(1, sizeof *r.one); /* msg[] starts NULL */
    size_t cap = r.p ? (size_t)JOB_ITEMS * JOBS_PER_WORKER * (r.p->started + 1) : CHUNK_ONE;
    bool ok = r.w && (r.p || r.one);
    for (unsigned x = 0; x < (r.p ? SLOTS : 1) && ok; x++) {
        r.slot[x].cap = cap;
        r.slot[x].acap = cap * 24;
        r.slot[x].it = malloc(cap * sizeof *r.slot[x].it);
        r.slot[x].arena = malloc(r.slot[x].acap);
        ok = r.slot[x].it && r.slot[x].arena;
    }
    if (!ok) {
        cli_errorf(o->verb, "out of memory");
        cs_match_report_close(r.w, NULL);
        pool_stop(r.p);
        free(r.one);
        free_slots(&r);
        return CLI_INTERNAL;
    }
    cs_match_report_set_limit(r.w, o->limit);
    if (r.p)
        cs_match_report_flush(r.w); /* the CSV header, before any job's rows */
    /* arguments first (an item each, or "-"), then the --items files */
    for (int i = 0; i < n_args && !r.failed; i++) {
        if (strcmp(args[i], "-") == 0) {
            read_source(&r, "-");
        } else {
            r.src = "(command line)";
            add_line(args[i], strlen(args[i]), (unsigned long)i + 1, &r);
        }
    }
    for (int i = 0; i < n_files && !r.failed; i++)
        read_source(&r, files[i]);
    if (!r.failed)
        submit(&r); /* the last chunk; the items before a bad one are answered */
    drain(&r);
    pool_stop(r.p);
    int exit_code = r.failed;
    cs_error err;
    cs_error_clear(&err);
    if (cs_match_report_close(r.w, &err) < 0 && exit_code == CLI_OK)
        exit_code = cli_report_error(o->verb, &err);
    if (exit_code == CLI_OK && r.had_bad)
        exit_code = CLI_USAGE; /* --keep-going: answered the rest, still bad input */
    free(r.one);
    free_slots(&r);
    return exit_code;
}

/* ---- the verb ---------------------------------------------------------------------- */

enum { OPT_FORMAT = 0x2a0, OPT_LIMIT, OPT_THREADS };

int cli_items_main(cli_items_opts *o, int argc, char **argv, const struct option *own,
                   int (*on_option)(cli_items_opts *o, int code), void (*usage)(FILE *f),
                   uint64_t text_limit)
{
    static const struct option common[] = {
        {"help", no_argument, NULL, 'h'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"items", required_argument, NULL, 'i'},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"threads", required_argument, NULL, OPT_THREADS},
        CLI_SOURCE_LONGOPTS,
    };
    size_t n_own = 0;
    while (own[n_own].name)
        n_own++;
    size_t n_common = sizeof common / sizeof *common;
    struct option *opts = calloc(n_own + n_common + 1, sizeof *opts);
    if (!opts) {
        cli_errorf(o->verb, "out of memory");
        return CLI_INTERNAL;
    }
    memcpy(opts, common, sizeof common);
    memcpy(opts + n_common, own, n_own * sizeof *own);
    cli_sources src;
    cli_sources_init(&src);
    long limit = -1;
    const char *items[CLI_MAX_SOURCES];
    int n_items = 0, c, rc = CLI_OK;
    optind = 1;
    while (rc == CLI_OK && (c = getopt_long(argc, argv, "he:i:", opts, NULL)) != -1) {
        int used = cli_source_option(o->verb, &src, c, optarg);
        if (used < 0) {
            rc = CLI_USAGE;
            break;
        }
        if (used)
            continue;
        switch (c) {
        case 'h':
            usage(stdout);
            free(opts);
            return CLI_OK;
        case OPT_FORMAT:
            if (cli_parse_format(o->verb, optarg,
                                 1u << CS_REPORT_TEXT | 1u << CS_REPORT_JSON |
                                     1u << CS_REPORT_NDJSON | 1u << CS_REPORT_CSV,
                                 &o->format))
                rc = CLI_USAGE;
            break;
        case OPT_LIMIT:
            if ((limit = cli_parse_count(optarg, 0, 1L << 40)) < 0) {
                cli_errorf(o->verb, "--limit %s: expected a whole number (0 = all)", optarg);
                rc = CLI_USAGE;
            }
            break;
        case OPT_THREADS: {
            long t = cli_parse_count(optarg, 1, MAX_THREADS);
            if (t < 0) {
                cli_errorf(o->verb, "--threads %s: expected a number from 1 to %d", optarg,
                           MAX_THREADS);
                rc = CLI_USAGE;
            }
            o->threads = (unsigned)t;
            break;
        }
        case 'i':
            if (n_items == CLI_MAX_SOURCES) {
                cli_errorf(o->verb, "too many --items files");
                rc = CLI_USAGE;
            } else {
                items[n_items++] = optarg;
            }
            break;
        default:
            if (c == '?' || on_option(o, c) != 0) {
                if (c == '?')
                    usage(stderr);
                rc = CLI_USAGE;
            }
            break;
        }
    }
    free(opts);
    if (rc != CLI_OK)
        return rc;
    if (optind >= argc && n_items == 0) {
        usage(stderr);
        return CLI_USAGE;
    }
    cli_estate est;
    rc = cli_estate_open(o->verb, &src, &est);
    if (rc != CLI_OK)
        return rc;
    o->s = est.snap;
    o->est = &est;
    cli_estate_idle(&est); /* pinned per chunk by cli_items_run */
    if (!o->lookup && !o->kind)
        o->kind = CS_Q_OVERLAPPING;
    o->lenient = src.load.lenient;
    o->keep_going = src.load.keep_going;
    o->limit = limit >= 0 ? (uint64_t)limit : o->format == CS_REPORT_TEXT ? text_limit : 0;
    rc = cli_items_run(o, argv + optind, argc - optind, items, n_items);
    cli_estate_close(&est);
    return rc;
}
