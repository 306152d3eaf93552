/*
 * datasets/gen/gen_write.c — the one estate generator's writers: the
 * estate that gen_shape.c and gen_org.c draw, printed as an org-wide
 * collection of AWS CLI output (OUT/<account-id>/<region>/vpcs.json and
 * peering.json) or as CSV; also the option checks and ids every output
 * shares (gen_setup, gen_vpc_id). Does not: hold the estate in memory
 * (one account-region at a time) or write outside OUT.
 *
 * OUTPUT. JSON exactly as `aws ec2 describe-vpcs` and `aws ec2
 * describe-vpc-peering-connections` print it (Python json.dumps, indent 4,
 * ensure_ascii off, keys in the botocore model's member order, empty or
 * absent lists omitted as the CLI omits them). CSV: one row per CIDR
 * association (account,region,vpc_id,cidr,state,is_default,name; the
 * primary first) and one per connection (pcx_id,requester_vpc,
 * accepter_vpc,status plus the sides' accounts and regions), RFC 4180
 * quoting.
 *
 *
 * Tests: tests/cli/test_gen.sh (determinism, golden bytes, layout, the
 * AWS CLI's exact print format), tests/test_gen.c (files and builder agree).
 */
#include "gen_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- output -------------------------------------------------------------------- */

static void gflush(gbuf *w)
{
    size_t off = 0;
    while (off < w->len && !w->err) {
        ssize_t k = write(w->fd, w->b + off, w->len - off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            w->err = errno;
            break;
        }
        off += (size_t)k;
    }
    w->total += w->len;
    w->len = 0;
}

static void put(gbuf *w, const char *s, size_t n)
{
    while (n) {
        if (w->len == w->cap)
            gflush(w);
        size_t k = w->cap - w->len < n ? w->cap - w->len : n;
        memcpy(w->b + w->len, s, k);
        w->len += k;
        s += k;
        n -= k;
    }
}

static void puts_(gbuf *w, const char *s)
{
    put(w, s, strlen(s));
}

static void putc_(gbuf *w, char c)
{
    if (w->len == w->cap)
        gflush(w);
    w->b[w->len++] = c;
}

/* A JSON string as Python's json.dumps(ensure_ascii=False) writes it. */
static void put_jstr(gbuf *w, const char *s)
{
    putc_(w, '"');
    const char *run = s;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *esc = NULL;
        char u[8];
        switch (*p) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (*p < 0x20) {
                snprintf(u, sizeof u, "\\u%04x", *p);
                esc = u;
            }
        }
        if (!esc)
            continue;
        put(w, run, (size_t)((const char *)p - run));
        puts_(w, esc);
        run = (const char *)p + 1;
    }
    puts_(w, run);
    putc_(w, '"');
}

/* A JSON writer with Python's indent=4 layout. */
typedef struct jw {
    gbuf *o;
    int depth;
    unsigned count[16];
    bool after_key;
} jw;

static void jw_pre(jw *w)
{
    static const char spaces[] = "                                        "
                                 "                        ";
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth == 0)
        return;
    if (w->count[w->depth]++)
        putc_(w->o, ',');
    putc_(w->o, '\n');
    put(w->o, spaces, (size_t)w->depth * 4);
}

static void jw_open(jw *w, char c)
{
    jw_pre(w);
    putc_(w->o, c);
    w->depth++;
    w->count[w->depth] = 0;
}

static void jw_close(jw *w, char c)
{
    static const char spaces[] = "                                        "
                                 "                        ";
    unsigned n = w->count[w->depth];
    w->depth--;
    if (n) {
        putc_(w->o, '\n');
        put(w->o, spaces, (size_t)w->depth * 4);
    }
    putc_(w->o, c);
}

static void jw_key(jw *w, const char *k)
{
    jw_pre(w);
    put_jstr(w->o, k);
    puts_(w->o, ": ");
    w->after_key = true;
}

static void jw_str(jw *w, const char *s)
{
    jw_pre(w);
    put_jstr(w->o, s);
}

static void jw_kstr(jw *w, const char *k, const char *s)
{
    jw_key(w, k);
    jw_str(w, s);
}

