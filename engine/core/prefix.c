/*
 * engine/core/prefix.c — IPv4 and IPv6 prefixes: parse, format, compare.
 *
 * Does: turns "ADDR/LEN" text into a cs_prefix in one hand-written pass (no
 * sscanf, strtol or locale), writes the canonical text back (dotted quad;
 * RFC 5952 for IPv6), and answers order, containment and overlap.
 * Does not: allocate, print, keep state, or look at anything past text[len).
 * Every function is pure and thread-safe; errors go to the caller's cs_error.
 *
 * Representation (include/cidrscope/prefix.h):
 *
 *     bit   0                      63 64                     127
 *          +-------------------------+-------------------------+
 *          |           hi            |           lo            |  len, family
 *          +-------------------------+-------------------------+
 *     v4   |a.b.c.d|000...........000|000..................000|  0..32
 *     v6   |g0 :g1 :g2 :g3           |g4 :g5 :g6 :g7           |  0..128
 *
 *     10.1.0.0/16         hi = 0x0a01000000000000  lo = 0  len = 16
 *     2001:db8::/32       hi = 0x20010db800000000  lo = 0  len = 32
 *     ::ffff:10.0.0.0/104 hi = 0  lo = 0x0000ffff0a000000  len = 104 (IPv6)
 *
 * Grammar accepted by cs_prefix_parse (strict; every other byte is an error
 * with the column and span of the offending characters):
 *
 *     prefix  = addr [ "/" length ]        ; "/" length required unless
 *                                          ; CS_PARSE_BARE_ADDRESS
 *     length  = "0" / %x31-39 *2DIGIT      ; no sign, no leading zero,
 *                                          ; <= 32 (v4) or <= 128 (v6)
 *     addr    = v4 / v6
 *     v4      = octet 3("." octet)
 *     octet   = "0" / %x31-39 *2DIGIT      ; <= 255; "010" is rejected, as
 *                                          ; inet_aton would read it as octal
 *     v6      = RFC 4291 section 2.2: groups of 1..4 hex digits (any case,
 *               leading zeros allowed within the 4), at most one "::"
 *               standing for one or more zero groups, an optional dotted v4
 *               as the last 32 bits; no zone id ("fe80::1%eth0")
 *
 * The family is decided by the byte after the leading run of hex digits:
 * "." means IPv4 ("10.0.0.0/8"), ":" means IPv6 ("::/0", "2001:db8::/32");
 * otherwise a run of decimal digits is IPv4 ("10/8" fails as "needs 4
 * octets") and a run with hex letters is IPv6 ("fe80/10" fails as "needs 8
 * groups"), so the message speaks of the family the writer meant.
 *
 * Invariants of every prefix this file returns: family is CS_AF_V4 or
 * CS_AF_V6; len <= 32 or <= 128; bits past len are zero; for IPv4 hi's low
 * 32 bits and lo are zero. Functions taking a prefix do not rely on the
 * invariant for memory safety (any bit pattern gives a defined result), and
 * never shift a 64-bit value by 64 (a /0 or /64 mask is built by cases).
 *
 * Performance: parsing reads each input byte once, the first group twice
 * (the family probe); failure messages are formatted only when the caller
 * passed a cs_error, so bulk ingest with err == NULL pays nothing for them.
 * Formatting writes digits by hand, no snprintf.
 *
 * References: RFC 4632 (CIDR notation), RFC 4291 section 2.2 (IPv6 text
 * forms), RFC 5952 (canonical IPv6 text), RFC 6052 (64:ff9b::/96).
 * Tests: tests/test_prefix.c (table, round trips, order, brute-force
 * containment), tests/fuzz/fuzz_prefix.c.
 */
#include <cidrscope/prefix.h>

#include <string.h>

#include "core/error_internal.h"

/* The longest address text: "0000:0000:0000:0000:0000:ffff:255.255.255.255". */
#define ADDR_MAXLEN 45

/* ---- failure reporting -------------------------------------------------- */

