/*
 * engine/image/snapshot_file.c — images in files and streams: written
 * atomically (an unnamed O_TMPFILE linked and renamed over the target, or a
 * named temporary the next writer removes once its writer is dead; a device
 * or FIFO target is written into, never replaced), read whole into memory
 * (never mapped: a file rewritten in place cannot pull pages from under a
 * reader), and read from pipes and FIFOs to their end. Does not: lay out or
 * validate an image (snapshot.c does, through snap_open_owned).
 */
#define _GNU_SOURCE
#include "image/snapshot_internal.h"

#include "core/error_internal.h"
#include "image/pages_internal.h"
#include "image/snapshot_format_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- files -------------------------------------------------------------- */

static int io_fail(cs_error *err, const char *path, const char *what)
{
    int e = errno;
    cs_error_source(err, path);
    return cs_fail(err, CS_EIO, "%s: %s", what, strerror(e));
}

/* The directory part of path ("." when none) into dir (PATH_MAX bytes). */
static void split_dir(const char *path, char *dir)
{
    snprintf(dir, PATH_MAX, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, PATH_MAX, ".");
}

#define TMP_MARK ".cstmp."

/* Removes the temporary files of writers that died in `dir`: names
 * "<file>.cstmp.<pid>.<16 hex>" whose pid names no process. */
static void remove_dead_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *m = strstr(de->d_name, TMP_MARK);
        if (!m)
            continue;
        char *end;
        errno = 0;
        long pid = strtol(m + strlen(TMP_MARK), &end, 10);
        if (errno || pid <= 0 || *end != '.' || strlen(end + 1) != 16)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive (or another user's live process) */
        char full[PATH_MAX];
        if (snprintf(full, sizeof full, "%s/%s", dir, de->d_name) < (int)sizeof full)
            unlinkat(AT_FDCWD, full, 0);
    }
    closedir(d);
}

static int write_fd(int fd, const uint8_t *p, size_t left, const char *path, cs_error *err)
{
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC;
            return io_fail(err, path, "write");
        }
        p += w;
        left -= (size_t)w;
    }
    return 0;
}

int cs_snapshot_write_mode(const cs_snapshot *s, const char *path, unsigned mode, cs_error *err)
{
    if (!s || !path)
        return cs_fail(err, CS_EINVAL, "NULL snapshot or path");
    if (mode & ~0777u)
        return cs_fail(err, CS_EINVAL, "mode %o has bits outside 0777", mode);
    size_t image_len;
    const void *image = cs_snapshot_image(s, &image_len);
    size_t plen = strlen(path);
    if (plen == 0 || plen > PATH_MAX - 64)
        return cs_fail(err, CS_EINVAL, "path empty or too long");
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        /* A device, FIFO or socket (-o /dev/null, -o /dev/stdout): written
         * into, never replaced by a rename (as root that would put a
         * regular file in place of /dev/null). */
        int dfd = open(path, O_WRONLY | O_CLOEXEC);
        if (dfd < 0)
            return io_fail(err, path, "open");
        int rc = write_fd(dfd, image, image_len, path, err);
        if (close(dfd) != 0 && rc == 0)
            rc = io_fail(err, path, "close");
        return rc;
    }
    char dir[PATH_MAX], tmp[PATH_MAX];
    split_dir(path, dir);
    remove_dead_temps(dir);
    uint64_t rnd = 0;
    int fd = -1;
    bool named = false;
    /* An unnamed file first: a writer killed at any point leaves nothing.
     * 0666 and the umask decide the mode, as for any new file. */
#ifdef O_TMPFILE
    fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
