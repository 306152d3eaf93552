/*
 * engine/report/audit_report_html.c — the audit report as one
 * self-contained HTML file: inline CSS, no external resources; the
 * address-space maps and peering graph of report/map.c (SVG, with its inline
 * script: hover, zoom, filters, links to the map) after the summary; summary,
 * severities, groups, pairs, domains, drift and clusters as tables. Every
 * string from the estate goes through cs_html_escape (valid UTF-8, entities
 * for & < > " ').
 *
 * Paged tables (a 1M-block estate lists thousands of findings, and laying
 * out every row is what made the page slow to open): each findings table
 * holds its first HTML_PAGE_ROWS rows in the DOM; the rest follow the table
 * as the same <tr> markup inside <script type="text/x-cidrscope-rows">, which
 * the browser keeps as text (neither parsed into elements nor laid out). The
 * page's script (pager_script) turns that text into rows only when the
 * reader pages, sorts, shows all or filters; sorting and the account /
 * region / severity filter (the map section's controls, announced by a
 * "csm-filter" event) run over every row of the table, then show its first
 * page. The rows' markup cannot end the script early: every estate string is
 * escaped, so no "</script" or "<!--" can occur in it. Every finding stays
 * exact: DOM rows + script rows = the rows the unpaged report had.
 *
 * Tests: tests/cli/test_audit.sh (golden), tests/test_report.c (escaping),
 * tests/test_map.c (paged rows add up to every finding), tests/browser
 * (paging, sorting and filtering over all rows in Chromium).
 */
#include "report/audit_report_internal.h"

#include <cidrscope/estate.h>
#include <cidrscope/map.h>

#include <inttypes.h>
#include <string.h>

/* Rows of a findings table in the DOM before the rest wait in a script. */
#define HTML_PAGE_ROWS 100

/* One paged table being written (see the top of the file). */
typedef struct h_table {
    FILE *f;
    uint64_t rows;
} h_table;

/* Opens a table whose header row is `header` (<th> cells). */
static void h_table_begin(h_table *t, FILE *f, const char *header)
{
    t->f = f;
    t->rows = 0;
    fprintf(f, "<table class=\"cs-pg\" data-page=\"%u\">\n<thead><tr>%s</tr></thead>\n<tbody>\n",
            HTML_PAGE_ROWS, header);
}

/* Call before writing each row. */
static void h_table_row(h_table *t)
{
    if (t->rows++ == HTML_PAGE_ROWS)
        fputs("</tbody>\n</table>\n<script type=\"text/x-cidrscope-rows\">\n", t->f);
}

static void h_table_end(h_table *t)
{
    FILE *f = t->f;
    if (t->rows <= HTML_PAGE_ROWS) {
        fputs("</tbody>\n</table>\n", f);
        return;
    }
    char n[CS_TEXT_COUNT_CAP];
    fprintf(f, "</script>\n<div class=\"cs-pager\"><button type=\"button\" data-go=\"-1\" "
               "disabled>&lsaquo; previous</button> <span>rows 1&ndash;%u of %s</span> <button "
               "type=\"button\" data-go=\"1\">next &rsaquo;</button> <button type=\"button\" "
               "data-go=\"all\">show all</button></div>\n",
            HTML_PAGE_ROWS, cs_text_count(t->rows, n));
}

#define PAIR_HEADER "<th>severity</th><th>VPC a</th><th>VPC b</th><th>why</th><th>overlapping blocks</th>"

/* Paging, sorting and filtering of the cs-pg tables (see the top of the
 * file). One listener for the page; nothing runs per row at load. A table's
 * rows (t._all, in sort order) are gathered on first use from its tbody and
 * the script after it; t._vis are those passing the filter, t._p the page
 * shown, t._per the rows per page (all when "show all"). */
