/*
 * cli/main.c — `cidrscope VERB [options] [inputs]`: dispatches to one file
 * per verb (cli/cmd_<verb>.c). Every verb answers --help.
 */
#include "cli.h"
#include "progress.h"
#include "source.h"
#include "verbs.h"

#include <stdio.h>
#ifdef CS_HAVE_JEMALLOC
#include <sys/types.h>
/* jemalloc's control call (its header is not among the CLI's includes) */
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
#endif
#include <string.h>

static const cli_verb verbs[] = {
#define CS_VERB(name, fn, summary) {name, summary, fn},
#include "verbs.h"
#undef CS_VERB
};

static void usage(FILE *f)
{
    fprintf(f, "usage: cidrscope VERB [options] [inputs]\n\nverbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        fprintf(f, "  %-11s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(f, "\n`cidrscope VERB --help` describes one verb.\n"
               "Exit codes: 0 ok, 1 findings (--fail-on), 2 usage or bad "
               "input, 3 internal error.\n"
               "Long work shows a progress line on stderr when it is a terminal;\n"
               "--progress / --no-progress (any verb) force it on or off.\n"
               "`cidrscope help VERB` is `cidrscope VERB --help`.\n");
}

/* jemalloc (the binary's allocator, CMakeLists.txt) keeps freed pages for
 * 10 s by default; here they go back to the system at once, so the estate
 * freeze releasing its builder before it writes the tries
 * (cs_estate_freeze_consume, issue 13 item 12) lowers the peak for real.
 * No CPU cost measured on `build` of an 825k-row CSV
 * (bench/results-memory.md). */
static void allocator_setup(void)
{
#ifdef CS_HAVE_JEMALLOC
    ssize_t zero = 0;
    unsigned n = 0;
    size_t len = sizeof n;
    /* arenas made from now on (the one for huge allocations too) ... */
    mallctl("arenas.dirty_decay_ms", NULL, NULL, &zero, sizeof zero);
    mallctl("arenas.muzzy_decay_ms", NULL, NULL, &zero, sizeof zero);
    /* ... and those that exist already */
    if (mallctl("arenas.narenas", &n, &len, NULL, 0) == 0)
        for (unsigned i = 0; i < n; i++) {
            char name[64];
            snprintf(name, sizeof name, "arena.%u.dirty_decay_ms", i);
            mallctl(name, NULL, NULL, &zero, sizeof zero);
            snprintf(name, sizeof name, "arena.%u.muzzy_decay_ms", i);
            mallctl(name, NULL, NULL, &zero, sizeof zero);
        }
#endif
}

int main(int argc, char **argv)
{
    allocator_setup();
    argc = cli_progress_args(argc, argv); /* --progress / --no-progress, any verb */
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "help") == 0 && argc >= 3) {
        /* `cidrscope help VERB` = `cidrscope VERB --help` */
        for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
            if (strcmp(argv[2], verbs[i].name) == 0) {
                char *args[] = {argv[2], (char *)"--help", NULL};
                return verbs[i].run(2, args);
            }
        fprintf(stderr, "cidrscope help: unknown verb '%s'\n\n", argv[2]);
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("cidrscope %s\n", CIDRSCOPE_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        if (strcmp(argv[1], verbs[i].name) == 0)
        {
            cli_sources_scan_argv(argc - 1, argv + 1);
            return verbs[i].run(argc - 1, argv + 1);
        }
    fprintf(stderr, "cidrscope: unknown verb '%s'\n\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
