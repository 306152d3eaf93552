/*
 * tests/test_estate_dir_threads.c — an estate directory read on several
 * threads (cs_load_options.threads, engine/ingest/estate_dir.c and
 * replay.c) gives what one thread gives: the same frozen image bytes (so
 * the same VPCs, associations, strings and findings in the same order), the
 * same rejected count, the same error when reading stops, the same progress
 * lines. Directories come from the generator (cs_gen), then get files that
 * make records of two files meet in the builder (an exact duplicate page, a
 * page of another region's VPCs: a conflict), malformed files and skipped
 * entries, at seeds printed on failure. The recording, replay and resume
 * of engine/ingest/replay.c are also checked without threads (so without
 * timing deciding which path runs): a text read after another, as one
 * thread reads it and as a replayed, resumed recording.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cidrscope/cidrscope.h>
#include <cidrscope/estate.h>

#include "gen_estate.h"
#include "support/testutil.h"
#include "ingest/aws_json_internal.h"

typedef struct run {
    int rc;
    cs_error err;
    unsigned char *image;  /* the frozen image (rc >= 0) */
    size_t image_len;
    char progress[1 << 16]; /* every progress report, one per line */
    size_t progress_len;
} run;

static void on_progress(const cs_load_progress *p, void *ctx)
{
    run *r = ctx;
    int n = snprintf(r->progress + r->progress_len, sizeof r->progress - r->progress_len,
                     "%s %llu %llu %d\n", p->path, (unsigned long long)p->bytes,
                     (unsigned long long)p->size, p->done);
    if (n > 0 && (size_t)n < sizeof r->progress - r->progress_len)
        r->progress_len += (size_t)n;
}

/* Loads dir on `threads` threads into *r. */
static void load(const char *dir, unsigned threads, bool keep_going, run *r)
{
    memset(r, 0, sizeof *r);
    cs_error_clear(&r->err);
    cs_estate *e = cs_estate_new();
    assert_non_null(e);
    cs_load_options o;
    memset(&o, 0, sizeof o);
    o.keep_going = keep_going;
    o.threads = threads;
    o.kind = CS_SRC_DIR;
    o.progress = on_progress;
    o.progress_ctx = r;
    r->rc = cs_estate_load(e, dir, &o, &r->err);
    if (r->rc >= 0) {
        cs_snapshot *s = NULL;
        cs_error fe;
        assert_int_equal(cs_estate_freeze(e, &s, &fe), 0);
        const void *img = cs_snapshot_image(s, &r->image_len);
        r->image = malloc(r->image_len);
        assert_non_null(r->image);
        memcpy(r->image, img, r->image_len);
        /* The header's created_unix (offset 40) and the header checksum
         * over it (offset 96) tell when, not what (engine/image/snapshot.c's
         * header table). */
        assert_true(r->image_len >= 104);
        memset(r->image + 40, 0, 8);
        memset(r->image + 96, 0, 8);
        cs_snapshot_close(s);
    }
    cs_estate_free(e);
}

/* Demands that a and b agree in everything; `what` names the case. */
static void same(const run *a, const run *b, const char *what)
{
    if (a->rc != b->rc || a->image_len != b->image_len ||
        (a->image && memcmp(a->image, b->image, a->image_len) != 0) ||
        a->err.code != b->err.code || strcmp(a->err.message, b->err.message) != 0 ||
        strcmp(a->err.source, b->err.source) != 0 || a->err.line != b->err.line ||
        a->err.column != b->err.column || strcmp(a->err.text, b->err.text) != 0 ||
        a->progress_len != b->progress_len ||
        memcmp(a->progress, b->progress, a->progress_len) != 0) {
        print_error("%s: one thread and several differ: rc %d / %d, image %zu / %zu bytes, "
                    "error '%s' / '%s'\n",
                    what, a->rc, b->rc, a->image_len, b->image_len, a->err.message,
                    b->err.message);
        for (size_t i = 0; a->image && b->image && i < a->image_len && i < b->image_len; i++)
            if (a->image[i] != b->image[i]) {
                print_error("first image difference at byte %zu of %zu\n", i, a->image_len);
                break;
            }
        if (a->progress_len != b->progress_len ||
            memcmp(a->progress, b->progress, a->progress_len) != 0)
            print_error("progress differs:\n%.*s---\n%.*s\n", (int)a->progress_len,
                        a->progress, (int)b->progress_len, b->progress);
        fail();
    }
}