static void jw_kbool(jw *w, const char *k, bool b)
{
    jw_key(w, k);
    jw_pre(w);
    puts_(w->o, b ? "true" : "false");
}

void gen_hex_id(char *out, size_t cap, const char *prefix, uint64_t v)
{
    snprintf(out, cap, "%s0%016llx", prefix, (unsigned long long)v);
}

void gen_vpc_id(const gen *g, const gref *x, char out[32])
{
    if (x->external)
        gen_hex_id(out, 32, "vpc-", mix64(((1ull << 48) | x->a) ^ g->key_vpc));
    else
        gen_hex_id(out, 32, "vpc-", mix64(vcode(x->a, x->r, x->j) ^ g->key_vpc));
}

void gen_ref_account(const gen *g, const gref *x, char out[13])
{
    /* A partner's account: an id past the estate's, never one of ours. */
    gen_account_id(g, x->external ? (uint64_t)g->o.accounts + x->a : x->a, out);
}

static void pfx_text(const cs_prefix *p, char out[CS_PREFIX_STRCAP])
{
    cs_prefix_format(p, out, CS_PREFIX_STRCAP);
}

static void json_vpc(const gen *g, jw *w, const gvpc *v)
{
    char buf[64], acct[13];
    gen_account_id(g, v->a, acct);
    jw_open(w, '{');
    jw_kstr(w, "OwnerId", acct);
    jw_kstr(w, "InstanceTenancy", v->dedicated ? "dedicated" : "default");
    if (v->n6) {
        jw_key(w, "Ipv6CidrBlockAssociationSet");
        jw_open(w, '[');
        for (unsigned i = 0; i < v->n6; i++) {
            const gblock *b = &v->v6[i];
            jw_open(w, '{');
            gen_hex_id(buf, sizeof buf, "vpc-cidr-assoc-",
                   mix64(((v->code << 8) | b->ord) ^ g->key_assoc));
            jw_kstr(w, "AssociationId", buf);
            pfx_text(&b->p, buf);
            jw_kstr(w, "Ipv6CidrBlock", buf);
            jw_key(w, "Ipv6CidrBlockState");
            jw_open(w, '{');
            jw_kstr(w, "State", cs_assoc_state_name(b->state));
            jw_close(w, '}');
            jw_kstr(w, "NetworkBorderGroup", gen_region_names[v->r]);
            if (b->kind == BK_AMAZON) {
                jw_kstr(w, "Ipv6Pool", "Amazon");
                jw_kstr(w, "Ipv6AddressAttribute", "public");
                jw_kstr(w, "IpSource", "amazon");
            } else if (b->kind == BK_BYOIP) {
                gen_hex_id(buf, sizeof buf, "ipv6pool-ec2-",
                       mix64((uint64_t)v->a ^ g->key_pool));
                jw_kstr(w, "Ipv6Pool", buf);
                jw_kstr(w, "Ipv6AddressAttribute", "public");
                jw_kstr(w, "IpSource", "byoip");
            } else {
                gen_hex_id(buf, sizeof buf, "ipam-pool-",
                       mix64(((uint64_t)v->a << 1 | 1) ^ g->key_pool));
                jw_kstr(w, "Ipv6Pool", buf);
                jw_kstr(w, "Ipv6AddressAttribute", "private");
                jw_kstr(w, "IpSource", "none");
            }
            jw_close(w, '}');
        }
        jw_close(w, ']');
    }
    jw_key(w, "CidrBlockAssociationSet");
    jw_open(w, '[');
    for (unsigned i = 0; i < v->n4; i++) {
        const gblock *b = &v->v4[i];
        jw_open(w, '{');
        gen_hex_id(buf, sizeof buf, "vpc-cidr-assoc-",
               mix64(((v->code << 8) | b->ord) ^ g->key_assoc));
        jw_kstr(w, "AssociationId", buf);
        pfx_text(&b->p, buf);
        jw_kstr(w, "CidrBlock", buf);
        jw_key(w, "CidrBlockState");
        jw_open(w, '{');
        jw_kstr(w, "State", cs_assoc_state_name(b->state));
        if (b->msg)
            jw_kstr(w, "StatusMessage", b->msg);
        jw_close(w, '}');
        jw_close(w, '}');
    }
    jw_close(w, ']');
    jw_kbool(w, "IsDefault", v->is_default);
    if (v->tags != TAGS_NONE) {
        jw_key(w, "Tags");
        jw_open(w, '[');
        jw_open(w, '{');
        jw_kstr(w, "Key", "Name");
        jw_kstr(w, "Value", v->name);
        jw_close(w, '}');
        if (v->tags == TAGS_STD) {
            char cc[16];
            snprintf(cc, sizeof cc, "cc-%04u", (unsigned)(v->a % 9000 + 1000));
            const char *kv[][2] = {
                {"Environment", gen_envs[v->env]},
                {"Team", gen_teams[v->team]},
                {"CostCenter", cc},
                {"ManagedBy", v->j % 3 ? "terraform" : "cloudformation"},
            };
            for (size_t i = 0; i < sizeof kv / sizeof *kv; i++) {
                jw_open(w, '{');
                jw_kstr(w, "Key", kv[i][0]);
                jw_kstr(w, "Value", kv[i][1]);
                jw_close(w, '}');
            }
        } else if (v->tags == TAGS_MANY) {
            /* AWS allows 50 tags per resource. */
            for (unsigned i = 1; i < 50; i++) {
                char k[32], val[32];
                snprintf(k, sizeof k, "sandbox:label-%02u", i);
                snprintf(val, sizeof val, "value %u/49", i);
                jw_open(w, '{');
                jw_kstr(w, "Key", k);
                jw_kstr(w, "Value", val);
                jw_close(w, '}');
            }
        }
        jw_close(w, ']');
    }
    jw_key(w, "BlockPublicAccessStates");
    jw_open(w, '{');
    jw_kstr(w, "InternetGatewayBlockMode", "off");
    jw_close(w, '}');
    gen_hex_id(buf, sizeof buf, "vpc-",
           mix64(v->code ^ g->key_vpc));
    jw_kstr(w, "VpcId", buf);
    jw_kstr(w, "State", v->pending ? "pending" : "available");
    pfx_text(&v->v4[0].p, buf);
    jw_kstr(w, "CidrBlock", buf);
    gen_hex_id(buf, sizeof buf, "dopt-",
           mix64(((uint64_t)v->a << 8 | v->r) ^ g->key_dopt));
    jw_kstr(w, "DhcpOptionsId", buf);
    jw_close(w, '}');
}

