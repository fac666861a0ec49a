/* alerts list: what the alert rules found and said (radlink/alert.h), read
 * from the book the engine keeps in the store (META alerts.state). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "ops_internal.h"

static const char *jtext(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int64_t jnum(json_t *o, const char *k)
{
    return (int64_t)json_integer_value(json_object_get(o, k));
}

static void text_lines(view *v, json_t *book, int64_t now_us)
{
    json_t *act = json_object_get(book, "active"), *a;
    size_t i, firing = 0;
    json_array_foreach(act, i, a) firing += jnum(a, "fired_us") != 0;
    view_printf(v, "%zu alert%s firing", firing, firing == 1 ? "" : "s");
    if (json_array_size(act) > firing)
        view_printf(v, ", %zu holding (not yet for their for=)", json_array_size(act) - firing);
    view_printf(v, "\n");
    json_array_foreach(act, i, a)
    {
        char since[RL_TIME_TEXT_MAX], age[32];
        view_fmt_time(jnum(a, "since_us"), since, sizeof since);
        ops_age(now_us - jnum(a, "since_us"), age, sizeof age);
        view_printf(v, "%-8s %-16s %s\n         since %s (%s), sent %lld time%s\n         %s\n",
                    jnum(a, "fired_us") ? "FIRING" : "holding", jtext(a, "on"),
                    jtext(a, "subject"), since, age, (long long)jnum(a, "sent"),
                    jnum(a, "sent") == 1 ? "" : "s", jtext(a, "text"));
    }
    json_t *out = json_object_get(book, "outbox"), *n;
    json_array_foreach(out, i, n)
    {
        json_t *na = json_object_get(n, "alert");
        view_printf(v, "owed     %s %s %s: %lld attempt%s%s%s\n", jtext(n, "kind"),
                    jtext(na, "on"), jtext(na, "subject"), (long long)jnum(n, "attempts"),
                    jnum(n, "attempts") == 1 ? "" : "s", jtext(n, "last_error")[0] ? "; " : "",
                    jtext(n, "last_error"));
    }
    if (jnum(book, "dropped"))
        view_printf(v, "notifications given up: %lld (see the log: alerts.given_up)\n",
                    (long long)jnum(book, "dropped"));
}

int ops_alerts_list(op_call *c)
{
    rl_str raw;
    rl_err err;
    json_t *book = NULL;
    int rc = store_get(c->t, STORE_META, RL_STR("alerts.state"), &raw, &err);
    if (rc == STORE_OK) {
        json_error_t jerr;
        book = json_loadb(raw.p, raw.n, 0, &jerr);
    } else if (rc != STORE_NOTFOUND) {
        return ops_store_fail(c->out, &err);
    }
    if (!json_is_object(book)) {
        json_decref(book);
        book = json_pack("{s:i, s:[], s:[], s:i, s:i}", "version", 1, "active", "outbox",
                         "over", 0, "dropped", 0);
    }
    if (view_is_json(c->out)) {
        view_json(c->out, "alerts", json_incref(json_object_get(book, "active")));
        view_json(c->out, "owed", json_incref(json_object_get(book, "outbox")));
        view_json(c->out, "dropped", json_incref(json_object_get(book, "dropped")));
    } else {
        text_lines(c->out, book, c->now_us);
    }
    json_decref(book);
    return OP_OK;
}