struct scan {
    const char *s;
    size_t n;
    cs_error *err;
    int want_len; /* 1: cs_prefix_parse, 0: cs_address_parse */
};

static void locate(const struct scan *sc, size_t pos, size_t span)
{
    /* pos <= n <= CS_PREFIX_MAXLEN except for the too-long report, where
     * pos is CS_PREFIX_MAXLEN and span may be anything: clamp, never wrap. */
    uint32_t sp = span > UINT32_MAX ? UINT32_MAX : (uint32_t)span;
    cs_error_locate(sc->err, NULL, 1, (uint32_t)pos + 1, pos, sp, sc->s,
                    sc->n);
}

/* Fills err with CS_EPARSE at [pos, pos+span) and evaluates to CS_EPARSE. The
 * format is the first variadic argument, so every use passes at least one. */
#define FAIL_AT(sc, pos, span, ...)                                          \
    (locate((sc), (pos), (span)), cs_fail((sc)->err, CS_EPARSE, __VA_ARGS__))

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Value of a hex digit, or -1. */
static int hex_val(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20; /* 'A'..'F' -> 'a'..'f'; leaves digits and most else apart */
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* The one place that names a byte that should not be there: spaces by name
 * (the commonest paste accident: "10.0.0.0/8 " or "10.0.0.0 /8"), control
 * and non-ASCII bytes by value, anything else quoted. */
/* s[0..n) as a dotted-quad netmask: its prefix length (255.255.0.0 -> 16),
 * -2 for four octets that are not a contiguous mask (255.0.255.0), -1 when
 * it is not four decimal octets at all. Pure. */
static int netmask_len(const char *s, size_t n)
{
    uint32_t m = 0;
    size_t i = 0;
    for (int oct = 0; oct < 4; oct++) {
        unsigned v = 0, nd = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && nd < 4) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
            nd++;
        }
        if (nd == 0 || nd > 3 || v > 255)
            return -1;
        m = m << 8 | v;
        if (oct < 3) {
            if (i >= n || s[i] != '.')
                return -1;
            i++;
        }
    }
    if (i != n)
        return -1;
    uint32_t inv = ~m;
    if ((inv & (inv + 1)) != 0)
        return -2; /* the host part is not all the low bits */
    int len = 0;
    while (len < 32 && (m & (0x80000000u >> len)))
        len++;
    return len;
}

static int bad_char(const struct scan *sc, size_t pos, const char *where)
{
    unsigned char c = (unsigned char)sc->s[pos];
    if (c == ' ')
        return FAIL_AT(sc, pos, 1, "unexpected space");
    if (c == '\t')
        return FAIL_AT(sc, pos, 1, "unexpected tab");
    if (c == '\n' || c == '\r')
        return FAIL_AT(sc, pos, 1, "unexpected line break");
    if (c < 0x20 || c == 0x7f)
        return FAIL_AT(sc, pos, 1, "unexpected control byte 0x%02x%s", c,
                       where);
    if (c > 0x7f)
        return FAIL_AT(sc, pos, 1, "unexpected non-ASCII byte 0x%02x%s", c,
                       where);
    return FAIL_AT(sc, pos, 1, "unexpected character '%c'%s", c, where);
}

/* ---- masks -------------------------------------------------------------- */

/* The network mask of a /len, split in halves; len >= 128 is all ones. Built
 * by cases because `x << 64` is undefined: /0, /64 and /128 are all common. */
static void mask_of(unsigned len, uint64_t *mhi, uint64_t *mlo)
{
    if (len == 0) {
        *mhi = 0;
        *mlo = 0;
    } else if (len < 64) {
        *mhi = ~UINT64_C(0) << (64 - len);
        *mlo = 0;
    } else if (len == 64) {
        *mhi = ~UINT64_C(0);
        *mlo = 0;
    } else if (len < 128) {
        *mhi = ~UINT64_C(0);
        *mlo = ~UINT64_C(0) << (128 - len);
    } else {
        *mhi = ~UINT64_C(0);
        *mlo = ~UINT64_C(0);
    }
}