static bool live(uint8_t st)
{
    return st == CS_ASSOC_ASSOCIATED || st == CS_ASSOC_ASSOCIATING;
}

/* RequesterVpcInfo / AccepterVpcInfo. CIDRs as AWS prints them: both
 * sides' once active, only the requester's before. */
static void json_side(const gen *g, jw *w, const glink *l, bool requester)
{
    const gref *x = requester ? &l->req : &l->acc;
    bool cidrs = l->status == CS_PCX_ACTIVE || requester;
    char buf[64], acct[13];
    gvpc v;
    if (x->external) {
        memset(&v, 0, sizeof v);
        v.v4[0] = v4block(0xac140000u, 16, CS_ASSOC_ASSOCIATED);
        v.n4 = 1;
    } else {
        gen_vpc_make(g, x->a, x->r, x->j, &v);
    }
    jw_open(w, '{');
    if (cidrs) {
        pfx_text(&v.v4[0].p, buf);
        jw_kstr(w, "CidrBlock", buf);
        unsigned n6 = 0;
        for (unsigned i = 0; i < v.n6; i++)
            n6 += live(v.v6[i].state);
        if (n6 && l->status == CS_PCX_ACTIVE) {
            jw_key(w, "Ipv6CidrBlockSet");
            jw_open(w, '[');
            for (unsigned i = 0; i < v.n6; i++) {
                if (!live(v.v6[i].state))
                    continue;
                jw_open(w, '{');
                pfx_text(&v.v6[i].p, buf);
                jw_kstr(w, "Ipv6CidrBlock", buf);
                jw_close(w, '}');
            }
            jw_close(w, ']');
        }
        jw_key(w, "CidrBlockSet");
        jw_open(w, '[');
        for (unsigned i = 0; i < v.n4; i++) {
            if (!live(v.v4[i].state))
                continue;
            jw_open(w, '{');
            pfx_text(&v.v4[i].p, buf);
            jw_kstr(w, "CidrBlock", buf);
            jw_close(w, '}');
        }
        jw_close(w, ']');
    }
    gen_ref_account(g, x, acct);
    jw_kstr(w, "OwnerId", acct);
    if (l->status == CS_PCX_ACTIVE) {
        /* DNS resolution is on for hub links, off elsewhere. */
        bool dns = l->kind == L_HUB_SPOKE || l->kind == L_INTER_REGION;
        jw_key(w, "PeeringOptions");
        jw_open(w, '{');
        jw_kbool(w, "AllowDnsResolutionFromRemoteVpc", dns);
        jw_kbool(w, "AllowEgressFromLocalClassicLinkToRemoteVpc", false);
        jw_kbool(w, "AllowEgressFromLocalVpcToRemoteClassicLink", false);
        jw_close(w, '}');
    }
    gen_vpc_id(g, x, buf);
    jw_kstr(w, "VpcId", buf);
    jw_kstr(w, "Region", gen_region_names[x->external ? 0 : x->r]);
    jw_close(w, '}');
}