static const char pager_script[] =
    "(function(){\n"
    "var SN=['critical','high','medium','informational'],"
    "F={account:'',region:'',severity:''};\n"
    "function nx(e,tag){e=e&&e.nextElementSibling;return e&&e.tagName===tag?e:null;}\n"
    "function rows(t){if(t._all)return t._all;var a=Array.prototype.slice.call(t.tBodies[0].rows),"
    "s=nx(t,'SCRIPT');\n"
    " if(s&&s.type==='text/x-cidrscope-rows'){var tp=document.createElement('template');"
    "tp.innerHTML=s.textContent;a=a.concat(Array.prototype.slice.call("
    "tp.content.querySelectorAll('tr')));}\n"
    " t._pager=nx(s||t,'DIV');t._all=a;t._vis=a;t._p=0;t._per=t._pg=+t.getAttribute('data-page');return a;}\n"
    "function ok(r){var c=r.className;if(SN.indexOf(c)<0)return true;var x=r.textContent;"
    "return!((F.severity&&c!==F.severity)||(F.account&&x.indexOf(F.account)<0)||"
    "(F.region&&x.indexOf(F.region)<0));}\n"
    "function draw(t){var v=t._vis,n=v.length,per=t._per,last=Math.max(0,Math.ceil(n/per)-1);"
    "if(t._p>last)t._p=last;if(t._p<0)t._p=0;\n"
    " var i0=t._p*per,i1=Math.min(n,i0+per),b=t.tBodies[0],fr=document.createDocumentFragment();"
    "for(var i=i0;i<i1;i++)fr.appendChild(v[i]);b.textContent='';b.appendChild(fr);\n"
    " var g=t._pager;if(!g)return;g.querySelector('span').textContent=n?'rows '+"
    "(i0+1).toLocaleString('en-US')+'\\u2013'+i1.toLocaleString('en-US')+' of '+"
    "n.toLocaleString('en-US'):'no rows';\n"
    " g.querySelector('[data-go=\"-1\"]').disabled=t._p===0;"
    "g.querySelector('[data-go=\"1\"]').disabled=t._p>=last;}\n"
    "function refilter(t){t._vis=rows(t).filter(ok);t._p=0;draw(t);}\n"
    "function key(r,i){var x=r.cells[i]?r.cells[i].textContent:'',n=x.replace(/,/g,'');"
    "return/^-?[0-9.]+$/.test(n)?+n:x;}\n"
    "function sortby(th){var t=th.closest('table'),i=th.cellIndex,up=th.getAttribute('data-up')"
    "!=='1';th.setAttribute('data-up',up?'1':'0');\n"
    " var k=rows(t).map(function(r,j){return[key(r,i),j,r];});\n"
    " k.sort(function(p,q){var a=p[0],b=q[0],c=typeof a===typeof b?(a<b?-1:a>b?1:0):"
    "(typeof a==='number'?-1:1);return(up?c:-c)||p[1]-q[1];});\n"
    " t._all=k.map(function(e){return e[2];});refilter(t);}\n"
    "document.addEventListener('csm-filter',function(ev){F=ev.detail;"
    "document.querySelectorAll('table.cs-pg').forEach(refilter);});\n"
    "document.addEventListener('click',function(ev){var e=ev.target,g=e.parentNode;\n"
    " if(e.tagName==='TH'&&g.parentNode.tagName==='THEAD'&&e.closest('table.cs-pg'))sortby(e);\n"
    " else if(e.tagName==='BUTTON'&&g.classList.contains('cs-pager')){var t=g.previousElementSibling;"
    "while(t&&t.tagName!=='TABLE')t=t.previousElementSibling;rows(t);var d=e.getAttribute('data-go');\n"
    "  if(d==='all'){t._per=t._per>t._pg?t._pg:1e9;e.textContent=t._per>t._pg?'show pages':'show all';"
    "t._p=0;}else t._p+=+d;draw(t);}});\n"
    "})();\n";

