/*
 * cli/shm_source.c — attaching verbs to a shared-memory service, and the
 * state report of `stat --shm` (see shm_source.h).
 */
#include "shm_source.h"

#include <pwd.h>
#include <stdlib.h>
#include <time.h>

struct cli_shm_handle {
    cs_shm *h;
    cs_pin pin;
};

/* The uid of --owner USER (a name or a number), or -1 after printing why. */
static int64_t owner_uid(const char *verb, const char *owner)
{
    if (!owner)
        return -1;
    struct passwd *pw = getpwnam(owner);
    if (pw)
        return (int64_t)pw->pw_uid;
    long v = cli_parse_count(owner, 0, 0x7fffffffL);
    if (v >= 0)
        return v;
    cli_errorf(verb, "--owner '%s': no such user", owner);
    return -2;
}

/* Attaches with the --owner rule. Returns CLI_OK or an exit code. */
static int attach(const char *verb, const char *name, const char *owner, cs_shm **out)
{
    cs_shm_attach_options o = {.owner_uid = owner_uid(verb, owner)};
    if (o.owner_uid == -2)
        return CLI_USAGE;
    cs_error err;
    cs_error_clear(&err);
    if (cs_shm_attach_with(name, &o, out, &err) < 0)
        return cli_report_error(verb, &err);
    return CLI_OK;
}

int cli_shm_open(const char *verb, const char *name, const char *owner, cli_shm_handle **h,
                 const cs_snapshot **snap)
{
    *h = NULL;
    *snap = NULL;
    cli_shm_handle *c = calloc(1, sizeof *c);
    if (!c) {
        cli_errorf(verb, "out of memory");
        return CLI_INTERNAL;
    }
    int code = attach(verb, name, owner, &c->h);
    if (code == CLI_OK)
        code = cli_shm_repin(verb, c, snap);
    if (code != CLI_OK) {
        cs_shm_detach(c->h);
        free(c);
        return code;
    }
    *h = c;
    return CLI_OK;
}

void cli_shm_unpin(cli_shm_handle *h)
{
    if (h)
        cs_shm_unpin(&h->pin);
}

int cli_shm_repin(const char *verb, cli_shm_handle *h, const cs_snapshot **snap)
{
    cs_shm_unpin(&h->pin);
    cs_error err;
    cs_error_clear(&err);
    if (cs_shm_pin(h->h, &h->pin, &err) < 0) {
        *snap = NULL;
        return cli_report_error(verb, &err);
    }
    *snap = h->pin.snap;
    return CLI_OK;
}

void cli_shm_close(cli_shm_handle *h)
{
    if (!h)
        return;
    cs_shm_unpin(&h->pin);
    cs_shm_detach(h->h);
    free(h);
}

/* "2024-05-01T10:00:00Z", or "never" for 0. */
static const char *utc(uint64_t t, char *buf, size_t cap)
{
    if (t == 0)
        return "never";
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, cap, "%llu", (unsigned long long)t);
    return buf;
}