static void json_link(const gen *g, jw *w, const glink *l)
{
    char buf[96], acct[13];
    jw_open(w, '{');
    jw_key(w, "AccepterVpcInfo");
    json_side(g, w, l, false);
    if (l->status == CS_PCX_PENDING_ACCEPTANCE) {
        /* A request expires after a week. */
        grng rg = rng_for(g, gen_link_code(l), S_LINK);
        /* One draw per statement: the order of evaluation of function
         * arguments is unspecified (gcc and clang differ), and the same
         * seed must give the same bytes from every build. */
        unsigned day = 15 + rbelow(&rg, 7);
        unsigned hour = rbelow(&rg, 24);
        unsigned minute = rbelow(&rg, 60);
        snprintf(buf, sizeof buf, "2025-01-%02uT%02u:%02u:00+00:00", day, hour, minute);
        jw_kstr(w, "ExpirationTime", buf);
    }
    jw_key(w, "RequesterVpcInfo");
    json_side(g, w, l, true);
    jw_key(w, "Status");
    jw_open(w, '{');
    jw_kstr(w, "Code", cs_pcx_status_name(l->status));
    gen_ref_account(g, &l->acc, acct);
    switch (l->status) {
    case CS_PCX_INITIATING_REQUEST:
        snprintf(buf, sizeof buf, "Initiating Request to %s", acct);
        break;
    case CS_PCX_PENDING_ACCEPTANCE:
        snprintf(buf, sizeof buf, "Pending Acceptance by %s", acct);
        break;
    case CS_PCX_REJECTED:
        snprintf(buf, sizeof buf, "Rejected by %s", acct);
        break;
    case CS_PCX_DELETED:
        snprintf(buf, sizeof buf, "Deleted by %s", acct);
        break;
    case CS_PCX_FAILED:
        snprintf(buf, sizeof buf, "Failed due to incorrect VPC-ID, Account "
                                  "ID, or overlapping CIDR range");
        break;
    case CS_PCX_PROVISIONING:
        snprintf(buf, sizeof buf, "Provisioning");
        break;
    case CS_PCX_DELETING:
        snprintf(buf, sizeof buf, "Deleting");
        break;
    case CS_PCX_EXPIRED:
        snprintf(buf, sizeof buf, "Expired");
        break;
    default:
        snprintf(buf, sizeof buf, "Active");
        break;
    }
    jw_kstr(w, "Message", buf);
    jw_close(w, '}');
    if (l->kind == L_HUB_SPOKE || l->kind == L_INTER_REGION) {
        char acct2[13];
        gen_ref_account(g, &l->req, acct2);
        snprintf(buf, sizeof buf, "hub-%s-to-%s-%s", acct2, acct,
                 gen_region_names[l->acc.r]);
        jw_key(w, "Tags");
        jw_open(w, '[');
        jw_open(w, '{');
        jw_kstr(w, "Key", "Name");
        jw_kstr(w, "Value", buf);
        jw_close(w, '}');
        jw_close(w, ']');
    }
    gen_hex_id(buf, sizeof buf, "pcx-", mix64(gen_link_code(l) ^ g->key_pcx));
    jw_kstr(w, "VpcPeeringConnectionId", buf);
    jw_close(w, '}');
}


