/* The command line's front: which verb argv names (from the two tables), its
 * help, its arguments, where it runs (the store read here, the engine asked,
 * the store changed through the engine or here), and what is printed. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "radlink/cfg.h"
#include "radlink/limits.h"
#include "radlink/store.h"
#include "radlink/view.h"

/* ---- which verb, and help ---- */

static const op_verb *const tables[] = { cli_tools, ops_verbs };

static const op_verb *noun_row(const char *noun)
{
    for (size_t t = 0; t < 2; t++)
        for (const op_verb *v = tables[t]; v->noun; v++)
            if (!strcmp(v->noun, noun) && !(v->flags & OP_HIDDEN) && (!v->run || !v->verb))
                return v;
    return NULL;
}

static const op_verb *find_verb(int argc, char **argv, int *used)
{
    for (size_t t = 0; t < 2; t++) {
        const op_verb *v = ops_find(tables[t], argc, argv, used);
        if (v && !(v->flags & OP_HIDDEN))
            return v;
    }
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: radlink VERB [OPTIONS] [ARGS]\n\n"
                 "radlink links a RIS/EHR (HL7 v2 over MLLP) with modalities and a PACS (DICOM).\n\n"
                 "Verbs:\n");
    for (size_t t = 0; t < 2; t++)
        for (const op_verb *v = tables[t]; v->noun; v++)
            if (noun_row(v->noun) == v)
                fprintf(out, "  %-8s %s\n", v->noun, v->summary);
    fprintf(out, "\nRun 'radlink VERB --help' for a verb's options and sub-verbs.\n");
}

static void noun_help(const op_verb *row, FILE *out)
{
    fprintf(out, "usage: radlink %s VERB [OPTIONS]\n\n%s\n\nVerbs:\n", row->noun, row->summary);
    for (size_t t = 0; t < 2; t++)
        for (const op_verb *v = tables[t]; v->noun; v++) {
            if (strcmp(v->noun, row->noun) || !v->verb || !v->run || (v->flags & OP_HIDDEN))
                continue;
            char pos[RL_OP_NAME_MAX * 2];
            ops_synopsis(v, pos, sizeof pos);
            fprintf(out, "  %-8s %-22s %s\n", v->verb, pos, v->summary);
        }
    fprintf(out, "\nRun 'radlink %s VERB --help' for a verb's options.\n", row->noun);
}

