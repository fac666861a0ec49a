/* radlink send: an MLLP client for testing interfaces, and the same client
 * code the engine uses to forward. Prints each ACK's MSA segment. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tools.h"
#include "radlink/hl7.h"
#include "radlink/mllp.h"

typedef struct send_ctx {
    const op_call *cmd;
    mllp_client *c;
    int timeout_ms;
    int worst;
    bool quiet;
    unsigned sent;
    rl_buf batch;   /* --batch: the frame being built */
    unsigned nbatch;
} send_ctx;

/* The MSA segment of a reply, or an empty view. */
static rl_str find_msa(rl_str reply)
{
    const char *p = reply.p, *end = reply.p + reply.n;
    while (p < end) {
        const char *e = p;
        while (e < end && *e != '\r' && *e != '\n')
            e++;
        if (e - p >= 3 && memcmp(p, "MSA", 3) == 0)
            return (rl_str){ p, (size_t)(e - p) };
        p = e < end ? e + 1 : e;
    }
    return (rl_str){ "", 0 };
}

static int send_one(void *vctx, rl_str msg, size_t offset)
{
    send_ctx *s = vctx;
    (void)offset;
    rl_buf reply;
    rl_err err;
    rl_buf_init(&reply, 0);
    int rc = mllp_client_exchange(s->c, msg, &reply, s->timeout_ms, &err);
    s->sent++;
    if (rc != 0) {
        cli_fail(s->cmd, CLI_FAIL, "message %u: %s", s->sent, err.msg);
        rl_buf_free(&reply);
        s->worst = CLI_FAIL;
        return rc; /* the connection is unusable: stop */
    }
    rl_str msa = find_msa(rl_buf_view(&reply));
    if (msa.n == 0) {
        cli_fail(s->cmd, CLI_FAIL, "message %u: the reply has no MSA segment", s->sent);
        s->worst = CLI_FAIL;
    } else {
        if (!s->quiet)
            printf("%.*s\n", (int)msa.n, msa.p);
        fflush(stdout);
        /* MSA-1 follows "MSA" and the field separator */
        bool ok = msa.n >= 6 && (memcmp(msa.p + 4, "AA", 2) == 0 || memcmp(msa.p + 4, "CA", 2) == 0);
        if (!ok)
            s->worst = CLI_FAIL;
    }
    rl_buf_free(&reply);
    return 0;
}

/* --batch: a message into the frame, segments ending with CR. */
static int batch_add(void *vctx, rl_str msg, size_t offset)
{
    send_ctx *s = vctx;
    (void)offset;
    for (size_t i = 0; i < msg.n; i++) {
        if (msg.p[i] == '\n' && i && msg.p[i - 1] == '\r')
            continue;
        rl_buf_add_ch(&s->batch, msg.p[i] == '\n' ? '\r' : msg.p[i]);
    }
    if (!s->batch.len || s->batch.data[s->batch.len - 1] != '\r')
        rl_buf_add_ch(&s->batch, '\r');
    s->nbatch++;
    return 0;
}

/* --batch: the file's messages as one batch in one frame (its own FHS/BHS
 * header, or BHS ... BTS around them); every MSA of the answer printed. */
static int send_batch(send_ctx *s, rl_str file, const hl7_split_info *info)
{
    rl_buf_reset(&s->batch);
    s->nbatch = 0;
    rl_err err;
    rl_buf_add_c(&s->batch, "BHS|^~\\&\r");
    hl7_split(file, batch_add, s, NULL, &err);
    rl_buf_printf(&s->batch, "BTS|%u\r", s->nbatch);
    (void)info;
    rl_buf reply;
    rl_buf_init(&reply, 0);
    int rc = mllp_client_exchange(s->c, rl_buf_view(&s->batch), &reply, s->timeout_ms, &err);
    s->sent += s->nbatch;
    if (rc != 0) {
        cli_fail(s->cmd, CLI_FAIL, "batch: %s", err.msg);
        rl_buf_free(&reply);
        s->worst = CLI_FAIL;
        return rc;
    }
    unsigned acks = 0;
    rl_str rest = rl_buf_view(&reply);
    for (rl_str msa = find_msa(rest); msa.n; msa = find_msa(rest)) {
        acks++;
        if (!s->quiet)
            printf("%.*s\n", (int)msa.n, msa.p);
        bool ok = msa.n >= 6 && (memcmp(msa.p + 4, "AA", 2) == 0 || memcmp(msa.p + 4, "CA", 2) == 0);
        if (!ok)
            s->worst = CLI_FAIL;
        size_t used = (size_t)(msa.p + msa.n - rest.p);
        rest = (rl_str){ rest.p + used, rest.n - used };
    }
    fflush(stdout);
    if (acks != s->nbatch) {
        cli_fail(s->cmd, CLI_FAIL, "batch of %u messages: %u acknowledged", s->nbatch, acks);
        s->worst = CLI_FAIL;
    }
    rl_buf_free(&reply);
    return 0;
}