/* ---- parsing ------------------------------------------------------------ */

/*
 * Reads a dotted quad starting at `start`. On success stores the address and
 * the index just past it, which is the end of input, a '/', or (embedded in
 * IPv6 only) a '%' that the caller reports as a zone id. `embedded` words the
 * "not the last 32 bits" failure for "::1.2.3.4:5".
 */
static int parse_v4(const struct scan *sc, size_t start, int embedded,
                    uint32_t *addr, size_t *end)
{
    const char *s = sc->s;
    size_t n = sc->n, p = start;
    uint32_t a = 0;
    for (int k = 0;; k++) {
        size_t q = p;
        unsigned v = 0;
        while (q < n && is_digit((unsigned char)s[q])) {
            if (q - p < 3)
                v = v * 10 + (unsigned)(s[q] - '0');
            q++;
        }
        size_t nd = q - p;
        if (nd == 0) {
            if (p < n && s[p] != '.' && s[p] != '/' &&
                !(embedded && s[p] == '%'))
                return bad_char(sc, p, " in IPv4 address");
            return FAIL_AT(sc, p, 0, "empty octet in IPv4 address");
        }
        if (nd > 1 && s[p] == '0')
            return FAIL_AT(sc, p, nd,
                           "leading zero in IPv4 octet '%.*s' is ambiguous "
                           "(octal or decimal?)",
                           (int)nd, s + p);
        if (nd > 3 || v > 255)
            return FAIL_AT(sc, p, nd, "octet %.*s > 255", (int)nd, s + p);
        a = a << 8 | v;
        p = q;
        if (k == 3)
            break;
        if (p < n && s[p] == '.') {
            p++;
            continue;
        }
        if (p == n || s[p] == '/' || (embedded && s[p] == '%'))
            return FAIL_AT(sc, start, p - start,
                           "IPv4 address needs 4 octets, found %d", k + 1);
        return bad_char(sc, p, " in IPv4 address");
    }
    if (p < n && s[p] == '.') {
        /* "1.2.3.4.5": count what is there so the message says so. */
        size_t q = p;
        int found = 4;
        while (q < n && s[q] == '.') {
            q++;
            while (q < n && is_digit((unsigned char)s[q]))
                q++;
            found++;
        }
        return FAIL_AT(sc, start, q - start,
                       "IPv4 address needs 4 octets, found %d", found);
    }
    if (p < n && s[p] != '/' && !(embedded && s[p] == '%')) {
        if (embedded && s[p] == ':')
            return FAIL_AT(sc, start, p - start,
                           "embedded IPv4 address must be the last 32 bits "
                           "of an IPv6 address");
        return bad_char(sc, p, " after IPv4 address");
    }
    *addr = a;
    *end = p;
    return 0;
}

/* Reports "%zone" at `pos` (a '%'); the zone runs to '/', the end, or the
 * first byte that is not printable ASCII. */
static int fail_zone(const struct scan *sc, size_t pos)
{
    size_t q = pos + 1;
    while (q < sc->n && sc->s[q] != '/' && sc->s[q] > ' ' &&
           (unsigned char)sc->s[q] < 0x7f)
        q++;
    return FAIL_AT(sc, pos, q - pos, "zone id ('%.*s') not allowed in %s",
                   (int)(q - pos), sc->s + pos,
                   sc->want_len ? "a prefix" : "an address");
}

/*
 * Reads an IPv6 address from the start of the input into hi/lo and stores
 * the index just past it (the end of input or a '/').
 *
 * Groups are collected in order; `dc` is the number of groups before the
 * "::" (-1 when there is none). Afterwards the groups after the "::" are
 * moved to the end: "2001:db8::1" is g = {2001, db8, 1}, dc = 2, and
 * expands to 2001:db8:0:0:0:0:0:1.
 */