/* ---- files -------------------------------------------------------------------- */

static int failv(gen *g, int code, const char *fmt, va_list ap)
{
    g->rc = code;
    if (g->err) {
        g->err->code = code;
        vsnprintf(g->err->message, sizeof g->err->message, fmt, ap);
    }
    return code;
}

/* An I/O failure. */
static int fail(gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(gen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = failv(g, CS_EIO, fmt, ap);
    va_end(ap);
    return rc;
}

/* A bad option. */
int gen_fail_usage(gen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = failv(g, CS_EINVAL, fmt, ap);
    va_end(ap);
    return rc;
}

static int file_open(gen *g, const char *path)
{
    g->w.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (g->w.fd < 0)
        return fail(g, "%s: %s", path, strerror(errno));
    g->w.path = path;
    g->w.err = 0;
    g->w.len = 0;
    return 0;
}

static int file_close(gen *g)
{
    gflush(&g->w);
    int rc = 0;
    if (g->w.err)
        rc = fail(g, "%s: write: %s", g->w.path, strerror(g->w.err));
    if (close(g->w.fd) != 0 && rc == 0)
        rc = fail(g, "%s: close: %s", g->w.path, strerror(errno));
    g->w.fd = -1;
    g->st.files++;
    return rc;
}

static int make_dir(gen *g, const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return fail(g, "%s: mkdir: %s", path, strerror(errno));
    return 0;
}

static int write_region_dir(gen *g, uint32_t a, uint32_t r, const char *dir)
{
    char path[4096 + 16];
    jw w;
    memset(&w, 0, sizeof w);
    w.o = &g->w;

    snprintf(path, sizeof path, "%s/vpcs.json", dir);
    if (file_open(g, path))
        return g->rc;
    jw_open(&w, '{');
    jw_key(&w, "Vpcs");
    jw_open(&w, '[');
    for (uint32_t j = 0; j < g->o.vpcs; j++) {
        gvpc v;
        gen_vpc_make(g, a, r, j, &v);
        json_vpc(g, &w, &v);
        g->st.vpcs++;
        g->st.assocs += v.n4 + v.n6;
    }
    jw_close(&w, ']');
    jw_close(&w, '}');
    putc_(&g->w, '\n');
    if (file_close(g))
        return g->rc;

    glink links[MAX_LINKS];
    size_t n = gen_links_at(g, a, r, links);
    snprintf(path, sizeof path, "%s/peering.json", dir);
    if (file_open(g, path))
        return g->rc;
    memset(&w, 0, sizeof w);
    w.o = &g->w;
    jw_open(&w, '{');
    jw_key(&w, "VpcPeeringConnections");
    jw_open(&w, '[');
    for (size_t i = 0; i < n; i++) {
        json_link(g, &w, &links[i]);
        /* Count each connection once: at its requester (ours) side. */
        const gref *home = links[i].req.external ? &links[i].acc
                                                 : &links[i].req;
        if (home->a == a && home->r == r)
            g->st.peerings++;
    }
    jw_close(&w, ']');
    jw_close(&w, '}');
    putc_(&g->w, '\n');
    return file_close(g);
}

/* A CSV field (RFC 4180: quoted when it holds a comma, quote, line break or
 * surrounding blanks). */
static void put_csv(gbuf *w, const char *s)
{
    size_t n = strlen(s);
    bool q = n && (s[0] == ' ' || s[n - 1] == ' ');
    for (size_t i = 0; i < n && !q; i++)
        q = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!q) {
        put(w, s, n);
        return;
    }
    putc_(w, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            putc_(w, '"');
        putc_(w, s[i]);
    }
    putc_(w, '"');
}

