/* A verb's arguments (radlink/ops.h): parsed from words (the command line,
 * a control request), written back as canonical words, explained by --help;
 * one parser for every caller, so that a verb reads the same everywhere. */
#include "radlink/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "radlink/view.h"

/* The arguments every verb with OP_DATA takes unless it declares its own. */
static const op_arg data_args[] = {
    { "data", OPT_STR, OPA_LOCAL, "DIR", "data directory (default: from --config, else ./var)" },
    { "config", OPT_STR, OPA_LOCAL, "FILE", "take the data directory from this configuration" },
};

static size_t nargs(const op_verb *v)
{
    size_t n = 0;
    while (v->args && v->args[n].name)
        n++;
    return n;
}

/* The i-th argument of v: its own, then the data pair (OP_DATA). */
static const op_arg *arg_at(const op_verb *v, size_t i)
{
    size_t n = nargs(v);
    if (i < n)
        return &v->args[i];
    if (!(v->flags & OP_DATA))
        return NULL;
    size_t at = n; /* the index the next data argument gets */
    for (size_t k = 0; k < 2; k++) {
        bool own = false;
        for (size_t j = 0; j < n; j++)
            own |= !(v->args[j].flags & OPA_POS) && !strcmp(v->args[j].name, data_args[k].name);
        if (own)
            continue;
        if (i == at)
            return &data_args[k];
        at++;
    }
    return NULL;
}

static int find_arg(const op_verb *v, const char *name)
{
    for (size_t i = 0; arg_at(v, i); i++)
        if (!strcmp(arg_at(v, i)->name, name))
            return (int)i;
    return -1;
}

const op_verb *ops_find(const op_verb *table, int argc, char *const *argv, int *used)
{
    if (argc < 1)
        return NULL;
    for (const op_verb *v = table; v->noun; v++) {
        if (!v->run || strcmp(v->noun, argv[0]) != 0)
            continue;
        if (!v->verb) {
            *used = 1;
            return v;
        }
        if (argc >= 2 && !strcmp(v->verb, argv[1])) {
            *used = 2;
            return v;
        }
    }
    return NULL;
}

void ops_name(const op_verb *v, char *out, size_t n)
{
    snprintf(out, n, "%s%s%s", v->noun, v->verb ? " " : "", v->verb ? v->verb : "");
}

int ops_parse_since(const char *text, int64_t *us)
{
    size_t n = strlen(text);
    char unit = n ? text[n - 1] : 0;
    uint64_t k;
    if (n >= 2 && strchr("smhd", unit) && rl_str_to_u64((rl_str){ text, n - 1 }, 1u << 30, &k)) {
        int64_t mult = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400;
        *us = rl_now_us() - (int64_t)k * mult * 1000000;
        return 0;
    }
    static const char *formats[] = { "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M",
                                     "%Y-%m-%d %H:%M", "%Y-%m-%d" };
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        const char *end = strptime(text, formats[i], &tm);
        if (end && *end == '\0') {
            tm.tm_isdst = -1;
            time_t t = mktime(&tm);
            if (t == (time_t)-1)
                return -1;
            *us = (int64_t)t * 1000000;
            return 0;
        }
    }
    return -1;
}

static void choices_text(const op_arg *a, char *out, size_t n)
{
    size_t k = 0, count = 0;
    while (a->choices[count])
        count++;
    out[0] = '\0';
    for (size_t i = 0; i < count && k < n; i++)
        k += (size_t)snprintf(out + k, n - k, "%s%s", i == 0 ? "" : i + 1 == count ? " or " : ", ",
                              a->choices[i]);
}

const op_arg *ops_arg(const op_verb *v, size_t i)
{
    return arg_at(v, i);
}

void ops_arg_key(const op_arg *a, char *out, size_t n)
{
    snprintf(out, n, "%s", a->key ? a->key : a->name);
    for (char *p = out; *p; p++)
        if (*p == '-')
            *p = '_';
}