static int parse_v6(const struct scan *sc, uint64_t *hi, uint64_t *lo,
                    size_t *end)
{
    const char *s = sc->s;
    size_t n = sc->n, p = 0;
    uint16_t g[8];
    int ng = 0, dc = -1, after_dc = 0;

    if (n >= 2 && s[0] == ':' && s[1] == ':') {
        dc = 0;
        p = 2;
        after_dc = 1;
    } else if (s[0] == ':') {
        return FAIL_AT(sc, 0, 1, "IPv6 address cannot start with a single ':'");
    }
    for (;;) {
        if (after_dc && (p == n || s[p] == '/' || s[p] == '%'))
            break; /* "::", "2001:db8::/32", "fe80::%eth0" */
        size_t q = p;
        unsigned v = 0;
        int hv;
        while (q < n && (hv = hex_val((unsigned char)s[q])) >= 0) {
            v = (v << 4 | (unsigned)hv) & 0xffffu;
            q++;
        }
        size_t nd = q - p;
        if (q < n && s[q] == '.') {
            /* "::ffff:10.0.0.0", "64:ff9b::1.2.3.4": two groups from a quad. */
            if (ng + 2 > (dc >= 0 ? 7 : 8))
                return FAIL_AT(sc, p, 0,
                               dc >= 0 ? "IPv6 address has too many groups "
                                         "('::' must stand for at least one "
                                         "zero group; embedded IPv4 counts "
                                         "as 2)"
                                       : "IPv6 address has more than 8 "
                                         "groups (embedded IPv4 counts as 2)");
            uint32_t a;
            int rc = parse_v4(sc, p, 1, &a, &q);
            if (rc < 0)
                return rc;
            g[ng++] = (uint16_t)(a >> 16);
            g[ng++] = (uint16_t)a;
            p = q;
            break;
        }
        if (nd == 0) {
            if (p < n && s[p] == ':') /* only reachable right after "::" */
                return FAIL_AT(sc, p - 2, 3,
                               "':::' is not valid in an IPv6 address");
            if (p == n || s[p] == '/')
                return FAIL_AT(sc, p - 1, 1,
                               "IPv6 address cannot end with a single ':'");
            if (s[p] == '%')
                return fail_zone(sc, p);
            return bad_char(sc, p, " in IPv6 address");
        }
        if (nd > 4)
            return FAIL_AT(sc, p, nd,
                           "IPv6 group '%.*s' has more than 4 hex digits",
                           (int)nd, s + p);
        if (ng == (dc >= 0 ? 7 : 8))
            return FAIL_AT(sc, p, nd,
                           dc >= 0 ? "IPv6 address has too many groups ('::' "
                                     "must stand for at least one zero group)"
                                   : "IPv6 address has more than 8 groups");
        g[ng++] = (uint16_t)v;
        p = q;
        after_dc = 0;
        if (p == n || s[p] == '/' || s[p] == '%')
            break;
        if (s[p] != ':')
            return bad_char(sc, p, " in IPv6 address");
        if (p + 1 < n && s[p + 1] == ':') {
            if (dc >= 0)
                return FAIL_AT(sc, p, 2, "more than one '::'");
            if (ng == 8)
                return FAIL_AT(sc, p, 2,
                               "IPv6 address has too many groups ('::' must "
                               "stand for at least one zero group)");
            dc = ng;
            p += 2;
            after_dc = 1;
            continue;
        }
        p++;
    }
    if (p < n && s[p] == '%')
        return fail_zone(sc, p);
    if (dc < 0 && ng < 8)
        return FAIL_AT(sc, 0, p,
                       "IPv6 address needs 8 groups, found %d (use '::' for "
                       "a run of zero groups)",
                       ng);

    uint16_t full[8] = {0};
    if (dc < 0) {
        memcpy(full, g, sizeof full);
    } else {
        int tail = ng - dc;
        for (int i = 0; i < dc; i++)
            full[i] = g[i];
        for (int i = 0; i < tail; i++)
            full[8 - tail + i] = g[dc + i];
    }
    uint64_t h = 0, l = 0;
    for (int i = 0; i < 4; i++) {
        h = h << 16 | full[i];
        l = l << 16 | full[4 + i];
    }
    *hi = h;
    *lo = l;
    *end = p;
    return 0;
}

