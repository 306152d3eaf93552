/*
 * engine/ingest/replay.c — builder calls recorded on one thread and replayed
 * on another, so the files of an estate directory can be parsed on two
 * cores while the estate is built exactly as one thread builds it
 * (engine/ingest/estate_dir.c).
 *
 * Does: wrap the five builder calls the AWS CLI JSON readers make
 * (cs_ingest_add_vpc, _add_cidr, _add_peering, _add_finding, _reject);
 * while a thread records, append each call, its arguments (strings copied),
 * its result and the builder's error to that thread's log; replay a log
 * into the estate; resume a reader whose replay got another answer. Does
 * not: decide which files are parsed where (estate_dir.c).
 *
 * Why this gives the one-thread result. A reader is deterministic: given
 * the same bytes and the same answers from the builder it makes the same
 * calls. A file is recorded with every builder call answered "done" (0):
 * the recording thread builds nothing, so the builder's work is done once,
 * by the loading thread, and not again into a scratch estate (which made a
 * two-thread load cost 19% more CPU than one and capped it at 1.58x one
 * thread). Replay makes the recorded calls on the real estate in order and
 * compares each answer with the recorded one (as the readers see it:
 * failed or not, and the error). While they agree, the calls made are the ones the reader would
 * have made on the real estate. At the first call k that gets another
 * answer (a VPC of an earlier file met again with other content, ...), the
 * file is read again on the loading thread with the recorded answers given
 * for calls 0..k-1 (already made), the estate's answer for call k (made
 * once, during replay), and the builder itself answering from k+1 on: the
 * reader takes the path it takes with one thread. A file whose own records
 * make the builder fail (a record the builder refuses, a VPC twice with
 * other content) is therefore read again from there; a CIDR or peering of
 * a VPC read in an earlier file, which a scratch estate refused, now
 * replays. Accounts, regions,
 * strings and findings are appended in call order, so the estate is the
 * same to the byte.
 *
 * Log layout (host byte order, no alignment; written and read only here):
 *
 *   record  = op:u8 rc:i32 [err] loc fields
 *   err     = the builder's cs_error, bytes as in memory: only when rc < 0
 *             and op is OP_VPC, OP_CIDR or OP_PCX
 *   loc     = has:u8 [src:cstr line:u64 column:u32]   (has = 0: NULL loc)
 *   str     = len:u32 bytes                           (cs_str)
 *   cstr    = has:u8 [str]                            (has = 0: NULL)
 *   OP_VPC  fields = id owner region name:str state:u8 is_default:u8
 *                    flags:u32 ntags:u32 (key:str value:str)*ntags
 *   OP_CIDR fields = vpc_id:str prefix(hi:u64 lo:u64 len:u8 family:u8)
 *                    association_id:str state primary ip_source ipv6_attr:u8
 *                    pool:str
 *   OP_PCX  fields = id:str status:u8, twice: vpc_id owner region:str
 *                    allow_dns:u8
 *   OP_FINDING fields = kind:cstr message:cstr
 *   OP_REJECT  fields = the cs_error, bytes as in memory (loc has = 0)
 *
 * Concurrency: the recording target is a _Thread_local pointer; logs are
 * handed between threads under estate_dir.c's mutex.
 * Tests: tests/test_estate_dir_threads.c (one thread against two and four
 * on generated directories, with merges, conflicts, bad files, findings;
 * replay and resume without threads), fuzz_aws_json (each input read a
 * second time both ways).
 */
#include "ingest/replay_internal.h"

#include "core/error_internal.h"
#include "core/grow_internal.h"

#include <stdlib.h>
#include <string.h>

enum { OP_VPC = 1, OP_CIDR, OP_PCX, OP_FINDING, OP_REJECT };

static _Thread_local cs_ingest_log *tl_log;
static _Thread_local cs_ingest_resume *tl_resume;

void cs_ingest_log_begin(cs_ingest_log *log)
{
    log->len = 0;
    log->calls = 0;
    log->oom = false;
    tl_log = log;
}