static void h_pair_row(FILE *f, const pair_ref *pr, const char *extra)
{
    const cs_audit_pair *p = &pr->p;
    fprintf(f, "<tr class=\"%s\"><td>%s", cs_severity_name(p->severity),
            cs_severity_name(p->severity));
    if (extra) {
        fputs(" (", f);
        cs_html_escape(f, extra);
        fputc(')', f);
    }
    fputs("</td>", f);
    for (int side = 0; side < 2; side++) {
        cs_vpc_facts x = cs_report_vpc(pr->s, side ? p->vpc_b : p->vpc_a);
        fputs("<td><code>", f);
        cs_html_escape(f, x.id);
        fputs("</code><br>", f);
        cs_html_escape(f, x.account);
        fputc(' ', f);
        cs_html_escape(f, x.region);
        if (x.name[0]) {
            fputs("<br>", f);
            cs_html_escape(f, x.name);
        }
        if (x.is_default)
            fputs(" <em>default</em>", f);
        fputs("</td>", f);
    }
    fputs("<td>", f);
    const char *st;
    const char *pcx = audit_rep_pcx(pr->s, p->peering_idx, &st);
    if (pcx) {
        fputs("peered via <code>", f);
        cs_html_escape(f, pcx);
        fprintf(f, "</code> (%s) ", st);
    }
    if (p->hub_vpc != CS_IDX_NONE) {
        fputs("both peered to <code>", f);
        cs_html_escape(f, cs_report_vpc(pr->s, p->hub_vpc).id);
        fputs("</code> ", f);
    }
    for (unsigned k = 2; k < AUDIT_N_WHY; k++)
        if (p->why & (1u << k))
            fprintf(f, "%s ", audit_why_names[k]);
    fputs("</td><td>", f);
    cs_prefix a[CS_AUDIT_MAX_WITNESSES], b[CS_AUDIT_MAX_WITNESSES];
    unsigned n = audit_rep_blocks(pr, a, b);
    for (unsigned k = 0; k < n; k++) {
        char ta[CS_PREFIX_STRCAP], tb[CS_PREFIX_STRCAP];
        cs_prefix_format(&a[k], ta, sizeof ta);
        cs_prefix_format(&b[k], tb, sizeof tb);
        const char *rel = audit_rep_relation(&a[k], &b[k]);
        fprintf(f, "%s<code>%s</code> %s <code>%s</code>", k ? "<br>" : "", ta,
                rel[0] == 'e' ? "=" : rel[5] == 's' ? "&sup;" : "&sub;", tb);
    }
    if (p->block_pairs > p->witness_count)
        fprintf(f, "<br>+%u more", p->block_pairs - p->witness_count);
    fputs("</td></tr>\n", f);
}

static void h_head(const audit_rep *R)
{
    FILE *f = R->f;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>cidrscope "
          "audit",
          f);
    if (R->o->title) {
        fputs(": ", f);
        cs_html_escape(f, R->o->title);
    }
    fputs("</title>\n<style>\n"
          "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\n"
          "table{border-collapse:collapse;margin:.5em 0 1.5em}\n"
          "td,th{border:1px solid #ccc;padding:.25em .6em;vertical-align:top;text-align:left}\n"
          "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
          "tr.critical td:first-child{background:#f8d0d0;font-weight:bold}\n"
          "tr.high td:first-child{background:#fbe3c4}\n"
          "tr.medium td:first-child{background:#fdf6c4}\n"
          "tr.informational td:first-child{background:#e4eef8}\n"
          "code{font-size:13px}\n"
          "table.cs-pg th{cursor:pointer}\n"
          ".cs-pager{margin:-1em 0 1.5em}.cs-pager span{margin:0 .6em}\n"
          "@media print{.cs-pager button{display:none}}\n"
          "</style></head><body>\n<h1>cidrscope audit",
          f);
    if (R->o->title) {
        fputs(": ", f);
        cs_html_escape(f, R->o->title);
    }
    fputs("</h1>\n", f);
}

static void h_summary(const audit_rep *R)
{
    FILE *f = R->f;
    const cs_audit_summary *m = &R->sum;
    char a[CS_TEXT_COUNT_CAP];
    fputs("<h2>Summary</h2>\n<table>\n", f);
#define HROW(label, v) fprintf(f, "<tr><th>%s</th><td class=\"n\">%s</td></tr>\n", label, \
                               cs_text_count(v, a))
    HROW("VPCs", m->vpcs);
    HROW("default VPCs", m->default_vpcs);
    HROW("live CIDR blocks", m->entries);
    HROW("distinct prefixes", m->prefixes);
    HROW("overlapping block pairs", m->overlapping_entry_pairs);
    HROW("overlap clusters", m->clusters);
    HROW("deepest nesting", m->max_nesting);
    if (m->vpc_level) {
        HROW("overlapping VPC pairs", m->overlapping_vpc_pairs);
        HROW("&nbsp;&nbsp;excluding default VPCs", m->overlapping_vpc_pairs_excluding_default);
        for (unsigned k = 0; k < CS_SEV_COUNT; k++) {
            char lab[64];
            snprintf(lab, sizeof lab, "&nbsp;&nbsp;%s", cs_severity_name(k));
            HROW(lab, m->vpc_pairs_by_severity[k]);
        }
        HROW("identical-prefix groups", m->groups);
        HROW("pairs listed", m->listed_pairs);
        if (R->n_domains)
            HROW("domain violations", m->domain_violations);
    }
    if (R->rejected_records || R->rejected_files) {
        HROW("rejected records (--keep-going)", R->rejected_records);
        HROW("rejected files", R->rejected_files);
    }
    if (R->incomplete_pages)
        HROW("incomplete pages (NextToken)", R->incomplete_pages);
