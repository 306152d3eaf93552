/*
 * engine/ingest/load.c — cs_estate_detect and cs_estate_load: name what a
 * source path holds and hand it to the right reader.
 *
 * Detection (estate.h documents it): a directory is an org-wide collection
 * (ESTATE/<account>/<region>/ trees, engine/ingest/estate_dir.c); a file is
 * judged by its first bytes: "CIDRSCP\0" a snapshot image, '{' or '['
 * (after a UTF-8 byte-order mark and blanks) AWS JSON (which shape is told
 * by engine/ingest/json_shapes.c from its top-level keys), otherwise its
 * first line as a CSV header (engine/ingest/csv.c): VPC CIDRs, peering
 * connections, or a prefix list.
 *
 * OPENED ONCE. cs_estate_load opens a source once, reads only until its
 * kind is known (the first line, at most 64 KiB), and hands those bytes with
 * the descriptor to the reader, which goes on from there. So a FIFO, a pipe
 * (`-` is standard input) or a process substitution (<(aws ec2 ...)) is read
 * exactly once and never waited on twice; a FIFO is opened without blocking
 * so an absent writer cannot hang the open. cs_estate_detect, which only
 * names a kind, never reads a non-regular file (CS_SRC_STREAM).
 * cs_estate_load_sources reads a list of sources in order, each with its own
 * region and account (the CLI's --source-region / --source-account as they
 * stood before it on the command line).
 *
 * Does not: parse anything itself. Thread-safe as the readers are (one
 * estate per thread). Tests: tests/test_csv.c (detection and dispatch).
 */
#include "ingest/ingest_internal.h"
#include "ingest/shapes_internal.h"

#include "core/error_internal.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DETECT_WINDOW (64u * 1024u)

static int io_error(cs_error *err, const char *path, const char *what)
{
    return cs_ingest_open_error(err, path, what ? what : "cannot open", errno);
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The kind of a source whose first bytes are buf[0..len) (the whole source
 * when shorter than the window). */
static int detect_buf(const char *path, const char *buf, size_t len, cs_error *err)
{
    if (len >= 8 && memcmp(buf, "CIDRSCP", 8) == 0)
        return CS_SRC_SNAPSHOT;
    size_t i = 0;
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    size_t start = i;
    while (i < len && blank(buf[i]))
        i++;
    if (i == len) {
        cs_error_clear(err);
        cs_error_locate(err, path, 1, 1, 0, 0, NULL, 0);
        return cs_fail(err, CS_EPARSE, len ? "file holds only blanks" : "empty file");
    }
    if (buf[i] == '{' || buf[i] == '[')
        return CS_SRC_AWS_JSON;
    const char *nl = memchr(buf + start, '\n', len - start);
    size_t line_len = nl ? (size_t)(nl - (buf + start)) : len - start;
    return cs_ingest_csv_header_kind(buf + start, line_len);
}

/* Whether buf[0..len) holds enough to decide: the snapshot magic, or a
 * first non-blank byte that is '{' / '[', or a whole first line. */
static bool decided(const char *buf, size_t len)
{
    if (len >= 8 && memcmp(buf, "CIDRSCP", 8) == 0)
        return true;
    size_t i = len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    while (i < len && blank(buf[i]))
        i++;
    if (i == len)
        return false;
    if (buf[i] == '{' || buf[i] == '[')
        return i + 8 <= len || len >= 8;
    return memchr(buf + i, '\n', len - i) != NULL;
}

/*
 * Reads from `fd` into buf (cap bytes) until the kind can be told (or the
 * window is full, or the input ends): a pipe is never read further than
 * needed, and what was read is handed on to the reader, never read again.
 * Returns the byte count or -1 (errno set).
 */
static ssize_t read_head(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    while (len < cap && (len < 8 || !decided(buf, len))) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        len += (size_t)n;
    }
    return (ssize_t)len;
}