#endif
    for (int attempt = 0; fd < 0 && attempt < 16; attempt++) {
        /* No O_TMPFILE here: a name the next writer removes once we are
         * dead (remove_dead_temps). */
        rnd = rnd * 0x9e3779b97f4a7c15ull + (uint64_t)time(NULL) + (uint64_t)clock() + (uintptr_t)&rnd;
        snprintf(tmp, sizeof tmp, "%s" TMP_MARK "%d.%016llx", path, (int)getpid(), (unsigned long long)rnd);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        named = fd >= 0;
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0)
        return io_fail(err, path, "cannot create temporary file");
    int rc = write_fd(fd, image, image_len, path, err);
    if (rc == 0 && mode && fchmod(fd, (mode_t)mode) != 0)
        rc = io_fail(err, path, "fchmod");
    if (rc == 0 && fsync(fd) != 0)
        rc = io_fail(err, path, "fsync");
    if (rc == 0 && !named) {
        /* Give the unnamed file a temporary name, then rename it over the
         * target (linkat cannot replace). /proc/self/fd needs no privilege,
         * unlike AT_EMPTY_PATH. */
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        for (int attempt = 0; attempt < 16; attempt++) {
            rnd = rnd * 0x9e3779b97f4a7c15ull + (uint64_t)clock() + (uintptr_t)&rnd + 1;
            snprintf(tmp, sizeof tmp, "%s" TMP_MARK "%d.%016llx", path, (int)getpid(),
                     (unsigned long long)rnd);
            if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0) {
                named = true;
                break;
            }
            if (errno != EEXIST)
                break;
        }
        if (!named)
            rc = io_fail(err, path, "linkat");
    }
    if (close(fd) != 0 && rc == 0)
        rc = io_fail(err, path, "close");
    if (rc == 0 && rename(tmp, path) != 0)
        rc = io_fail(err, path, "rename");
    if (rc) {
        if (named)
            unlink(tmp);
        return rc;
    }
    /* Make the rename itself durable. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int cs_snapshot_write(const cs_snapshot *s, const char *path, cs_error *err)
{
    return cs_snapshot_write_mode(s, path, 0, err);
}

/* Reads the whole of fd (st_size bytes) into a buffer of cs_pages_alloc
 * (huge pages: a 3 MB image read into fresh 4 KiB pages cost more than its
 * validation).
 * Returns 0 with *buf, 1 when the file changed while read (size, time or
 * a short read), or an error. */
static int read_whole(int fd, const struct stat *st, const char *path, uint8_t **buf, cs_error *err)
{
    size_t len = (size_t)st->st_size;
    size_t cap = (len + CS_ALIGN - 1) & ~(size_t)(CS_ALIGN - 1);
    uint8_t *b = cs_pages_alloc(cap ? cap : CS_ALIGN);
    if (!b)
        return cs_fail(err, CS_ENOMEM, "out of memory reading %zu bytes", len);
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, b + got, len - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            cs_pages_free(b);
            return io_fail(err, path, "read");
        }
        if (r == 0)
            break; /* truncated meanwhile */
        got += (size_t)r;
    }
    struct stat after;
    if (fstat(fd, &after) != 0) {
        cs_pages_free(b);
        return io_fail(err, path, "fstat");
    }
    if (got != len || after.st_size != st->st_size || after.st_mtim.tv_sec != st->st_mtim.tv_sec ||
        after.st_mtim.tv_nsec != st->st_mtim.tv_nsec || after.st_ctim.tv_nsec != st->st_ctim.tv_nsec) {
        cs_pages_free(b);
        return 1;
    }
    *buf = b;
    return 0;
}


/* Largest first allocation for a stream: the header's image_len is only a
 * claim until the bytes arrive, so the buffer grows with what is read. */
#define STREAM_FIRST_CAP ((size_t)64 << 20)

/* Grows the aligned buffer *b (holding `used` bytes) to `cap` bytes. */
static int stream_grow(uint8_t **b, size_t used, size_t cap)
{
    uint8_t *n = cs_pages_alloc(cap);
    if (!n)
        return CS_ENOMEM;
    memcpy(n, *b, used);
    cs_pages_free(*b);
    *b = n;
    return 0;
}

