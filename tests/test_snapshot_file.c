/*
 * tests/test_snapshot_file.c — snapshot files as untrusted, shared files:
 * the size must equal the image (bytes appended refused), the file is read
 * into memory (truncating or rewriting it afterwards changes nothing for
 * the reader), writes follow the umask or an explicit mode, and a writer
 * killed at any point leaves nothing behind (O_TMPFILE), while a dead
 * writer's named temporary file is removed by the next write. A snapshot
 * through a pipe or FIFO is read into memory (cs_snapshot_from_fd).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/testutil.h"

#include <cidrscope/query.h>
#include <cidrscope/snapshot.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t g_seed;
static char g_dir[64];

static int setup(void **state)
{
    (void)state;
    assert_non_null(tu_mkdtemp(g_dir, sizeof g_dir, "cstest-snapfile"));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(g_dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        char p[400];
        snprintf(p, sizeof p, "%s/%s", g_dir, de->d_name);
        if (de->d_name[0] != '.')
            unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(g_dir);
    return 0;
}

static cs_snapshot *random_snapshot(uint64_t salt, size_t n)
{
    tu_rng r = {g_seed + salt};
    tu_entry *e = tu_random_entries(&r, n, 4);
    cs_snapshot *s = tu_build(e, n);
    free(e);
    return s;
}

/* Entries in the directory other than `keep`. */
static int others(const char *keep)
{
    int n = 0;
    DIR *d = opendir(g_dir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' && (!keep || strcmp(de->d_name, keep) != 0))
            n++;
    closedir(d);
    return n;
}

static void append(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void snapfile__bytes_appended_are_refused(void **state)
{
    (void)state;
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/a.snap", g_dir);
    snprintf(b, sizeof b, "%s/b.snap", g_dir);
    cs_snapshot *s = random_snapshot(1, 300), *t = random_snapshot(2, 200);
    assert_int_equal(cs_snapshot_write(s, a, NULL), 0);
    assert_int_equal(cs_snapshot_write(t, b, NULL), 0);
    cs_snapshot *o = NULL;
    assert_int_equal(cs_snapshot_open(a, 0, &o, NULL), 0);
    cs_snapshot_close(o);
    /* one byte, then a whole second image */
    append(a, "x", 1);
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_snapshot_open(a, 0, &o, &err), CS_ECORRUPT);
    assert_non_null(strstr(err.message, "appended"));
    assert_null(o);
    assert_int_equal(cs_snapshot_write(s, a, NULL), 0);
    size_t len;
    const void *img = cs_snapshot_image(t, &len);
    append(a, img, len);
    assert_int_equal(cs_snapshot_open(a, CS_OPEN_NO_VERIFY, &o, &err), CS_ECORRUPT);
    cs_snapshot_close(s);
    cs_snapshot_close(t);
}

static void snapfile__open_copies_so_later_changes_do_not_matter(void **state)
{
    (void)state;
    char a[128];
    snprintf(a, sizeof a, "%s/a.snap", g_dir);
    cs_snapshot *s = random_snapshot(3, 2000), *t = random_snapshot(4, 50);
    assert_int_equal(cs_snapshot_write(s, a, NULL), 0);
    cs_snapshot *o = NULL;
    assert_int_equal(cs_snapshot_open(a, 0, &o, NULL), 0);
    tu_rng r = {g_seed + 5};
    cs_prefix q[64];
    uint32_t want[64], got[64];
    for (int i = 0; i < 64; i++)
        q[i] = tu_random_prefix(&r, CS_AF_V4, 8 + (unsigned)tu_below(&r, 17));
    assert_int_equal(cs_query_count_bulk(s, q, 64, CS_Q_OVERLAPPING, want), 0);
    /* truncated, then rewritten in place with another image */
    assert_int_equal(truncate(a, 100), 0);
    assert_int_equal(cs_query_count_bulk(o, q, 64, CS_Q_OVERLAPPING, got), 0);
    assert_memory_equal(got, want, sizeof got);
    size_t len;
    const void *img = cs_snapshot_image(t, &len);
    FILE *f = fopen(a, "r+b");
    assert_non_null(f);
    assert_int_equal(fwrite(img, 1, len, f), len);
    fclose(f);
    assert_int_equal(cs_query_count_bulk(o, q, 64, CS_Q_OVERLAPPING, got), 0);
    assert_memory_equal(got, want, sizeof got);
    cs_snapshot_close(o);
    /* the file now holds t's image exactly: a new open reads t */
    assert_int_equal(cs_snapshot_open(a, 0, &o, NULL), 0);
    assert_int_equal(cs_query_count_bulk(t, q, 64, CS_Q_OVERLAPPING, want), 0);
    assert_int_equal(cs_query_count_bulk(o, q, 64, CS_Q_OVERLAPPING, got), 0);
    assert_memory_equal(got, want, sizeof got);
    cs_snapshot_close(o);
    cs_snapshot_close(s);
    cs_snapshot_close(t);
}

static void snapfile__modes_follow_the_umask_or_the_caller(void **state)
{
    (void)state;
    cs_snapshot *s = random_snapshot(6, 100);
    mode_t masks[] = {077, 022, 027, 0};
    for (size_t i = 0; i < sizeof masks / sizeof *masks; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/m%zu.snap", g_dir, i);
        mode_t old = umask(masks[i]);
        assert_int_equal(cs_snapshot_write(s, p, NULL), 0);
        umask(old);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0666 & ~masks[i]);
    }
    char p[128];
    snprintf(p, sizeof p, "%s/explicit.snap", g_dir);
    mode_t old = umask(077);
    assert_int_equal(cs_snapshot_write_mode(s, p, 0640, NULL), 0);
    umask(old);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    assert_int_equal(cs_snapshot_write_mode(s, p, 01777, NULL), CS_EINVAL);
    cs_snapshot_close(s);
}

