/*
 * engine/ingest/replay_internal.h — the builder calls of one file, recorded
 * on a helper thread and replayed on the loading thread (engine/ingest/
 * replay.c). Used by the estate directory reader (estate_dir.c) to parse
 * files on two cores while the estate is still built in file order.
 *
 * The readers of AWS CLI JSON (aws_json.c, config_vpcs.c, ipam_cidrs.c,
 * json_shapes.c, json_stream.c) call the builder through the cs_ingest_*
 * wrappers below: the same arguments and results as cs_estate_*, except
 * while the calling thread records (cs_ingest_log_begin): then each call is
 * appended to the thread's log, answered 0 without touching the estate. Contract of a reader that calls
 * them: it looks only at whether a result is negative (and then at the
 * error), never tells 0 ("new") from 1 ("merged"), and reads nothing else
 * of the estate; given the same bytes and answers it makes the same calls.
 *
 * Ownership: a log owns copies of every string it records; descriptors
 * handed to the builder by cs_ingest_log_replay point into the log and live
 * until cs_ingest_log_free. Thread-safety: the recording target is per
 * thread (_Thread_local); a log is written by one thread and, after the
 * hand-over (estate_dir.c's mutex), read by another.
 */
#ifndef CS_REPLAY_INTERNAL_H
#define CS_REPLAY_INTERNAL_H

#include <cidrscope/estate.h>

#include "build/estate_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cs_ingest_log {
    unsigned char *b;   /* the records, one after another (replay.c) */
    size_t len, cap;
    size_t calls;       /* records in b */
    bool oom;           /* a record could not be stored: the log is
                           incomplete and must not be replayed */
} cs_ingest_log;

/* Builder calls (the contract of the cs_estate_* call of the same name in
 * estate.h); while the thread records, recorded and answered 0. */
/* cs_estate_prefetch (build/estate_internal.h), except while recording
 * (a helper thread must not read the estate the loading thread writes). */
void cs_ingest_prefetch(const cs_estate *e, int table, const char *s, size_t len);

int cs_ingest_add_vpc(cs_estate *e, const cs_vpc_desc *d, const cs_srcloc *loc,
                      cs_error *err);
int cs_ingest_add_cidr(cs_estate *e, const cs_cidr_desc *d,
                       const cs_srcloc *loc, cs_error *err);
int cs_ingest_add_peering(cs_estate *e, const cs_peering_desc *d,
                          const cs_srcloc *loc, cs_error *err);
int cs_ingest_add_finding(cs_estate *e, const char *kind,
                          const cs_srcloc *loc, const char *message);
int cs_ingest_reject(cs_estate *e, const cs_error *rejected);

/* Makes the calling thread append its cs_ingest_* calls to `log` (emptied
 * first), until cs_ingest_log_end. */
void cs_ingest_log_begin(cs_ingest_log *log);
void cs_ingest_log_end(void);
void cs_ingest_log_free(cs_ingest_log *log);

/* Where a replay stopped agreeing: call k got (rc, err) from the estate
 * instead of the recorded answer. k == SIZE_MAX: nothing was replayed (an
 * incomplete log), the file is simply read again. */
typedef struct cs_ingest_resume {
    const cs_ingest_log *log;
    size_t k;
    int rc;
    cs_error err;
    size_t i, pos;        /* calls answered while resuming; next record */
} cs_ingest_resume;

/*
 * Makes the recorded calls on `e`, in order, comparing each answer with the
 * recorded one. Returns 0 (every call agreed: the file is read), 1 (call
 * at->k did not: the caller reads the file again between
 * cs_ingest_resume_begin(at) and cs_ingest_resume_end, on this thread), or
 * CS_ENOMEM (err filled).
 */
int cs_ingest_log_replay(cs_estate *e, const cs_ingest_log *log,
                         cs_ingest_resume *at, cs_error *err);

/* While resuming, the calling thread's cs_ingest_* calls 0..k-1 return
 * their recorded answers without touching the estate, call k returns
 * at->rc / at->err, later calls go to the builder. `at` and its log must
 * live until cs_ingest_resume_end. */
void cs_ingest_resume_begin(cs_ingest_resume *at);
void cs_ingest_resume_end(void);

#endif
