/*
 * tests/test_ledger.c — the reservation ledger (engine/serve/ledger.c):
 * 8 processes x 1,000 commits of mixed lengths from one pool, some of them
 * SIGKILLed while running: no two active reservations overlap, every
 * acknowledged reservation is there, and a restart's journal replay equals
 * the state before. A committer killed at each step of a commit (while
 * holding the lock) wedges nothing, whether already reaped or still a
 * zombie. Idempotent tokens, release, retire.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/testutil.h"

#include <cidrscope/ipam.h>

#include "serve/ledger_internal.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROCS 8
#define PER_PROC 1000

static char g_dir[256], g_name[64], g_journal[300];

static cs_prefix P(const char *text)
{
    cs_prefix p;
    if (cs_prefix_parse(text, strlen(text), 0, &p, NULL) != 0)
        fail_msg("test prefix %s", text);
    return p;
}

static cs_snapshot *estate(void)
{
    static const char *const b[] = {"10.0.0.0/16", "10.5.0.0/16", "10.9.128.0/17"};
    cs_snapshot_builder *sb = cs_snapshot_builder_new();
    for (size_t i = 0; i < 3; i++) {
        cs_prefix p = P(b[i]);
        assert_int_equal(cs_snapshot_builder_add(sb, &p, (uint32_t)i, NULL), 0);
    }
    cs_snapshot *s = NULL;
    assert_int_equal(cs_snapshot_builder_freeze(sb, &s, NULL), 0);
    cs_snapshot_builder_free(sb);
    return s;
}

static int setup(void **state)
{
    (void)state;
    /* The journal on tmpfs when there is one: the test is about the
     * protocol, and 8,000 fsyncs on a busy shared disk take minutes. */
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                       : getenv("TMPDIR")             ? getenv("TMPDIR")
                                                      : "/tmp";
    snprintf(g_dir, sizeof g_dir, "%s/cs_ledger.XXXXXX", base);
    if (!mkdtemp(g_dir))
        return -1;
    snprintf(g_name, sizeof g_name, "cs-ledger-test-%ld", (long)getpid());
    snprintf(g_journal, sizeof g_journal, "%s/journal", g_dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cs_ledger_unlink(g_name, NULL);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}


static int cmp_res(const void *a, const void *b)
{
    return cs_prefix_compare(&((const cs_reservation *)a)->prefix,
                             &((const cs_reservation *)b)->prefix);
}

/* Every active reservation in r[0..n) is disjoint from every other. */
static void assert_disjoint(cs_reservation *r, size_t n)
{
    cs_reservation *act = calloc(n + 1, sizeof *act);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (r[i].state == CS_RES_ACTIVE)
            act[k++] = r[i];
    qsort(act, k, sizeof *act, cmp_res);
    for (size_t i = 1; i < k; i++)
        if (cs_prefix_overlaps(&act[i - 1].prefix, &act[i].prefix)) {
            char a[CS_PREFIX_STRCAP], b[CS_PREFIX_STRCAP];
            cs_prefix_format(&act[i - 1].prefix, a, sizeof a);
            cs_prefix_format(&act[i].prefix, b, sizeof b);
            fail_msg("reservations %s and %s overlap", a, b);
        }
    free(act);
}

static cs_reservation *list_all(cs_ledger *l, size_t *n)
{
    int64_t c = cs_ledger_list(l, NULL, 0, NULL);
    assert_true(c >= 0);
    cs_reservation *r = calloc((size_t)c + 1, sizeof *r);
    assert_int_equal(cs_ledger_list(l, r, (size_t)c, NULL), c);
    *n = (size_t)c;
    return r;
}

/* Restart: drop the segment, replay the journal; the state must be equal. */
static cs_ledger *restart_equal(cs_ledger *l)
{
    size_t n0, n1;
    cs_reservation *before = list_all(l, &n0);
    cs_ledger_close(l);
    assert_int_equal(cs_ledger_unlink(g_name, NULL), 0);
    cs_ledger *m = NULL;
    cs_error err;
    cs_error_clear(&err);
    if (cs_ledger_create(g_name, g_journal, &m, &err) != 0)
        fail_msg("replay: %s", err.message);
    cs_reservation *after = list_all(m, &n1);
    assert_int_equal(n0, n1);
    for (size_t i = 0; i < n0; i++) {
        assert_int_equal(cs_prefix_compare(&before[i].prefix, &after[i].prefix), 0);
        assert_int_equal(before[i].seq, after[i].seq);
        assert_int_equal(before[i].state, after[i].state);
        assert_string_equal(before[i].token, after[i].token);
        assert_string_equal(before[i].owner, after[i].owner);
    }
    free(before);
    free(after);
    return m;
}

/* A child: PER_PROC commits of mixed lengths; each acknowledged block is
 * appended to its ack file ("token prefix\n") after the commit returned. */