int cs_snapshot_from_fd(int fd, const void *head, size_t head_len, unsigned flags,
                        cs_snapshot **out, cs_error *err)
{
    if (!out || (head_len && !head))
        return cs_fail(err, CS_EINVAL, "NULL head or out");
    *out = NULL;
    size_t cap = align_up(head_len > 65536 ? head_len : 65536);
    uint8_t *b = cs_pages_alloc(cap);
    if (!b)
        return cs_fail(err, CS_ENOMEM, "out of memory reading a snapshot stream");
    if (head_len)
        memcpy(b, head, head_len);
    size_t got = head_len;
    /* The image's claimed size, once the header is in; reading stops one
     * byte past it (so appended bytes are seen) or at the end. */
    uint64_t want = 0;
    for (;;) {
        if (!want && got >= CS_HEADER_LEN) {
            const cs_header *h = (const cs_header *)b;
            want = memcmp(h->magic, CS_MAGIC, 8) == 0 && h->image_len >= CS_HEADER_LEN ? h->image_len : got;
        }
        if (want && got > want)
            break;
        if (got == cap) {
            /* Doubling, or straight to the claimed size (plus the byte
             * that shows an append) while that is under STREAM_FIRST_CAP
             * or twice what arrived. */
            size_t next = cap * 2;
            if (want && want < SIZE_MAX / 4) {
                size_t claim = align_up((size_t)want + 1);
                size_t room = next > STREAM_FIRST_CAP ? next : STREAM_FIRST_CAP;
                if (claim > cap)
                    next = claim < room ? claim : room;
            }
            if (next <= cap || stream_grow(&b, got, next)) {
                cs_pages_free(b);
                return cs_fail(err, CS_ENOMEM, "out of memory reading a snapshot stream of %zu bytes", got);
            }
            cap = next;
        }
        ssize_t r = read(fd, b + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int en = errno;
            cs_pages_free(b);
            return cs_fail(err, CS_EIO, "read of a snapshot stream failed: %s", strerror(en));
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    if (got < CS_HEADER_LEN) {
        cs_pages_free(b);
        return cs_fail(err, CS_ECORRUPT, "stream of %zu bytes is shorter than an image header", got);
    }
    return snap_open_owned(b, got, flags, out, err);
}

int cs_snapshot_open(const char *path, unsigned flags, cs_snapshot **out,
                     cs_error *err)
{
    if (!path || !out)
        return cs_fail(err, CS_EINVAL, "NULL path or out");
    *out = NULL;
    /* O_NONBLOCK: opening a FIFO with no writer yet must not hang; reads
     * block again below. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return io_fail(err, path, "open");
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    uint8_t *buf = NULL;
    struct stat st;
    int rc = 1;
    if (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode))) {
        /* A pipe, FIFO or device: read once, into memory, to its end. A
         * FIFO whose writer has not opened it yet would read as empty:
         * wait for its first bytes (or its writer's close) first. */
        if (S_ISFIFO(st.st_mode)) {
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
                ;
        }
        rc = cs_snapshot_from_fd(fd, NULL, 0, flags, out, err);
        close(fd);
        if (rc)
            cs_error_source(err, path);
        return rc;
    }
    /* The file is read, not mapped: another process rewriting it in place
     * cannot pull pages from under us (no SIGBUS); a read that overlaps a
     * rewrite is noticed and done again. */
    for (int attempt = 0; attempt < 5 && rc == 1; attempt++) {
        if (attempt) {
            struct timespec ts = {0, 20000000L};
            nanosleep(&ts, NULL);
        }
        if (fstat(fd, &st) != 0) {
            rc = io_fail(err, path, "fstat");
            break;
        }
        if (!S_ISREG(st.st_mode)) {
            cs_error_source(err, path);
            rc = cs_fail(err, CS_EINVAL, "not a regular file");
            break;
        }
        if ((size_t)st.st_size < CS_HEADER_LEN) {
            cs_error_source(err, path);
            rc = cs_fail(err, CS_ECORRUPT, "file of %zu bytes is shorter than an image header",
                         (size_t)st.st_size);
            break;
        }
        rc = read_whole(fd, &st, path, &buf, err);
    }
    close(fd);
    if (rc == 1) {
        cs_error_source(err, path);
        return cs_fail(err, CS_EIO, "the file kept changing while it was read (5 attempts)");
    }
    if (rc)
        return rc;
    rc = snap_open_owned(buf, (size_t)st.st_size, flags, out, err);
    if (rc)
        cs_error_source(err, path);
    return rc;
}