void cs_ingest_log_end(void)
{
    tl_log = NULL;
}

void cs_ingest_log_free(cs_ingest_log *log)
{
    free(log->b);
    memset(log, 0, sizeof *log);
}

/* ---- writing ---------------------------------------------------------------- */

static void put(cs_ingest_log *l, const void *p, size_t n)
{
    if (l->oom)
        return;
    if (cs_grow((void **)&l->b, &l->cap, l->len + n, 1, SIZE_MAX)) {
        l->oom = true;
        return;
    }
    memcpy(l->b + l->len, p, n);
    l->len += n;
}

static void put_u8(cs_ingest_log *l, unsigned v)
{
    uint8_t b = (uint8_t)v;
    put(l, &b, 1);
}

static void put_str(cs_ingest_log *l, cs_str s)
{
    uint32_t n = (uint32_t)(s.len > CS_ESTATE_STR_MAX + 1 ? CS_ESTATE_STR_MAX + 1 : s.len);
    /* Longer strings fail the builder's length check; one byte past the
     * limit fails it the same way. */
    put(l, &n, sizeof n);
    put(l, s.ptr ? s.ptr : "", n);
}

static void put_cstr(cs_ingest_log *l, const char *s)
{
    put_u8(l, s != NULL);
    if (s)
        put_str(l, (cs_str){s, strlen(s)});
}

static void put_head(cs_ingest_log *l, int op, int rc, const cs_srcloc *loc,
                     const cs_error *err)
{
    put_u8(l, (unsigned)op);
    put(l, &rc, sizeof rc);
    if (rc < 0 && op != OP_FINDING && op != OP_REJECT) {
        cs_error none;
        if (!err)
            cs_error_clear(&none);
        put(l, err ? err : &none, sizeof *err);
    }
    put_u8(l, loc != NULL);
    if (loc) {
        put_cstr(l, loc->source);
        put(l, &loc->line, sizeof loc->line);
        put(l, &loc->column, sizeof loc->column);
    }
    l->calls++;
}

/* ---- reading ------------------------------------------------------------------ */

typedef struct reader {
    const unsigned char *p;
} reader;

static void get(reader *r, void *out, size_t n)
{
    memcpy(out, r->p, n);
    r->p += n;
}

static unsigned get_u8(reader *r)
{
    return *r->p++;
}

static cs_str get_str(reader *r)
{
    uint32_t n;
    get(r, &n, sizeof n);
    cs_str s = {(const char *)r->p, n};
    r->p += n;
    return s;
}

/* A recorded C string: NUL-terminated into `buf` (cap bytes; the builder
 * truncates at CS_ESTATE_STR_MAX anyway), or NULL. */
static const char *get_cstr(reader *r, char *buf, size_t cap)
{
    if (!get_u8(r))
        return NULL;
    cs_str s = get_str(r);
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    memcpy(buf, s.ptr, n);
    buf[n] = '\0';
    return buf;
}

static bool has_err(int op)
{
    return op != OP_FINDING && op != OP_REJECT;
}

typedef struct head {
    int op, rc;
    cs_error err;         /* the builder's error, when rc < 0 and has_err */
    bool has_loc;
    cs_srcloc loc;
    char src[CS_ESTATE_STR_MAX + 2];
} head;

static void get_head(reader *r, head *h)
{
    h->op = (int)get_u8(r);
    get(r, &h->rc, sizeof h->rc);
    if (h->rc < 0 && has_err(h->op))
        get(r, &h->err, sizeof h->err);
    h->has_loc = get_u8(r) != 0;
    if (h->has_loc) {
        h->loc.source = get_cstr(r, h->src, sizeof h->src);
        get(r, &h->loc.line, sizeof h->loc.line);
        get(r, &h->loc.column, sizeof h->loc.column);
    }
}

/* One record's descriptor, decoded (strings point into the log). */
typedef struct call {
    head h;
    cs_vpc_desc vpc;
    cs_cidr_desc cidr;
    cs_peering_desc pcx;
    const char *kind, *message;
    char kind_buf[CS_ESTATE_STR_MAX + 2], msg_buf[CS_ESTATE_STR_MAX + 2];
    cs_error rejected;
    cs_tag *tags;
    size_t tag_cap;
} call;