/* Writes the canonical text of p into t (at least CS_PREFIX_STRCAP bytes). */
static size_t format_into(const cs_prefix *p, int with_len, char *t);

/*
 * The common item of a bulk input, a canonical dotted quad ("10.1.2.0/24",
 * "10.1.2.3"), read in one pass without the scanner and its messages.
 * Returns 0 with *out set, or -1 for anything else (IPv6, a leading zero, an
 * octet over 255, a length over 32 or with a leading zero, host bits, a
 * missing or forbidden length, a stray byte): parse() then reads it the full
 * way, which answers the same for what this accepts (prefix__v4_fast_path_
 * equals_reference) and names the error.
 */
static int parse_v4_canonical(const char *s, size_t len, unsigned flags, int want_len,
                              cs_prefix *out)
{
    if (len < 7 || len > 18 || (flags & CS_PARSE_V6_ONLY))
        return -1;
    size_t p = 0;
    uint32_t a = 0;
    for (int k = 0; k < 4; k++) {
        if (p >= len || !is_digit((unsigned char)s[p]))
            return -1;
        unsigned v = (unsigned)(s[p++] - '0');
        if (p < len && is_digit((unsigned char)s[p])) {
            if (v == 0)
                return -1; /* "01": ambiguous, the full way says so */
            v = v * 10 + (unsigned)(s[p++] - '0');
            if (p < len && is_digit((unsigned char)s[p])) {
                v = v * 10 + (unsigned)(s[p++] - '0');
                if (v > 255)
                    return -1;
            }
        }
        a = a << 8 | v;
        if (k < 3 && (p >= len || s[p++] != '.'))
            return -1;
    }
    unsigned plen = 32;
    if (p < len) {
        if (!want_len || s[p++] != '/' || p >= len || !is_digit((unsigned char)s[p]))
            return -1;
        plen = (unsigned)(s[p++] - '0');
        if (p < len) {
            if (plen == 0 || !is_digit((unsigned char)s[p]))
                return -1;
            plen = plen * 10 + (unsigned)(s[p++] - '0');
        }
        if (p != len || plen > 32)
            return -1;
    } else if (want_len && !(flags & CS_PARSE_BARE_ADDRESS)) {
        return -1;
    }
    if (plen < 32 && (a & (0xffffffffu >> plen)))
        return -1; /* host bits: refused or normalised, with a message */
    memset(out, 0, sizeof *out);
    out->hi = (uint64_t)a << 32;
    out->len = (uint8_t)plen;
    out->family = CS_AF_V4;
    return 0;
}

