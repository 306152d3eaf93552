/*
 * engine/report/audit_report_text.c — the audit report for a person:
 * summary first, then severities, the largest clusters, findings most
 * severe first, domains and drift, laid out for 80 columns.
 *
 * Ids, accounts, regions and prefixes are written whole, whatever their
 * length; only a VPC's name tag is cut (on a character boundary, counted in
 * display columns) to keep a finding's line within the width. The output
 * is valid UTF-8 whatever the tags hold. Tests: tests/cli/test_audit.sh
 * (golden files), tests/test_report.c (names in several scripts).
 */
#include "report/audit_report_internal.h"

#include <cidrscope/estate.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void t_line(FILE *f, const char *label, uint64_t v, const char *note)
{
    char n[CS_TEXT_COUNT_CAP];
    fputs("  ", f);
    cs_text_col(f, label, 28);
    cs_text_rcol(f, cs_text_count(v, n), 15);
    if (note && note[0])
        fprintf(f, "   %s", note);
    fputc('\n', f);
}

static void t_heading(FILE *f, const char *h)
{
    fprintf(f, "\n%s\n", h);
    cs_text_repeat(f, '-', (unsigned)strlen(h));
    fputc('\n', f);
}

static const char *upper_sev(unsigned sev)
{
    static const char *const u[] = {"CRITICAL", "HIGH", "MEDIUM", "INFO"};
    return sev < CS_SEV_COUNT ? u[sev] : "?";
}

/* "vpc-0a1b (123456789012, us-east-1, name)": everything but the name is
 * written whole; the name gets what is left of `width` (at least 12
 * columns). */
static void t_vpc(FILE *f, const cs_snapshot *s, uint32_t v, unsigned width)
{
    cs_vpc_facts x = cs_report_vpc(s, v);
    if (x.pseudo) { /* a prefix-list owner: id, owner and name are one */
        cs_text_col(f, x.id, 0);
        fputs(" (prefix list)\n", f);
        return;
    }
    unsigned used = cs_text_width(x.id) + 2 + cs_text_width(x.account);
    cs_text_col(f, x.id, 0);
    fputs(" (", f);
    cs_text_col(f, x.account, 0);
    if (x.region[0]) {
        fputs(", ", f);
        cs_text_col(f, x.region, 0);
        used += 2 + cs_text_width(x.region);
    }
    const char *tail = x.is_default ? ", default)" : ")";
    if (x.name[0]) {
        fputs(", ", f);
        used += 2;
        unsigned room = width > used + (unsigned)strlen(tail) + 12
                            ? width - used - (unsigned)strlen(tail)
                            : 12;
        cs_text_name(f, x.name, room);
    }
    fputs(tail, f);
    fputc('\n', f);
}

/* The blocks of a pair: "A = B; A contains B; A inside B; +N more". */
static void t_blocks(FILE *f, const pair_ref *pr, unsigned indent)
{
    cs_prefix a[CS_AUDIT_MAX_WITNESSES], b[CS_AUDIT_MAX_WITNESSES];
    unsigned n = audit_rep_blocks(pr, a, b);
    char blocks[CS_AUDIT_MAX_WITNESSES * (2 * CS_PREFIX_STRCAP + 16) + 64];
    size_t o = 0;
    blocks[0] = '\0';
    for (unsigned k = 0; k < n && o < sizeof blocks; k++) {
        char ta[CS_PREFIX_STRCAP], tb[CS_PREFIX_STRCAP];
        cs_prefix_format(&a[k], ta, sizeof ta);
        cs_prefix_format(&b[k], tb, sizeof tb);
        const char *rel = audit_rep_relation(&a[k], &b[k]);
        o += (size_t)snprintf(blocks + o, sizeof blocks - o, "%s%s %s %s", o ? "; " : "", ta,
                              rel[0] == 'e' ? "=" : rel[5] == 's' ? "contains" : "inside", tb);
    }
    if (pr->p.block_pairs > pr->p.witness_count && o < sizeof blocks)
        snprintf(blocks + o, sizeof blocks - o, "; +%u more block pairs",
                 pr->p.block_pairs - pr->p.witness_count);
    cs_text_wrap(f, blocks, indent, CS_TEXT_WIDTH);
}

