/* Conditions on field values. A path without [repetition] holds when any
 * repetition satisfies the test; <empty> holds when no repetition has a value
 * or the HL7 null. Values are compared decoded (escapes and charset). */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cond.h"
#include "trace.h"

#define MAX_SEEN 32 /* repetitions examined per condition */

typedef struct seen {
    int kind;
    rl_str v;
} seen;

const char *rt_cond_name(rt_ckind k)
{
    static const char *names[] = { "equals", "in", "matches", "exists", "empty", "null",
                                   "before", "after", "all", "any", "not" };
    return names[k];
}

/* The values a path names: one per repetition (one ABSENT entry when none). */
static size_t collect(hl7_msg *m, const hl7_path *p, seen *out)
{
    unsigned reps = p->rep ? 1 : hl7_rep_count(m, p);
    if (reps == 0) {
        out[0] = (seen){ HL7_ABSENT, { "", 0 } };
        return 1;
    }
    size_t n = 0;
    for (unsigned r = 1; r <= reps && n < MAX_SEEN; r++) {
        rl_err err;
        int k = hl7_get_rep(m, p, r, &out[n].v, &err);
        if (k < 0) { /* undecodable: compare the raw text */
            k = (int)hl7_get_raw(m, p, r, &out[n].v);
        }
        out[n++].kind = k;
    }
    return n;
}

int rt_regex_compile(const char *text, bool icase, regex_t *re, rl_err *err)
{
    /* glibc matches a regex without back-references in time bounded by the
     * value's length; with one it backtracks: ^(a*)*\1b$ on 1,000
     * characters held the loop for over a minute. */
    for (const char *p = text; *p; p++) {
        if (p[0] == '\\' && p[1] >= '1' && p[1] <= '9')
            return rl_err_set(err, ROUTE_E_LOAD, -1, "regex '%s': back-references (\\%c) are "
                              "not allowed: matching them can take unbounded time", text, p[1]);
        if (p[0] == '\\' && p[1])
            p++;
    }
    int rc = regcomp(re, text, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0));
    if (rc != 0) {
        char why[RL_REGEX_ERROR];
        regerror(rc, re, why, sizeof why);
        return rl_err_set(err, ROUTE_E_LOAD, -1, "bad regex '%s': %s", text, why);
    }
    return 0;
}

bool rt_regex_match(const regex_t *re, rl_str v)
{
    char buf[RL_ROUTE_MATCH_VALUE];
    size_t k = v.n < sizeof buf ? v.n : sizeof buf - 1;
    memcpy(buf, v.p, k);
    buf[k] = '\0';
    return regexec(re, buf, 0, NULL, 0) == 0;
}

static bool text_eq(rl_str v, int kind, const char *want, bool icase)
{
    if (kind == HL7_NULL)
        v = RL_STR("\"\"");
    size_t n = strlen(want);
    if (v.n != n)
        return false;
    return icase ? strncasecmp(v.p, want, n) == 0 : memcmp(v.p, want, n) == 0;
}

bool rt_dtm_norm(rl_str v, char out[RL_HL7_TS_TEXT_MAX])
{
    size_t d = 0;
    while (d < v.n && d < 14 && v.p[d] >= '0' && v.p[d] <= '9')
        d++;
    if (d < 4 || d % 2 != 0)
        return false;
    if (d < v.n && v.p[d] != '.' && v.p[d] != '+' && v.p[d] != '-')
        return false;
    memcpy(out, "00000101000000", 14);
    memcpy(out, v.p, d);
    out[14] = '\0';
    int mon = (out[4] - '0') * 10 + (out[5] - '0');
    int day = (out[6] - '0') * 10 + (out[7] - '0');
    int hour = (out[8] - '0') * 10 + (out[9] - '0');
    int min = (out[10] - '0') * 10 + (out[11] - '0');
    int sec = (out[12] - '0') * 10 + (out[13] - '0');
    return mon >= 1 && mon <= 12 && day >= 1 && day <= 31 && hour <= 23 && min <= 59 && sec <= 60;
}

bool rt_date_parse(const char *text, rt_date *d)
{
    memset(d, 0, sizeof *d);
    const char *rest;
    if (strncmp(text, "now", 3) == 0) {
        d->base = D_NOW;
        rest = text + 3;
    } else if (strncmp(text, "today", 5) == 0) {
        d->base = D_TODAY;
        rest = text + 5;
    } else {
        d->base = D_FIXED;
        return rt_dtm_norm(rl_str_c(text), d->fixed);
    }
    if (*rest == '\0')
        return true;
    if (*rest != '+' && *rest != '-')
        return false;
    size_t n = strlen(rest + 1);
    uint64_t v;
    if (n < 2 || !rl_str_to_u64((rl_str){ rest + 1, n - 1 }, 100000000, &v))
        return false;
    char unit = rest[n];
    int64_t mult = unit == 'd' ? 86400 : unit == 'h' ? 3600 : unit == 'm' ? 60 : unit == 's' ? 1 : 0;
    if (!mult)
        return false;
    d->offset_s = (int64_t)v * mult * (*rest == '-' ? -1 : 1);
    return true;
}

