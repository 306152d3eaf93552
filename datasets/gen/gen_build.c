/*
 * datasets/gen/gen_build.c — the one estate generator straight into an
 * estate builder (gen_estate_build: the tests and the benchmarks): the
 * same VPCs, tags, associations and connections, with the same ids, that
 * gen_write.c prints, so loading the files and this give the same frozen
 * estate. Does not: write files.
 *
 * Tests: tests/test_gen.c (files and builder give the same estate).
 */
#include "gen_internal.h"

#include <stdio.h>

/* ---- straight into a builder ------------------------------------------------------ */

/* A builder call failed: its err already says why. */
static int sink_failed(gen *g, int rc)
{
    g->rc = rc;
    return rc;
}

static int sink_vpc(gen *g, const gvpc *v)
{
    char id[32], acct[13], cc[16];
    gref x = {v->a, v->r, v->j, false};
    gen_vpc_id(g, &x, id);
    gen_account_id(g, v->a, acct);
    snprintf(cc, sizeof cc, "cc-%04u", (unsigned)(v->a % 9000 + 1000));
    cs_tag tags[50];
    size_t nt = 0;
    char kbuf[49][32], vbuf[49][32];
    if (v->tags != TAGS_NONE) {
        tags[nt++] = (cs_tag){cs_str_c("Name"), cs_str_c(v->name)};
        if (v->tags == TAGS_STD) {
            tags[nt++] = (cs_tag){cs_str_c("Environment"), cs_str_c(gen_envs[v->env])};
            tags[nt++] = (cs_tag){cs_str_c("Team"), cs_str_c(gen_teams[v->team])};
            tags[nt++] = (cs_tag){cs_str_c("CostCenter"), cs_str_c(cc)};
            tags[nt++] = (cs_tag){cs_str_c("ManagedBy"),
                                  cs_str_c(v->j % 3 ? "terraform" : "cloudformation")};
        } else if (v->tags == TAGS_MANY) {
            for (unsigned i = 1; i < 50; i++) {
                snprintf(kbuf[i - 1], sizeof kbuf[i - 1], "sandbox:label-%02u", i);
                snprintf(vbuf[i - 1], sizeof vbuf[i - 1], "value %u/49", i);
                tags[nt++] = (cs_tag){cs_str_c(kbuf[i - 1]), cs_str_c(vbuf[i - 1])};
            }
        }
    }
    cs_srcloc loc = {"(gen)", 0, 0};
    cs_vpc_desc d = {.id = cs_str_c(id), .owner = cs_str_c(acct),
                     .region = cs_str_c(gen_region_names[v->r]),
                     .name = cs_str_c(v->tags != TAGS_NONE ? v->name : NULL),
                     .tags = tags, .tag_count = nt,
                     .state = v->pending ? CS_VPC_PENDING : CS_VPC_AVAILABLE,
                     .is_default = v->is_default};
    int rc = cs_estate_add_vpc(g->sink, &d, &loc, g->err);
    if (rc < 0)
        return sink_failed(g, rc);
    const gblock *bl[2] = {v->v4, v->v6};
    unsigned nb[2] = {v->n4, v->n6};
    for (int f = 0; f < 2; f++)
        for (unsigned i = 0; i < nb[f]; i++) {
            char aid[48];
            gen_hex_id(aid, sizeof aid, "vpc-cidr-assoc-",
                   mix64(((v->code << 8) | bl[f][i].ord) ^ g->key_assoc));
            cs_cidr_desc cd = {.vpc_id = cs_str_c(id), .prefix = bl[f][i].p,
                               .association_id = cs_str_c(aid), .state = bl[f][i].state,
                               .primary = f == 0 && i == 0};
            rc = cs_estate_add_cidr(g->sink, &cd, &loc, g->err);
            if (rc < 0)
                return sink_failed(g, rc);
        }
    g->st.vpcs++;
    g->st.assocs += v->n4 + v->n6;
    return 0;
}

static int sink_link(gen *g, const glink *l)
{
    char pcx[48], rid[32], aid[32], racct[13], aacct[13];
    gen_hex_id(pcx, sizeof pcx, "pcx-", mix64(gen_link_code(l) ^ g->key_pcx));
    gen_vpc_id(g, &l->req, rid);
    gen_vpc_id(g, &l->acc, aid);
    gen_ref_account(g, &l->req, racct);
    gen_ref_account(g, &l->acc, aacct);
    cs_peering_desc d = {
        .id = cs_str_c(pcx),
        .requester = {.vpc_id = cs_str_c(rid), .owner = cs_str_c(racct),
                      .region = cs_str_c(gen_region_names[l->req.external ? 0 : l->req.r])},
        .accepter = {.vpc_id = cs_str_c(aid), .owner = cs_str_c(aacct),
                     .region = cs_str_c(gen_region_names[l->acc.external ? 0 : l->acc.r])},
        .status = l->status};
    cs_srcloc loc = {"(gen)", 0, 0};
    int rc = cs_estate_add_peering(g->sink, &d, &loc, g->err);
    if (rc < 0)
        return sink_failed(g, rc);
    g->st.peerings++;
    return 0;
}

int gen_estate_build(const gen_opts *o, cs_estate *e, gen_stats *st, cs_error *err)
{
    gen g;
    int rc = gen_setup(&g, o, err, false);
    if (rc)
        return rc;
    if (!e)
        return gen_fail_usage(&g, "gen_estate_build: NULL estate");
    g.sink = e;
    glink links[MAX_LINKS];
    for (uint32_t a = 0; a < g.o.accounts && rc == 0; a++)
        for (uint32_t r = 0; r < g.o.regions && rc == 0; r++) {
            for (uint32_t j = 0; j < g.o.vpcs && rc == 0; j++) {
                gvpc v;
                gen_vpc_make(&g, a, r, j, &v);
                rc = sink_vpc(&g, &v);
            }
            size_t k = gen_links_at(&g, a, r, links);
            for (size_t i = 0; i < k && rc == 0; i++) {
                /* once, at its home side (as the CSV writes it) */
                const gref *home = links[i].req.external ? &links[i].acc : &links[i].req;
                if (home->a == a && home->r == r)
                    rc = sink_link(&g, &links[i]);
            }
        }
    if (st)
        *st = g.st;
    return rc;
}