static void run_free(run *r)
{
    free(r->image);
    r->image = NULL;
}

/* A generated estate directory under a fresh temporary directory. */
static void make_dir(char *tmp, size_t cap, char *dir, size_t dcap, uint64_t seed,
                     uint32_t accounts, uint32_t regions, uint32_t vpcs)
{
    assert_non_null(tu_mkdtemp(tmp, cap, "cs-dir-threads"));
    snprintf(dir, dcap, "%s/estate", tmp);
    gen_opts o;
    memset(&o, 0, sizeof o);
    o.seed = seed;
    o.accounts = accounts;
    o.regions = regions;
    o.vpcs = vpcs;
    o.out = dir;
    o.format = GEN_DIR;
    gen_stats st;
    cs_error err;
    if (gen_estate(&o, &st, &err) != 0) {
        print_error("gen seed %llu: %s\n", (unsigned long long)seed, err.message);
        fail();
    }
}

static void rm_rf(const char *path)
{
    char cmd[600];
    assert_true(strlen(path) < 500);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void copy_file(const char *from, const char *to)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
}

/* The i-th directory entry of `dir` in byte order (names without '.'). */
static void nth_entry(const char *dir, unsigned i, char *out, size_t cap)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls -1 '%s' | LC_ALL=C sort | sed -n '%up'", dir, i + 1);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(out, (int)cap, p));
    out[strcspn(out, "\n")] = '\0';
    pclose(p);
}

/* ESTATE/<account i>/<region j> of a generated directory. */
static void region_dir(const char *dir, unsigned i, unsigned j, char *out, size_t cap)
{
    char acct[64], reg[64], a[900];
    assert_true(strlen(dir) < 800);
    nth_entry(dir, i, acct, sizeof acct);
    snprintf(a, sizeof a, "%s/%s", dir, acct);
    nth_entry(a, j, reg, sizeof reg);
    snprintf(out, cap, "%s/%s", a, reg);
}

/* ---- tests ---------------------------------------------------------------------- */

static void estate_dir_threads__clean_directory_gives_the_same_image(void **state)
{
    (void)state;
    char tmp[64], dir[128], what[64];
    for (uint64_t seed = 1; seed <= 3; seed++) {
        /* 20 accounts x 3 regions x 2 files: more files than the helpers
         * may run ahead, so the window is exercised. */
        make_dir(tmp, sizeof tmp, dir, sizeof dir, seed, 20, 3, 4);
        run one, two, four;
        load(dir, 1, false, &one);
        assert_true(one.rc >= 0);
        assert_true(one.image_len > 0);
        snprintf(what, sizeof what, "seed %llu, 2 threads", (unsigned long long)seed);
        load(dir, 2, false, &two);
        same(&one, &two, what);
        snprintf(what, sizeof what, "seed %llu, 4 threads", (unsigned long long)seed);
        load(dir, 4, false, &four);
        same(&one, &four, what);
        run_free(&one);
        run_free(&two);
        run_free(&four);
        rm_rf(tmp);
    }
}

/* Records of two files that meet in the builder (merges and conflicts),
 * malformed files and skipped entries: under keep-going the same image
 * (rejections and findings in the same order) and count; without it the
 * same first error. */
