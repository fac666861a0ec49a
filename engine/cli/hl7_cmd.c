/* radlink hl7 get|show|ack: the analyst's view of a message file, using exactly
 * the codec the engine uses. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "radlink/hl7.h"
#include "radlink/limits.h"

/* Files given to the analyst verbs may hold many messages; cap their size. */
#define HL7_FILE_LIMIT (256u * 1024u * 1024u)

/* Called for each message of a file: index counts from 1 of total. */
typedef int (*msg_fn)(void *ctx, hl7_msg *m, unsigned index, unsigned total, size_t offset,
                      const rl_err *perr);

typedef struct file_walk {
    const cli_cmd *cmd;
    const char *file;
    hl7_msg msg;
    msg_fn fn;
    void *ctx;
    unsigned index;
    unsigned total;
    int worst;
} file_walk;

static int walk_one(void *vctx, rl_str text, size_t offset)
{
    file_walk *w = vctx;
    rl_err perr;
    rl_err_clear(&perr);
    w->index++;
    int rc = hl7_parse(&w->msg, text.p, text.n, &perr);
    if (rc != HL7_OK)
        perr.pos += (long)offset;
    int r = w->fn(w->ctx, &w->msg, w->index, w->total, offset, rc == HL7_OK ? NULL : &perr);
    if (r > w->worst)
        w->worst = r;
    return 0;
}

static int count_one(void *ctx, rl_str text, size_t offset)
{
    (void)text;
    (void)offset;
    (*(unsigned *)ctx)++;
    return 0;
}

/* Read FILE, split it into messages and call fn for each. */
static int walk_file(const cli_cmd *cmd, const char *file, msg_fn fn, void *ctx)
{
    rl_buf b;
    rl_err err;
    rl_buf_init(&b, HL7_FILE_LIMIT);
    if (rl_read_file(file, &b, &err) != 0) {
        rl_buf_free(&b);
        return cli_fail(cmd, CLI_BADINPUT, "%s", err.msg);
    }
    file_walk w = { .cmd = cmd, .file = file, .fn = fn, .ctx = ctx };
    hl7_limits lim = { .max_bytes = HL7_FILE_LIMIT, .max_segments = 0 };
    hl7_msg_init(&w.msg, &lim);
    rl_str in = rl_buf_view(&b);
    int rc = hl7_split(in, count_one, &w.total, NULL, &err);
    if (rc == HL7_OK && w.total == 0)
        rc = rl_err_set(&err, HL7_E_EMPTY, 0, "no HL7 message in the file");
    if (rc == HL7_OK)
        rc = hl7_split(in, walk_one, &w, NULL, &err);
    hl7_msg_free(&w.msg);
    rl_buf_free(&b);
    if (rc != HL7_OK)
        return cli_fail(cmd, CLI_BADINPUT, "%s: %s", strcmp(file, "-") ? file : "stdin",
                        err.msg);
    return w.worst;
}

/* One value per line: a line break inside it (\.br\) is printed as \n, so
 * that a line is always one repetition. */
static void print_value(rl_str v, hl7_kind k)
{
    if (k == HL7_NULL)
        fputs("\"\"", stdout);
    for (size_t i = 0; k != HL7_NULL && i < v.n; i++) {
        if (v.p[i] == '\r' && i + 1 < v.n && v.p[i + 1] == '\n')
            continue;
        if (v.p[i] == '\n' || v.p[i] == '\r')
            fputs("\\n", stdout);
        else
            fputc(v.p[i], stdout);
    }
    fputc('\n', stdout);
}

/* ---- hl7 get ---- */

typedef struct get_ctx {
    const cli_cmd *cmd;
    const char *file;
    hl7_path path;
    bool found; /* in any message of the file */
} get_ctx;

static int report_parse_error(const cli_cmd *cmd, const char *file, unsigned index,
                              const rl_err *perr)
{
    return cli_fail(cmd, CLI_BADINPUT, "%s: message %u: %s", strcmp(file, "-") ? file : "stdin",
                    index, perr->msg);
}

