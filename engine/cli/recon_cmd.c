/* radlink recon list|show|link|forward: received studies against the RIS.
 * list and show read beside the running engine; link (an administrator's
 * manual match) and forward (a study no order claims, sent as it is) are made
 * by the running engine (or on the store when none runs). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "radlink/cfg.h"
#include "radlink/recon.h"
#include "radlink/recon_job.h"
#include "radlink/store.h"

static const struct option recon_longs[] = {
    { "data", required_argument, NULL, 'D' },
    { "config", required_argument, NULL, 'C' },
    { "unmatched", no_argument, NULL, 'u' },
    { "force", no_argument, NULL, 'f' },
    { 0, 0, 0, 0 },
};

typedef struct ropts {
    const char *data, *config;
    bool unmatched, force;
} ropts;

static int parse(const cli_cmd *self, int argc, char **argv, ropts *o, int nargs)
{
    cli_opts co = { argc, argv, self, "", recon_longs, 0, 0 };
    int c;
    while ((c = cli_next(&co)) != -1) {
        if (c == CLI_STOP)
            return co.exit_code ? co.exit_code : -1;
        if (c == 'D')
            o->data = optarg;
        else if (c == 'C')
            o->config = optarg;
        else if (c == 'u')
            o->unmatched = true;
        else if (c == 'f')
            o->force = true;
    }
    if (argc - optind != nargs)
        return cli_usage(self, "expected %s", nargs ? self->args : "no arguments");
    return 0;
}

static int count_one(void *ctx, rl_str kw, rl_str image, rl_str ris)
{
    (void)kw, (void)image, (void)ris;
    (*(unsigned *)ctx)++;
    return 0;
}

static int count_candidate(void *ctx, rl_str kind, rl_str accession, rl_str what)
{
    (void)accession, (void)what;
    if (rl_str_eq_c(kind, "Candidate"))
        (*(unsigned *)ctx)++;
    return 0;
}

static unsigned count_discrepancies(rl_str note)
{
    unsigned n = 0;
    recon_note_each(note, count_one, &n);
    return n;
}

static int print_discrepancy(void *ctx, rl_str kw, rl_str image, rl_str ris)
{
    (void)ctx;
    printf("  %-22.*s '%.*s' -> '%.*s'\n", RL_STR_FMT(kw), RL_STR_FMT(image), RL_STR_FMT(ris));
    return 0;
}

static int print_candidate(void *ctx, rl_str kind, rl_str accession, rl_str what)
{
    (void)ctx;
    if (rl_str_eq_c(kind, "Claimed"))
        printf("  %-16.*s taken: %.*s\n", RL_STR_FMT(accession), RL_STR_FMT(what));
    else
        printf("  %-16.*s candidate: %.*s\n", RL_STR_FMT(accession), RL_STR_FMT(what));
    return 0;
}

typedef struct change_ctx {
    bool head;
} change_ctx;

static int print_change(void *ctx, uint64_t job_id, rl_str v)
{
    change_ctx *cc = ctx;
    if (!cc->head) {
        printf("changes made (attribute: old -> new, job, reason):\n");
        cc->head = true;
    }
    const char *p = v.p, *end = v.p + v.n, *f[4] = { p, NULL, NULL, NULL };
    int nf = 1;
    for (const char *q = p; q < end && nf < 4; q++)
        if (*q == '\t')
            f[nf++] = q + 1;
    if (nf == 4)
        printf("  %-22.*s '%.*s' -> '%.*s', job %llu, %.*s\n", (int)(f[1] - f[0] - 1), f[0],
               (int)(f[2] - f[1] - 1), f[1], (int)(f[3] - f[2] - 1), f[2],
               (unsigned long long)job_id, (int)(end - f[3]), f[3]);
    return 0;
}

typedef struct list_ctx {
    bool unmatched;
    unsigned n;
    int64_t now_us;
} list_ctx;

/* "45s", "12m", "3h20m", "2d4h": how long ago */
static void age(int64_t us, char *out, size_t n)
{
    int64_t s = us > 0 ? us / 1000000 : 0;
    if (s < 60)
        snprintf(out, n, "%llds", (long long)s);
    else if (s < 3600)
        snprintf(out, n, "%lldm", (long long)(s / 60));
    else if (s < 86400)
        snprintf(out, n, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else
        snprintf(out, n, "%lldd%lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
}

static int row(void *ctx, rl_str uid, const study_rec *s)
{
    list_ctx *lc = ctx;
    if (lc->unmatched && s->state != RECON_UNMATCHED)
        return 0;
    lc->n++;
    unsigned dis = 0;
    if (s->state == RECON_CORRECTING || s->state == RECON_CORRECTED)
        dis = count_discrepancies(s->note);
    else if (s->state == RECON_UNMATCHED)
        recon_note_each(s->note, count_candidate, &dis);
    char a[24] = "";
    if (lc->unmatched)
        age(lc->now_us - s->first_us, a, sizeof a);
    printf("%-40.*s %-10s %-12.*s %-16.*s %-8.*s %-4.*s %5u %3u %s%s%.*s\n", RL_STR_FMT(uid),
           recon_state_name(s->state), RL_STR_FMT(s->f[STUDY_F_PATIENT_ID]),
           RL_STR_FMT(s->f[STUDY_F_ACCESSION]), RL_STR_FMT(s->f[STUDY_F_STUDY_DATE]),
           RL_STR_FMT(s->f[STUDY_F_MODALITY]), s->instances, dis, a, a[0] ? " " : "",
           RL_STR_FMT(s->f[STUDY_F_PATIENT_NAME]));
    return 0;
}

static int run_list(const cli_cmd *self, int argc, char **argv)
{
    ropts o = { 0 };
    int rc = parse(self, argc, argv, &o, 0);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    store *st;
    store_txn *t;
    if ((rc = cli_open_store(self, o.data, o.config, false, &st, &t)) != 0)
        return rc;
    /* DIS: discrepancies; on the exception list, the orders found (CAND)
     * and how long the study has waited (AGE) */
    printf("%-40s %-10s %-12s %-16s %-8s %-4s %5s %3s %s%s\n", "STUDY-UID", "STATE", "PATIENT-ID",
           "ACCESSION", "DATE", "MOD", "INST", o.unmatched ? "CND" : "DIS",
           o.unmatched ? "AGE " : "", "PATIENT");
    list_ctx lc = { o.unmatched, 0, rl_now_us() };
    rl_err err;
    rc = study_each(t, row, &lc, &err);
    store_abort(t);
    store_close(st);
    if (rc != STORE_OK)
        return cli_fail(self, CLI_FAIL, "%s", err.msg);
    printf("(%u stud%s%s)\n", lc.n, lc.n == 1 ? "y" : "ies", o.unmatched ? " without an order" : "");
    return CLI_OK;
}

static int inst_line(void *ctx, rl_str sop)
{
    store_txn *t = ctx;
    study_inst *in = malloc(sizeof *in);
    rl_err err;
    if (in && study_get_instance(t, sop, in, &err) == STORE_OK)
        printf("  %-44s %-6s %-10s %s\n", in->f[STUDY_F_SOP_UID], in->f[STUDY_F_MODALITY],
               in->f[STUDY_F_CALLING_AE], in->f[STUDY_F_PATH]);
    free(in);
    return 0;
}

static void print_study(store_txn *t, rl_str uid, const study_rec *s)
{
    printf("study %.*s\n  state        %s\n", RL_STR_FMT(uid), recon_state_name(s->state));
    for (int i = 0; i < STUDY_F_COUNT; i++)
        if (s->f[i].n)
            printf("  %-20s %.*s\n", study_field_name[i], RL_STR_FMT(s->f[i]));
    printf("  instances    %u\n", s->instances);
    if (s->matched.n) {
        rl_str k = s->matched;
        const char *z1 = memchr(k.p, '\0', k.n);
        const char *z2 = z1 ? memchr(z1 + 1, '\0', k.n - (size_t)(z1 + 1 - k.p)) : NULL;
        if (z1 && z2)
            printf("  order        accession %.*s, procedure %.*s, step %.*s\n",
                   (int)(z1 - k.p), k.p, (int)(z2 - z1 - 1), z1 + 1,
                   (int)(k.n - (size_t)(z2 + 1 - k.p)), z2 + 1);
    } else if (s->state == RECON_UNMATCHED || s->state == RECON_FORWARDED) {
        printf("  order        none found: link one with 'radlink recon link %.*s ACCESSION'%s\n",
               RL_STR_FMT(uid), s->state == RECON_UNMATCHED ? ", or send it as it is with "
                                                              "'radlink recon forward'" : "");
        if (s->note.n) {
            printf("orders of this patient, day and modality:\n");
            recon_note_each(s->note, print_candidate, NULL);
        }
    }
    if (s->note.n && (s->state == RECON_CORRECTING || s->state == RECON_CORRECTED)) {
        printf("discrepancies (attribute: in the images -> from the RIS):\n");
        recon_note_each(s->note, print_discrepancy, NULL);
    }
    /* the changes correction jobs made */
    rl_err err;
    change_ctx cc = { false };
    recon_changes_each(t, uid, print_change, &cc, &err);
    printf("instances:\n");
    study_index_each(t, 'I', uid, inst_line, t, &err);
}

static int run_show(const cli_cmd *self, int argc, char **argv)
{
    ropts o = { 0 };
    int rc = parse(self, argc, argv, &o, 1);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    store *st;
    store_txn *t;
    if ((rc = cli_open_store(self, o.data, o.config, false, &st, &t)) != 0)
        return rc;
    study_rec s;
    rl_err err;
    rl_str uid = rl_str_c(argv[optind]);
    rc = study_get(t, uid, &s, &err);
    if (rc == STORE_OK)
        print_study(t, uid, &s);
    store_abort(t);
    store_close(st);
    if (rc == STORE_NOTFOUND)
        return cli_fail(self, CLI_FAIL, "no study %s", argv[optind]);
    return rc == STORE_OK ? CLI_OK : cli_fail(self, CLI_FAIL, "%s", err.msg);
}

static int run_link(const cli_cmd *self, int argc, char **argv)
{
    ropts o = { 0 };
    int rc = parse(self, argc, argv, &o, 2);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    char *req[] = { "recon", "link", argv[optind], argv[optind + 1], "--force", NULL };
    return cli_ctl(self, o.data, o.config, o.force ? 5 : 4, req);
}

static int run_forward(const cli_cmd *self, int argc, char **argv)
{
    ropts o = { 0 };
    int rc = parse(self, argc, argv, &o, 1);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    char *req[] = { "recon", "forward", argv[optind], NULL };
    return cli_ctl(self, o.data, o.config, 3, req);
}

#define RECON_HELP                                                                             \
    "  --data DIR        data directory (default: from --config, else ./var)\n"                \
    "  --config FILE     take the data directory from this configuration\n"

static const cli_cmd recon_subs[] = {
    { .name = "list", .args = "", .run = run_list,
      .summary = "received studies and how they compare with the RIS",
      .help = "  --unmatched       only the exception list: studies no order was found for,\n"
              "                    with the orders found (CND) and how long each waited (AGE)\n"
              RECON_HELP },
    { .name = "show", .args = "STUDY-UID", .run = run_show,
      .summary = "one study: its headers, the order it matched, each discrepancy, its instances",
      .help = RECON_HELP },
    { .name = "link", .args = "STUDY-UID ACCESSION", .run = run_link,
      .summary = "match a study to an order by hand (then its headers are compared with it)",
      .help = "  --force           link although the study's modality is not the order's\n"
              RECON_HELP },
    { .name = "forward", .args = "STUDY-UID", .run = run_forward,
      .summary = "send a study no order claims to the PACS as it is",
      .help = RECON_HELP },
    { 0 },
};

const cli_cmd cli_recon_cmd = {
    .name = "recon",
    .summary = "reconciliation of received studies: list, show, link, forward",
    .subs = recon_subs,
};
