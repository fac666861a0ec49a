/* pacs check AE: what a PACS (a <pacs> or <node>) lets radlink do, asked
 * the way the jobs ask it, and the remedy for what it does not: C-ECHO (TLS
 * when configured), a storage commitment request, C-FIND at study and image
 * level. Sends no images. The CLI asks with --config (or the file the
 * engine on --data started with); the console with the engine's own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"
#include "radlink/cfg.h"
#include "radlink/digest.h"
#include "radlink/dicom.h"
#include "radlink/job.h"

static int ignore(void *ctx, const char *sop)
{
    (void)ctx;
    (void)sop;
    return 0;
}

static dicom_peer peer_of(const cfg_pacs *p)
{
    dicom_peer d;
    memset(&d, 0, sizeof d);
    snprintf(d.ae_title, sizeof d.ae_title, "%s", p->ae);
    snprintf(d.host, sizeof d.host, "%s", p->host);
    d.port = p->port;
    d.tls = p->tls;
    d.associations = p->associations;
    return d;
}

/* One check: a line "  ok    what" or "  no    what: why" and its remedy;
 * an element of "checks" in JSON. */
static bool say(view *v, const char *key, const char *what, int rc, const rl_err *err,
                const char *remedy)
{
    view_obj(v, NULL);
    view_json(v, "check", json_string(key));
    view_json(v, "what", json_string(what));
    view_json(v, "ok", json_boolean(rc == 0));
    if (rc != 0) {
        view_json(v, "why", json_string(err->msg));
        view_json(v, "remedy", json_string(remedy ? remedy : ""));
    }
    view_obj_end(v);
    if (rc == 0) {
        view_printf(v, "  ok    %s\n", what);
        return true;
    }
    view_printf(v, "  no    %s: %s\n", what, err->msg);
    if (remedy)
        view_printf(v, "        %s\n", remedy);
    return false;
}

/* The configuration to read: the engine's own, --config, or the file the
 * engine on --data started with (*owned is freed by the caller). */
static int config_of(op_call *c, const cfg **out, cfg **owned)
{
    *owned = NULL;
    *out = c->cfg;
    if (c->cfg)
        return OP_OK;
    char from_engine[RL_CFG_PATH_MAX];
    const char *path = c->config;
    if (!path) {
        ops_engine_config(c->data, from_engine, sizeof from_engine);
        if (!from_engine[0]) {
            return view_fail(c->out, OP_USAGE, "--config names the configuration whose <pacs> "
                             "or <node> AE is (the engine on %s did not start from a "
                             "configuration file)", c->data ? c->data : "the data directory");
        }
        path = from_engine;
    }
    cfg *cf = calloc(1, sizeof *cf);
    rl_buf errors;
    rl_buf_init(&errors, 0);
    if (cf)
        cfg_defaults(cf);
    if (!cf || cfg_load(cf, path, &errors) != 0) {
        int status = view_fail(c->out, OP_BADINPUT, "%s: configuration rejected%s%s", path,
                               errors.len ? ":\n" : "", rl_buf_cstr(&errors));
        rl_buf_free(&errors);
        free(cf);
        return status;
    }
    rl_buf_free(&errors);
    *out = *owned = cf;
    return OP_OK;
}

static int check(op_call *c, const cfg *cf, const cfg_pacs *p)
{
    view *v = c->out;
    dicom_peer peer = peer_of(p);
    const char *me = cf->dicom_ae;
    char remedy[512], what[160];
    view_printf(v, "%s@%s:%u%s, asked as %s\n", peer.ae_title, peer.host, peer.port,
                peer.tls.on ? " over TLS" : "", me);
    view_json(v, "pacs", json_string(peer.ae_title));
    view_json(v, "calling", json_string(me));
    view_arr(v, "checks");
    rl_err err;
    snprintf(remedy, sizeof remedy, "check the host and port%s, and that the PACS runs",
             peer.tls.on ? ", and its certificate against <tls ca> (and radlink's against the "
                           "PACS's trust)" : "");
    if (!say(v, "echo", peer.tls.on ? "C-ECHO (TLS handshake and association)" : "C-ECHO",
             dicom_echo(me, &peer, &err), &err, remedy)) {
        view_arr_end(v);
        return OP_FAIL;
    }
    /* storage commitment: a request for an instance it does not hold (its
     * report, a failure, goes to the engine's listener) */
    char txn[RL_UUID_UID_SIZE], sop[RL_UUID_UID_SIZE];
    digest_uid_random(txn);
    digest_uid_random(sop);
    dicom_ref ref = { "1.2.840.10008.5.1.4.1.1.7", sop, txn };
    snprintf(remedy, sizeof remedy, "declare AE %s (this engine's DICOM listener: its host and "
             "port) at the PACS as a modality that may ask for storage commitment; or set "
             "verify=\"find\" for it", me);
    snprintf(what, sizeof what, "storage commitment (the request taken; the PACS sends its "
             "report to AE %s's listener)", me);
    bool commit = say(v, "commitment", what, dicom_commit_request(me, &peer, txn, &ref, 1, &err),
                      &err, remedy);
    dicom_study_row row;
    size_t n = 0;
    snprintf(remedy, sizeof remedy, "let AE %s query the PACS (declare it there as a modality); "
             "or set verify=\"none\" for it", me);
    bool study = say(v, "find-study", "C-FIND at study level (how jobs verify)",
                     dicom_find_studies(me, &peer, txn, &row, 1, &n, &err), &err, remedy);
    bool image = say(v, "find-image", "C-FIND at image level (what a PACS holds of a study)",
                     dicom_find_instances(me, &peer, txn, ignore, NULL, &err), &err, remedy);
    view_arr_end(v);
    const char *verify = commit && study ? "commit+find" : study ? "find" : "none";
    view_json(v, "verify", json_string(verify));
    view_printf(v, "verify=\"%s\" suits it%s\n", verify, commit && study ? " (the default)" : "");
    static const char update[] = "\"resend\" when it overwrites the instances it holds "
                                 "(Orthanc: OverwriteInstances), \"iocm\" when it acts on IOCM "
                                 "rejection notes, \"hl7\" when it takes ADT (a job that "
                                 "verifies says which it does)";
    view_json(v, "update", json_string(update));
    view_printf(v, "update: %s\n", update);
    return commit && study && image ? OP_OK : OP_FAIL; /* an answer (OP_RESULT) */
}

int ops_pacs_check(op_call *c)
{
    cfg *owned;
    const cfg *cf;
    int status = config_of(c, &cf, &owned);
    if (status != OP_OK)
        return status;
    const char *ae = ops_str(c, "AE");
    const cfg_pacs *p = NULL;
    for (unsigned i = 0; i < cf->n_pacs && !p; i++)
        if (!strcmp(cf->pacs[i].ae, ae))
            p = &cf->pacs[i];
    status = p ? check(c, cf, p)
                   : view_fail(c->out, OP_NOTFOUND, "no <pacs> or <node> with AE title '%s' in %s",
                               ae, cf->source);
    free(owned);
    return status;
}