static int count_one(void *ctx, rl_str msg, size_t offset)
{
    (void)ctx;
    (void)msg;
    (void)offset;
    return 0;
}

static int parse_hostport(const char *to, char *host, size_t hn, unsigned *port)
{
    const char *colon = strrchr(to, ':');
    if (!colon || colon == to)
        return -1;
    const char *h = to;
    size_t len = (size_t)(colon - to);
    if (h[0] == '[' && len >= 2 && h[len - 1] == ']') { /* [::1]:2575 */
        h++;
        len -= 2;
    }
    if (len >= hn)
        return -1;
    memcpy(host, h, len);
    host[len] = '\0';
    uint64_t p;
    if (!rl_str_to_u64(rl_str_c(colon + 1), 65535, &p) || p == 0)
        return -1;
    *port = (unsigned)p;
    return 0;
}

int cli_run_send(op_call *self)
{
    const char *to = ops_str(self, "to");
    net_tls_opts tls = { .ca = ops_str(self, "ca"), .cert = ops_str(self, "cert"),
                         .key = ops_str(self, "key"), .server_name = ops_str(self, "server-name") };
    bool use_tls = ops_flag(self, "tls") || tls.ca, batch = ops_flag(self, "batch");
    long timeout = (long)ops_u64(self, "timeout", 10);
    send_ctx s = { .cmd = self, .quiet = ops_flag(self, "quiet") };
    char host[RL_HOST_MAX];
    unsigned port;
    if (parse_hostport(to, host, sizeof host, &port) != 0)
        return cli_usage(self, "--to: '%s' is not HOST:PORT", to);
    if ((tls.cert != NULL) != (tls.key != NULL))
        return cli_usage(self, "--cert and --key go together");
    if (tls.cert)
        use_tls = true;
    int nfiles = self->vals.nrest;
    char *const *names = (char *const *)self->vals.rest;

    /* Read and split every file first: a file that is not HL7 sends nothing.
     * Messages themselves are not judged here; that is the receiver's job. */
    rl_buf *files = calloc((size_t)nfiles, sizeof *files);
    if (!files)
        return cli_fail(self, CLI_FAIL, "out of memory");
    int rc = CLI_OK;
    for (int i = 0; i < nfiles; i++)
        rl_buf_init(&files[i], RL_HL7_FILE_MAX);
    for (int i = 0; i < nfiles && rc == CLI_OK; i++) {
        rl_err err;
        hl7_split_info info;
        rl_buf *b = &files[i];
        if (rl_read_file(names[i], b, &err) != 0)
            rc = cli_fail(self, CLI_BADINPUT, "%s", err.msg);
        else if (hl7_split(rl_buf_view(b), count_one, NULL, &info, &err) != 0)
            rc = cli_fail(self, CLI_BADINPUT, "%s: %s", names[i], err.msg);
        else if (info.messages == 0)
            rc = cli_fail(self, CLI_BADINPUT, "%s: no HL7 message in the file", names[i]);
    }
    s.timeout_ms = (int)timeout * 1000;
    if (rc == CLI_OK) {
        rl_err err;
        if (mllp_client_open(host, port, use_tls ? &tls : NULL, s.timeout_ms, -1, &s.c, &err) != 0)
            rc = cli_fail(self, CLI_FAIL, "%s", err.msg);
    }
    rl_buf_init(&s.batch, 0);
    for (int i = 0; i < nfiles && rc == CLI_OK; i++) {
        rl_err err;
        hl7_split_info info;
        if (batch ? send_batch(&s, rl_buf_view(&files[i]), &info) != 0
                  : hl7_split(rl_buf_view(&files[i]), send_one, &s, &info, &err) != 0)
            break; /* the connection failed; send_one said why */
    }
    rl_buf_free(&s.batch);
    if (s.c)
        mllp_client_close(s.c);
    for (int i = 0; i < nfiles; i++)
        rl_buf_free(&files[i]);
    free(files);
    return rc != CLI_OK ? rc : s.worst;
}
