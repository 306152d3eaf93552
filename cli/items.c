/*
 * cli/items.c — the bulk item pipeline of `query` and `lookup`.
 *
 *   lines ──(main thread: copy into a chunk)──> chunk of up to CHUNK items
 *   chunk ──split in `threads` contiguous parts──> workers
 *   worker: parse its items, answer them BATCH at a time through the bulk
 *           calls (cs_query_count_bulk, cs_query_walk_bulk, cs_lookup_bulk),
 *           write them through its own cs_match_report into its own buffer
 *   main:   write the buffers in part order, then read the next chunk
 *
 * So the output is byte-for-byte the same for any thread count (tested in
 * tests/cli/test_query.sh). With one thread, or for JSON (one document that
 * a single writer must frame), the one worker runs on the main thread and
 * writes straight to stdout. A worker stops at a bad item unless
 * keep_going; the parts after it are then discarded, so the items before
 * the bad one, and only those, are answered. Warnings (host bits cleared)
 * go to each worker's own stderr buffer and are printed in order too.
 *
 * Concurrency: workers share the snapshot (read-only, thread-safe per
 * query.h) and the chunk (read-only while they run); each owns its writer,
 * buffers and scratch. The main thread joins every worker before it touches
 * the chunk again.
 */
#include "items.h"

#include "cli.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 4096
#define CHUNK_PER_THREAD 16384
#define MAX_THREADS 64

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
} chunk;

typedef struct worker {
    const cli_items_opts *o;
    const chunk *ch;
    size_t from, to;          /* items [from, to) of the chunk */
    cs_match_report *w;
    FILE *out, *err;          /* stdout/stderr, or memory streams */
    char *obuf, *ebuf;
    size_t olen, elen;
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
    cs_match_report_match(k->w, k->o->s, m);
    return 0;
}