static bool asks_help(int argc, char **argv)
{
    for (int i = 0; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return true;
    return false;
}

/* ---- arguments the command line completes ---- */

/* A password: asked twice without echo on a terminal, else one line of stdin. */
static int read_password(const op_call *c, bool from_stdin, char *out, size_t n)
{
    bool tty = !from_stdin && isatty(0);
    struct termios old, quiet;
    for (int round = 0; round < (tty ? 2 : 1); round++) {
        char buf[RL_PASSWORD_MAX];
        if (tty) {
            fprintf(stderr, round ? "again: " : "password: ");
            tcgetattr(0, &old);
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            tcsetattr(0, TCSAFLUSH, &quiet);
        }
        char *got = fgets(buf, sizeof buf, stdin);
        if (tty) {
            tcsetattr(0, TCSAFLUSH, &old);
            fputc('\n', stderr);
        }
        if (!got)
            return cli_fail(c, CLI_BADINPUT, "no password given on stdin");
        buf[strcspn(buf, "\r\n")] = '\0';
        if (round == 0)
            snprintf(out, n, "%s", buf);
        else if (strcmp(out, buf) != 0)
            return cli_fail(c, CLI_BADINPUT, "the two passwords differ");
    }
    return 0;
}

typedef struct completed {
    char data[RL_CFG_PATH_MAX];
    char password[RL_PASSWORD_MAX];
    char files[RL_OP_FILES_MAX][RL_CFG_PATH_MAX];
} completed;

/* The data directory resolved, a password read, files made absolute (a
 * request that travels to the engine names them from anywhere). */
static int complete(op_call *c, completed *k)
{
    const op_verb *v = c->verb;
    const char *data = ops_str(c, "data"), *config = ops_str(c, "config");
    c->config = config;
    if (v->flags & OP_DATA) {
        int rc = cli_data_dir(c, data, config, k->data, sizeof k->data);
        if (rc)
            return rc;
        c->data = k->data;
    } else {
        c->data = data;
    }
    size_t nfiles = 0;
    for (size_t i = 0; ops_arg(v, i); i++) {
        const op_arg *a = ops_arg(v, i);
        op_val *val = &c->vals.v[i];
        if (a->type == OPT_SECRET && !val->set) {
            int rc = read_password(c, ops_flag(c, "password-stdin"), k->password,
                                   sizeof k->password);
            if (rc)
                return rc;
            *val = (op_val){ .set = true, .s = k->password };
        }
        if (a->type == OPT_FILE && val->set && nfiles < RL_OP_FILES_MAX &&
            (v->flags & (OP_WRITES | OP_ENGINE)) && strcmp(val->s, "-") != 0) {
            if (!rl_realpath(val->s, k->files[nfiles], sizeof k->files[nfiles]))
                return cli_fail(c, CLI_BADINPUT, "%s: %s", val->s, strerror(errno));
            val->s = k->files[nfiles++];
        }
    }
    return 0;
}

/* ---- running a verb ---- */

/* What a verb run here said: the text on stdout, a failure on stderr. */
static int print_view(op_call *c, int status)
{
    rl_str text = view_text(c->out);
    fwrite(text.p ? text.p : "", 1, text.n, stdout);
    const char *why = view_failure(c->out);
    if (why[0])
        cli_fail(c, 0, "%s", why);
    return ops_exit_code(status);
}

static int run_reads(op_call *c)
{
    store *st;
    store_txn *t;
    rl_err err;
    store_opts so = { .readonly = true };
    if (store_open(c->data, &so, &st, &err) != STORE_OK)
        return cli_fail(c, CLI_FAIL, "%s", err.msg);
    if (store_begin(st, NULL, false, &t, &err) != STORE_OK) {
        store_close(st);
        return cli_fail(c, CLI_FAIL, "%s", err.msg);
    }
    c->t = t;
    int status = c->verb->run(c);
    store_abort(t);
    store_close(st);
    return print_view(c, status);
}

static int run_verb(op_call *c)
{
    unsigned flags = c->verb->flags;
    if (flags & (OP_WRITES | OP_ENGINE)) {
        char *argv[RL_CTL_MAX_ARGS];
        rl_buf words;
        rl_buf_init(&words, RL_CTL_REQUEST_MAX);
        int argc = ops_argv(c->verb, &c->vals, argv, &words), rc;
        if (argc < 0) {
            rc = cli_fail(c, CLI_USAGE, "the request is larger than the engine takes");
        } else if (flags & OP_ROUTES) {
            rc = cli_route_request(c, ops_str(c, "routes"), false, argc, argv);
        } else if (flags & OP_WRITES) {
            rc = cli_write(c, argc, argv, 0);
        } else {
            bool ran;
            rc = cli_ctl_engine(c, argc, argv, &ran, 0);
            if (!ran && rc == CLI_OK)
                rc = print_view(c, c->verb->run(c));
        }
        rl_buf_free(&words);
        return rc;
    }
    if (flags & OP_READS)
        return run_reads(c);
    return print_view(c, c->verb->run(c));
}

static int run_found(const op_verb *v, int argc, char **argv)
{
    char path[RL_OP_NAME_MAX];
    ops_name(v, path, sizeof path);
    op_call c = { .verb = v, .path = path, .now_us = rl_now_us(), .user = "",
                  .ask = cli_ask, .notes = stderr };
    if (asks_help(argc, argv)) {
        char full[RL_OP_NAME_MAX + 8];
        snprintf(full, sizeof full, "radlink %s", path);
        rl_buf h;
        rl_buf_init(&h, 0);
        ops_help(v, full, &h);
        fwrite(h.data, 1, h.len, stdout);
        rl_buf_free(&h);
        return CLI_OK;
    }
    char why[RL_VIEW_FAIL_MAX];
    if (ops_parse(v, argc, argv, &c.vals, why, sizeof why) != OP_OK)
        return cli_usage(&c, "%s", why);
    completed *k = calloc(1, sizeof *k);
    c.out = view_new_file(stdout);
    int rc = !k || !c.out ? cli_fail(&c, CLI_FAIL, "out of memory") : complete(&c, k);
    c.ask_ctx = (void *)c.data;
    if (rc == 0)
        rc = run_verb(&c);
    if (k)
        memset(k->password, 0, sizeof k->password);
    free(k);
    view_free(c.out);
    return rc;
}

int cli_main(int argc, char **argv)
{
    if (argc < 1) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h") || !strcmp(argv[0], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    int used = 0;
    const op_verb *v = find_verb(argc, argv, &used);
    if (v)
        return run_found(v, argc - used, argv + used);
    const op_verb *noun = noun_row(argv[0]);
    if (!noun) {
        fprintf(stderr, "radlink: %s '%s' (see 'radlink --help')\n",
                argv[0][0] == '-' ? "unknown option" : "unknown verb", argv[0]);
        return CLI_USAGE;
    }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        noun_help(noun, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    fprintf(stderr, "radlink %s: %s '%s' (see 'radlink %s --help')\n", noun->noun,
            argv[1][0] == '-' ? "unknown option" : "unknown verb", argv[1], noun->noun);
    return CLI_USAGE;
}
