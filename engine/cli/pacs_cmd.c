/* radlink pacs check AE: what a PACS (a <pacs> or <node> of --config) lets
 * radlink do, asked the way the jobs ask it, and the remedy for what it
 * does not. Sends no images. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radlink/cfg.h"
#include "radlink/digest.h"
#include "radlink/dicom.h"
#include "radlink/job.h"
#include "tools.h"

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
    return d;
}

/* One line: "  ok    what" or "  no    what: why\n        remedy". */
static bool say(const char *what, int rc, const rl_err *err, const char *remedy)
{
    if (rc == 0) {
        printf("  ok    %s\n", what);
        return true;
    }
    printf("  no    %s: %s\n", what, err->msg);
    if (remedy)
        printf("        %s\n", remedy);
    return false;
}

int cli_run_pacs_check(op_call *c)
{
    cfg *cf;
    int status = cli_config(c, "whose <pacs> or <node> AE is", &cf);
    if (status != CLI_OK)
        return status;
    const char *ae = ops_str(c, "AE");
    const cfg_pacs *p = NULL;
    for (unsigned i = 0; i < cf->n_pacs && !p; i++)
        if (!strcmp(cf->pacs[i].ae, ae))
            p = &cf->pacs[i];
    if (!p) {
        status = cli_fail(c, CLI_BADINPUT, "no <pacs> or <node> with AE title '%s' in %s", ae,
                          cf->source);
        goto out;
    }
    dicom_peer peer = peer_of(p);
    const char *me = cf->dicom_ae;
    char remedy[512];
    printf("%s@%s:%u%s, asked as %s\n", peer.ae_title, peer.host, peer.port,
           peer.tls.on ? " over TLS" : "", me);
    rl_err err;
    snprintf(remedy, sizeof remedy, "check the host and port%s, and that the PACS runs",
             peer.tls.on ? ", and its certificate against <tls ca> (and radlink's against the "
                           "PACS's trust)" : "");
    if (!say(peer.tls.on ? "C-ECHO (TLS handshake and association)" : "C-ECHO",
             dicom_echo(me, &peer, &err), &err, remedy)) {
        status = CLI_FAIL;
        goto out;
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
    char what[160];
    snprintf(what, sizeof what, "storage commitment (the request taken; the PACS sends its "
             "report to AE %s's listener)", me);
    bool commit = say(what, dicom_commit_request(me, &peer, txn, &ref, 1, &err), &err, remedy);
    dicom_study_row row;
    size_t n = 0;
    snprintf(remedy, sizeof remedy, "let AE %s query the PACS (declare it there as a modality); "
             "or set verify=\"none\" for it", me);
    bool study = say("C-FIND at study level (how jobs verify)",
                     dicom_find_studies(me, &peer, txn, &row, 1, &n, &err), &err, remedy);
    bool image = say("C-FIND at image level (what a PACS holds of a study)",
                     dicom_find_instances(me, &peer, txn, ignore, NULL, &err), &err, remedy);
    printf("verify=\"%s\" suits it%s\n",
           commit && study ? "commit+find" : study ? "find" : "none",
           commit && study ? " (the default)" : "");
    printf("update: \"resend\" when it overwrites the instances it holds (Orthanc: "
           "OverwriteInstances), \"iocm\" when it acts on IOCM rejection notes, \"hl7\" when it "
           "takes ADT (a job that verifies says which it does)\n");
    if (!(commit && study && image))
        status = CLI_FAIL;
out:
    free(cf);
    return status;
}
