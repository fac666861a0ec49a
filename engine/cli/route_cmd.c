/* radlink routes check|test: the interface analyst's tools. check never
 * touches a store; test decides each message as the engine would (by the
 * running engine when there is one), keeping nothing. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tools.h"
#include "radlink/cfg.h"
#include "radlink/dicom.h"
#include "radlink/route.h"
#include "radlink/store.h"
#include "radlink/wl_hook.h"

int cli_run_routes_check(op_call *self)
{
    const char *file = ops_str(self, "FILE");
    route_set *rs;
    int rc;
    if ((rc = cli_load_routes(self, file, &rs, true)) != CLI_OK) {
        fprintf(stderr, "%s: not valid\n", file);
        return rc;
    }
    printf("%s: ok\n  sha256        %s\n  routes        %zu%s", file, route_sha256(rs),
           route_count(rs), route_count(rs) ? ":" : "");
    for (size_t i = 0; i < route_count(rs); i++)
        printf("%s %s", i ? "," : "", route_name(rs, i));
    size_t nd;
    const route_dest *d = route_dests(rs, &nd);
    printf("\n  destinations  %zu%s", nd, nd ? ":" : "");
    for (size_t i = 0; i < nd; i++)
        printf("%s %s (%s:%u%s)", i ? "," : "", d[i].name, d[i].host, d[i].port,
               d[i].tls ? " tls" : "");
    printf("\n  tables        %zu%s", route_table_count(rs), route_table_count(rs) ? ":" : "");
    for (size_t i = 0; i < route_table_count(rs); i++) {
        size_t n;
        const char *name = route_table_info(rs, i, &n);
        printf("%s %s (%zu entries)", i ? "," : "", name, n);
    }
    size_t nwl;
    bool ihe;
    route_wl_attrs(rs, &nwl, &ihe);
    printf("\n  worklist      %s defaults, %zu attribute%s mapped in the file\n",
           ihe ? "IHE" : "no", nwl, nwl == 1 ? "" : "s");
    if (route_dicom_present(rs)) {
        size_t on_receive, droutes;
        bool hold;
        route_dicom_counts(rs, &on_receive, &droutes, &hold);
        printf("  dicom routes  %zu on-receive, %zu dicom-route%s; an instance none takes %s\n",
               on_receive, droutes, droutes == 1 ? "" : "s",
               hold ? "is held" : "goes to every <pacs>");
    }
    for (int k = 0; k < ROUTE_HOOK_COUNT; k++) {
        int line = route_hook_line(rs, (route_hook_kind)k);
        if (line && !engine_hook((route_hook_kind)k))
            printf("warning: %s:%d: <%s/> is not available in this engine: every message that "
                   "reaches it gets AE\n", file, line, route_hook_name((route_hook_kind)k));
    }
    route_free(rs);
    return CLI_OK;
}

/* A DICOM file (its "DICM" after the preamble, or a .dcm name), not HL7. */
static bool is_dicom(const char *path)
{
    size_t n = strlen(path);
    if (n > 4 && strcasecmp(path + n - 4, ".dcm") == 0)
        return true;
    char head[132];
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : NULL;
    bool yes = f && fread(head, 1, sizeof head, f) == sizeof head && !memcmp(head + 128, "DICM", 4);
    if (f)
        fclose(f);
    return yes;
}

/* The secret the engine of data directory dir de-identifies with, so that
 * the UIDs shown are the ones it would send; false when it has none. */
static bool engine_secret(const char *dir, uint8_t out[DICOM_DEID_SECRET_SIZE])
{
    char path[RL_CFG_PATH_MAX + sizeof "/deid.key"];
    snprintf(path, sizeof path, "%s/deid.key", dir);
    rl_buf b;
    rl_buf_init(&b, 4096);
    rl_err err;
    bool ok = rl_read_file(path, &b, &err) == 0 && b.len == DICOM_DEID_SECRET_SIZE;
    if (ok)
        memcpy(out, b.data, DICOM_DEID_SECRET_SIZE);
    rl_buf_free(&b);
    return ok;
}

static void print_trace(rl_buf *trace)
{
    fwrite(trace->data, 1, trace->len, stdout);
    trace->len = 0;
}

