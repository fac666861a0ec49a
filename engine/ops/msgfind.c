/* The message log's finder (radlink/msgfind.h), shared by the CLI and the
 * console. */
#include "radlink/msgfind.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "radlink/limits.h"
#include "radlink/rec.h"

int msgfind_set_search(msgfind *f, const char *text, rl_err *err)
{
    const char *eq = strchr(text, '=');
    if (!eq)
        return rl_err_set(err, RL_E_ARG, -1, "expected PATH=VALUE, e.g. PID-3.1=12345"), -1;
    if (hl7_path_parse((rl_str){ text, (size_t)(eq - text) }, &f->path, err) != 0)
        return -1;
    f->has_value = true;
    f->value = eq + 1;
    return 0;
}

/* "ORM^O01" or "ADT^A0*" against the first two components of MSH-9; "ORM"
 * alone against the first. */
static bool type_matches(const char *pattern, rl_str type)
{
    char t[RL_MSG_TYPE_RAW_MAX];
    size_t comps = strchr(pattern, '^') ? 2 : 1, k = 0, seen = 0;
    for (size_t i = 0; i < type.n && k < sizeof t - 1; i++) {
        if (type.p[i] == '^' && ++seen >= comps)
            break;
        t[k++] = type.p[i];
    }
    t[k] = '\0';
    return fnmatch(pattern, t, 0) == 0;
}

bool msgfind_row_matches(const msgfind *f, const msglog_rec *r)
{
    if (f->status >= 0 && (int)r->status != f->status)
        return false;
    return !f->type || type_matches(f->type, r->type);
}

static bool has_value(hl7_msg *m, const hl7_path *p, const char *pattern)
{
    unsigned reps = p->rep ? 1 : hl7_rep_count(m, p);
    for (unsigned r = 1; r <= reps; r++) {
        rl_str v;
        rl_err err;
        int k = hl7_get_rep(m, p, r, &v, &err);
        if (k < HL7_EMPTY)
            continue;
        char buf[RL_FIELD_MATCH_TEXT_MAX];
        if (k == HL7_NULL)
            snprintf(buf, sizeof buf, "\"\"");
        else
            snprintf(buf, sizeof buf, "%.*s",
                     (int)(v.n > RL_FIELD_MATCH_MAX ? RL_FIELD_MATCH_MAX : v.n), v.p);
        if (fnmatch(pattern, buf, 0) == 0)
            return true;
    }
    return false;
}

int msgfind_page(store_txn *t, const msgfind *f, uint64_t before, uint64_t *seqs, size_t max,
                 size_t *n, uint64_t *resume, uint64_t *scanned, rl_err *err)
{
    *n = 0;
    *resume = 0;
    *scanned = 0;
    uint64_t next, first = 1;
    int rc = store_next_seq(t, STORE_MSG, &next, err);
    if (rc != STORE_OK)
        return rc;
    if (f->since_us && (rc = msglog_seek_time(t, f->since_us, &first, err)) != STORE_OK)
        return rc;
    /* retention removes the oldest: the log starts at its first record */
    store_cursor *c;
    if (store_cursor_open(t, STORE_MSG, &c, err) == STORE_OK) {
        rl_str k, v;
        if (store_cursor_get(c, STORE_FIRST, &k, &v) == STORE_OK && k.n == 8 &&
            rec_get_be64(k.p) > first)
            first = rec_get_be64(k.p);
        store_cursor_close(c);
    }
    if (before && before < next)
        next = before;
    hl7_msg m;
    if (f->has_value)
        hl7_msg_init(&m, &(hl7_limits){ .max_bytes = 256u << 20 });
    uint64_t seq;
    for (seq = next - 1; seq >= first && seq >= 1; seq--) {
        if (*n == max) {
            *resume = seq + 1;
            break;
        }
        msglog_rec r;
        (*scanned)++;
        rc = msglog_get(t, seq, &r, err);
        if (rc == STORE_NOTFOUND)
            continue;
        if (rc != STORE_OK)
            break;
        if (!msgfind_row_matches(f, &r))
            continue;
        if (f->has_value && (r.status == MSG_DUPLICATE ||
                             hl7_parse(&m, r.raw.p, r.raw.n, err) != HL7_OK ||
                             !has_value(&m, &f->path, f->value)))
            continue;
        seqs[(*n)++] = seq;
    }
    if (f->has_value)
        hl7_msg_free(&m);
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}