static int on_chain(const cs_match *m, void *ctx)
{
    worker *k = ctx;
    cs_match_report_match(k->w, k->o->s, m);
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
    const cs_snapshot *s = o->s;
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
        for (size_t slot = 0; slot < k->nb; slot++) {
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

/* ---- chunks and threads ------------------------------------------------------------ */

typedef struct run {
    const cli_items_opts *o;  /* = &oc */
    cli_items_opts oc;        /* the caller's options; oc.s follows the pin */
    chunk ch;
    cs_match_report *w;       /* the main writer (stdout) */
    worker *wk;
    unsigned threads;
    const char *src;
    int failed;               /* exit code; 0 = go on */
    bool had_bad;
} run;

static int flush_chunk(run *r)
{
    chunk *ch = &r->ch;
    if (!ch->n)
        return 0;
    if (r->oc.est) { /* --shm: pin the current generation for this chunk */
        int prc = cli_estate_resume(r->oc.verb, r->oc.est);
        if (prc != CLI_OK) {
            ch->n = 0;
            return prc;
        }
        r->oc.s = r->oc.est->snap;
    }
    unsigned t = r->threads;
    if (ch->n < 2 * BATCH)
        t = 1; /* not worth a thread */
    size_t per = (ch->n + t - 1) / t;
    for (unsigned x = 0; x < t; x++) {
        worker *k = &r->wk[x];
        k->o = r->o;
        k->ch = ch;
        k->from = x * per < ch->n ? x * per : ch->n;
        k->to = (x + 1) * per < ch->n ? (x + 1) * per : ch->n;
        k->failed = 0;
        k->had_bad = false;
        if (t == 1) {
            k->w = r->w;
            k->out = stdout;
            k->err = stderr;
            continue;
        }
        k->obuf = k->ebuf = NULL;
        k->out = open_memstream(&k->obuf, &k->olen);
        k->err = open_memstream(&k->ebuf, &k->elen);
        unsigned flags = CS_MR_BARE | (r->o->count ? CS_MR_COUNT : 0) |
                         (r->o->lookup ? CS_MR_LOOKUP : 0);
        k->w = k->out ? cs_match_report_open(k->out, r->o->format, flags) : NULL;
        if (!k->out || !k->err || !k->w) {
            cli_errorf(r->o->verb, "out of memory");
            return CLI_INTERNAL;
        }
        cs_match_report_set_limit(k->w, r->o->limit);
    }
    if (t == 1) {
        work(&r->wk[0]);
    } else {
        pthread_t tid[MAX_THREADS];
        unsigned started = 0;
        for (unsigned x = 1; x < t; x++) {
            if (pthread_create(&tid[x], NULL, work, &r->wk[x]) != 0)
                break;
            started = x;
        }
        work(&r->wk[0]);
        for (unsigned x = 1; x <= started; x++)
            pthread_join(tid[x], NULL);
        for (unsigned x = started + 1; x < t; x++)
            work(&r->wk[x]); /* a thread could not start: do its part here */
    }
    int rc = 0;
    if (t > 1)
        cs_match_report_flush(r->w); /* what an earlier one-thread chunk wrote */
    for (unsigned x = 0; x < t; x++) {
        worker *k = &r->wk[x];
        if (t > 1) {
            cs_error err;
            cs_error_clear(&err);
            int wrc = cs_match_report_close(k->w, &err); /* frees the writer */
            fclose(k->out);
            fclose(k->err);
            if (!rc) {
                fwrite(k->obuf, 1, k->olen, stdout);
                fwrite(k->ebuf, 1, k->elen, stderr);
            }
            free(k->obuf);
            free(k->ebuf);
            if (wrc < 0 && !rc && !k->failed)
                k->failed = cli_report_error(r->o->verb, &err);
        }
        r->had_bad |= k->had_bad;
        if (!rc && k->failed)
            rc = k->failed; /* later parts are not written */
    }
    ch->n = 0;
    if (r->oc.est)
        cli_estate_idle(r->oc.est); /* no reader slot while waiting for input */
    return rc;
}

static int add_line(const char *line, size_t len, unsigned long no, void *ctx)
{
    run *r = ctx;
    chunk *ch = &r->ch;
    if (ch->n == ch->cap || ch->alen + len + 1 > ch->acap) {
        int rc = flush_chunk(r);
        ch->alen = 0;
        if (rc) {
            r->failed = rc;
            return -1;
        }
    }
    if (len + 1 > ch->acap) { /* one very long line */
        char *a = realloc(ch->arena, len + 1);
        if (!a) {
            cli_errorf(r->o->verb, "out of memory");
            r->failed = CLI_INTERNAL;
            return -1;
        }
        ch->arena = a;
        ch->acap = len + 1;
    }
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

/* Reads one source ("-" = stdin) straight into the chunk's arena: lines are
 * split in place (the newline becomes the text's NUL), blank lines and
 * lines starting with '#' skipped, surrounding blanks and CR dropped, as
 * cli_for_each_line does, without a copy or a call per line. The partial
 * line at the end of a block moves to the front of the arena when a full
 * chunk is answered. Returns 0, or the exit code (r->failed is set). */
static int read_source(run *r, const char *path)
{
    chunk *ch = &r->ch;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        cli_errorf(r->o->verb, "%s: %s", path, strerror(errno));
        return r->failed = CLI_USAGE;
    }
    r->src = f == stdin ? "(stdin)" : path;
    unsigned long no = 0;
    size_t start = ch->alen; /* the line being read begins here */
    bool eof = false;
    while (!eof && !r->failed) {
        if (ch->acap - ch->alen < 2) {
            /* no room: answer the chunk, keep the partial line */
            if (ch->n) {
                int rc = flush_chunk(r);
                if (rc)
                    return r->failed = rc;
            }
            size_t tail = ch->alen - start;
            if (start == 0) { /* one line fills the arena: grow it */
                char *a = realloc(ch->arena, ch->acap * 2);
                if (!a) {
                    cli_errorf(r->o->verb, "out of memory");
                    return r->failed = CLI_INTERNAL;
                }
                ch->arena = a;
                ch->acap *= 2;
            } else {
                memmove(ch->arena, ch->arena + start, tail);
                ch->alen = tail;
                start = 0;
            }
            continue;
        }
        size_t got = fread(ch->arena + ch->alen, 1, ch->acap - ch->alen - 1, f);
        if (got == 0) {
            if (ferror(f)) {
                cli_errorf(r->o->verb, "%s: read error: %s", path, strerror(errno));
                r->failed = CLI_USAGE;
                break;
            }
            eof = true;
            if (ch->alen == start)
                break;
            ch->arena[ch->alen++] = '\n'; /* a last line without its newline */
        }
        size_t end = ch->alen + got;
        char *a = ch->arena;
        size_t pos = ch->alen;
        ch->alen = end;
        char *nl;
        while ((nl = memchr(a + pos, '\n', end - pos)) != NULL) {
            size_t e = (size_t)(nl - a), b = start;
            pos = e + 1;
            no++;
            while (e > b && (a[e - 1] == '\r' || a[e - 1] == ' ' || a[e - 1] == '\t'))
                e--;
            while (b < e && (a[b] == ' ' || a[b] == '\t'))
                b++;
            start = pos;
            if (b == e || a[b] == '#')
                continue;
            a[e] = '\0';
            if (ch->n == ch->cap) {
                /* answer the full chunk; the items after it restart at this line */
                int rc = flush_chunk(r);
                if (rc) {
                    r->failed = rc;
                    break;
                }
            }
            item *it = &ch->it[ch->n++];
            it->off = b;
            it->len = e - b;
            it->line = no;
            it->src = r->src;
        }
    }
    if (f != stdin)
        fclose(f);
    return r->failed;
}

int cli_items_run(const cli_items_opts *o, char **args, int n_args, const char *const *files,
                  int n_files)
{
    run r;
    memset(&r, 0, sizeof r);
    r.oc = *o;
    r.o = &r.oc;
    r.threads = o->threads < 1 ? 1 : o->threads > MAX_THREADS ? MAX_THREADS : o->threads;
    if (o->format == CS_REPORT_JSON)
        r.threads = 1;
    r.ch.cap = (size_t)CHUNK_PER_THREAD * r.threads;
    r.ch.acap = r.ch.cap * 48;
    r.ch.it = malloc(r.ch.cap * sizeof *r.ch.it);
    r.ch.arena = malloc(r.ch.acap);
    r.wk = calloc(r.threads, sizeof *r.wk);
    r.w = cs_match_report_open(stdout, o->format,
                               (o->count ? CS_MR_COUNT : 0) | (o->lookup ? CS_MR_LOOKUP : 0));
    if (!r.ch.it || !r.ch.arena || !r.wk || !r.w) {
        cli_errorf(o->verb, "out of memory");
        cs_match_report_close(r.w, NULL);
        free(r.ch.it);
        free(r.ch.arena);
        free(r.wk);
        return CLI_INTERNAL;
    }
    cs_match_report_set_limit(r.w, o->limit);
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
        r.failed = flush_chunk(&r); /* the items before a bad one are answered */
    int exit_code = r.failed;
    cs_error err;
    cs_error_clear(&err);
    if (cs_match_report_close(r.w, &err) < 0 && exit_code == CLI_OK)
        exit_code = cli_report_error(o->verb, &err);
    if (exit_code == CLI_OK && r.had_bad)
        exit_code = CLI_USAGE; /* --keep-going: answered the rest, still bad input */
    free(r.ch.it);
    free(r.ch.arena);
    free(r.wk);
    return exit_code;
}