/* Decodes the record at r into c; with c->tags == NULL and `skip`, only
 * moves past it. Returns 0 or CS_ENOMEM (tags). */
static int decode(reader *r, call *c)
{
    get_head(r, &c->h);
    switch (c->h.op) {
    case OP_VPC: {
        cs_vpc_desc *d = &c->vpc;
        memset(d, 0, sizeof *d);
        d->id = get_str(r);
        d->owner = get_str(r);
        d->region = get_str(r);
        d->name = get_str(r);
        d->state = (uint8_t)get_u8(r);
        d->is_default = get_u8(r) != 0;
        uint32_t flags, nt;
        get(r, &flags, sizeof flags);
        get(r, &nt, sizeof nt);
        d->flags = flags;
        if (cs_grow((void **)&c->tags, &c->tag_cap, nt, sizeof *c->tags, SIZE_MAX))
            return CS_ENOMEM;
        for (uint32_t i = 0; i < nt; i++) {
            c->tags[i].key = get_str(r);
            c->tags[i].value = get_str(r);
        }
        d->tags = nt ? c->tags : NULL;
        d->tag_count = nt;
        return 0;
    }
    case OP_CIDR: {
        cs_cidr_desc *d = &c->cidr;
        memset(d, 0, sizeof *d);
        d->vpc_id = get_str(r);
        get(r, &d->prefix.hi, sizeof d->prefix.hi);
        get(r, &d->prefix.lo, sizeof d->prefix.lo);
        d->prefix.len = (uint8_t)get_u8(r);
        d->prefix.family = (uint8_t)get_u8(r);
        d->association_id = get_str(r);
        d->state = (uint8_t)get_u8(r);
        d->primary = get_u8(r) != 0;
        d->ip_source = (uint8_t)get_u8(r);
        d->ipv6_attr = (uint8_t)get_u8(r);
        d->pool = get_str(r);
        return 0;
    }
    case OP_PCX: {
        cs_peering_desc *d = &c->pcx;
        memset(d, 0, sizeof *d);
        d->id = get_str(r);
        d->status = (uint8_t)get_u8(r);
        cs_peering_side *side[2] = {&d->requester, &d->accepter};
        for (int s = 0; s < 2; s++) {
            side[s]->vpc_id = get_str(r);
            side[s]->owner = get_str(r);
            side[s]->region = get_str(r);
            side[s]->allow_dns = (uint8_t)get_u8(r);
        }
        return 0;
    }
    case OP_FINDING:
        c->kind = get_cstr(r, c->kind_buf, sizeof c->kind_buf);
        c->message = get_cstr(r, c->msg_buf, sizeof c->msg_buf);
        return 0;
    default: /* OP_REJECT */
        get(r, &c->rejected, sizeof c->rejected);
        return 0;
    }
}

/* Whether the estate's answer (got, gerr) is the recorded one as a reader
 * sees it: the same failure with the same error, or success (0 "new" and 1
 * "merged" alike: no recording reader tells them apart). */
static bool same_result(const head *h, int got, const cs_error *gerr)
{
    int a = got < 0 ? got : 0, b = h->rc < 0 ? h->rc : 0;
    if (a != b)
        return false;
    if (a == 0 || !has_err(h->op))
        return true;
    return strcmp(h->err.message, gerr->message) == 0 &&
           strcmp(h->err.source, gerr->source) == 0 && h->err.line == gerr->line &&
           h->err.column == gerr->column && h->err.offset == gerr->offset &&
           h->err.span == gerr->span && strcmp(h->err.text, gerr->text) == 0;
}