static void t_pair(FILE *f, const pair_ref *pr, const char *mark)
{
    const cs_audit_pair *p = &pr->p;
    fprintf(f, "  %s%-8s  ", mark ? mark : "", upper_sev(p->severity));
    unsigned used = 2 + (mark ? (unsigned)strlen(mark) : 0) + 10;
    t_vpc(f, pr->s, p->vpc_a, CS_TEXT_WIDTH - used);
    cs_text_repeat(f, ' ', used - 5);
    fputs("and  ", f);
    t_vpc(f, pr->s, p->vpc_b, CS_TEXT_WIDTH - used);
    /* reasons */
    char why[600];
    size_t o = 0;
    why[0] = '\0';
    const char *st;
    const char *pcx = audit_rep_pcx(pr->s, p->peering_idx, &st);
    if (pcx)
        o += (size_t)snprintf(why + o, sizeof why - o, "peered via %s (%s);", pcx, st);
    if (p->hub_vpc != CS_IDX_NONE && o < sizeof why)
        o += (size_t)snprintf(why + o, sizeof why - o, "both peered to %s;",
                              cs_report_vpc(pr->s, p->hub_vpc).id);
    if (o < sizeof why - 1) {
        if (o)
            why[o++] = ' ';
        audit_rep_reasons(p->why, 2, " ", why + o, sizeof why - o);
    }
    cs_text_wrap(f, why, used, CS_TEXT_WIDTH);
    t_blocks(f, pr, used);
}

/* The first VPC ids of a group, on one line. */
typedef struct ids_line {
    const cs_snapshot *s;
    char buf[CS_TEXT_WIDTH * 3];
    size_t o;
    uint32_t shown;
} ids_line;

static int ids_line_cb(uint32_t v, void *vctx)
{
    ids_line *l = vctx;
    const char *id = cs_report_vpc(l->s, v).id;
    if (l->shown >= 6 || l->o + strlen(id) + 2 >= sizeof l->buf)
        return 1;
    l->o += (size_t)snprintf(l->buf + l->o, sizeof l->buf - l->o, "%s%s", l->o ? " " : "", id);
    l->shown++;
    return 0;
}

static void t_group(FILE *f, const audit_rep *R, const cs_audit_group *g, const char *mark)
{
    char pfx[CS_PREFIX_STRCAP], n1[CS_TEXT_COUNT_CAP], n2[CS_TEXT_COUNT_CAP];
    cs_prefix_format(&g->prefix, pfx, sizeof pfx);
    fprintf(f, "  %s%-8s  %s held by %s VPCs", mark ? mark : "", upper_sev(g->severity), pfx,
            cs_text_count(g->vpcs, n1));
    if (g->default_vpcs)
        fprintf(f, " (%s default)", cs_text_count(g->default_vpcs, n2));
    fputc('\n', f);
    unsigned used = 2 + (mark ? (unsigned)strlen(mark) : 0) + 10;
    char line[400], a[CS_TEXT_COUNT_CAP], b[CS_TEXT_COUNT_CAP], c[CS_TEXT_COUNT_CAP];
    snprintf(line, sizeof line, "%s pair%s: %s in one account, %s in one region%s",
             cs_text_count(g->vpc_pairs, a), g->vpc_pairs == 1 ? "" : "s",
             cs_text_count(g->same_account_pairs, b),
             cs_text_count(g->same_region_pairs, c), g->reused ? "; a reused range" : "");
    cs_text_wrap(f, line, used, CS_TEXT_WIDTH);
    if (g->peered_pairs || g->blocks_inside || g->blocks_around) {
        char e[CS_TEXT_COUNT_CAP];
        snprintf(line, sizeof line, "%s blocks inside it, %s around it; %s critical pair%s",
                 cs_text_count(g->blocks_inside, a), cs_text_count(g->blocks_around, b),
                 cs_text_count(g->peered_pairs, e), g->peered_pairs == 1 ? "" : "s");
        cs_text_wrap(f, line, used, CS_TEXT_WIDTH);
    }
    if (!g->listed)
        return;
    ids_line l;
    l.s = R->s;
    l.o = 0;
    l.shown = 0;
    l.buf[0] = '\0';
    audit_rep_entry_vpcs(R, g->prefix.family, g->first_entry, g->span, ids_line_cb, &l);
    if (g->vpcs > l.shown)
        snprintf(l.buf + l.o, sizeof l.buf - l.o, " and %u more", g->vpcs - l.shown);
    cs_text_wrap(f, l.buf, used, CS_TEXT_WIDTH);
    /* who is nested with it */
    for (int k = 0; k < 2; k++) {
        uint32_t nb = k ? g->blocks_inside : g->blocks_around;
        if (!nb)
            continue;
        uint32_t vid[8];
        unsigned n = audit_rep_nested(R, &g->prefix, k ? CS_Q_COVERED : CS_Q_COVERING, 3, vid);
        size_t o = (size_t)snprintf(l.buf, sizeof l.buf, "%s:", k ? "inside" : "around");
        for (unsigned i = 0; i < n; i++)
            o += (size_t)snprintf(l.buf + o, sizeof l.buf - o, " %s",
                                  cs_report_vpc(R->s, vid[i]).id);
        if (n == 3)
            snprintf(l.buf + o, sizeof l.buf - o, " ...");
        cs_text_wrap(f, l.buf, used, CS_TEXT_WIDTH);
    }
}