/* Check text as a value of a and set it in *val; 0, or -1 with why. */
static int set_value(const op_arg *a, const char *text, bool web, op_val *val, char *why,
                     size_t whyn)
{
    char shown[RL_OP_NAME_MAX];
    if (web)
        ops_arg_key(a, shown, sizeof shown);
    else
        snprintf(shown, sizeof shown, "%s%s", a->flags & OPA_POS ? "" : "--", a->name);
    uint64_t max = web && a->web_max ? a->web_max : a->max;
    val->set = true;
    val->s = text;
    switch (a->type) {
    case OPT_U64:
        if (!rl_str_to_u64(rl_str_c(text), max, &val->u) || val->u < a->min) {
            snprintf(why, whyn, "%s: '%s' is not a number from %llu to %llu", shown, text,
                     (unsigned long long)a->min, (unsigned long long)max);
            return -1;
        }
        return 0;
    case OPT_CHOICE:
        for (size_t i = 0; a->choices[i]; i++)
            if (!strcmp(a->choices[i], text))
                return 0;
        char list[RL_VIEW_FAIL_MAX / 4];
        choices_text(a, list, sizeof list);
        snprintf(why, whyn, "%s must be %s", shown, list);
        return -1;
    case OPT_SINCE:
        if (ops_parse_since(text, &val->us) != 0) {
            snprintf(why, whyn, "%s: '%s' is not a date (2026-11-23[T10:15]) or an age (30s, "
                     "10m, 2h, 3d)", shown, text);
            return -1;
        }
        return 0;
    default:
        return 0;
    }
}

int ops_set(const op_verb *v, const char *name, const char *text, bool web, op_vals *vals,
            char *why, size_t whyn)
{
    int i = find_arg(v, name);
    if (i < 0) {
        snprintf(why, whyn, "'%s' is not an argument of this request", name);
        return OP_USAGE;
    }
    const op_arg *a = arg_at(v, (size_t)i);
    if (a->flags & OPA_REST) {
        if (vals->nrest == RL_CTL_MAX_ARGS) {
            snprintf(why, whyn, "more than %d %s", RL_CTL_MAX_ARGS, a->name);
            return OP_USAGE;
        }
        vals->rest[vals->nrest++] = text;
        vals->v[i].set = true;
        return OP_OK;
    }
    return set_value(a, text, web, &vals->v[i], why, whyn) == 0 ? OP_OK : OP_USAGE;
}

/* The option a word names: exact, else a unique prefix (as getopt_long). */
static int option_of(const op_verb *v, const char *word, size_t len)
{
    int found = -1, matches = 0;
    for (size_t i = 0; arg_at(v, i); i++) {
        const op_arg *a = arg_at(v, i);
        if (a->flags & OPA_POS)
            continue;
        if (strlen(a->name) == len && !strncmp(a->name, word, len))
            return (int)i;
        if (!strncmp(a->name, word, len)) {
            found = (int)i;
            matches++;
        }
    }
    return matches == 1 ? found : -1;
}

static int short_of(const op_verb *v, char ch)
{
    for (size_t i = 0; ch && arg_at(v, i); i++)
        if (arg_at(v, i)->shorthand == ch && !(arg_at(v, i)->flags & OPA_POS))
            return (int)i;
    return -1;
}

/* One option word (and its value, the next word when it needs one). */
static int parse_option(const op_verb *v, int argc, char *const *argv, int *k, op_vals *vals,
                        char *why, size_t whyn)
{
    const char *w = argv[*k];
    const char *eq = w[1] == '-' ? strchr(w, '=') : NULL;
    int i = w[1] == '-' ? option_of(v, w + 2, eq ? (size_t)(eq - w - 2) : strlen(w + 2))
                        : (w[2] == '\0' ? short_of(v, w[1]) : -1);
    if (i < 0) {
        snprintf(why, whyn, "unknown option '%.*s'", (int)(eq ? (size_t)(eq - w) : strlen(w)),
                 w);
        return OP_USAGE;
    }
    const op_arg *a = arg_at(v, (size_t)i);
    if (a->type == OPT_FLAG) {
        if (eq) {
            snprintf(why, whyn, "option '--%s' takes no value", a->name);
            return OP_USAGE;
        }
        vals->v[i] = (op_val){ .set = true, .s = "1", .u = 1 };
        return OP_OK;
    }
    const char *text = eq ? eq + 1 : NULL;
    if (!text) {
        if (*k + 1 >= argc) {
            snprintf(why, whyn, "option '%s' needs a value", w);
            return OP_USAGE;
        }
        text = argv[++*k];
    }
    return set_value(a, text, false, &vals->v[i], why, whyn) == 0 ? OP_OK : OP_USAGE;
}