#undef HROW
    fputs("</table>\n", f);
}

static int h_rejected(const cs_finding *fd, void *ctx)
{
    FILE *f = ctx;
    char msg[2 * CS_ERROR_MSG_CAP];
    audit_rep_rejected_text(fd, msg, sizeof msg);
    fputs("<li>", f);
    cs_html_escape(f, msg);
    fputs("</li>\n", f);
    return 0;
}

static void h_findings(const audit_rep *R)
{
    FILE *f = R->f;
    char a[CS_TEXT_COUNT_CAP];
    fputs("<h2>Severities</h2>\n<ul>\n", f);
    for (unsigned k = 0; k < CS_SEV_COUNT; k++) {
        fputs("<li>", f);
        cs_html_escape(f, cs_severity_explanation(k));
        fputs("</li>\n", f);
    }
    fputs("</ul>\n<h2>Groups: prefixes held by several VPCs</h2>\n", f);
    h_table t;
    h_table_begin(&t, f,
                  "<th>severity</th><th>prefix</th><th>VPCs</th><th>default</th>"
                  "<th>pairs</th><th>same account</th><th>same region</th><th>critical</th>"
                  "<th>blocks inside</th><th>blocks around</th>");
    for (size_t i = 0; i < audit_rep_cap(R, R->n_groups); i++) {
        cs_audit_group gg;
        if (cs_audit_get_group(R->r, i, &gg) != 0)
            continue;
        h_table_row(&t);
        const cs_audit_group *g = &gg;
        char pfx[CS_PREFIX_STRCAP], n1[CS_TEXT_COUNT_CAP], n2[CS_TEXT_COUNT_CAP],
            n3[CS_TEXT_COUNT_CAP], n4[CS_TEXT_COUNT_CAP], n5[CS_TEXT_COUNT_CAP];
        cs_prefix_format(&g->prefix, pfx, sizeof pfx);
        fprintf(f,
                "<tr class=\"%s\"><td>%s</td><td><code>%s</code>%s</td><td class=\"n\">%s"
                "</td><td class=\"n\">%u</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%u</td>"
                "<td class=\"n\">%u</td></tr>\n",
                cs_severity_name(g->severity), cs_severity_name(g->severity), pfx,
                g->reused ? " (reused range)" : "", cs_text_count(g->vpcs, n1),
                g->default_vpcs, cs_text_count(g->vpc_pairs, n2),
                cs_text_count(g->same_account_pairs, n3),
                cs_text_count(g->same_region_pairs, n4), cs_text_count(g->peered_pairs, n5),
                g->blocks_inside, g->blocks_around);
    }
    h_table_end(&t);
    fputs("<h2>Pairs, most severe first</h2>\n", f);
    h_table_begin(&t, f, PAIR_HEADER);
    for (size_t i = 0; i < audit_rep_cap(R, R->n_pairs); i++) {
        pair_ref pr;
        if (audit_rep_pair(R->s, R->r, -1, i, &pr)) {
            h_table_row(&t);
            h_pair_row(f, &pr, NULL);
        }
    }
    h_table_end(&t);
    if (R->n_pairs > audit_rep_cap(R, R->n_pairs))
        fprintf(f, "<p>%s more pairs not shown.</p>\n",
                cs_text_count(R->n_pairs - audit_rep_cap(R, R->n_pairs), a));
}