static int parse(const char *text, size_t len, unsigned flags, int want_len,
                 cs_prefix *out, cs_error *err)
{
    if (out && text && parse_v4_canonical(text, len, flags, want_len, out) == 0)
        return 0;
    if (!out || (!text && len))
        return cs_fail(err, CS_EINVAL, "%s: NULL %s",
                       want_len ? "cs_prefix_parse" : "cs_address_parse",
                       out ? "text" : "out");
    struct scan sc = {text, len, err, want_len};
    const char *s = text;
    const char *what = want_len ? "prefix" : "address";
    size_t maxlen = want_len ? CS_PREFIX_MAXLEN : ADDR_MAXLEN;

    if (len == 0)
        return FAIL_AT(&sc, 0, 0, "empty input");
    if (len > maxlen)
        return FAIL_AT(&sc, maxlen, len - maxlen,
                       "input longer than any valid %s (%zu characters)", what,
                       maxlen);

    /* Family probe: the leading hex run and the byte after it. */
    size_t i = 0;
    int decimal = 1;
    while (i < len && hex_val((unsigned char)s[i]) >= 0) {
        decimal &= is_digit((unsigned char)s[i]);
        i++;
    }
    int v6;
    if (i < len && s[i] == ':')
        v6 = 1;
    else if (i < len && s[i] == '.')
        v6 = 0;
    else if (i == 0)
        return s[0] == '/' ? FAIL_AT(&sc, 0, 1, "missing address before '/'")
                           : bad_char(&sc, 0, "");
    else
        v6 = !decimal;

    uint64_t hi = 0, lo = 0;
    size_t end = 0;
    int rc;
    if (v6) {
        rc = parse_v6(&sc, &hi, &lo, &end);
    } else {
        uint32_t a = 0;
        rc = parse_v4(&sc, 0, 0, &a, &end);
        hi = (uint64_t)a << 32;
    }
    if (rc < 0)
        return rc;

    unsigned fam_only = flags & (CS_PARSE_V4_ONLY | CS_PARSE_V6_ONLY);
    if (fam_only == CS_PARSE_V4_ONLY && v6)
        return FAIL_AT(&sc, 0, end, "IPv6 %s where only IPv4 is accepted",
                       what);
    if (fam_only == CS_PARSE_V6_ONLY && !v6)
        return FAIL_AT(&sc, 0, end, "IPv4 %s where only IPv6 is accepted",
                       what);

    unsigned bits = v6 ? 128u : 32u, plen;
    if (end == len) {
        if (want_len && !(flags & CS_PARSE_BARE_ADDRESS))
            return FAIL_AT(&sc, len, 0,
                           "missing prefix length (add /%u for a single "
                           "address)",
                           bits);
        plen = bits;
    } else if (!want_len) {
        /* parse_* stop only at the end or a '/'. */
        return FAIL_AT(&sc, end, len - end,
                       "prefix length not allowed in an address");
    } else {
        size_t p = end + 1, q = p;
        unsigned v = 0;
        while (q < len && is_digit((unsigned char)s[q])) {
            if (q - p < 3)
                v = v * 10 + (unsigned)(s[q] - '0');
            q++;
        }
        size_t nd = q - p;
        if (nd == 0) {
            if (p == len)
                return FAIL_AT(&sc, end, 1, "missing prefix length after '/'");
            if (s[p] == '+' || s[p] == '-')
                return FAIL_AT(&sc, p, 1, "sign '%c' not allowed in prefix "
                               "length", s[p]);
            return bad_char(&sc, p, " in prefix length");
        }
        if (!v6 && q < len && s[q] == '.') {
            /* 10.0.0.0/255.255.0.0: older tools' netmask notation. */
            int m = netmask_len(s + p, len - p);
            if (m >= 0)
                return FAIL_AT(&sc, p, len - p,
                               "netmask notation is not CIDR: %.*s is the "
                               "mask of a /%d, write %.*s/%d",
                               (int)(len - p), s + p, m, (int)end, s, m);
            if (m == -2)
                return FAIL_AT(&sc, p, len - p,
                               "netmask notation is not CIDR, and %.*s is "
                               "not even a contiguous mask",
                               (int)(len - p), s + p);
        }
        if (nd > 1 && s[p] == '0')
            return FAIL_AT(&sc, p, nd, "leading zero in prefix length '%.*s'",
                           (int)nd, s + p);
        if (nd > 3 || v > bits)
            return FAIL_AT(&sc, p, nd,
                           "prefix length %.*s out of range 0..%u for IPv%d",
                           (int)nd, s + p, bits, v6 ? 6 : 4);
        if (q < len) {
            unsigned char c = (unsigned char)s[q];
            if (c <= ' ' || c >= 0x7f)
                return bad_char(&sc, q, " after prefix");
            return FAIL_AT(&sc, q, len - q, "trailing characters after prefix");
        }
        plen = v;
    }

    cs_prefix r;
    memset(&r, 0, sizeof r); /* padding too: callers may hash or memcmp */
    r.hi = hi;
    r.lo = lo;
    r.len = (uint8_t)plen;
    r.family = v6 ? CS_AF_V6 : CS_AF_V4;
    uint64_t mhi, mlo;
    mask_of(plen, &mhi, &mlo);
    if ((hi & ~mhi) | (lo & ~mlo)) {
        /* 10.0.0.1/16: strict refuses, naming the prefix meant; lenient
         * clears the host bits and says so (never silently: py-radix's trap). */
        int lenient = (flags & CS_PARSE_LENIENT) != 0;
        r.hi = hi & mhi;
        r.lo = lo & mlo;
        if (err) {
            char canon[CS_PREFIX_STRCAP];
            format_into(&r, 1, canon);
            locate(&sc, 0, end);
            if (lenient)
                cs_fail(err, CS_OK, "%.*s normalised to %s", (int)len, s,
                        canon);
            else
                cs_fail(err, CS_EPARSE, "%.*s: host bits set; did you mean "
                        "%s?", (int)len, s, canon);
        }
        if (!lenient)
            return CS_EPARSE;
        *out = r;
        return CS_PARSE_NORMALISED;
    }
    *out = r;
    return 0;
}

