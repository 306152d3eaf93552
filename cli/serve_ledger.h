/*
 * cli/serve_ledger.h — `serve NAME ... --ledger FILE`: the service's
 * reservation ledger (cs_ledger_*), created from its journal when serving
 * starts and synced with each published generation (reservations whose
 * block now is in the sources are retired as fulfilled).
 */
#ifndef CS_CLI_SERVE_LEDGER_H
#define CS_CLI_SERVE_LEDGER_H

#include <cidrscope/ipam.h>

#include <stdbool.h>

/* Creates the ledger of `name` from `journal` (replayed) and retires what
 * the current generation fulfils. Returns CLI_OK or an exit code after
 * printing the error. */
int serve_ledger_open(const char *name, const char *journal, cs_ledger **out);

/* Retires the reservations the service's current generation fulfils;
 * errors are printed, serving goes on. NULL ledger: nothing. */
void serve_ledger_sync(const char *name, cs_ledger *l);

/* Closes the ledger; with `unlink` (serve --unlink-on-exit) removes its
 * segment too (the journal stays). NULL ledger: nothing. */
void serve_ledger_close(const char *name, cs_ledger *l, bool unlink);

#endif