int cli_shm_stat(const char *name, const char *owner, int json)
{
    cs_shm *h = NULL;
    int code = attach("stat", name, owner, &h);
    if (code != CLI_OK)
        return code;
    cs_shm_info info;
    cs_shm_get_info(h, &info);
    size_t nr = cs_shm_get_readers(h, NULL, 0);
    size_t ni = cs_shm_get_images(h, NULL, 0);
    cs_shm_reader_info *r = calloc(nr + 1, sizeof *r);
    cs_shm_image_info *im = calloc(ni + 1, sizeof *im);
    if (!r || !im) {
        free(r);
        free(im);
        cs_shm_detach(h);
        cli_errorf("stat", "out of memory");
        return CLI_INTERNAL;
    }
    /* The table may change between the two calls: print what fits. */
    nr = cs_shm_get_readers(h, r, nr);
    ni = cs_shm_get_images(h, im, ni);
    const char *svc = name[0] == '/' ? name + 1 : name;
    char t1[32], t2[32];
    if (json) {
        printf("{\"service\":");
        cli_json_string(stdout, svc);
        printf(",\"generation\":%llu,\"image_bytes\":%llu,\"created_unix\":%llu,"
               "\"published_unix\":%llu,\"server_pid\":%d,\"server_alive\":%s,"
               "\"publishing_pid\":%d,\"publishing_alive\":%s,\"slots\":%u,\"slots_used\":%u,\"removed\":%s,"
               "\"owner_uid\":%u,\"vpcs\":%llu,\"refused\":",
               (unsigned long long)info.generation, (unsigned long long)info.image_len,
               (unsigned long long)info.created_unix, (unsigned long long)info.published_unix,
               (int)info.server_pid, info.server_alive ? "true" : "false", (int)info.writer_pid,
               info.writer_alive ? "true" : "false",
               info.slot_count, info.slots_used, info.removed ? "true" : "false", info.owner_uid,
               (unsigned long long)info.vpcs);
        if (info.refused_unix)
            printf("{\"unix\":%llu,\"vpcs\":%llu,\"previous_vpcs\":%llu}",
                   (unsigned long long)info.refused_unix, (unsigned long long)info.refused_vpcs,
                   (unsigned long long)info.refused_prev_vpcs);
        else
            printf("null");
        printf(",\"readers\":[");
        for (size_t i = 0; i < nr; i++)
            printf("%s{\"slot\":%u,\"pid\":%d,\"alive\":%s,\"generation\":%llu}", i ? "," : "",
                   r[i].slot, (int)r[i].pid, r[i].alive ? "true" : "false",
                   (unsigned long long)r[i].generation);
        printf("],\"images\":[");
        for (size_t i = 0; i < ni; i++)
        {
            printf("%s{\"generation\":%llu,\"bytes\":%llu,\"current\":%s,\"segment\":", i ? "," : "",
                   (unsigned long long)im[i].generation, (unsigned long long)im[i].image_len,
                   im[i].generation == info.generation ? "true" : "false");
            cli_json_string(stdout, im[i].segment + 1);
            printf("}");
        }
        printf("]}\n");
    } else {
        printf("service     %s%s\n", svc, info.removed ? " (removed)" : "");
        if (info.generation)
            printf("generation  %llu, published %s\n", (unsigned long long)info.generation,
                   utc(info.published_unix, t1, sizeof t1));
        else
            printf("generation  none published yet\n");
        printf("image       %llu bytes, %llu VPCs\n", (unsigned long long)info.image_len,
               (unsigned long long)info.vpcs);
        if (info.refused_unix)
            printf("refused     a generation of %llu VPCs (%llu served) at %s: more than --max-shrink;\n"
                   "            SIGHUP to serve or publish --force to accept it\n",
                   (unsigned long long)info.refused_vpcs, (unsigned long long)info.refused_prev_vpcs,
                   utc(info.refused_unix, t1, sizeof t1));
        printf("created     %s\n", utc(info.created_unix, t2, sizeof t2));
        if (info.server_pid)
            printf("server      pid %d (%s)\n", (int)info.server_pid,
                   info.server_alive ? "running" : "gone");
        else
            printf("server      none (the last generation stays published)\n");
        if (info.writer_pid)
            printf("publishing  pid %d%s\n", (int)info.writer_pid,
                   info.writer_alive ? "" : " (crashed mid-publish; the next publish recovers)");
        printf("readers     %u of %u slots in use\n", info.slots_used, info.slot_count);
        for (size_t i = 0; i < nr; i++) {
            printf("  pid %-8d ", (int)r[i].pid);
            if (r[i].generation)
                printf("generation %llu", (unsigned long long)r[i].generation);
            else
                printf("claiming a slot");
            printf("%s\n", r[i].alive ? "" : " (process gone; reclaimed at the next publish)");
        }
        printf("images      %zu segment%s\n", ni, ni == 1 ? "" : "s");
        for (size_t i = 0; i < ni; i++)
            printf("  %s  generation %llu, %llu bytes%s\n", im[i].segment + 1, (unsigned long long)im[i].generation,
                   (unsigned long long)im[i].image_len,
                   im[i].generation == info.generation ? " (current)"
                   : im[i].generation > info.generation ? " (being written)" : " (older: pinned, or kept for --reuse)");
    }
    free(r);
    free(im);
    cs_shm_detach(h);
    return CLI_OK;
}
