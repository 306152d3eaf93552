/*
 * cli/shm_source.h — `--shm NAME` for any verb, and `stat --shm NAME`.
 *
 * A verb that accepts --shm NAME opens it with cli_shm_open: the service is
 * attached and its current generation pinned, so every query answers from
 * that one generation until the verb unpins (cli_shm_unpin: a verb reading
 * items in batches holds a reader slot only while it answers a batch) and
 * pins again (cli_shm_repin); it closes it with cli_shm_close when done
 * (unpin, detach). --owner USER names the user who must own the service
 * (default: the caller or root).
 */
#ifndef CS_CLI_SHM_SOURCE_H
#define CS_CLI_SHM_SOURCE_H

#include "cli.h"

#include <cidrscope/shm.h>

typedef struct cli_shm_handle cli_shm_handle;

/*
 * Attaches to the service `name` and pins its current generation; *snap is
 * the image to query (valid until cli_shm_close). Errors are printed as
 * "cidrscope VERB: ..." on stderr. Returns CLI_OK, or the exit code to
 * return: CLI_USAGE (no such service, nothing published, bad name, damaged
 * or foreign segment), CLI_INTERNAL (system error, no free reader slot).
 */
int cli_shm_open(const char *verb, const char *name, const char *owner,
                 cli_shm_handle **h, const cs_snapshot **snap);

/* Unpins (the reader slot is free); no-op when not pinned. */
void cli_shm_unpin(cli_shm_handle *h);

/* Pins the current generation again; *snap as cli_shm_open's. Returns
 * CLI_OK or an exit code after printing the error. */
int cli_shm_repin(const char *verb, cli_shm_handle *h, const cs_snapshot **snap);

/* Unpins and detaches. NULL is a no-op. */
void cli_shm_close(cli_shm_handle *h);

/*
 * Prints the state of the service `name` to stdout for `cidrscope stat
 * --shm NAME`: current generation and image size, publish times, the
 * serving process, every reader slot in use (pid, alive, pinned
 * generation) and every image segment. json != 0 prints one JSON object.
 * It attaches without pinning, so it does not appear among the readers.
 * Returns CLI_OK or an exit code (as cli_shm_open) after printing an error.
 */
int cli_shm_stat(const char *name, const char *owner, int json);

#endif