static int get_one(void *vctx, hl7_msg *m, unsigned index, unsigned total, size_t offset,
                   const rl_err *perr)
{
    get_ctx *g = vctx;
    (void)offset;
    (void)total;
    if (perr)
        return report_parse_error(g->cmd, g->file, index, perr);
    unsigned reps = g->path.rep ? 1 : hl7_rep_count(m, &g->path);
    if (reps == 0)
        return CLI_OK; /* absent here: the file's exit status says whether any had it */
    int found = 0;
    for (unsigned r = 1; r <= reps; r++) {
        rl_str v;
        rl_err err;
        int k = hl7_get_rep(m, &g->path, r, &v, &err);
        if (k < 0)
            return cli_fail(g->cmd, CLI_BADINPUT, "message %u: %s", index, err.msg);
        if (k == HL7_ABSENT)
            continue;
        print_value(v, (hl7_kind)k);
        found = 1;
    }
    g->found |= found;
    return CLI_OK;
}

static int run_get(const cli_cmd *self, int argc, char **argv)
{
    cli_opts o = { argc, argv, self, NULL, NULL, 0, 0 };
    int c;
    while ((c = cli_next(&o)) != -1)
        if (c == CLI_STOP)
            return o.exit_code;
    if (argc - optind != 2)
        return cli_usage(self, "expected FILE and PATH");
    get_ctx g = { .cmd = self, .file = argv[optind] };
    rl_err err;
    if (hl7_path_parse(rl_str_c(argv[optind + 1]), &g.path, &err) != HL7_OK)
        return cli_usage(self, "%s", err.msg);
    int rc = walk_file(self, g.file, get_one, &g);
    return rc == CLI_OK && !g.found ? CLI_FAIL : rc;
}

/* ---- hl7 show ---- */

#define SHOW_COL 20

/* One tree line; line breaks inside a value are shown as \n so that every
 * line of the tree stays one value. */
static void show_line(FILE *out, int depth, const char *label, rl_str value, hl7_kind k)
{
    int n = fprintf(out, "%*s%s", depth * 2, "", label);
    fprintf(out, "%*s", n < SHOW_COL ? SHOW_COL - n : 1, "");
    if (k == HL7_NULL) {
        fputs("\"\"\n", out);
        return;
    }
    for (size_t i = 0; i < value.n; i++) {
        if (value.p[i] == '\n')
            fputs("\\n", out);
        else if (value.p[i] == '\r')
            fputs("\\r", out);
        else
            fputc(value.p[i], out);
    }
    fputc('\n', out);
}

typedef struct show_ctx {
    const cli_cmd *cmd;
    const char *file;
} show_ctx;

/* Print a leaf decoded, or a composite raw followed by its parts. */
static int show_part(FILE *out, hl7_msg *m, int depth, const char *label, rl_str raw, char sep, char subsep,
                     rl_err *err)
{
    hl7_kind k = hl7_classify(raw);
    unsigned parts = sep ? hl7_piece_count(raw, sep) : 1;
    if (parts <= 1) {
        if (subsep)
            return show_part(out, m, depth, label, raw, subsep, 0, err);
        rl_str v;
        if (k == HL7_VALUE && hl7_decode(m, raw, &v, err) != HL7_OK)
            return -1;
        show_line(out, depth, label, k == HL7_VALUE ? v : raw, k);
        return 0;
    }
    show_line(out, depth, label, raw, HL7_VALUE);
    for (unsigned i = 1; i <= parts; i++) {
        rl_str part;
        if (hl7_piece(raw, sep, i, &part) == HL7_EMPTY)
            continue;
        char sub[48];
        snprintf(sub, sizeof sub, "%s.%u", label, i);
        if (show_part(out, m, depth + 1, sub, part, subsep, 0, err) != 0)
            return -1;
    }
    return 0;
}