int cs_prefix_parse(const char *text, size_t len, unsigned flags,
                    cs_prefix *out, cs_error *err)
{
    return parse(text, len, flags, 1, out, err);
}

int cs_address_parse(const char *text, size_t len, unsigned flags,
                     cs_prefix *out, cs_error *err)
{
    /* LENIENT and BARE_ADDRESS mean nothing without a length; ignored. */
    return parse(text, len, flags, 0, out, err);
}

/* ---- formatting --------------------------------------------------------- */

static char *put_dec(char *t, unsigned v)
{
    char d[10];
    int k = 0;
    do {
        d[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k)
        *t++ = d[--k];
    return t;
}

static char *put_v4(char *t, uint32_t a)
{
    for (int i = 3; i >= 0; i--) {
        t = put_dec(t, (a >> (8 * i)) & 0xffu);
        if (i)
            *t++ = '.';
    }
    return t;
}

static char *put_hex16(char *t, unsigned v)
{
    static const char hx[] = "0123456789abcdef";
    int started = 0;
    for (int sh = 12; sh >= 0; sh -= 4) {
        unsigned d = (v >> sh) & 0xfu;
        if (d || started || sh == 0) {
            *t++ = hx[d];
            started = 1;
        }
    }
    return t;
}

/* RFC 5952: lower case (4.3), no leading zeros (4.1), the longest run of two
 * or more zero groups as "::" — the first on a tie (4.2.1-4.2.3), and
 * ::ffff:a.b.c.d for IPv4-mapped addresses (5, RFC 4291 2.5.5.2). */
static char *put_v6(char *t, uint64_t hi, uint64_t lo)
{
    if (hi == 0 && lo >> 32 == 0xffffu) {
        memcpy(t, "::ffff:", 7);
        return put_v4(t + 7, (uint32_t)lo);
    }
    unsigned g[8];
    for (int i = 0; i < 4; i++) {
        g[i] = (unsigned)(hi >> (48 - 16 * i)) & 0xffffu;
        g[4 + i] = (unsigned)(lo >> (48 - 16 * i)) & 0xffffu;
    }
    int best = -1, best_n = 1; /* a lone zero group stays "0" (4.2.2) */
    for (int i = 0; i < 8;) {
        if (g[i]) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && !g[j])
            j++;
        if (j - i > best_n) {
            best = i;
            best_n = j - i;
        }
        i = j;
    }
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            *t++ = ':';
            *t++ = ':';
            i += best_n - 1;
            continue;
        }
        if (i && i != best + best_n)
            *t++ = ':';
        t = put_hex16(t, g[i]);
    }
    return t;
}