static void h_domains_drift(const audit_rep *R)
{
    FILE *f = R->f;
    char a[CS_TEXT_COUNT_CAP];
    for (size_t d = 0; d < R->n_domains; d++) {
        cs_audit_domain_info dm;
        if (cs_audit_get_domain(R->r, d, &dm) != 0)
            continue;
        fputs("<h2>Domain ", f);
        cs_html_escape(f, dm.name);
        fprintf(f, "</h2>\n<p>%u VPCs, %s overlapping pairs.</p>\n", dm.vpcs,
                cs_text_count(dm.violations, a));
        h_table t;
        h_table_begin(&t, f, PAIR_HEADER);
        for (uint64_t i = 0; i < audit_rep_cap(R, dm.violations); i++) {
            pair_ref pr;
            if (audit_rep_pair(R->s, R->r, (long)d, i, &pr)) {
                h_table_row(&t);
                h_pair_row(f, &pr, NULL);
            }
        }
        h_table_end(&t);
    }
    if (!R->o->drift)
        return;
    const cs_audit_drift *dr = R->o->drift;
    fprintf(f, "<h2>%s</h2>\n<p>%" PRIu64 " appeared, %" PRIu64 " changed, %" PRIu64
               " disappeared.</p>\n",
            R->o->what_if ? "What-if" : "Drift", cs_audit_change_kind_count(dr, CS_CHANGE_APPEARED),
            cs_audit_change_kind_count(dr, CS_CHANGE_CHANGED),
            cs_audit_change_kind_count(dr, CS_CHANGE_DISAPPEARED));
    h_table t;
    h_table_begin(&t, f, PAIR_HEADER);
    for (size_t i = 0; i < audit_rep_cap(R, R->n_changes); i++) {
        change_ref cr;
        if (!audit_rep_change(R, i, &cr))
            continue;
        if (cr.ch.what == CS_CHANGE_PAIR) {
            pair_ref pr;
            if (audit_rep_pair(cr.s, cr.r, -1, cr.idx, &pr)) {
                h_table_row(&t);
                h_pair_row(f, &pr, audit_change_names[cr.ch.kind]);
            }
        } else {
            cs_audit_group g;
            if (cs_audit_get_group(cr.r, cr.idx, &g) != 0)
                continue;
            h_table_row(&t);
            char pfx[CS_PREFIX_STRCAP];
            cs_prefix_format(&g.prefix, pfx, sizeof pfx);
            fprintf(f,
                    "<tr class=\"%s\"><td>%s (%s)</td><td colspan=\"4\">group <code>%s"
                    "</code>: %u VPCs</td></tr>\n",
                    cs_severity_name(g.severity), cs_severity_name(g.severity),
                    audit_change_names[cr.ch.kind], pfx, g.vpcs);
        }
    }
    h_table_end(&t);
}

int audit_rep_html(const audit_rep *R)
{
    FILE *f = R->f;
    h_head(R);
    h_summary(R);
    if (R->rejected_records || R->rejected_files) {
        fputs("<h2>Rejected input</h2>\n<p>Read past with --keep-going; each counts as a "
              "high finding.</p>\n<ul>\n",
              f);
        audit_rep_rejected(R, h_rejected, f);
        fputs("</ul>\n", f);
    }
    /* the maps, the peering graph, filters and sorting (report/map.c) */
    int mrc = cs_estate_present(R->s) ? cs_map_write_section(f, R->s, R->r, NULL, NULL) : 0;
    if (mrc < 0)
        return mrc;
    if (R->sum.vpc_level)
        h_findings(R);
    h_domains_drift(R);
    if (R->n_clusters) {
        fputs("<h2>Overlap clusters</h2>\n", f);
        h_table t;
        h_table_begin(&t, f, "<th>top prefix</th><th>blocks</th><th>prefixes</th>"
                             "<th>depth</th><th>VPCs</th><th>block pairs</th>");
        for (size_t i = 0; i < audit_rep_cap(R, R->n_clusters); i++) {
            cs_audit_cluster c;
            if (cs_audit_get_cluster(R->r, i, &c) != 0)
                continue;
            h_table_row(&t);
            char pfx[CS_PREFIX_STRCAP], n1[CS_TEXT_COUNT_CAP];
            cs_prefix_format(&c.top, pfx, sizeof pfx);
            fprintf(f,
                    "<tr><td><code>%s</code></td><td class=\"n\">%u</td><td class=\"n\">%u</td>"
                    "<td class=\"n\">%u</td><td class=\"n\">%u</td><td class=\"n\">%s</td>"
                    "</tr>\n",
                    pfx, c.entries, c.prefixes, c.depth, c.vpcs,
                    cs_text_count(c.entry_pairs, n1));
        }
        h_table_end(&t);
    }
    fprintf(f, "<script>\n%s</script>\n</body></html>\n", pager_script);
    return 0;
}