static int positional(const op_verb *v, int nth)
{
    for (size_t i = 0; arg_at(v, i); i++) {
        const op_arg *a = arg_at(v, i);
        if (!(a->flags & OPA_POS))
            continue;
        if (nth-- == 0 || (a->flags & OPA_REST))
            return (int)i;
    }
    return -1;
}

static void expected(const op_verb *v, char *why, size_t whyn)
{
    if (v->usage) {
        snprintf(why, whyn, "%s", v->usage);
        return;
    }
    size_t k = (size_t)snprintf(why, whyn, "expected");
    bool any = false;
    for (size_t i = 0; arg_at(v, i) && k < whyn; i++)
        if (arg_at(v, i)->flags & OPA_POS) {
            k += (size_t)snprintf(why + k, whyn - k, "%s %s", any ? " and" : "",
                                  arg_at(v, i)->name);
            any = true;
        }
    if (!any)
        snprintf(why, whyn, "expected no arguments");
}

int ops_parse(const op_verb *v, int argc, char *const *argv, op_vals *vals, char *why,
              size_t whyn)
{
    memset(vals, 0, sizeof *vals);
    int npos = 0;
    bool options_end = false;
    for (int k = 0; k < argc; k++) {
        const char *w = argv[k];
        if (!options_end && !strcmp(w, "--")) {
            options_end = true;
            continue;
        }
        if (!options_end && w[0] == '-' && w[1]) {
            int rc = parse_option(v, argc, argv, &k, vals, why, whyn);
            if (rc != OP_OK)
                return rc;
            continue;
        }
        int i = positional(v, npos++);
        if (i < 0) {
            if (v->usage)
                expected(v, why, whyn);
            else
                snprintf(why, whyn, "unexpected argument '%s'", w);
            return OP_USAGE;
        }
        if (ops_set(v, arg_at(v, (size_t)i)->name, w, false, vals, why, whyn) != OP_OK)
            return OP_USAGE;
    }
    for (size_t i = 0; arg_at(v, i); i++) {
        const op_arg *a = arg_at(v, i);
        int alt = a->alt ? find_arg(v, a->alt) : -1;
        if (alt >= 0 && vals->v[i].set == vals->v[alt].set) {
            expected(v, why, whyn);
            return OP_USAGE;
        }
    }
    for (size_t i = 0; arg_at(v, i); i++)
        if ((arg_at(v, i)->flags & OPA_REQUIRED) && !vals->v[i].set) {
            if (arg_at(v, i)->flags & OPA_POS)
                expected(v, why, whyn);
            else
                snprintf(why, whyn, "--%s is needed", arg_at(v, i)->name);
            return OP_USAGE;
        }
    return OP_OK;
}

int ops_argv(const op_verb *v, const op_vals *vals, char **out, rl_buf *buf)
{
    /* the words are collected as offsets into buf first: it may move */
    size_t at[RL_CTL_MAX_ARGS];
    int n = 0;
    rl_buf_reset(buf);
#define WORD(text)                                                                              \
    do {                                                                                        \
        if (n == RL_CTL_MAX_ARGS)                                                               \
            return -1;                                                                          \
        at[n++] = buf->len;                                                                     \
        if (rl_buf_add_c(buf, (text)) != 0 || rl_buf_add_ch(buf, '\0') != 0)                    \
            return -1;                                                                          \
    } while (0)
    WORD(v->noun);
    if (v->verb)
        WORD(v->verb);
    for (size_t i = 0; arg_at(v, i); i++) {
        const op_arg *a = arg_at(v, i);
        if ((a->flags & (OPA_POS | OPA_LOCAL)) || !vals->v[i].set || a->type == OPT_SECRET)
            continue;
        char opt[RL_OP_NAME_MAX];
        snprintf(opt, sizeof opt, "--%s", a->name);
        WORD(opt);
        if (a->type != OPT_FLAG)
            WORD(vals->v[i].s);
    }
    for (size_t i = 0; arg_at(v, i); i++) {
        const op_arg *a = arg_at(v, i);
        if (!(a->flags & OPA_POS) || !vals->v[i].set)
            continue;
        if (a->flags & OPA_REST) {
            WORD("--"); /* the rest are words, whatever they look like */
            for (int r = 0; r < vals->nrest; r++)
                WORD(vals->rest[r]);
        } else {
            WORD(vals->v[i].s);
        }
    }
#undef WORD
    for (int i = 0; i < n; i++)
        out[i] = buf->data + at[i];
    return n;
}

