/*
 * engine/serve/ledger_internal.h — a commit that calls back between its
 * steps (engine/serve/ledger.c, "ORDER OF A CHANGE"), so tests can kill a
 * committer at each step while it holds the lock.
 */
#ifndef CS_LEDGER_INTERNAL_H
#define CS_LEDGER_INTERNAL_H

#include <cidrscope/ipam.h>

enum cs_ledger_step {
    CS_LEDGER_STEP_JOURNALED = 1, /* the lines are in the journal, fsync'ed */
    CS_LEDGER_STEP_RECORDED,      /* the new records are written past count */
    CS_LEDGER_STEP_COUNTED,       /* count is raised; applied is not */
    CS_LEDGER_STEP_APPLIED,       /* applied is raised; the lock is still held */
};

typedef void (*cs_ledger_step_fn)(int step, void *ctx);

/* cs_ledger_commit, calling hook(step, ctx) after each step (hook NULL:
 * exactly cs_ledger_commit). */
int64_t cs_ledger_commit_hooked(cs_ledger *l, const cs_snapshot *s, const cs_ipam_request *r,
                                const char *token, const char *owner, cs_ipam_allocation *out,
                                unsigned *reason, cs_ledger_step_fn hook, void *ctx,
                                cs_error *err);

#endif