/* Print m as an indented tree whose labels are paths 'hl7 get' accepts. */
int cli_hl7_tree(FILE *out, hl7_msg *m, rl_err *err)
{
    for (size_t i = 0; i < m->nsegs; i++) {
        rl_str seg = m->segs[i];
        char name[4] = { seg.p[0], seg.p[1], seg.p[2], 0 };
        unsigned occ = 0, same = 0;
        for (size_t j = 0; j < m->nsegs; j++) {
            if (hl7_seg_is(m->segs[j], name)) {
                same++;
                if (j <= i)
                    occ++;
            }
        }
        char segl[16];
        if (same > 1)
            snprintf(segl, sizeof segl, "%s[%u]", name, occ);
        else
            snprintf(segl, sizeof segl, "%s", name);
        fprintf(out, "%s\n", segl);
        bool msh = hl7_seg_is(seg, "MSH");
        unsigned nf = hl7_field_count(m, seg);
        for (unsigned f = 1; f <= nf; f++) {
            rl_str fv;
            hl7_kind k = hl7_field(m, seg, f, &fv);
            if (k == HL7_ABSENT || k == HL7_EMPTY)
                continue;
            char label[40];
            if (msh && f <= 2) {
                snprintf(label, sizeof label, "%s-%u", segl, f);
                show_line(out, 1, label, fv, k);
                continue;
            }
            unsigned reps = hl7_piece_count(fv, m->seps.rep);
            for (unsigned r = 1; r <= reps; r++) {
                rl_str rv;
                if (hl7_piece(fv, m->seps.rep, r, &rv) == HL7_EMPTY)
                    continue;
                if (reps > 1)
                    snprintf(label, sizeof label, "%s-%u[%u]", segl, f, r);
                else
                    snprintf(label, sizeof label, "%s-%u", segl, f);
                if (show_part(out, m, 1, label, rv, m->seps.comp, m->seps.sub, err) != 0)
                    return -1;
            }
        }
    }
    return 0;
}

static int show_one(void *vctx, hl7_msg *m, unsigned index, unsigned total, size_t offset,
                    const rl_err *perr)
{
    show_ctx *s = vctx;
    if (total > 1)
        printf("%s# message %u (byte %zu)\n", index > 1 ? "\n" : "", index, offset);
    if (perr)
        return report_parse_error(s->cmd, s->file, index, perr);
    rl_err err;
    if (cli_hl7_tree(stdout, m, &err) != 0)
        return cli_fail(s->cmd, CLI_BADINPUT, "message %u: %s", index, err.msg);
    return CLI_OK;
}

static int run_show(const cli_cmd *self, int argc, char **argv)
{
    cli_opts o = { argc, argv, self, NULL, NULL, 0, 0 };
    int c;
    while ((c = cli_next(&o)) != -1)
        if (c == CLI_STOP)
            return o.exit_code;
    if (argc - optind != 1)
        return cli_usage(self, "expected one FILE");
    show_ctx s = { .cmd = self, .file = argv[optind] };
    return walk_file(self, s.file, show_one, &s);
}

/* ---- hl7 ack ---- */

typedef struct ack_ctx {
    const cli_cmd *cmd;
    const char *code;
    const char *text;
    long errcode;
    const char *control_id;
    int raw;
} ack_ctx;

static int ack_one(void *vctx, hl7_msg *m, unsigned index, unsigned total, size_t offset,
                   const rl_err *perr)
{
    ack_ctx *a = vctx;
    (void)offset;
    (void)index;
    (void)total;
    hl7_ack_info info = {
        .code = a->code,
        .err_text = a->text,
        .err_code = (int)a->errcode,
        .control_id = a->control_id,
        .now_us = rl_now_us(),
    };
    if (perr) { /* what the engine answers to a message it cannot parse */
        info.code = "AR";
        info.err_code = HL7_ERR_SEGMENT_SEQUENCE;
        info.err_text = perr->msg;
    } else if (!info.err_code && strcmp(info.code, "AA") != 0) {
        info.err_code = HL7_ERR_INTERNAL;
    }
    rl_buf out;
    rl_buf_init(&out, 0);
    int rc = hl7_ack_build(m, &info, &out);
    if (rc == HL7_OK) {
        for (size_t i = 0; i < out.len; i++)
            if (out.data[i] == '\r' && !a->raw)
                out.data[i] = '\n';
        fwrite(out.data, 1, out.len, stdout);
    }
    rl_buf_free(&out);
    return rc == HL7_OK ? CLI_OK : CLI_FAIL;
}