static void estate_dir_threads__meeting_records_and_bad_files_agree(void **state)
{
    (void)state;
    char tmp[64], dir[128], what[96], r0[1024], r1[1024], r2[1024], p[2048], q[2048];
    for (uint64_t seed = 11; seed <= 13; seed++) {
        make_dir(tmp, sizeof tmp, dir, sizeof dir, seed, 12, 3, 3);
        region_dir(dir, 0, 0, r0, sizeof r0);
        region_dir(dir, 4, 1, r1, sizeof r1);
        region_dir(dir, 9, 2, r2, sizeof r2);
        /* An exact duplicate page in the same directory: merged. */
        snprintf(p, sizeof p, "%s/vpcs.json", r0);
        snprintf(q, sizeof q, "%s/vpcs-2.json", r0);
        copy_file(p, q);
        /* Another region's page: the same VPCs in another region, a
         * conflict per VPC (rejected under keep-going). */
        snprintf(q, sizeof q, "%s/vpcs-other.json", r1);
        copy_file(p, q);
        /* Malformed files and entries that are skipped. */
        snprintf(q, sizeof q, "%s/broken.json", r1);
        write_file(q, "{\"Vpcs\": [{\"VpcId\": 7, \"OwnerId\": \"123456789012\"}]}\n");
        snprintf(q, sizeof q, "%s/cut.json", r2);
        write_file(q, "{\"Vpcs\": [{\"VpcId\": \"vpc-0a\", \"CidrBlock\": \"10.9.");
        snprintf(q, sizeof q, "%s/README.txt", r2);
        write_file(q, "notes\n");
        /* A JSON document of another kind: a finding made by the reader
         * (so recorded and replayed), in two directories. */
        snprintf(q, sizeof q, "%s/subnets.json", r1);
        write_file(q, "{\"Subnets\": []}\n");
        snprintf(q, sizeof q, "%s/subnets.json", r2);
        write_file(q, "{\"Subnets\": [{\"SubnetId\": \"subnet-1\"}]}\n");
        snprintf(q, sizeof q, "%s/old", r0);
        assert_int_equal(mkdir(q, 0755), 0);
        for (int kg = 1; kg >= 0; kg--) {
            run one, two;
            load(dir, 1, kg, &one);
            if (kg)
                assert_true(one.rc > 0); /* rejections were made */
            else
                assert_true(one.rc < 0);
            snprintf(what, sizeof what, "seed %llu, keep-going %d", (unsigned long long)seed, kg);
            load(dir, 2, kg, &two);
            same(&one, &two, what);
            run_free(&one);
            run_free(&two);
        }
        rm_rf(tmp);
    }
}

/* A conflict between files far apart (the first file's VPCs again in the
 * last region directory) is found on the loading thread's replay check,
 * with the error one thread gives. */
static void estate_dir_threads__late_conflict_is_the_same_error(void **state)
{
    (void)state;
    char tmp[64], dir[128], r0[1024], rl[1024], p[2048], q[2048];
    make_dir(tmp, sizeof tmp, dir, sizeof dir, 21, 10, 2, 2);
    region_dir(dir, 0, 0, r0, sizeof r0);
    region_dir(dir, 9, 1, rl, sizeof rl);
    snprintf(p, sizeof p, "%s/vpcs.json", r0);
    snprintf(q, sizeof q, "%s/vpcs-again.json", rl);
    copy_file(p, q);
    run one, two;
    load(dir, 1, false, &one);
    assert_int_equal(one.rc, CS_ECONFLICT);
    assert_non_null(strstr(one.err.message, "seen twice"));
    load(dir, 2, false, &two);
    same(&one, &two, "late conflict");
    rm_rf(tmp);
}

/* ---- replay and resume without threads ---------------------------------------------- */