static void child(int k, const cs_snapshot *s)
{
    cs_ledger *l = NULL;
    if (cs_ledger_open(g_name, &l, NULL) != 0)
        _exit(10);
    char path[400];
    snprintf(path, sizeof path, "%s/ack.%d", g_dir, k);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (fd < 0)
        _exit(11);
    cs_prefix pool = P("10.0.0.0/8");
    tu_rng r = {0x1234u + (uint64_t)k * 7919u};
    for (int i = 0; i < PER_PROC; i++) {
        unsigned len = 20 + (unsigned)tu_below(&r, 9);
        unsigned strategy = (unsigned)tu_below(&r, 3);
        cs_ipam_request q = {.pools = &pool, .n_pools = 1, .length = len, .count = 1,
                             .strategy = strategy};
        char tok[64], owner[64];
        snprintf(tok, sizeof tok, "p%d-%d", k, i);
        snprintf(owner, sizeof owner, "proc %d", k);
        cs_ipam_allocation a;
        unsigned why;
        int64_t n = cs_ledger_commit(l, s, &q, tok, owner, &a, &why, NULL);
        if (n != 1)
            _exit(12);
        char line[160], pb[CS_PREFIX_STRCAP];
        cs_prefix_format(&a.prefix, pb, sizeof pb);
        int m = snprintf(line, sizeof line, "%s %s\n", tok, pb);
        if (write(fd, line, (size_t)m) != m)
            _exit(13);
    }
    close(fd);
    cs_ledger_close(l);
    _exit(0);
}

static void ledger__eight_processes_kills_and_replay(void **state)
{
    (void)state;
    cs_snapshot *s = estate();
    cs_ledger *l = NULL;
    cs_error err;
    cs_error_clear(&err);
    if (cs_ledger_create(g_name, g_journal, &l, &err) != 0)
        fail_msg("create: %s", err.message);
    pid_t pid[PROCS];
    for (int k = 0; k < PROCS; k++) {
        pid[k] = fork();
        assert_true(pid[k] >= 0);
        if (pid[k] == 0)
            child(k, s);
    }
    /* Kill three of them while they run (most of a commit is spent holding
     * the lock: the allocation and the fsync). */
    const int victims[] = {1, 4, 6};
    const long delay_ms[] = {30, 80, 150};
    for (int v = 0; v < 3; v++) {
        struct timespec ts = {0, delay_ms[v] * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid[victims[v]], SIGKILL);
    }
    int killed = 0;
    for (int k = 0; k < PROCS; k++) {
        int st;
        assert_int_equal(waitpid(pid[k], &st, 0), pid[k]);
        if (WIFSIGNALED(st))
            killed++;
        else
            assert_int_equal(WEXITSTATUS(st), 0);
    }
    printf("ledger: %d of %d committers were killed\n", killed, PROCS);
    size_t n;
    cs_reservation *r = list_all(l, &n);
    assert_disjoint(r, n);
    /* Nothing acknowledged is lost. */
    size_t acked = 0;
    for (int k = 0; k < PROCS; k++) {
        char path[400], line[200];
        snprintf(path, sizeof path, "%s/ack.%d", g_dir, k);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        while (fgets(line, sizeof line, f)) {
            char tok[64], pb[64];
            if (sscanf(line, "%63s %63s", tok, pb) != 2)
                continue; /* a torn line of a killed child */
            cs_prefix p = P(pb);
            bool found = false;
            for (size_t i = 0; i < n && !found; i++)
                found = strcmp(r[i].token, tok) == 0 &&
                        cs_prefix_compare(&r[i].prefix, &p) == 0 &&
                        r[i].state == CS_RES_ACTIVE;
            if (!found)
                fail_msg("acknowledged %s %s is not in the ledger", tok, pb);
            acked++;
        }
        fclose(f);
    }
    printf("ledger: %zu reservations, %zu acknowledged\n", n, acked);
    assert_true(acked >= (size_t)(PROCS - 3) * PER_PROC);
    /* None overlaps the estate either. */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(cs_query_count(s, &r[i].prefix, CS_Q_OVERLAPPING), 0);
    free(r);
    l = restart_equal(l);
    cs_ledger_close(l);
    cs_snapshot_close(s);
}

typedef struct die_ctx {
    int at;
} die_ctx;

static void die_at(int step, void *ctx)
{
    if (step == ((die_ctx *)ctx)->at)
        raise(SIGKILL);
}