int cs_ingest_log_replay(cs_estate *e, const cs_ingest_log *log, cs_ingest_resume *at,
                         cs_error *err)
{
    if (log->oom) {
        memset(at, 0, sizeof *at);
        at->log = log;
        at->k = SIZE_MAX; /* nothing replayed: parse the file again */
        return 1;
    }
    call *c = calloc(1, sizeof *c);
    if (!c)
        return cs_fail(err, CS_ENOMEM, "out of memory replaying a file's records");
    reader r = {log->b};
    cs_error tmp;
    cs_error_clear(&tmp);
    int rc = 0;
    for (size_t i = 0; i < log->calls; i++) {
        if (decode(&r, c)) {
            rc = cs_fail(err, CS_ENOMEM, "out of memory replaying a file's records");
            break;
        }
        const cs_srcloc *loc = c->h.has_loc ? &c->h.loc : NULL;
        int got;
        switch (c->h.op) {
        case OP_VPC:
            got = cs_estate_add_vpc(e, &c->vpc, loc, &tmp);
            break;
        case OP_CIDR:
            got = cs_estate_add_cidr(e, &c->cidr, loc, &tmp);
            break;
        case OP_PCX:
            got = cs_estate_add_peering(e, &c->pcx, loc, &tmp);
            break;
        case OP_FINDING:
            got = cs_estate_add_finding(e, c->kind, loc, c->message);
            break;
        default:
            got = cs_estate_reject(e, &c->rejected);
            break;
        }
        if (!same_result(&c->h, got, &tmp)) {
            /* Calls 0..i-1 are what the reader made on this estate too;
             * call i was made, with another answer: the reader goes on
             * from there (cs_ingest_resume_begin). */
            memset(at, 0, sizeof *at);
            at->log = log;
            at->k = i;
            at->rc = got;
            at->err = tmp;
            rc = 1;
            break;
        }
        if (tmp.code)
            cs_error_clear(&tmp);
    }
    free(c->tags);
    free(c);
    return rc;
}

/* ---- resuming ------------------------------------------------------------------- */

void cs_ingest_resume_begin(cs_ingest_resume *at)
{
    at->i = 0;
    at->pos = 0;
    tl_resume = at->k == SIZE_MAX ? NULL : at;
}

void cs_ingest_resume_end(void)
{
    tl_resume = NULL;
}

/* Answers a reader's call while resuming: calls before k with their
 * recorded results (already made on the estate), call k with the estate's
 * answer; later calls go to the builder (returns false). An out-of-step
 * call (a file that changed between its two readings) is CS_ESTATE. */
static bool resumed(int op, cs_error *err, int *rc)
{
    cs_ingest_resume *at = tl_resume;
    if (at->i == at->k) {
        tl_resume = NULL;
        *rc = at->rc;
        if (at->rc < 0 && err && has_err(op))
            *err = at->err;
        return true;
    }
    call *c = calloc(1, sizeof *c);
    reader r = {at->log->b + at->pos};
    if (!c || decode(&r, c) || c->h.op != op) {
        tl_resume = NULL;
        *rc = c ? CS_ESTATE : CS_ENOMEM;
        if (err)
            cs_fail(err, *rc, "the file changed between its two readings");
    } else {
        at->pos = (size_t)(r.p - at->log->b);
        at->i++;
        *rc = c->h.rc;
        if (c->h.rc < 0 && err && has_err(op))
            *err = c->h.err;
    }
    if (c)
        free(c->tags);
    free(c);
    return true;
}

/* ---- the wrappers ------------------------------------------------------------- */

/* The calling thread's log with the head of a record written (the fields
 * follow), or NULL when the thread does not record. A call the log cannot
 * express (`ok` false: a NULL descriptor) makes the log incomplete. */
static cs_ingest_log *record(int op, int rc, const cs_srcloc *loc, const cs_error *err, bool ok)
{
    cs_ingest_log *l = tl_log;
    if (!l)
        return NULL;
    if (!ok) {
        l->oom = true;
        return NULL;
    }
    put_head(l, op, rc, loc, err);
    return l;
}

void cs_ingest_prefetch(const cs_estate *e, int table, const char *s, size_t len)
{
    if (!tl_log)
        cs_estate_prefetch(e, table, s, len);
}