static int cmp_cluster_size(const void *x, const void *y)
{
    const cs_audit_cluster *a = x, *b = y;
    if (a->entries != b->entries)
        return a->entries > b->entries ? -1 : 1;
    return cs_prefix_compare(&a->top, &b->top);
}

static void t_change(FILE *f, const audit_rep *R, const change_ref *cr)
{
    static const char *const mark[3] = {"+ ", "- ", "~ "};
    const cs_audit_report_options *o = R->o;
    if (cr->ch.what == CS_CHANGE_PAIR) {
        pair_ref pr;
        cs_audit_pair old;
        if (audit_rep_pair(cr->s, cr->r, -1, cr->idx, &pr))
            t_pair(f, &pr, mark[cr->ch.kind]);
        if (cr->ch.kind == CS_CHANGE_CHANGED &&
            cs_audit_get_pair(o->baseline, cr->ch.old_idx, &old) == 0)
            fprintf(f, "              (was %s)\n", cs_severity_name(old.severity));
    } else {
        audit_rep R2 = *R;
        R2.s = cr->s;
        R2.r = cr->r;
        cs_audit_group g, og;
        if (cs_audit_get_group(cr->r, cr->idx, &g) == 0)
            t_group(f, &R2, &g, mark[cr->ch.kind]);
        if (cr->ch.kind == CS_CHANGE_CHANGED &&
            cs_audit_get_group(o->baseline, cr->ch.old_idx, &og) == 0)
            fprintf(f, "              (was %s, %u VPCs)\n", cs_severity_name(og.severity),
                    og.vpcs);
    }
}

static void t_summary(const audit_rep *R)
{
    FILE *f = R->f;
    const cs_audit_summary *m = &R->sum;
    char note[160], a[CS_TEXT_COUNT_CAP], b[CS_TEXT_COUNT_CAP];
    t_heading(f, "Summary");
    t_line(f, "VPCs", m->vpcs, NULL);
    t_line(f, "  default VPCs", m->default_vpcs, NULL);
    if (m->vpc_level) {
        t_line(f, "accounts", m->accounts, NULL);
        t_line(f, "regions", m->regions, NULL);
    }
    snprintf(note, sizeof note, "(%s IPv4, %s IPv6)",
             cs_text_count(m->entries_by_family[0], a),
             cs_text_count(m->entries_by_family[1], b));
    t_line(f, "live CIDR blocks", m->entries, note);
    t_line(f, "distinct prefixes", m->prefixes, NULL);
    t_line(f, "overlapping block pairs", m->overlapping_entry_pairs, NULL);
    t_line(f, "overlap clusters", m->clusters, NULL);
    t_line(f, "  blocks in clusters", m->entries_in_clusters, NULL);
    t_line(f, "  deepest nesting", m->max_nesting, NULL);
    if (!m->vpc_level)
        return;
    t_line(f, "overlapping VPC pairs", m->overlapping_vpc_pairs, NULL);
    t_line(f, "  excluding default VPCs", m->overlapping_vpc_pairs_excluding_default, NULL);
    for (unsigned k = 0; k < CS_SEV_COUNT; k++) {
        char lab[40];
        snprintf(lab, sizeof lab, "  %s", cs_severity_name(k));
        t_line(f, lab, m->vpc_pairs_by_severity[k], NULL);
    }
    t_line(f, "identical-prefix groups", m->groups, "prefixes held by 2+ VPCs");
    t_line(f, "pairs listed below", m->listed_pairs, NULL);
    if (R->n_domains)
        t_line(f, "domain violations", m->domain_violations, NULL);
    if (R->rejected_records || R->rejected_files) {
        t_line(f, "rejected records", R->rejected_records, "skipped by --keep-going");
        t_line(f, "rejected files", R->rejected_files, NULL);
    }
    if (R->incomplete_pages)
        t_line(f, "incomplete pages", R->incomplete_pages, "NextToken: inventory incomplete");
}