static void ledger__killed_at_every_step_wedges_nothing(void **state)
{
    (void)state;
    cs_snapshot *s = estate();
    cs_ledger *l = NULL;
    assert_int_equal(cs_ledger_create(g_name, g_journal, &l, NULL), 0);
    cs_prefix pool = P("10.0.0.0/8");
    for (int step = CS_LEDGER_STEP_JOURNALED; step <= CS_LEDGER_STEP_APPLIED; step++) {
        pid_t p = fork();
        assert_true(p >= 0);
        if (p == 0) {
            cs_ledger *c = NULL;
            if (cs_ledger_open(g_name, &c, NULL) != 0)
                _exit(10);
            cs_ipam_request q = {.pools = &pool, .n_pools = 1, .length = 24, .count = 2};
            cs_ipam_allocation a[2];
            die_ctx d = {step};
            char tok[32];
            snprintf(tok, sizeof tok, "die-%d", step);
            cs_ledger_commit_hooked(c, s, &q, tok, "doomed", a, NULL, die_at, &d, NULL);
            _exit(11);
        }
        /* Every other step the dead holder stays a ZOMBIE (not reaped)
         * while the next commit waits: it must count as gone too. */
        bool zombie = step % 2 == 0;
        int st;
        if (zombie) {
            siginfo_t si;
            memset(&si, 0, sizeof si);
            assert_int_equal(waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT), 0);
            assert_int_equal(si.si_code, CLD_KILLED);
        } else {
            assert_int_equal(waitpid(p, &st, 0), p);
            assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        }
        /* The next commit gets the lock, repairs, and allocates around the
         * journaled blocks of the dead one. */
        cs_ipam_request q = {.pools = &pool, .n_pools = 1, .length = 24, .count = 1};
        cs_ipam_allocation a;
        char tok[32];
        snprintf(tok, sizeof tok, "after-%d", step);
        assert_int_equal(cs_ledger_commit(l, s, &q, tok, "next", &a, NULL, NULL), 1);
        if (zombie)
            assert_int_equal(waitpid(p, &st, 0), p);
        size_t n;
        cs_reservation *r = list_all(l, &n);
        assert_disjoint(r, n);
        /* The dead commit was journaled before it died: it is there. */
        snprintf(tok, sizeof tok, "die-%d", step);
        size_t mine = 0;
        for (size_t i = 0; i < n; i++)
            mine += strcmp(r[i].token, tok) == 0;
        assert_int_equal(mine, 2);
        free(r);
        l = restart_equal(l);
    }
    cs_ledger_close(l);
    cs_snapshot_close(s);
}

static void ledger__tokens_release_and_retire(void **state)
{
    (void)state;
    cs_snapshot *s = estate();
    cs_ledger *l = NULL;
    assert_int_equal(cs_ledger_create(g_name, g_journal, &l, NULL), 0);
    cs_prefix pool = P("10.0.0.0/8");
    cs_ipam_request q = {.pools = &pool, .n_pools = 1, .length = 16, .count = 2};
    cs_ipam_allocation a[2], b[2];
    assert_int_equal(cs_ledger_commit(l, s, &q, "tok-A", "me", a, NULL, NULL), 2);
    /* The same token: the same blocks, nothing new. */
    assert_int_equal(cs_ledger_commit(l, s, &q, "tok-A", "me", b, NULL, NULL), 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(cs_prefix_compare(&a[i].prefix, &b[i].prefix), 0);
        assert_int_equal(a[i].pool, b[i].pool);
    }
    /* Another token avoids them. */
    assert_int_equal(cs_ledger_commit(l, s, &q, "tok-B", "you", b, NULL, NULL), 2);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            assert_false(cs_prefix_overlaps(&a[i].prefix, &b[j].prefix));
    /* Bad token. */
    assert_int_equal(cs_ledger_commit(l, s, &q, "bad token", "x", b, NULL, NULL), CS_EINVAL);
    /* Release by token, then by prefix. */
    assert_int_equal(cs_ledger_release(l, "tok-A", NULL, NULL), 2);
    assert_int_equal(cs_ledger_release(l, "tok-A", NULL, NULL), 0);
    assert_int_equal(cs_ledger_release(l, NULL, &b[0].prefix, NULL), 1);
    cs_prefix act[8];
    assert_int_equal(cs_ledger_active(l, act, 8, NULL), 1);
    assert_int_equal(cs_prefix_compare(&act[0], &b[1].prefix), 0);
    /* A released block is free again: first-fit takes it back. */
    q.count = 1;
    assert_int_equal(cs_ledger_commit(l, s, &q, "tok-C", "", b, NULL, NULL), 1);
    assert_int_equal(cs_prefix_compare(&b[0].prefix, &a[0].prefix), 0);
    /* The block appears in the sources: retired as fulfilled. */
    cs_snapshot_builder *sb = cs_snapshot_builder_new();
    assert_int_equal(cs_snapshot_builder_add(sb, &b[0].prefix, 1, NULL), 0);
    cs_snapshot *s2 = NULL;
    assert_int_equal(cs_snapshot_builder_freeze(sb, &s2, NULL), 0);
    cs_snapshot_builder_free(sb);
    assert_int_equal(cs_ledger_retire(l, s2, NULL), 1);
    assert_int_equal(cs_ledger_retire(l, s2, NULL), 0);
    size_t n;
    cs_reservation *r = list_all(l, &n);
    size_t fulfilled = 0;
    for (size_t i = 0; i < n; i++)
        fulfilled += r[i].state == CS_RES_FULFILLED;
    assert_int_equal(fulfilled, 1);
    free(r);
    l = restart_equal(l);
    /* No ledger: a clear error. */
    cs_ledger *none = NULL;
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_ledger_open("cs-no-such-ledger", &none, &err), CS_EINVAL);
    assert_non_null(strstr(err.message, "--ledger"));
    cs_ledger_close(l);
    cs_snapshot_close(s2);
    cs_snapshot_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ledger__tokens_release_and_retire, setup, teardown),
        cmocka_unit_test_setup_teardown(ledger__killed_at_every_step_wedges_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(ledger__eight_processes_kills_and_replay, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
