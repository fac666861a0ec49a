/* radlink serve: load the configuration, apply flags, run the engine. */
#include <stdlib.h>
#include <string.h>

#include "tools.h"
#include "radlink/cfg.h"
#include "radlink/job.h"
#include "radlink/log.h"
#include "radlink/serve.h"

/* --pacs AE@HOST:PORT: the first <pacs>, with a <pacs> element's defaults. */
static int set_pacs(op_call *self, cfg *cf, const char *pacs)
{
    const char *at = strchr(pacs, '@'), *colon = strrchr(pacs, ':');
    uint64_t port = 0;
    if (!at || !colon || colon < at || at == pacs || at - pacs > 16 || colon == at + 1 ||
        (size_t)(colon - at - 1) >= sizeof cf->pacs[0].host ||
        !rl_str_to_u64(rl_str_c(colon + 1), 65535, &port) || port == 0)
        return cli_usage(self, "--pacs must be AETITLE@HOST:PORT");
    snprintf(cf->pacs[0].ae, sizeof cf->pacs[0].ae, "%.*s", (int)(at - pacs), pacs);
    snprintf(cf->pacs[0].host, sizeof cf->pacs[0].host, "%.*s", (int)(colon - at - 1), at + 1);
    cf->pacs[0].port = (unsigned)port;
    if (cf->n_pacs == 0) { /* the defaults of a <pacs> element */
        cf->n_pacs = 1;
        cf->pacs[0].verify = PACS_VERIFY_COMMIT_FIND;
        cf->pacs[0].commit_timeout_s = RL_COMMIT_TIMEOUT_DEFAULT_S;
        cf->pacs[0].associations = RL_SEND_ASSOCIATIONS_DEFAULT;
    }
    return 0;
}

/* A path flag into a configuration field. */
static int set_path(op_call *self, const char *flag, const char *value, char *field, size_t n)
{
    if (!value)
        return 0;
    if (strlen(value) >= n)
        return cli_usage(self, "--%s: path too long", flag);
    snprintf(field, n, "%s", value);
    return 0;
}

/* --mllp, --dicom, --http: a port from min to 65535, or auto (the system
 * picks one when the engine binds it). */
static int port_flag(op_call *self, const char *flag, unsigned min, unsigned *port)
{
    const char *text = ops_str(self, flag);
    uint64_t v;
    if (!text)
        return 0;
    if (!strcmp(text, "auto")) {
        *port = RL_PORT_AUTO;
        return 0;
    }
    if (!rl_str_to_u64(rl_str_c(text), 65535, &v) || v < min)
        return cli_usage(self, "--%s: '%s' is not a number from %u to 65535 (or auto)", flag, text,
                         min);
    *port = (unsigned)v;
    return 0;
}

/* The flags over the configuration. */
static int apply_flags(op_call *self, cfg *cf)
{
    if (ops_str(self, "data"))
        cf->data_dir_from_file = false; /* a flag: made when missing, as the default is */
    cf->init = ops_flag(self, "init");
    cf->reindex = ops_flag(self, "reindex");
    int rc = set_path(self, "data", ops_str(self, "data"), cf->data_dir, sizeof cf->data_dir);
    if (!rc)
        rc = set_path(self, "routes", ops_str(self, "routes"), cf->routes_file,
                      sizeof cf->routes_file);
    if (!rc && ops_str(self, "pacs"))
        rc = set_pacs(self, cf, ops_str(self, "pacs"));
    if (!rc)
        rc = port_flag(self, "dicom", 0, &cf->dicom_port);
    if (!rc)
        rc = port_flag(self, "http", 0, &cf->http.l.port);
    if (!rc)
        rc = port_flag(self, "mllp", 1, &cf->mllp[0].port);
    if (rc)
        return rc;
    cf->workers = (unsigned)ops_u64(self, "workers", cf->workers);
    const char *ae = ops_str(self, "ae-title"), *bind = ops_str(self, "bind");
    const char *user = ops_str(self, "user"), *level = ops_str(self, "log-level");
    if (ae) {
        size_t n = strlen(ae);
        if (n == 0 || n > 16 || strchr(ae, '\\') || ae[strspn(ae, " ")] == '\0')
            return cli_usage(self, "--ae-title: 1 to 16 characters, not only spaces, no '\\'");
        snprintf(cf->dicom_ae, sizeof cf->dicom_ae, "%s", ae);
    }
    /* --bind: the listeners the command line starts (the first MLLP
     * listener and the DICOM listener); HTTP has its own, loopback by default */
    if (bind) {
        snprintf(cf->mllp[0].bind, sizeof cf->mllp[0].bind, "%s", bind);
        snprintf(cf->dicom_bind, sizeof cf->dicom_bind, "%s", bind);
    }
    const char *http_bind = ops_str(self, "http-bind");
    if (http_bind)
        snprintf(cf->http.l.bind, sizeof cf->http.l.bind, "%s", http_bind);
    if (level)
        cf->log_level = log_level_parse(level);
    if (user) {
        if (!*user || strlen(user) >= sizeof cf->run_user)
            return cli_usage(self, "--user: a user name");
        snprintf(cf->run_user, sizeof cf->run_user, "%s", user);
    }
    cf->standby = ops_flag(self, "standby");
    return 0;
}

int cli_run_serve(op_call *self)
{
    const char *config = ops_str(self, "config");
    cfg cf;
    cfg_defaults(&cf);
    if (config) {
        rl_buf errors;
        rl_buf_init(&errors, 0);
        if (cfg_load(&cf, config, &errors) != 0) {
            fprintf(stderr, "%s", rl_buf_cstr(&errors));
            rl_buf_free(&errors);
            return cli_fail(self, CLI_BADINPUT, "%s: configuration rejected", config);
        }
        rl_buf_free(&errors);
    }
    int rc = apply_flags(self, &cf);
    if (rc)
        return rc;
    log_set_level((log_level)cf.log_level);
    return serve_run(&cf);
}