/* The rejected inputs, one wrapped line each, up to the limit. */
typedef struct rej_lines {
    const audit_rep *R;
    uint64_t shown, total;
} rej_lines;

static int t_rejected(const cs_finding *fd, void *vctx)
{
    rej_lines *c = vctx;
    c->total++;
    if (c->shown >= c->R->limit)
        return 0;
    char line[2 * CS_ERROR_MSG_CAP + 16];
    char msg[2 * CS_ERROR_MSG_CAP];
    audit_rep_rejected_text(fd, msg, sizeof msg);
    snprintf(line, sizeof line, "HIGH      %s", msg);
    cs_text_wrap(c->R->f, line, 2, CS_TEXT_WIDTH);
    c->shown++;
    return 0;
}

static int t_clusters(const audit_rep *R)
{
    FILE *f = R->f;
    char a[CS_TEXT_COUNT_CAP], b[CS_TEXT_COUNT_CAP];
    size_t n = R->n_clusters;
    if (!n)
        return 0;
    t_heading(f, "Largest overlap clusters");
    cs_audit_cluster *order = malloc(n * sizeof *order);
    if (!order)
        return CS_ENOMEM;
    size_t got = 0;
    for (size_t i = 0; i < n; i++)
        got += cs_audit_get_cluster(R->r, i, &order[got]) == 0;
    qsort(order, got, sizeof *order, cmp_cluster_size);
    size_t show = got < 10 ? got : 10;
    if (show > R->limit)
        show = (size_t)R->limit;
    fprintf(f, "  %-30s %10s %10s %7s%s\n", "top prefix", "blocks", "prefixes", "depth",
            R->sum.vpc_level ? "       VPCs" : "");
    for (size_t i = 0; i < show; i++) {
        const cs_audit_cluster *c = &order[i];
        char pfx[CS_PREFIX_STRCAP];
        cs_prefix_format(&c->top, pfx, sizeof pfx);
        fputs("  ", f);
        cs_text_col(f, pfx, 30);
        fprintf(f, " %10s %10u %7u", cs_text_count(c->entries, a), c->prefixes, c->depth);
        if (R->sum.vpc_level)
            fprintf(f, " %10s", cs_text_count(c->vpcs, b));
        fputc('\n', f);
    }
    if (got > show)
        fprintf(f, "  ... and %s more clusters\n", cs_text_count(got - show, a));
    free(order);
    return 0;
}

static void t_findings(const audit_rep *R)
{
    FILE *f = R->f;
    char a[CS_TEXT_COUNT_CAP];
    t_heading(f, "Findings, most severe first");
    uint64_t shown = 0, total = 0;
    for (unsigned sev = 0; sev < CS_SEV_COUNT; sev++) {
        for (size_t i = 0; i < R->n_groups; i++) {
            cs_audit_group g;
            if (cs_audit_get_group(R->r, i, &g) != 0 || g.severity != sev)
                continue;
            total++;
            if (shown < R->limit) {
                t_group(f, R, &g, NULL);
                shown++;
            }
        }
        for (size_t i = 0; i < R->n_pairs; i++) {
            pair_ref pr;
            if (!audit_rep_pair(R->s, R->r, -1, i, &pr) || pr.p.severity != sev)
                continue;
            total++;
            if (shown < R->limit) {
                t_pair(f, &pr, NULL);
                shown++;
            }
        }
    }
    if (total == 0)
        fputs("  none: no two VPCs overlap\n", f);
    if (total > shown)
        fprintf(f, "  ... and %s more (use --limit 0 for all)\n",
                cs_text_count(total - shown, a));
}