int cs_estate_detect(const char *path, cs_error *err)
{
    if (!path)
        return cs_fail(err, CS_EINVAL, "NULL path");
    struct stat st;
    if (stat(path, &st) != 0)
        return io_error(err, path, NULL);
    if (S_ISDIR(st.st_mode))
        return CS_SRC_DIR;
    if (!S_ISREG(st.st_mode)) {
        /* Reading a pipe to tell its kind would consume it: a pipe is a
         * text source here, and cs_estate_load tells which one from the
         * bytes it reads anyway. */
        return CS_SRC_STREAM;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_error(err, path, NULL);
    static_assert(DETECT_WINDOW <= 1u << 20, "detection window stays small");
    char buf[DETECT_WINDOW];
    ssize_t n = read_head(fd, buf, sizeof buf);
    if (n < 0) {
        int rc = io_error(err, path, "read failed");
        close(fd);
        return rc;
    }
    close(fd);
    return detect_buf(path, buf, (size_t)n, err);
}

/* Whether the builder holds nothing yet (a snapshot stream replaces the
 * estate, so it may only be the first and only source). */
static bool load_empty(const cs_estate *e)
{
    cs_estate_counts c;
    cs_estate_build_counts(e, &c);
    return !c.accounts && !c.regions && !c.vpcs && !c.assocs && !c.peerings && !c.edges && !c.findings;
}

/* One source that is not a directory, from its open descriptor: the first
 * bytes tell the kind and are handed to the reader with the descriptor. */
static int load_fd(cs_estate *e, const char *path, int fd, const cs_load_options *opts,
                   cs_error *err)
{
    char buf[DETECT_WINDOW];
    ssize_t n = read_head(fd, buf, sizeof buf);
    if (n < 0)
        return io_error(err, path, "read failed");
    int kind = opts->kind;
    if (kind == CS_SRC_AUTO || kind == CS_SRC_STREAM) {
        kind = detect_buf(path, buf, (size_t)n, err);
        if (kind < 0) {
            /* An empty file is one rejected source under keep-going, like
             * any bad file of a directory. */
            if (opts->keep_going && kind == CS_EPARSE) {
                int fr = cs_estate_reject(e, err);
                return fr ? cs_fail(err, fr, "out of memory recording a rejected file") : 1;
            }
            return kind;
        }
    }
    switch (kind) {
    case CS_SRC_AWS_JSON: /* EC2, IPAM or Config: json_shapes.c tells */
        return cs_ingest_json_fd(e, path, fd, buf, (size_t)n, opts->region,
                                 opts->account, NULL, opts, err);
    case CS_SRC_CSV_VPCS:
    case CS_SRC_CSV_PEERINGS:
    case CS_SRC_CSV_EDGES:
    case CS_SRC_PREFIX_LIST:
        return cs_ingest_csv_fd_head(e, path, fd, buf, (size_t)n, kind, opts, err);
    case CS_SRC_SNAPSHOT:
        if (opts->snapshot && !*opts->snapshot && load_empty(e)) {
            int rc = cs_snapshot_from_fd(fd, buf, (size_t)n, 0, opts->snapshot, err);
            if (rc)
                cs_error_source(err, path);
            return rc;
        }
        cs_error_clear(err);
        cs_error_source(err, path);
        return cs_fail(err, CS_EINVAL,
                       "a snapshot image, not a source: open it with cs_snapshot_open "
                       "(it cannot be combined with other sources)");
    case CS_SRC_DIR:
        cs_error_clear(err);
        cs_error_source(err, path);
        return cs_fail(err, CS_EINVAL, "not a directory");
    default:
        return cs_fail(err, CS_EINVAL, "unknown source kind %d", kind);
    }
}

int cs_estate_load(cs_estate *e, const char *path, const cs_load_options *opts, cs_error *err)
{
    if (!e || !path)
        return cs_fail(err, CS_EINVAL, "NULL estate or path");
    static const cs_load_options defaults = {0};
    if (!opts)
        opts = &defaults;
    if (strcmp(path, "-") == 0)
        return load_fd(e, "(standard input)", STDIN_FILENO, opts, err);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int en = errno;
        if (en == EISDIR || (opts->kind == CS_SRC_DIR))
            return cs_ingest_estate_dir(e, path, opts, err);
        errno = en;
        return io_error(err, path, NULL);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = io_error(err, path, "cannot stat");
        close(fd);
        return rc;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return cs_ingest_estate_dir(e, path, opts, err);
    }
    /* Opened without blocking (a FIFO with no writer yet must not hang the
     * open itself); reads block again, once the FIFO's writer has come
     * (before that a read would see an empty source). */
    if (S_ISFIFO(st.st_mode)) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
            ;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    int rc = load_fd(e, path, fd, opts, err);
    close(fd);
    return rc;
}

int cs_estate_load_sources(cs_estate *e, const cs_source *src, size_t n,
                           const cs_load_options *opts, cs_error *err)
{
    if (!e || (!src && n))
        return cs_fail(err, CS_EINVAL, "NULL estate or sources");
    static const cs_load_options defaults = {0};
    if (!opts)
        opts = &defaults;
    uint64_t rejected = 0;
    for (size_t i = 0; i < n; i++) {
        if (!src[i].path)
            return cs_fail(err, CS_EINVAL, "source %zu has no path", i);
        cs_load_options o = *opts;
        if (src[i].region)
            o.region = src[i].region;
        if (src[i].account)
            o.account = src[i].account;
        int rc = cs_estate_load(e, src[i].path, &o, err);
        if (rc < 0)
            return rc;
        rejected += (uint64_t)rc;
    }
    return rejected > INT32_MAX ? INT32_MAX : (int)rejected;
}
