/* Helpers the operator plane's handlers share (ops_internal.h). */
#include <stdio.h>
#include <string.h>

#include "ops_internal.h"

int ops_meta(store_txn *t, const char *key, char *out, size_t n)
{
    rl_str v;
    rl_err err;
    out[0] = '\0';
    if (store_get(t, STORE_META, rl_str_c(key), &v, &err) != STORE_OK)
        return 1;
    snprintf(out, n, "%.*s", (int)(v.n < n ? v.n : n - 1), v.p);
    return 0;
}

json_t *ops_meta_json(store_txn *t, const char *key)
{
    rl_str v;
    rl_err err;
    if (store_get(t, STORE_META, rl_str_c(key), &v, &err) != STORE_OK)
        return json_null();
    return view_jstr(v);
}

void ops_age(int64_t us, char *out, size_t n)
{
    int64_t s = us > 0 ? us / 1000000 : 0;
    if (s < 60)
        snprintf(out, n, "%llds", (long long)s);
    else if (s < 3600)
        snprintf(out, n, "%lldm", (long long)(s / 60));
    else if (s < 86400)
        snprintf(out, n, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else
        snprintf(out, n, "%lldd%lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
}

void ops_text_block(view *v, const char *label, rl_str s)
{
    if (view_is_json(v))
        return;
    rl_buf b;
    rl_buf_init(&b, 0);
    rl_buf_printf(&b, "%s:\n", label);
    for (size_t i = 0; i < s.n; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        if (ch == '\r' || ch == '\n')
            rl_buf_add_ch(&b, '\n');
        else if (ch < 0x20 || ch == 0x7f) /* control bytes shown, not sent to the terminal */
            rl_buf_printf(&b, "\\x%02X", ch);
        else
            rl_buf_add_ch(&b, (char)ch);
    }
    if (s.n && s.p[s.n - 1] != '\r' && s.p[s.n - 1] != '\n')
        rl_buf_add_ch(&b, '\n');
    view_add(v, rl_buf_view(&b));
    rl_buf_free(&b);
}

int ops_store_fail(view *v, const rl_err *err)
{
    return view_fail(v, OP_FAIL, "%s", err->msg);
}

int ops_ask(op_call *c, int argc, char **argv, int *status, rl_buf *out)
{
    if (!c->ask)
        return -1;
    return c->ask(c->ask_ctx, argc, argv, status, out);
}