static void snapfile__killed_writers_leave_nothing(void **state)
{
    (void)state;
    cs_snapshot *big = random_snapshot(7, 200000);
    char p[128];
    snprintf(p, sizeof p, "%s/k.snap", g_dir);
    /* SIGKILL at a spread of moments during the write */
    for (int k = 0; k < 8; k++) {
        pid_t kid = fork();
        assert_true(kid >= 0);
        if (kid == 0) {
            for (;;)
                cs_snapshot_write(big, p, NULL);
        }
        struct timespec ts = {0, 2000000L + 3000000L * k};
        nanosleep(&ts, NULL);
        kill(kid, SIGKILL);
        waitpid(kid, NULL, 0);
        int extra = others("k.snap");
        /* The unnamed file gets a temporary name between linkat and the
         * rename over k.snap (linkat cannot replace); a kill inside that
         * window leaves a dead writer's named temporary, which the next
         * write in the directory must remove. Anything else is a leak. */
        if (extra) {
            assert_int_equal(cs_snapshot_write(big, p, NULL), 0);
            extra = others("k.snap");
        }
        if (extra)
            fail_msg("a writer killed after %d ms left %d file(s) beside k.snap", 2 + 3 * k, extra);
    }
    /* A named temporary of a dead writer (where O_TMPFILE is missing) is
     * removed by the next write in the directory; a live one is kept. */
    pid_t dead = fork();
    assert_true(dead >= 0);
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    char stale[200], live[200];
    snprintf(stale, sizeof stale, "%s/x.snap.cstmp.%d.0123456789abcdef", g_dir, (int)dead);
    snprintf(live, sizeof live, "%s/y.snap.cstmp.%d.0123456789abcdef", g_dir, (int)getpid());
    int fd = open(stale, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    fd = open(live, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(cs_snapshot_write(big, p, NULL), 0);
    assert_int_equal(access(stale, F_OK), -1);
    assert_int_equal(access(live, F_OK), 0);
    unlink(live);
    cs_snapshot_close(big);
}

/* Writes img[skip..len) (then `extra` bytes of junk) into a pipe from a
 * child, in chunks of `chunk` bytes; returns the read end. */
static int pipe_from_child(const uint8_t *img, size_t len, size_t skip, size_t chunk, size_t extra, pid_t *child)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        for (size_t off = skip; off < len; off += chunk) {
            size_t n = len - off < chunk ? len - off : chunk;
            if (write(p[1], img + off, n) != (ssize_t)n)
                _exit(1);
        }
        for (size_t i = 0; i < extra; i++)
            if (write(p[1], "z", 1) != 1)
                _exit(1);
        _exit(0);
    }
    close(p[1]);
    *child = pid;
    return p[0];
}