int audit_rep_text(const audit_rep *R)
{
    FILE *f = R->f;
    char a[CS_TEXT_COUNT_CAP], b[CS_TEXT_COUNT_CAP], c[CS_TEXT_COUNT_CAP];
    fputs("cidrscope audit\n===============\n", f);
    if (R->o->title && R->o->title[0]) {
        size_t tl = strlen(R->o->title) + 8;
        char *t = malloc(tl);
        if (!t)
            return CS_ENOMEM;
        snprintf(t, tl, "of: %s", R->o->title);
        cs_text_wrap(f, t, 0, CS_TEXT_WIDTH);
        free(t);
    }
    t_summary(R);
    if (R->sum.vpc_level) {
        t_heading(f, "Severities");
        for (unsigned k = 0; k < CS_SEV_COUNT; k++)
            cs_text_wrap(f, cs_severity_explanation(k), 2, CS_TEXT_WIDTH);
        cs_text_wrap(f,
                     "A prefix held by several VPCs is a group: it stands for every pair "
                     "overlapping through it, sharing it or nested with it. Pairs "
                     "overlapping through prefixes each held by one VPC, and every "
                     "critical pair, are listed one by one.",
                     2, CS_TEXT_WIDTH);
    }
    if (R->rejected_records || R->rejected_files) {
        t_heading(f, "Rejected input (read past with --keep-going; counted as high)");
        rej_lines rl = {R, 0, 0};
        audit_rep_rejected(R, t_rejected, &rl);
        if (rl.total > rl.shown)
            fprintf(f, "  ... and %s more (use --limit 0 for all)\n",
                    cs_text_count(rl.total - rl.shown, a));
    }
    if (R->incomplete_pages) {
        t_heading(f, "Incomplete pages (a NextToken: VPCs may be missing; counted as high)");
        rej_lines rl = {R, 0, 0};
        audit_rep_findings(R, CS_FINDING_INCOMPLETE_PAGE, t_rejected, &rl);
        if (rl.total > rl.shown)
            fprintf(f, "  ... and %s more (use --limit 0 for all)\n",
                    cs_text_count(rl.total - rl.shown, a));
    }
    int rc = t_clusters(R);
    if (rc)
        return rc;
    if (R->sum.vpc_level)
        t_findings(R);
    if (R->n_domains) {
        t_heading(f, "Domains (VPC sets that must be mutually disjoint)");
        for (size_t d = 0; d < R->n_domains; d++) {
            cs_audit_domain_info dm;
            if (cs_audit_get_domain(R->r, d, &dm) != 0)
                continue;
            uint64_t n = dm.violations;
            fputs("  ", f);
            cs_text_col(f, dm.name, 0);
            fprintf(f, ": %u VPC%s, %s overlapping pair%s\n", dm.vpcs,
                    dm.vpcs == 1 ? "" : "s", cs_text_count(n, a), n == 1 ? "" : "s");
            for (uint64_t i = 0; i < audit_rep_cap(R, n); i++) {
                pair_ref pr;
                if (audit_rep_pair(R->s, R->r, (long)d, i, &pr))
                    t_pair(f, &pr, NULL);
            }
            if (n > audit_rep_cap(R, n))
                fprintf(f, "  ... and %s more (use --limit 0 for all)\n",
                        cs_text_count(n - audit_rep_cap(R, n), a));
        }
    }
    if (R->o->drift) {
        const cs_audit_drift *dr = R->o->drift;
        t_heading(f, R->o->what_if ? "What-if: changes the planned blocks make"
                                   : "Drift since the baseline");
        if (R->o->baseline_title && !R->o->what_if)
            fprintf(f, "  baseline: %s\n", R->o->baseline_title);
        fprintf(f, "  %s appeared, %s changed, %s disappeared\n",
                cs_text_count(cs_audit_change_kind_count(dr, CS_CHANGE_APPEARED), a),
                cs_text_count(cs_audit_change_kind_count(dr, CS_CHANGE_CHANGED), b),
                cs_text_count(cs_audit_change_kind_count(dr, CS_CHANGE_DISAPPEARED), c));
        for (size_t i = 0; i < audit_rep_cap(R, R->n_changes); i++) {
            change_ref cr;
            if (audit_rep_change(R, i, &cr))
                t_change(f, R, &cr);
        }
        if (R->n_changes > audit_rep_cap(R, R->n_changes))
            fprintf(f, "  ... and %s more (use --limit 0 for all)\n",
                    cs_text_count(R->n_changes - audit_rep_cap(R, R->n_changes), a));
    }
    return 0;
}