static void csv_vpc(const gen *g, gbuf *o, const gvpc *v)
{
    char acct[13], id[32], pfx[CS_PREFIX_STRCAP];
    gen_account_id(g, v->a, acct);
    gref x = ref(v->a, v->r, v->j);
    gen_vpc_id(g, &x, id);
    for (unsigned i = 0; i < v->n4 + v->n6; i++) {
        const gblock *b = i < v->n4 ? &v->v4[i] : &v->v6[i - v->n4];
        pfx_text(&b->p, pfx);
        puts_(o, acct);
        putc_(o, ',');
        puts_(o, gen_region_names[v->r]);
        putc_(o, ',');
        puts_(o, id);
        putc_(o, ',');
        puts_(o, pfx);
        putc_(o, ',');
        puts_(o, cs_assoc_state_name(b->state));
        puts_(o, v->is_default ? ",true," : ",false,");
        if (v->tags != TAGS_NONE)
            put_csv(o, v->name);
        putc_(o, '\n');
    }
}

static void csv_link(const gen *g, gbuf *o, const glink *l)
{
    char id[32], ra[13], aa[13];
    gen_hex_id(id, sizeof id, "pcx-", mix64(gen_link_code(l) ^ g->key_pcx));
    puts_(o, id);
    putc_(o, ',');
    gen_vpc_id(g, &l->req, id);
    puts_(o, id);
    putc_(o, ',');
    gen_vpc_id(g, &l->acc, id);
    puts_(o, id);
    putc_(o, ',');
    puts_(o, cs_pcx_status_name(l->status));
    gen_ref_account(g, &l->req, ra);
    gen_ref_account(g, &l->acc, aa);
    putc_(o, ',');
    puts_(o, ra);
    putc_(o, ',');
    puts_(o, aa);
    putc_(o, ',');
    puts_(o, gen_region_names[l->req.external ? 0 : l->req.r]);
    putc_(o, ',');
    puts_(o, gen_region_names[l->acc.r]);
    putc_(o, '\n');
}

static bool dir_empty(const char *path, bool *exists)
{
    DIR *d = opendir(path);
    *exists = d != NULL || errno != ENOENT;
    if (!d)
        return errno == ENOENT;
    struct dirent *de;
    bool empty = true;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            empty = false;
            break;
        }
    closedir(d);
    return empty;
}

static void progress(const gen *g, uint32_t a)
{
    if (g->o.progress)
        g->o.progress(a, g->o.accounts, g->o.progress_ctx);
}

static int gen_dir(gen *g)
{
    bool exists;
    if (!dir_empty(g->o.out, &exists))
        return gen_fail_usage(g, "%s: exists and is not empty (give a new "
                             "directory)", g->o.out);
    if (!exists && make_dir(g, g->o.out))
        return g->rc;
    char adir[4096], rdir[4096];
    for (uint32_t a = 0; a < g->o.accounts; a++) {
        char acct[13];
        gen_account_id(g, a, acct);
        progress(g, a);
        if ((size_t)snprintf(adir, sizeof adir, "%s/%s", g->o.out, acct) >=
            sizeof adir)
            return fail(g, "%s: path too long", g->o.out);
        if (make_dir(g, adir))
            return g->rc;
        for (uint32_t r = 0; r < g->o.regions; r++) {
            if ((size_t)snprintf(rdir, sizeof rdir, "%s/%s", adir,
                                 gen_region_names[r]) >= sizeof rdir - 16)
                return fail(g, "%s: path too long", g->o.out);
            if (make_dir(g, rdir) || write_region_dir(g, a, r, rdir))
                return g->rc;
        }
    }
    return 0;
}

