/* radlink hl7 get|show|ack: the analyst's view of a message file, using exactly
 * the codec the engine uses. */
#include <stdlib.h>
#include <string.h>

#include "tools.h"
#include "radlink/hl7.h"
#include "radlink/limits.h"

/* Called for each message of a file: index counts from 1 of total. */
typedef int (*msg_fn)(void *ctx, hl7_msg *m, unsigned index, unsigned total, size_t offset,
                      const rl_err *perr);

typedef struct file_walk {
    const op_call *cmd;
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
static int walk_file(const op_call *cmd, const char *file, msg_fn fn, void *ctx)
{
    rl_buf b;
    rl_err err;
    rl_buf_init(&b, RL_HL7_FILE_MAX);
    if (rl_read_file(file, &b, &err) != 0) {
        rl_buf_free(&b);
        return cli_fail(cmd, CLI_BADINPUT, "%s", err.msg);
    }
    file_walk w = { .cmd = cmd, .file = file, .fn = fn, .ctx = ctx };
    hl7_limits lim = { .max_bytes = RL_HL7_FILE_MAX, .max_segments = 0 };
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
    const op_call *cmd;
    const char *file;
    hl7_path path;
    bool found; /* in any message of the file */
} get_ctx;

static int report_parse_error(const op_call *cmd, const char *file, unsigned index,
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

int cli_run_hl7_get(op_call *self)
{
    get_ctx g = { .cmd = self, .file = ops_str(self, "FILE") };
    rl_err err;
    if (hl7_path_parse(rl_str_c(ops_str(self, "PATH")), &g.path, &err) != HL7_OK)
        return cli_usage(self, "%s", err.msg);
    int rc = walk_file(self, g.file, get_one, &g);
    return rc == CLI_OK && !g.found ? CLI_FAIL : rc;
}

/* ---- hl7 show ---- */

typedef struct show_ctx {
    const op_call *cmd;
    const char *file;
} show_ctx;

static int show_one(void *vctx, hl7_msg *m, unsigned index, unsigned total, size_t offset,
                    const rl_err *perr)
{
    show_ctx *s = vctx;
    if (total > 1)
        printf("%s# message %u (byte %zu)\n", index > 1 ? "\n" : "", index, offset);
    if (perr)
        return report_parse_error(s->cmd, s->file, index, perr);
    rl_err err;
    rl_buf tree;
    rl_buf_init(&tree, 0);
    int rc = ops_hl7_tree(m, &tree, &err);
    fwrite(tree.data ? tree.data : "", 1, tree.len, stdout);
    rl_buf_free(&tree);
    if (rc != 0)
        return cli_fail(s->cmd, CLI_BADINPUT, "message %u: %s", index, err.msg);
    return CLI_OK;
}

int cli_run_hl7_show(op_call *self)
{
    show_ctx s = { .cmd = self, .file = ops_str(self, "FILE") };
    return walk_file(self, s.file, show_one, &s);
}

/* ---- hl7 ack ---- */

typedef struct ack_ctx {
    const op_call *cmd;
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

int cli_run_hl7_ack(op_call *self)
{
    char idbuf[RL_NUM_TEXT_MAX];
    snprintf(idbuf, sizeof idbuf, "RL%lld", (long long)(rl_now_us() / 1000));
    ack_ctx a = { .cmd = self, .code = "AA", .control_id = idbuf, .raw = ops_flag(self, "raw") };
    /* --code, --text...: an ACK built as told, not decided */
    bool by_hand = false;
    if (ops_str(self, "code")) {
        a.code = ops_str(self, "code");
        by_hand = true;
    }
    if (ops_str(self, "text")) {
        a.text = ops_str(self, "text");
        by_hand = true;
    }
    if (ops_has(self, "error-code")) {
        a.errcode = (long)ops_u64(self, "error-code", 0);
        by_hand = true;
    }
    if (ops_str(self, "control-id")) {
        a.control_id = ops_str(self, "control-id");
        by_hand = true;
    }
    if (by_hand)
        return walk_file(self, ops_str(self, "FILE"), ack_one, &a);
    return cli_decide_file(self, NULL, ops_str(self, "FILE"), false, a.raw);
}
