/*
 * tests/fuzz/fuzz_support.h — what the libFuzzer targets share: the abort
 * on a broken expectation (FUZZ_NAME names the target in the message), the
 * consistency checks of a located cs_error, and a scratch directory for the
 * readers that take paths. Header-only: each target is its own program.
 */
#ifndef CS_FUZZ_SUPPORT_H
#define CS_FUZZ_SUPPORT_H

#include <cidrscope/error.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FUZZ_NAME
#error "define FUZZ_NAME (the target's name) before including fuzz_support.h"
#endif

#define REQUIRE(cond)                                                        \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, FUZZ_NAME ": %s:%d: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                  \
            abort();                                                         \
        }                                                                    \
    } while (0)

/* A failed read of an input of `len` bytes: the code is recorded, there is
 * a message and a source, a parse error has a line, the offset lies within
 * max_offset, the caret's line and column agree, and cs_error_format agrees
 * with itself about the length. */
static inline void fuzz_check_located_error(const cs_error *err, int rc, size_t max_offset)
{
    REQUIRE(err->code == rc);
    REQUIRE(err->message[0] != '\0');
    REQUIRE(err->source[0] != '\0');
    if (rc == CS_EPARSE)
        REQUIRE(err->line >= 1);
    REQUIRE(err->offset <= max_offset);
    size_t tl = strnlen(err->text, sizeof err->text);
    REQUIRE(tl < sizeof err->text);
    if (err->text[0])
        REQUIRE(err->text_col >= 1 && err->text_col <= tl + 1);
    size_t want = cs_error_format(err, NULL, 0);
    REQUIRE(want > 0 && want < 4096);
    char *b = malloc(want + 1);
    REQUIRE(b);
    REQUIRE(cs_error_format(err, b, want + 1) == want);
    REQUIRE(strlen(b) == want);
    free(b);
}

/* Lines of an input (a lone CR ends one too), for "a line past the last". */
static inline uint64_t fuzz_lines_in(const uint8_t *p, size_t n)
{
    uint64_t k = 1;
    for (size_t i = 0; i < n; i++)
        k += p[i] == '\n' || p[i] == '\r';
    return k;
}

static inline void fuzz_write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    REQUIRE(fwrite(p, 1, n, f) == n);
    REQUIRE(fclose(f) == 0);
}

/* The target's scratch directory, /tmp/FUZZ_NAME.PID, made on first use and
 * removed when the fuzzer exits (libFuzzer calls exit). */
static char fuzz_dir[64];

static void fuzz_dir_remove(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fuzz_dir);
    if (system(cmd) != 0)
        fprintf(stderr, FUZZ_NAME ": could not remove %s\n", fuzz_dir);
}

static inline const char *fuzz_scratch_dir(void)
{
    if (!fuzz_dir[0]) {
        REQUIRE(snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/" FUZZ_NAME ".%ld",
                         (long)getpid()) > 0);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "mkdir -p %s", fuzz_dir);
        REQUIRE(system(cmd) == 0);
        atexit(fuzz_dir_remove);
    }
    return fuzz_dir;
}

#endif