/* ---- help ---- */

static void help_arg(const op_arg *a, rl_buf *out)
{
    char left[RL_OP_NAME_MAX * 2];
    if (a->shorthand)
        snprintf(left, sizeof left, "-%c, --%s%s%s", a->shorthand, a->name, a->meta ? " " : "",
                 a->meta ? a->meta : "");
    else
        snprintf(left, sizeof left, "--%s%s%s", a->name, a->meta ? " " : "",
                 a->meta ? a->meta : "");
    rl_buf_printf(out, "  %-17s ", left);
    if (strlen(left) > 17)
        rl_buf_printf(out, "\n  %-17s ", "");
    for (const char *p = a->help ? a->help : ""; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        rl_buf_add(out, p, len);
        rl_buf_add_ch(out, '\n');
        if (!nl || !nl[1])
            return;
        rl_buf_printf(out, "  %-17s ", "");
        p = nl + 1;
    }
    rl_buf_add_ch(out, '\n');
}

/* The placeholders of the positionals: "DEST QSEQ". */
static void positionals(const op_verb *v, char *out, size_t n)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; arg_at(v, i) && k < n; i++) {
        const op_arg *a = arg_at(v, i);
        if (!(a->flags & OPA_POS))
            continue;
        bool opt = !(a->flags & OPA_REQUIRED);
        k += (size_t)snprintf(out + k, n - k, "%s%s%s%s%s", k ? " " : "", opt ? "[" : "",
                              a->name, a->flags & OPA_REST ? "..." : "", opt ? "]" : "");
    }
}

void ops_synopsis(const op_verb *v, char *out, size_t n)
{
    positionals(v, out, n);
}

void ops_help(const op_verb *v, const char *path, rl_buf *out)
{
    char pos[RL_OP_NAME_MAX * 2];
    positionals(v, pos, sizeof pos);
    rl_buf_printf(out, "usage: %s [OPTIONS]%s%s\n\n%s\n\n", path, pos[0] ? " " : "", pos,
                  v->summary);
    for (size_t i = 0; arg_at(v, i); i++)
        if (!(arg_at(v, i)->flags & OPA_POS))
            help_arg(arg_at(v, i), out);
    if (v->help)
        rl_buf_add_c(out, v->help);
    rl_buf_add_c(out, "  -h, --help        show this help\n");
}

/* ---- values ---- */

static const op_val *val_of(const op_call *c, const char *name)
{
    int i = find_arg(c->verb, name);
    return i < 0 ? NULL : &c->vals.v[i];
}

const char *ops_str(const op_call *c, const char *name)
{
    const op_val *v = val_of(c, name);
    return v && v->set ? v->s : NULL;
}

uint64_t ops_u64(const op_call *c, const char *name, uint64_t def)
{
    const op_val *v = val_of(c, name);
    return v && v->set ? v->u : def;
}

bool ops_flag(const op_call *c, const char *name)
{
    const op_val *v = val_of(c, name);
    return v && v->set;
}

bool ops_has(const op_call *c, const char *name)
{
    return ops_flag(c, name);
}

int64_t ops_since(const op_call *c, const char *name)
{
    const op_val *v = val_of(c, name);
    return v && v->set ? v->us : 0;
}

/* ---- results ---- */

int ops_exit_code(int status)
{
    return status == OP_NOTFOUND || status == OP_UNAVAILABLE ? OP_FAIL : status;
}

int ops_http_status(const op_verb *v, int status)
{
    switch (status) {
    case OP_OK: return 200;
    case OP_FAIL: return v->flags & OP_RESULT ? 200 : 409;
    case OP_USAGE:
    case OP_BADINPUT: return 400;
    case OP_NOTFOUND: return 404;
    default: return 503;
    }
}

int ops_run(op_call *c)
{
    c->keep = false;
    c->dry = false;
    c->kick_senders = false;
    int status = c->verb->run(c);
    if (status == OP_OK)
        c->keep = true;
    if (c->dry)
        c->keep = false;
    return status;
}