/* A snapshot through a pipe: read into memory the snapshot owns, with any
 * head already read by the caller, in any chunking; answers as the image
 * it came from; a short or a long stream is refused. */
static void snapfile__a_pipe_is_read_into_memory(void **state)
{
    (void)state;
    cs_snapshot *s = random_snapshot(7, 3000);
    size_t len;
    const uint8_t *img = cs_snapshot_image(s, &len);
    tu_rng r = {g_seed + 8};
    cs_prefix q[64];
    uint32_t want[64], got[64];
    for (int i = 0; i < 64; i++)
        q[i] = tu_random_prefix(&r, CS_AF_V4, 8 + (unsigned)tu_below(&r, 17));
    assert_int_equal(cs_query_count_bulk(s, q, 64, CS_Q_OVERLAPPING, want), 0);
    const size_t heads[] = {0, 1, 8, 127, 128, 4096, len};
    const size_t chunks[] = {1, 4093, 65536, 1 << 20};
    for (size_t hi = 0; hi < sizeof heads / sizeof *heads; hi++) {
        size_t head = heads[hi];
        size_t chunk = chunks[hi % (sizeof chunks / sizeof *chunks)];
        if (chunk == 1 && len > 100000)
            chunk = 7;
        pid_t child;
        int fd = pipe_from_child(img, len, head, chunk, 0, &child);
        cs_snapshot *o = NULL;
        cs_error err;
        cs_error_clear(&err);
        int rc = cs_snapshot_from_fd(fd, img, head, 0, &o, &err);
        if (rc)
            fail_msg("head %zu chunk %zu: %s", head, chunk, err.message);
        close(fd);
        waitpid(child, NULL, 0);
        assert_int_equal(cs_query_count_bulk(o, q, 64, CS_Q_OVERLAPPING, got), 0);
        assert_memory_equal(got, want, sizeof got);
        size_t olen;
        assert_memory_equal(cs_snapshot_image(o, &olen), img, len);
        assert_int_equal(olen, len);
        cs_snapshot_close(o);
    }
    /* one byte appended, or one missing: refused */
    for (int k = 0; k < 2; k++) {
        pid_t child;
        int fd = k ? pipe_from_child(img, len - 64, 0, 65536, 0, &child)
                   : pipe_from_child(img, len, 0, 65536, 1, &child);
        cs_snapshot *o = NULL;
        cs_error err;
        cs_error_clear(&err);
        assert_int_equal(cs_snapshot_from_fd(fd, NULL, 0, CS_OPEN_NO_VERIFY, &o, &err), CS_ECORRUPT);
        assert_non_null(strstr(err.message, k ? "truncated" : "appended"));
        assert_null(o);
        close(fd);
        waitpid(child, NULL, 0);
    }
    /* a FIFO named as a path: cs_snapshot_open reads it the same way */
    char fifo[128];
    snprintf(fifo, sizeof fifo, "%s/snap.fifo", g_dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int w = open(fifo, O_WRONLY);
        _exit(w >= 0 && write(w, img, len) == (ssize_t)len ? 0 : 1);
    }
    cs_snapshot *o = NULL;
    assert_int_equal(cs_snapshot_open(fifo, 0, &o, NULL), 0);
    int status;
    waitpid(pid, &status, 0);
    assert_int_equal(status, 0);
    assert_int_equal(cs_query_count_bulk(o, q, 64, CS_Q_OVERLAPPING, got), 0);
    assert_memory_equal(got, want, sizeof got);
    cs_snapshot_close(o);
    cs_snapshot_close(s);
}

int main(void)
{
    g_seed = tu_seed("test_snapshot_file", 0x5a9f11eull);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(snapfile__bytes_appended_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(snapfile__open_copies_so_later_changes_do_not_matter, setup, teardown),
        cmocka_unit_test_setup_teardown(snapfile__modes_follow_the_umask_or_the_caller, setup, teardown),
        cmocka_unit_test_setup_teardown(snapfile__killed_writers_leave_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(snapfile__a_pipe_is_read_into_memory, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