static void slurp(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    *text = malloc((size_t)n + 1);
    assert_non_null(*text);
    assert_int_equal(fread(*text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
}

typedef struct reading {
    const char *text;
    size_t len;
    const char *region;
} reading;

static int read_one(cs_estate *e, const reading *r, bool keep_going, cs_error *err)
{
    cs_load_options o;
    memset(&o, 0, sizeof o);
    o.keep_going = keep_going;
    cs_error_clear(err);
    return cs_ingest_aws_json_buf(e, "second.json", r->text, r->len, 0, r->region, NULL, &o,
                                  err);
}

/* `second` read after `first`: by one thread, and recorded into an estate of
 * its own, then replayed (and resumed) into one holding `first`. Returns
 * whether the replay resumed; fails the test on any difference. */
static bool replayed_equals_read(const reading *first, const reading *second, bool keep_going,
                                 const char *what)
{
    cs_error ea, eb, es;
    run a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    cs_estate *ea_e = cs_estate_new(), *eb_e = cs_estate_new(), *scratch = cs_estate_new();
    assert_true(ea_e && eb_e && scratch);
    read_one(ea_e, first, keep_going, &ea);
    a.rc = read_one(ea_e, second, keep_going, &ea);
    read_one(eb_e, first, keep_going, &eb);
    cs_ingest_log log;
    memset(&log, 0, sizeof log);
    cs_ingest_log_begin(&log);
    int rs = read_one(scratch, second, keep_going, &es);
    cs_ingest_log_end();
    cs_estate_free(scratch);
    cs_ingest_resume at;
    cs_error_clear(&eb);
    int rr = cs_ingest_log_replay(eb_e, &log, &at, &eb);
    assert_true(rr == 0 || rr == 1);
    if (rr == 1) {
        cs_ingest_resume_begin(&at);
        b.rc = read_one(eb_e, second, keep_going, &eb);
        cs_ingest_resume_end();
    } else {
        b.rc = rs;
        eb = es;
    }
    a.err = ea;
    b.err = eb;
    for (int k = 0; k < 2; k++) {
        run *x = k ? &b : &a;
        if (x->rc < 0)
            continue;
        cs_snapshot *snap = NULL;
        cs_error fe;
        assert_int_equal(cs_estate_freeze(k ? eb_e : ea_e, &snap, &fe), 0);
        const void *img = cs_snapshot_image(snap, &x->image_len);
        x->image = malloc(x->image_len);
        assert_non_null(x->image);
        memcpy(x->image, img, x->image_len);
        memset(x->image + 40, 0, 8);
        memset(x->image + 96, 0, 8);
        cs_snapshot_close(snap);
    }
    same(&a, &b, what);
    run_free(&a);
    run_free(&b);
    cs_ingest_log_free(&log);
    cs_estate_free(ea_e);
    cs_estate_free(eb_e);
    return rr == 1;
}

static void estate_dir_threads__replay_and_resume_equal_one_reading(void **state)
{
    (void)state;
    char tmp[64], dir[128], r0[1024], p[2048];
    make_dir(tmp, sizeof tmp, dir, sizeof dir, 31, 2, 1, 6);
    region_dir(dir, 0, 0, r0, sizeof r0);
    snprintf(p, sizeof p, "%s/vpcs.json", r0);
    char *vpcs;
    size_t vlen;
    slurp(p, &vpcs, &vlen);
    snprintf(p, sizeof p, "%s/peering.json", r0);
    char *pcx;
    size_t plen;
    slurp(p, &pcx, &plen);
    static const char broken[] = "{\"Vpcs\": [{\"VpcId\": 7}, {\"VpcId\": \"vpc-1\"}]}";
    static const char empty[] = "{\"Vpcs\": []}";
    /* vpc-0a twice with another owner: the builder refuses the second */
    static const char twice[] =
        "{\"Vpcs\": [{\"VpcId\": \"vpc-0a\", \"OwnerId\": \"111111111111\", "
        "\"CidrBlock\": \"10.0.0.0/16\", \"State\": \"available\"},\n"
        "{\"VpcId\": \"vpc-0a\", \"OwnerId\": \"222222222222\", "
        "\"CidrBlock\": \"10.0.0.0/16\", \"State\": \"available\"}]}";
    const reading east = {vpcs, vlen, "us-east-1"}, west = {vpcs, vlen, "us-west-2"},
                  peers = {pcx, plen, "us-east-1"}, bad = {broken, sizeof broken - 1, "us-east-1"},
                  none = {empty, sizeof empty - 1, "us-east-1"},
                  self = {twice, sizeof twice - 1, "us-east-1"};
    for (int kg = 0; kg < 2; kg++) {
        /* Nothing met: the replay agrees to the end. */
        assert_false(replayed_equals_read(&none, &east, kg, "a first reading"));
        /* The same VPCs again: merged, which a reader does not tell from
         * new, so the replay agrees. */
        assert_false(replayed_equals_read(&east, &east, kg, "the same VPCs again"));
        assert_false(replayed_equals_read(&peers, &peers, kg, "the same peerings again"));
        /* The same VPCs in another region: the first call conflicts, the
         * reader resumes from there (rejects under keep-going, stops
         * without). */
        assert_true(replayed_equals_read(&east, &west, kg, "another region"));
        /* A bad record is the reader's, not the builder's: replayed. */
        assert_false(replayed_equals_read(&east, &bad, kg, "a bad record"));
        /* A record the builder refuses within the file: recorded as done
         * (nothing is built while recording), so the replay meets the
         * refusal and the reader resumes there. */
        assert_true(replayed_equals_read(&none, &self, kg, "a VPC twice in one file"));
    }
    free(vpcs);
    free(pcx);
    rm_rf(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(estate_dir_threads__clean_directory_gives_the_same_image),
        cmocka_unit_test(estate_dir_threads__meeting_records_and_bad_files_agree),
        cmocka_unit_test(estate_dir_threads__late_conflict_is_the_same_error),
        cmocka_unit_test(estate_dir_threads__replay_and_resume_equal_one_reading),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
