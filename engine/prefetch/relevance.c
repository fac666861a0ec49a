/* Which prior studies are relevant (radlink/prefetch.h): the rule's
 * parsing and prefetch_select. Pure: no store, no network. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "radlink/prefetch.h"

void prefetch_rule_default(prefetch_rule *r)
{
    memset(r, 0, sizeof *r);
    r->max = 3;
    r->within_s = 5 * 365 * 86400LL + 86400; /* five years, a leap day included */
    r->modality = PREFETCH_MOD_SAME;
    r->same_body_part = true;
}

int prefetch_parse_age(const char *text, int64_t *seconds)
{
    char *end;
    if (!text || !isdigit((unsigned char)text[0]))
        return -1;
    long long n = strtoll(text, &end, 10);
    if (n <= 0 || n > 100000 || !end[0] || end[1])
        return -1;
    int64_t unit = end[0] == 'y' ? 365 * 86400LL + 21600 /* a quarter leap day */
                   : end[0] == 'm' ? 30 * 86400LL + 37800  /* a twelfth of a year */
                   : end[0] == 'd' ? 86400LL
                   : end[0] == 'h' ? 3600LL
                                   : 0;
    if (!unit)
        return -1;
    *seconds = (int64_t)n * unit;
    return 0;
}

int prefetch_parse_modality(const char *text, prefetch_rule *r, rl_err *err)
{
    if (!text || !strcmp(text, "same")) {
        r->modality = PREFETCH_MOD_SAME;
        return 0;
    }
    if (!strcmp(text, "any")) {
        r->modality = PREFETCH_MOD_ANY;
        return 0;
    }
    /* a list of modality codes: capitals and digits, comma-separated */
    size_t len = strlen(text);
    if (!len || len >= sizeof r->modalities)
        return rl_err_set(err, RL_E_ARG, -1, "modality '%s': same, any, or a list such as CT,MR",
                          text);
    for (size_t i = 0; i < len; i++)
        if (!(isupper((unsigned char)text[i]) || isdigit((unsigned char)text[i]) ||
              (text[i] == ',' && i && i + 1 < len && text[i + 1] != ',')))
            return rl_err_set(err, RL_E_ARG, -1, "modality '%s': same, any, or a list of "
                              "modality codes such as CT,MR", text);
    r->modality = PREFETCH_MOD_LIST;
    snprintf(r->modalities, sizeof r->modalities, "%s", text);
    return 0;
}

/* Is code one of the items of list (separated by sep)? */
static bool in_list(const char *list, char sep, const char *code)
{
    size_t n = strlen(code);
    for (const char *p = list; n && *p;) {
        const char *e = strchr(p, sep);
        size_t k = e ? (size_t)(e - p) : strlen(p);
        if (k == n && !strncasecmp(p, code, n))
            return true;
        p = e ? e + 1 : p + k;
    }
    return false;
}

/* A study's modalities (backslash-separated) meet the rule's. */
static bool modality_ok(const prefetch_rule *r, const prefetch_order *o, const char *mods)
{
    if (r->modality == PREFETCH_MOD_ANY)
        return true;
    if (r->modality == PREFETCH_MOD_SAME)
        return !o->modality[0] || in_list(mods, '\\', o->modality);
    for (const char *p = r->modalities; *p;) {
        char one[RL_CS_SIZE];
        const char *e = strchr(p, ',');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        snprintf(one, sizeof one, "%.*s", (int)(k < sizeof one ? k : sizeof one - 1), p);
        if (in_list(mods, '\\', one))
            return true;
        p = e ? e + 1 : p + k;
    }
    return false;
}

/* Case-insensitive substring. */
static bool mentions(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; n && *p; p++)
        if (!strncasecmp(p, word, n))
            return true;
    return false;
}

/* Days since the epoch of a DA ("YYYYMMDD"), or -1. */
static long day_of(const char *da)
{
    if (strlen(da) < 8)
        return -1;
    for (int i = 0; i < 8; i++)
        if (!isdigit((unsigned char)da[i]))
            return -1;
    struct tm tm = { 0 };
    tm.tm_year = (da[0] - '0') * 1000 + (da[1] - '0') * 100 + (da[2] - '0') * 10 + (da[3] - '0') - 1900;
    tm.tm_mon = (da[4] - '0') * 10 + (da[5] - '0') - 1;
    tm.tm_mday = (da[6] - '0') * 10 + (da[7] - '0');
    time_t t = timegm(&tm);
    return t == (time_t)-1 ? -1 : (long)(t / 86400);
}

/* Most recent first: by date, then time (the text compares as the value). */
static int newer_first(const void *a, const void *b)
{
    const dicom_qr_study *x = a, *y = b;
    int c = strcmp(y->study_date, x->study_date);
    return c ? c : strcmp(y->study_time, x->study_time);
}

/* "2 years before", "5 months before", "12 days before". */
static void age_text(long days, char *out, size_t n)
{
    if (days >= 730)
        snprintf(out, n, "%ld years before", days / 365);
    else if (days >= 60)
        snprintf(out, n, "%ld months before", days / 30);
    else
        snprintf(out, n, "%ld day%s before", days, days == 1 ? "" : "s");
}

void prefetch_select(const prefetch_rule *r, const prefetch_order *o, dicom_qr_study *rows,
                     size_t n, prefetch_pick *pick)
{
    qsort(rows, n, sizeof *rows, newer_first);
    long today = day_of(o->date);
    unsigned taken = 0;
    for (size_t i = 0; i < n; i++) {
        const dicom_qr_study *s = &rows[i];
        prefetch_pick *p = &pick[i];
        p->relevant = false;
        long day = day_of(s->study_date);
        char age[48] = "date unknown";
        if (day >= 0 && today >= 0)
            age_text(today - day, age, sizeof age);
        if ((o->study_uid[0] && !strcmp(s->study_uid, o->study_uid)) ||
            (o->accession[0] && !strcmp(s->accession, o->accession))) {
            snprintf(p->why, sizeof p->why, "the ordered study itself");
        } else if (!modality_ok(r, o, s->modalities)) {
            snprintf(p->why, sizeof p->why, "not %s (%s)",
                     r->modality == PREFETCH_MOD_LIST ? r->modalities : o->modality,
                     s->modalities[0] ? s->modalities : "no modality given");
        } else if (r->within_s && (day < 0 || today < 0 ||
                                   (int64_t)(today - day) * 86400 > r->within_s)) {
            snprintf(p->why, sizeof p->why, "too old (%s)", age);
        } else if (day >= 0 && today >= 0 && day > today) {
            snprintf(p->why, sizeof p->why, "after the order's day");
        } else if (r->same_body_part && o->body_part[0] && s->body_part[0] &&
                   strcasecmp(s->body_part, o->body_part) != 0 &&
                   !mentions(s->description, o->body_part)) {
            snprintf(p->why, sizeof p->why, "another body part (%s)", s->body_part);
        } else if (taken == r->max) {
            snprintf(p->why, sizeof p->why, "relevant, but past max (%u)", r->max);
        } else {
            p->relevant = true;
            taken++;
            const char *part = !r->same_body_part || !o->body_part[0] ? ""
                               : s->body_part[0] || mentions(s->description, o->body_part)
                                   ? ", same body part"
                                   : ", body part not given by the archive";
            snprintf(p->why, sizeof p->why, "%s, %s%s", s->modalities[0] ? s->modalities : "?",
                     age, part);
        }
    }
}
