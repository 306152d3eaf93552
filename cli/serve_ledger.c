/*
 * cli/serve_ledger.c — the ledger side of `cidrscope serve` (serve_ledger.h).
 */
#include "cli.h"
#include "serve_ledger.h"
#include "shm_source.h"

#include <stdio.h>

void serve_ledger_sync(const char *name, cs_ledger *l)
{
    if (!l)
        return;
    cli_shm_handle *h = NULL;
    const cs_snapshot *s = NULL;
    if (cli_shm_open("serve", name, NULL, &h, &s) != CLI_OK)
        return;
    cs_error err;
    cs_error_clear(&err);
    int64_t n = cs_ledger_retire(l, s, &err);
    if (n < 0)
        cli_report_error("serve", &err);
    else if (n > 0)
        printf("%s: %lld reservation%s fulfilled (now in the sources)\n", name, (long long)n,
               n == 1 ? "" : "s");
    fflush(stdout);
    cli_shm_close(h);
}

int serve_ledger_open(const char *name, const char *journal, cs_ledger **out)
{
    cs_error err;
    cs_error_clear(&err);
    if (cs_ledger_create(name, journal, out, &err) != 0)
        return cli_report_error("serve", &err);
    int64_t n = cs_ledger_list(*out, NULL, 0, NULL);
    printf("%s: ledger %s replayed (%lld reservation record%s)\n", name, journal,
           (long long)(n < 0 ? 0 : n), n == 1 ? "" : "s");
    serve_ledger_sync(name, *out);
    return CLI_OK;
}

void serve_ledger_close(const char *name, cs_ledger *l, bool unlink)
{
    if (!l)
        return;
    cs_ledger_close(l);
    cs_error err;
    cs_error_clear(&err);
    if (unlink && cs_ledger_unlink(name, &err) < 0)
        cli_report_error("serve", &err);
}