static size_t format_into(const cs_prefix *p, int with_len, char *t)
{
    char *e = p->family == CS_AF_V4 ? put_v4(t, (uint32_t)(p->hi >> 32))
                                    : put_v6(t, p->hi, p->lo);
    if (with_len) {
        *e++ = '/';
        e = put_dec(e, p->len);
    }
    *e = '\0';
    return (size_t)(e - t);
}

/* snprintf's contract: copy what fits, always terminate, return the full
 * length. */
static size_t format_out(const cs_prefix *p, int with_len, char *buf,
                         size_t cap)
{
    char t[CS_PREFIX_STRCAP];
    size_t n = 0;
    t[0] = '\0';
    if (p)
        n = format_into(p, with_len, t);
    if (cap && buf) {
        size_t k = n < cap ? n : cap - 1;
        memcpy(buf, t, k);
        buf[k] = '\0';
    }
    return n;
}

size_t cs_prefix_format(const cs_prefix *p, char *buf, size_t cap)
{
    return format_out(p, 1, buf, cap);
}

size_t cs_address_format(const cs_prefix *p, char *buf, size_t cap)
{
    return format_out(p, 0, buf, cap);
}

/* ---- order and set relations -------------------------------------------- */

int cs_prefix_compare(const cs_prefix *a, const cs_prefix *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    if (a->hi != b->hi)
        return a->hi < b->hi ? -1 : 1;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return 0;
}

/* True when a and b agree on their first `len` bits. */
static bool same_top(const cs_prefix *a, const cs_prefix *b, unsigned len)
{
    uint64_t mhi, mlo;
    mask_of(len, &mhi, &mlo);
    return (((a->hi ^ b->hi) & mhi) | ((a->lo ^ b->lo) & mlo)) == 0;
}

bool cs_prefix_contains(const cs_prefix *outer, const cs_prefix *inner)
{
    return outer->family == inner->family && outer->len <= inner->len &&
           same_top(outer, inner, outer->len);
}

bool cs_prefix_overlaps(const cs_prefix *a, const cs_prefix *b)
{
    return a->family == b->family &&
           same_top(a, b, a->len < b->len ? a->len : b->len);
}

cs_prefix cs_prefix_first(const cs_prefix *p)
{
    uint64_t mhi, mlo;
    mask_of(p->len, &mhi, &mlo);
    cs_prefix r;
    memset(&r, 0, sizeof r);
    r.hi = p->hi & mhi;
    r.lo = p->lo & mlo;
    r.family = p->family;
    r.len = (uint8_t)cs_family_bits(p->family);
    return r;
}

cs_prefix cs_prefix_last(const cs_prefix *p)
{
    uint64_t mhi, mlo, whi, wlo;
    unsigned bits = cs_family_bits(p->family);
    mask_of(p->len, &mhi, &mlo);
    mask_of(bits, &whi, &wlo); /* IPv4: only the top 32 bits may be set */
    cs_prefix r;
    memset(&r, 0, sizeof r);
    r.hi = (p->hi | ~mhi) & whi;
    r.lo = (p->lo | ~mlo) & wlo;
    r.family = p->family;
    r.len = (uint8_t)bits;
    return r;
}

cs_prefix cs_prefix_from_v4(uint32_t addr, unsigned len)
{
    if (len > 32)
        len = 32;
    uint64_t mhi, mlo;
    mask_of(len, &mhi, &mlo);
    cs_prefix r;
    memset(&r, 0, sizeof r);
    r.hi = ((uint64_t)addr << 32) & mhi;
    r.len = (uint8_t)len;
    r.family = CS_AF_V4;
    return r;
}

cs_prefix cs_prefix_from_v6(uint64_t hi, uint64_t lo, unsigned len)
{
    if (len > 128)
        len = 128;
    uint64_t mhi, mlo;
    mask_of(len, &mhi, &mlo);
    cs_prefix r;
    memset(&r, 0, sizeof r);
    r.hi = hi & mhi;
    r.lo = lo & mlo;
    r.len = (uint8_t)len;
    r.family = CS_AF_V6;
    return r;
}
