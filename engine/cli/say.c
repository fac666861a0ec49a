/* How the command line says what went wrong ("radlink VERB: ..."), and where
 * its data directory is: what every verb of the command line shares. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "radlink/cfg.h"

int cli_fail(const op_call *c, int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "radlink %s: ", c->path);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

int cli_usage(const op_call *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "radlink %s: ", c->path);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'radlink %s --help')\n", c->path);
    return CLI_USAGE;
}

int cli_data_dir(const op_call *c, const char *data, const char *config, char *out, size_t n)
{
    cfg cf;
    cfg_defaults(&cf);
    if (config) {
        rl_buf errors;
        rl_buf_init(&errors, 0);
        int rc = cfg_load(&cf, config, &errors);
        if (rc != 0)
            fprintf(stderr, "%s", rl_buf_cstr(&errors));
        rl_buf_free(&errors);
        if (rc != 0)
            return cli_fail(c, CLI_BADINPUT, "%s: configuration rejected", config);
    }
    snprintf(out, n, "%s", data ? data : cf.data_dir);
    return 0;
}


int cli_config(const op_call *c, const char *needed, cfg **out)
{
    *out = NULL;
    char from_engine[RL_CFG_PATH_MAX];
    const char *path = c->config;
    if (!path) {
        ops_engine_config(c->data, from_engine, sizeof from_engine);
        if (!from_engine[0])
            return cli_usage(c, "--config names the configuration %s (the engine on %s did "
                             "not start from a configuration file)", needed,
                             c->data ? c->data : "the data directory");
        path = from_engine;
    }
    cfg *cf = calloc(1, sizeof *cf);
    if (!cf)
        return cli_fail(c, CLI_FAIL, "out of memory");
    cfg_defaults(cf);
    rl_buf errors;
    rl_buf_init(&errors, 0);
    int rc = cfg_load(cf, path, &errors);
    if (rc != 0)
        fprintf(stderr, "%s", rl_buf_cstr(&errors));
    rl_buf_free(&errors);
    if (rc != 0) {
        free(cf);
        return cli_fail(c, CLI_BADINPUT, "%s: configuration rejected", path);
    }
    *out = cf;
    return CLI_OK;
}