static int run_ack(const cli_cmd *self, int argc, char **argv)
{
    static const struct option longs[] = {
        { "code", required_argument, NULL, 'c' },
        { "text", required_argument, NULL, 't' },
        { "error-code", required_argument, NULL, 'e' },
        { "control-id", required_argument, NULL, 'i' },
        { "raw", no_argument, NULL, 'r' },
        { "data", required_argument, NULL, 'D' },
        { "config", required_argument, NULL, 'C' },
        { 0, 0, 0, 0 },
    };
    cli_opts o = { argc, argv, self, "c:t:e:i:r", longs, 0, 0 };
    char idbuf[32];
    snprintf(idbuf, sizeof idbuf, "RL%lld", (long long)(rl_now_us() / 1000));
    ack_ctx a = { .cmd = self, .code = "AA", .control_id = idbuf };
    const char *data = NULL, *config = NULL;
    bool by_hand = false; /* --code, --text...: an ACK built as told, not decided */
    int c;
    while ((c = cli_next(&o)) != -1) {
        switch (c) {
        case CLI_STOP: return o.exit_code;
        case 'c':
            if (strcmp(optarg, "AA") && strcmp(optarg, "AE") && strcmp(optarg, "AR"))
                return cli_usage(self, "--code must be AA, AE or AR, not '%s'", optarg);
            a.code = optarg;
            by_hand = true;
            break;
        case 't': a.text = optarg; by_hand = true; break;
        case 'e':
            if (cli_number(self, "--error-code", optarg, 0, 999, &a.errcode) != 0)
                return CLI_USAGE;
            by_hand = true;
            break;
        case 'i': a.control_id = optarg; by_hand = true; break;
        case 'r': a.raw = 1; break;
        case 'D': data = optarg; break;
        case 'C': config = optarg; break;
        }
    }
    if (argc - optind != 1)
        return cli_usage(self, "expected one FILE");
    if (by_hand)
        return walk_file(self, argv[optind], ack_one, &a);
    return cli_decide_file(self, data, config, NULL, argv[optind], false, a.raw);
}

static const cli_cmd hl7_subs[] = {
    { .name = "get", .args = "FILE PATH", .run = run_get,
      .summary = "print the decoded value at PATH, one line per repetition",
      .help = "PATH is SEG[n]-FIELD[rep].COMPONENT.SUBCOMPONENT, e.g. PID-3, PID-3[2].1,\n"
              "PID-5.1.1, OBX[3]-5, MSH-9.2. FILE '-' reads stdin; a file may hold several\n"
              "messages or FHS/BHS batches. The HL7 null is printed as \"\"; a line break in\n"
              "a value (\\.br\\) as \\n, so that each line is one repetition.\n"
              "Exit status: 0 found (in any message of the file), 1 absent from all, 2 usage\n"
              "error, 3 unreadable or invalid input.\n" },
    { .name = "show", .args = "FILE", .run = run_show,
      .summary = "print each message as an indented tree with field numbers",
      .help = "Every non-empty field, repetition, component and subcomponent is listed with\n"
              "the path that 'radlink hl7 get' accepts; leaf values are decoded to UTF-8.\n" },
    { .name = "ack", .args = "FILE", .run = run_ack,
      .summary = "print the ACK the engine would send for each message",
      .help = "The engine decides, and nothing is kept: the header checks, retransmissions,\n"
              "the routes and their worklist and patient actions against the store, exactly\n"
              "as for a received message. With an engine running on the data directory it\n"
              "answers itself; else the store there is used (an empty one when there is\n"
              "none). Exit status 1 when a message would not get AA.\n"
              "  --data DIR              data directory (default: from --config, else ./var)\n"
              "  --config FILE           take the data directory from this configuration\n"
              "  -r, --raw               segments end with CR as on the wire\n"
              "An ACK built as told instead (no decision):\n"
              "  -c, --code AA|AE|AR     acknowledgement code (default AA)\n"
              "  -t, --text TEXT         error text for MSA-3 / ERR\n"
              "  -e, --error-code N      HL7 table 0357 code (default 207 for AE/AR)\n"
              "  -i, --control-id ID     MSH-10 of the ACK (default: time based)\n" },
    { 0 },
};

const cli_cmd cli_hl7_cmd = {
    .name = "hl7",
    .summary = "read, inspect and acknowledge HL7 v2 message files",
    .subs = hl7_subs,
};
