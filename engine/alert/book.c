/* The book of alerts as JSON: what the store keeps under alerts.state, what
 * `radlink alerts list` and the console read back. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "radlink/alert.h"

static json_t *active_json(const alert_active *a)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:i, s:i, s:i}", "key", a->key, "on",
                     a->on, "subject", a->subject, "text", a->text, "since_us",
                     (json_int_t)a->since_us, "fired_us", (json_int_t)a->fired_us, "sent_us",
                     (json_int_t)a->sent_us, "sent", (int)a->sent, "for_s", (int)a->for_s,
                     "repeat_s", (int)a->repeat_s);
}

int alert_book_json(const alert_book *b, rl_buf *out)
{
    json_t *act = json_array(), *notes = json_array();
    for (size_t i = 0; i < b->nactive; i++)
        json_array_append_new(act, active_json(&b->active[i]));
    for (size_t i = 0; i < b->nout; i++) {
        const alert_note *n = &b->out[i];
        json_array_append_new(notes, json_pack("{s:s, s:o, s:I, s:i, s:i, s:s}", "kind",
                                               alert_kind_name(n->kind), "alert",
                                               active_json(&n->a), "at_us", (json_int_t)n->at_us,
                                               "channels", (int)n->channels, "attempts",
                                               (int)n->attempts, "last_error", n->last_error));
    }
    json_t *o = json_pack("{s:i, s:o, s:o, s:I, s:I}", "version", 1, "active", act, "outbox",
                          notes, "over", (json_int_t)b->over, "dropped",
                          (json_int_t)b->dropped);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text)
        return -1;
    rl_buf_add_c(out, text);
    free(text);
    return 0;
}

static void text_of(json_t *o, const char *k, char *out, size_t n)
{
    const char *s = json_string_value(json_object_get(o, k));
    snprintf(out, n, "%s", s ? s : "");
    alert_utf8_trim(out);
}

static int64_t num_of(json_t *o, const char *k)
{
    return (int64_t)json_integer_value(json_object_get(o, k));
}

static void active_of(json_t *o, alert_active *a)
{
    memset(a, 0, sizeof *a);
    text_of(o, "key", a->key, sizeof a->key);
    text_of(o, "on", a->on, sizeof a->on);
    text_of(o, "subject", a->subject, sizeof a->subject);
    text_of(o, "text", a->text, sizeof a->text);
    a->since_us = num_of(o, "since_us");
    a->fired_us = num_of(o, "fired_us");
    a->sent_us = num_of(o, "sent_us");
    a->sent = (unsigned)num_of(o, "sent");
    a->for_s = (uint32_t)num_of(o, "for_s");
    a->repeat_s = (uint32_t)num_of(o, "repeat_s");
}

int alert_book_parse(rl_str json, alert_book *b)
{
    memset(b, 0, sizeof *b);
    json_error_t jerr;
    json_t *o = json_loadb(json.p, json.n, 0, &jerr);
    if (!json_is_object(o) || json_integer_value(json_object_get(o, "version")) != 1) {
        json_decref(o);
        return -1;
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(o, "active"), i, v)
    {
        if (b->nactive < RL_ALERT_ACTIVE_MAX && json_is_object(v))
            active_of(v, &b->active[b->nactive++]);
    }
    json_array_foreach(json_object_get(o, "outbox"), i, v)
    {
        if (b->nout == RL_ALERT_OUTBOX_MAX || !json_is_object(v))
            continue;
        alert_note *n = &b->out[b->nout];
        const char *kind = json_string_value(json_object_get(v, "kind"));
        n->kind = !kind                          ? 0
                  : strcmp(kind, "firing") == 0  ? ALERT_FIRING
                  : strcmp(kind, "repeat") == 0  ? ALERT_REPEAT
                  : strcmp(kind, "resolved") == 0 ? ALERT_RESOLVED
                                                   : 0;
        if (!n->kind)
            continue;
        active_of(json_object_get(v, "alert"), &n->a);
        n->at_us = num_of(v, "at_us");
        n->channels = (unsigned)num_of(v, "channels");
        n->attempts = (unsigned)num_of(v, "attempts");
        text_of(v, "last_error", n->last_error, sizeof n->last_error);
        b->nout++;
    }
    b->over = (unsigned long)num_of(o, "over");
    b->dropped = (unsigned long)num_of(o, "dropped");
    json_decref(o);
    return 0;
}
