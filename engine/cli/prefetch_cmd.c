/* radlink prefetch PATIENT-ID --from ARCHIVE --to PACS: a patient's relevant
 * priors moved by hand (radlink/prefetch.h), every study of the archive
 * listed with the decision and why. The nodes are the configuration's
 * <pacs> and <node> (--config); radlink calls them with its AE title. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools.h"
#include "radlink/cfg.h"
#include "radlink/ops.h"
#include "radlink/prefetch.h"

/* The configuration's node of AE title ae, as a prefetch uses it. */
static bool node_of(const cfg *cf, const char *ae, prefetch_node *out)
{
    for (unsigned i = 0; i < cf->n_pacs; i++) {
        const cfg_pacs *p = &cf->pacs[i];
        if (strcmp(p->ae, ae) != 0)
            continue;
        memset(out, 0, sizeof *out);
        snprintf(out->peer.ae_title, sizeof out->peer.ae_title, "%s", p->ae);
        snprintf(out->peer.host, sizeof out->peer.host, "%s", p->host);
        out->peer.port = p->port;
        out->peer.tls = p->tls;
        out->peer.associations = p->associations;
        out->get = p->retrieve == CFG_RETRIEVE_GET;
        out->timeout_s = p->query_timeout_s;
        out->max_answers = p->max_answers;
        return true;
    }
    return false;
}

static void today(char out[9])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 9, "%Y%m%d", &tm);
}

int cli_run_prefetch(op_call *c)
{
    cfg *cf;
    int status = cli_config(c, "whose <pacs> and <node> --from and --to are", &cf);
    if (status != CLI_OK)
        return status;
    const char *from_ae = ops_str(c, "from"), *to_ae = ops_str(c, "to");
    prefetch_node from, to;
    if (!node_of(cf, from_ae, &from) || !node_of(cf, to_ae, &to)) {
        status = cli_fail(c, CLI_BADINPUT, "%s: no <pacs> or <node> with AE title '%s' in %s",
                          !node_of(cf, from_ae, &from) ? "--from" : "--to",
                          !node_of(cf, from_ae, &from) ? from_ae : to_ae, cf->source);
        goto out;
    }
    prefetch_rule r;
    prefetch_rule_default(&r);
    r.modality = PREFETCH_MOD_ANY;
    r.same_body_part = ops_str(c, "body-part") != NULL;
    r.max = (unsigned)ops_u64(c, "max", 3);
    rl_err err;
    const char *mod = ops_str(c, "modality"), *within = ops_str(c, "within");
    if (mod && strcmp(mod, "any") != 0 && prefetch_parse_modality(mod, &r, &err) != 0) {
        status = cli_usage(c, "--modality: %s", err.msg);
        goto out;
    }
    if (within && prefetch_parse_age(within, &r.within_s) != 0) {
        status = cli_usage(c, "--within '%s': an age such as 5y, 18m, 30d", within);
        goto out;
    }
    prefetch_order o = { 0 };
    snprintf(o.patient_id, sizeof o.patient_id, "%s", ops_str(c, "PATIENT-ID"));
    snprintf(o.issuer, sizeof o.issuer, "%s", ops_str(c, "issuer") ? ops_str(c, "issuer") : "");
    snprintf(o.study_uid, sizeof o.study_uid, "%s",
             ops_str(c, "exclude") ? ops_str(c, "exclude") : "");
    snprintf(o.body_part, sizeof o.body_part, "%s",
             ops_str(c, "body-part") ? ops_str(c, "body-part") : "");
    today(o.date);
    /* C-GET's files wait in a directory of their own, removed after */
    char work[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(work, sizeof work, "%s/radlink-prefetch-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(work)) {
        status = cli_fail(c, CLI_FAIL, "%s: cannot make a work directory", work);
        goto out;
    }
    rl_buf report;
    rl_buf_init(&report, 0);
    prefetch_outcome res;
    int rc = prefetch_run(cf->dicom_ae, &from, &to, &r, &o, work, ops_flag(c, "dry-run"),
                          &report, &res, &err);
    rmdir(work);
    fwrite(report.data ? report.data : "", 1, report.len, stdout);
    rl_buf_free(&report);
    if (rc)
        status = cli_fail(c, CLI_FAIL, "%s", err.msg);
out:
    free(cf);
    return status;
}