/* One send: its program run on a copy of the instance, as a worker would
 * (the RIS's corrections aside). 0, or 1 when a coercion fails. */
static int test_send(const route_dicom_decision *d, const route_dicom_send *s, dicom_ds *ds,
                     rl_buf *trace)
{
    dicom_ds *copy;
    rl_err err;
    if (dicom_ds_clone(ds, &copy, &err) != 0) {
        printf("send %s: cannot copy the instance: %s\n", s->to, err.msg);
        return 1;
    }
    int rc = route_dicom_prog_apply((rl_str){ d->progs.data + s->prog_off, s->prog_len },
                                    &dicom_ds_io, copy, trace, &err);
    print_trace(trace);
    if (rc != ROUTE_OK)
        printf("  => not sent: %s\n", err.msg);
    dicom_ds_free(copy);
    return rc != ROUTE_OK;
}

/* routes test FILE IMAGE.dcm: the instance through the <dicom-routes>. */
static int test_dicom(op_call *self, route_set *rs, const char *image, const char *dir)
{
    dicom_ds *ds;
    rl_err err;
    if (dicom_ds_open(image, &ds, &err) != 0) {
        fprintf(stderr, "%s: %s\n", image, err.msg);
        return cli_fail(self, CLI_BADINPUT, "%s: not a DICOM file radlink can read", image);
    }
    uint8_t secret[DICOM_DEID_SECRET_SIZE] = { 0 };
    bool own = engine_secret(dir, secret);
    dicom_ds_set_secret(ds, secret);
    const char *calling = ops_str(self, "calling-ae"), *called = ops_str(self, "called-ae");
    route_dcm_who who = { calling ? calling : "STORESCU", called ? called : "RADLINK" };
    dicom_file_info fi;
    dicom_ds_info(ds, &fi);
    printf("instance %s, SOP class %s, from %s to %s\n", fi.sop_uid, fi.sop_class,
           who.calling_ae, who.called_ae);
    if (!route_dicom_present(rs)) {
        printf("no <dicom-routes>: every <pacs> gets it as it is\n");
        dicom_ds_free(ds);
        return CLI_OK;
    }
    rl_buf trace;
    rl_buf_init(&trace, 0);
    route_dicom_decision d;
    int rc = route_dicom_receive(rs, &dicom_ds_io, ds, &who, &d, &trace, &err);
    print_trace(&trace);
    int failed = rc != ROUTE_OK;
    if (failed)
        printf("result: the routes could not decide: %s\n", err.msg);
    bool deid = false;
    for (size_t i = 0; !failed && !d.held && i < d.nsends; i++) {
        route_prog_info info;
        rl_str prog = { d.progs.data + d.sends[i].prog_off, d.sends[i].prog_len };
        deid |= route_dicom_prog_info(prog, &info, &err) == ROUTE_OK && info.deidentify;
        failed |= test_send(&d, &d.sends[i], ds, &trace);
    }
    if (deid && !own)
        printf("(no engine's deid.key in %s: the de-identified UIDs shown are not the ones it "
               "would send)\n", dir);
    bool held = d.held;
    route_dicom_decision_free(&d);
    rl_buf_free(&trace);
    dicom_ds_free(ds);
    return failed || held ? 1 : CLI_OK;
}

int cli_run_routes_test(op_call *self)
{
    const char *file = ops_str(self, "FILE"), *input = ops_str(self, "MSG.hl7|IMAGE.dcm");
    /* the file loads (its errors listed) before anything is decided */
    route_set *rs;
    int rc;
    if ((rc = cli_load_routes(self, file, &rs, false)) != CLI_OK)
        return rc;
    /* the data directory decided against: --data, else the config's, else ./var */
    char dir[RL_CFG_PATH_MAX];
    if ((rc = cli_data_dir(self, ops_str(self, "data"), self->config, dir, sizeof dir)) != 0) {
        route_free(rs);
        return rc;
    }
    if (is_dicom(input)) {
        rc = test_dicom(self, rs, input, dir);
        route_free(rs);
        return rc;
    }
    route_free(rs);
    self->data = dir;
    return cli_decide_file(self, file, input, true, false);
}