/* The operand of before/after at evaluation time, as 14 digits (local time,
 * like HL7 timestamps without an offset). */
static void resolve(const rt_date *d, int64_t now_us, char out[RL_HL7_TS_TEXT_MAX])
{
    if (d->base == D_FIXED) {
        memcpy(out, d->fixed, 15);
        return;
    }
    time_t t = (time_t)(now_us / 1000000);
    struct tm tm;
    localtime_r(&t, &tm);
    if (d->base == D_TODAY) {
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        tm.tm_isdst = -1;
        t = mktime(&tm);
    }
    t += (time_t)d->offset_s;
    localtime_r(&t, &tm);
    strftime(out, 15, "%Y%m%d%H%M%S", &tm);
}

static void trace_seen(rl_buf *trace, const seen *s, size_t n)
{
    if (n == 1) {
        rt_trace_value(trace, s[0].v, s[0].kind);
        return;
    }
    rl_buf_add_ch(trace, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            rl_buf_add_c(trace, ", ");
        rt_trace_value(trace, s[i].v, s[i].kind);
    }
    rl_buf_add_ch(trace, ']');
}

static bool leaf(const rt_cond *c, hl7_msg *m, int64_t now_us, rl_buf *trace)
{
    seen s[MAX_SEEN];
    size_t n = collect(m, &c->path, s);
    bool ok = false, has_value = false, has_null = false;
    char when[RL_HL7_TS_TEXT_MAX] = "";
    if (c->kind == C_BEFORE || c->kind == C_AFTER)
        resolve(&c->date, now_us, when);
    for (size_t i = 0; i < n; i++) {
        has_value |= s[i].kind == HL7_VALUE;
        has_null |= s[i].kind == HL7_NULL;
        switch (c->kind) {
        case C_EQUALS:
            ok |= text_eq(s[i].v, s[i].kind, c->value, c->icase);
            break;
        case C_IN:
            for (size_t k = 0; k < c->nvalues && !ok; k++)
                ok |= text_eq(s[i].v, s[i].kind, c->values[k], c->icase);
            break;
        case C_MATCHES:
            ok |= c->has_re && rt_regex_match(&c->re, s[i].kind == HL7_NULL ? RL_STR("\"\"")
                                                                           : s[i].v);
            break;
        case C_BEFORE:
        case C_AFTER: {
            char norm[RL_HL7_TS_TEXT_MAX];
            if (s[i].kind == HL7_VALUE && rt_dtm_norm(s[i].v, norm)) {
                int cmp = strcmp(norm, when);
                ok |= c->kind == C_BEFORE ? cmp < 0 : cmp > 0;
            }
            break;
        }
        default:
            break;
        }
    }
    if (c->kind == C_EXISTS)
        ok = has_value;
    else if (c->kind == C_EMPTY)
        ok = !has_value; /* absent, empty or the HL7 null "" */
    else if (c->kind == C_NULL)
        ok = has_null;
    if (trace) {
        rl_buf_printf(trace, "%s %s ", rt_cond_name(c->kind), c->ptext);
        trace_seen(trace, s, n);
        switch (c->kind) {
        case C_EQUALS:
            rl_buf_printf(trace, " = \"%s\"%s", c->value, c->icase ? " (any case)" : "");
            break;
        case C_IN:
            rl_buf_add_c(trace, " in [");
            for (size_t k = 0; k < c->nvalues; k++)
                rl_buf_printf(trace, "%s%s", k ? " " : "", c->values[k]);
            rl_buf_add_ch(trace, ']');
            break;
        case C_MATCHES:
            rl_buf_printf(trace, " ~ /%s/", c->value);
            break;
        case C_BEFORE:
        case C_AFTER:
            rl_buf_printf(trace, " %s %s (%s)", c->kind == C_BEFORE ? "<" : ">", when, c->value);
            break;
        default:
            break;
        }
        rl_buf_printf(trace, ": %s\n", ok ? "yes" : "no");
    }
    return ok;
}

bool rt_cond_eval(const rt_cond *c, hl7_msg *m, int64_t now_us, rl_buf *trace, int depth)
{
    if (trace)
        rl_buf_printf(trace, "%*s", depth * 2, "");
    if (c->kind != C_ALL && c->kind != C_ANY && c->kind != C_NOT)
        return leaf(c, m, now_us, trace);
    if (trace)
        rl_buf_printf(trace, "%s\n", rt_cond_name(c->kind));
    bool result = c->kind != C_ANY;
    for (size_t i = 0; i < c->nkids; i++) {
        bool r = rt_cond_eval(&c->kids[i], m, now_us, trace, depth + 1);
        if (c->kind == C_ALL && !r) {
            result = false;
            if (!trace)
                break;
        } else if (c->kind == C_ANY && r) {
            result = true;
            if (!trace)
                break;
        } else if (c->kind == C_NOT) {
            result = !r;
        }
    }
    if (trace)
        rl_buf_printf(trace, "%*s=> %s: %s\n", depth * 2, "", rt_cond_name(c->kind),
                      result ? "yes" : "no");
    return result;
}