int cs_ingest_add_vpc(cs_estate *e, const cs_vpc_desc *d, const cs_srcloc *loc, cs_error *err)
{
    int rc;
    if (tl_resume && resumed(OP_VPC, err, &rc))
        return rc;
    rc = tl_log ? 0 : cs_estate_add_vpc(e, d, loc, err); /* recording: "done" */
    cs_ingest_log *l = record(OP_VPC, rc, loc, err, d != NULL);
    if (!l)
        return rc;
    put_str(l, d->id);
    put_str(l, d->owner);
    put_str(l, d->region);
    put_str(l, d->name);
    put_u8(l, d->state);
    put_u8(l, d->is_default);
    uint32_t flags = d->flags, nt = d->tags ? (uint32_t)d->tag_count : 0;
    if (!d->tags && d->tag_count)
        l->oom = true; /* an argument error the log cannot express */
    put(l, &flags, sizeof flags);
    put(l, &nt, sizeof nt);
    for (uint32_t i = 0; i < nt; i++) {
        put_str(l, d->tags[i].key);
        put_str(l, d->tags[i].value);
    }
    return rc;
}

int cs_ingest_add_cidr(cs_estate *e, const cs_cidr_desc *d, const cs_srcloc *loc,
                       cs_error *err)
{
    int rc;
    if (tl_resume && resumed(OP_CIDR, err, &rc))
        return rc;
    rc = tl_log ? 0 : cs_estate_add_cidr(e, d, loc, err); /* recording: "done" */
    cs_ingest_log *l = record(OP_CIDR, rc, loc, err, d != NULL);
    if (!l)
        return rc;
    put_str(l, d->vpc_id);
    put(l, &d->prefix.hi, sizeof d->prefix.hi);
    put(l, &d->prefix.lo, sizeof d->prefix.lo);
    put_u8(l, d->prefix.len);
    put_u8(l, d->prefix.family);
    put_str(l, d->association_id);
    put_u8(l, d->state);
    put_u8(l, d->primary);
    put_u8(l, d->ip_source);
    put_u8(l, d->ipv6_attr);
    put_str(l, d->pool);
    return rc;
}

int cs_ingest_add_peering(cs_estate *e, const cs_peering_desc *d, const cs_srcloc *loc,
                          cs_error *err)
{
    int rc;
    if (tl_resume && resumed(OP_PCX, err, &rc))
        return rc;
    rc = tl_log ? 0 : cs_estate_add_peering(e, d, loc, err); /* recording: "done" */
    cs_ingest_log *l = record(OP_PCX, rc, loc, err, d != NULL);
    if (!l)
        return rc;
    put_str(l, d->id);
    put_u8(l, d->status);
    const cs_peering_side *side[2] = {&d->requester, &d->accepter};
    for (int s = 0; s < 2; s++) {
        put_str(l, side[s]->vpc_id);
        put_str(l, side[s]->owner);
        put_str(l, side[s]->region);
        put_u8(l, side[s]->allow_dns);
    }
    return rc;
}

int cs_ingest_add_finding(cs_estate *e, const char *kind, const cs_srcloc *loc,
                          const char *message)
{
    int rc;
    if (tl_resume && resumed(OP_FINDING, NULL, &rc))
        return rc;
    rc = tl_log ? 0 : cs_estate_add_finding(e, kind, loc, message); /* recording: "done" */
    cs_ingest_log *l = record(OP_FINDING, rc, loc, NULL, true);
    if (l) {
        put_cstr(l, kind);
        put_cstr(l, message);
    }
    return rc;
}

int cs_ingest_reject(cs_estate *e, const cs_error *rejected)
{
    int rc;
    if (tl_resume && resumed(OP_REJECT, NULL, &rc))
        return rc;
    rc = tl_log ? 0 : cs_estate_reject(e, rejected); /* recording: "done" */
    cs_ingest_log *l = record(OP_REJECT, rc, NULL, NULL, rejected != NULL);
    if (l)
        put(l, rejected, sizeof *rejected);
    return rc;
}