static int gen_csv(gen *g)
{
    const char *out = g->o.out;
    size_t n = strlen(out);
    char ppath[4096];
    if (n > 4 && strcmp(out + n - 4, ".csv") == 0)
        snprintf(ppath, sizeof ppath, "%.*s-peering.csv", (int)(n - 4), out);
    else
        snprintf(ppath, sizeof ppath, "%s-peering.csv", out);

    if (file_open(g, out))
        return g->rc;
    puts_(&g->w, "account,region,vpc_id,cidr,state,is_default,name\n");
    for (uint32_t a = 0; a < g->o.accounts; a++) {
        progress(g, a);
        for (uint32_t r = 0; r < g->o.regions; r++)
            for (uint32_t j = 0; j < g->o.vpcs; j++) {
                gvpc v;
                gen_vpc_make(g, a, r, j, &v);
                csv_vpc(g, &g->w, &v);
                g->st.vpcs++;
                g->st.assocs += v.n4 + v.n6;
            }
    }
    if (file_close(g))
        return g->rc;

    if (file_open(g, ppath))
        return g->rc;
    puts_(&g->w, "pcx_id,requester_vpc,accepter_vpc,status,"
                 "requester_account,accepter_account,requester_region,"
                 "accepter_region\n");
    glink links[MAX_LINKS];
    for (uint32_t a = 0; a < g->o.accounts; a++)
        for (uint32_t r = 0; r < g->o.regions; r++) {
            size_t k = gen_links_at(g, a, r, links);
            for (size_t i = 0; i < k; i++) {
                const gref *home = links[i].req.external ? &links[i].acc
                                                         : &links[i].req;
                if (home->a != a || home->r != r)
                    continue;
                csv_link(g, &g->w, &links[i]);
                g->st.peerings++;
            }
        }
    return file_close(g);
}

static unsigned ceil_log2(uint64_t v)
{
    unsigned k = 0;
    while (k < 64 && (1ull << k) < v)
        k++;
    return k;
}

int gen_setup(gen *g, const gen_opts *o, cs_error *err, bool files)
{
    memset(g, 0, sizeof *g);
    g->o = *o;
    g->err = err;
    if (err)
        cs_error_clear(err);
    if (o->accounts < 1 || o->accounts > GEN_MAX_ACCOUNTS)
        return gen_fail_usage(g, "--accounts must be 1..%u", GEN_MAX_ACCOUNTS);
    if (o->regions < 1 || o->regions > GEN_N_REGIONS)
        return gen_fail_usage(g, "--regions must be 1..%u", (unsigned)GEN_N_REGIONS);
    if (o->vpcs < 1 || o->vpcs > GEN_MAX_VPCS_PER_REGION)
        return gen_fail_usage(g, "--vpcs-per-region must be 1..%u",
                          GEN_MAX_VPCS_PER_REGION);
    if (o->shape != GEN_SHAPE_DEFAULT && o->shape != GEN_SHAPE_ORG &&
        o->shape != GEN_SHAPE_DENSE)
        return gen_fail_usage(g, "unknown shape %d", o->shape);
    if (o->shape == GEN_SHAPE_DENSE &&
        (uint64_t)o->accounts * o->regions * o->vpcs > GEN_DENSE_MAX_VPCS)
        return gen_fail_usage(g, "--shape dense: at most %u VPCs (accounts x regions x "
                                 "vpcs-per-region)", GEN_DENSE_MAX_VPCS);
    if (files && (!o->out || !o->out[0]))
        return gen_fail_usage(g, "--out is required");

    grng k = {mix64(o->seed ^ 0x63696472736370ull)};
    g->key_vpc = rnext(&k);
    g->key_assoc = rnext(&k);
    g->key_pcx = rnext(&k);
    g->key_dopt = rnext(&k);
    g->key_pool = rnext(&k);
    g->acct_base = rnext(&k) % 1000000000000ull;
    uint64_t total = (uint64_t)o->accounts * o->regions * o->vpcs;
    unsigned len = 8 + ceil_log2(total);
    g->slot_len = len < 16 ? 16 : len > 28 ? 28 : len;
    g->slot_mask = (1ull << (g->slot_len - 8)) - 1;
    return 0;
}

int gen_estate(const gen_opts *o, gen_stats *st, cs_error *err)
{
    gen g;
    int rc = gen_setup(&g, o, err, true);
    if (rc)
        return rc;
    g.w.cap = 1u << 20;
    g.w.b = malloc(g.w.cap);
    g.w.fd = -1;
    if (!g.w.b) {
        fail(&g, "out of memory");
        return g.rc = CS_ENOMEM;
    }
    rc = o->format == GEN_CSV ? gen_csv(&g) : gen_dir(&g);
    if (g.w.fd >= 0)
        close(g.w.fd);
    free(g.w.b);
    if (rc == 0)
        progress(&g, g.o.accounts);
    g.st.bytes = g.w.total;
    if (st)
        *st = g.st;
    return rc;
}
