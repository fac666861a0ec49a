/* A test helper: fill a report (radlink/report.h) and the study it goes
 * into (dicom_report_study) from KEY=VALUE lines, and write it with
 * dicom_report_write. Synthetic data only.
 *
 *   report_write FILE OUT [KEY=VALUE]...
 *
 * FILE holds one KEY=VALUE a line ('#' starts a comment; "-" reads none);
 * the arguments after OUT come after it. Keys:
 *   kind=sr|pdf                        the object (sr by default)
 *   status=P|F|C, accession, requested_procedure, placer, filler, study_uid,
 *   patient_id, patient_name, observer_name, observer_id, observed_date,
 *   observed_time, content_date, content_time, title     the report's fields
 *   procedure=VALUE^SCHEME^MEANING     OBR-4
 *   section=KIND[^VALUE^SCHEME^MEANING] a new section (findings, impression,
 *                                      history, addendum, recommendation,
 *                                      conclusion) and its OBX-3
 *   text=TEXT                          a text of the last section ("\n" a line
 *                                      break, "\\" a backslash)
 *   pdf=PATH                           the PDF's bytes, from a file
 *   hl7=PATH                           the report's fields, sections and PDF
 *                                      read from an ORU^R01 or MDM^T02 file, as
 *                                      the engine reads it (report_from_hl7)
 *   study.FIELD=VALUE                  dicom_report_study's fields by name
 *   evidence=SOP-CLASS SERIES SOP [STUDY], predecessor=... the same
 * Exit 0 when written; 1 with the error on stderr. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radlink/dicom.h"
#include "radlink/hl7.h"
#include "radlink/report.h"

#define EVIDENCE_MAX 64

typedef struct tool {
    report r;
    dicom_report_study s;
    dicom_report_kind kind;
    rl_str texts[RL_REPORT_TEXTS_MAX];
    dicom_report_ref evidence[EVIDENCE_MAX];
    char *pdf;
    bool from_hl7; /* r was read from a message: its texts are in a */
    hl7_msg m;
    rl_arena a;
    char *hl7;
} tool;

typedef struct field {
    const char *key;
    size_t off, size; /* in tool */
} field;

#define R(name) { #name, offsetof(tool, r.name), sizeof(((report *)0)->name) }
#define S(name) { "study." #name, offsetof(tool, s.name), sizeof(((dicom_report_study *)0)->name) }
static const field fields[] = {
    R(accession), R(requested_procedure), R(placer), R(filler), R(study_uid), R(patient_id),
    R(patient_name), R(observer_name), R(observer_id), R(observed_date), R(observed_time),
    R(content_date), R(content_time), R(title),
    S(study_uid), S(study_date), S(study_time), S(study_id), S(accession), S(referring),
    S(patient_id), S(issuer), S(patient_name), S(birth_date), S(sex), S(requested_procedure),
    S(series_uid), S(sop_uid),
};

static const char *const kinds[REPORT_SECTION_KINDS] = {
    "findings", "impression", "history", "addendum", "recommendation", "conclusion",
};

static int copy(char *dst, size_t size, const char *v, const char *key)
{
    if (strlen(v) >= size) {
        fprintf(stderr, "report_write: %s: longer than %zu bytes\n", key, size - 1);
        return -1;
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

/* VALUE^SCHEME^MEANING */
static int code(report_code *c, const char *v, const char *key)
{
    char buf[RL_REPORT_CODE_SIZE * 2 + RL_LO_SIZE];
    if (copy(buf, sizeof buf, v, key))
        return -1;
    char *scheme = strchr(buf, '^'), *meaning = scheme ? strchr(scheme + 1, '^') : NULL;
    if (!meaning) {
        fprintf(stderr, "report_write: %s: VALUE^SCHEME^MEANING expected\n", key);
        return -1;
    }
    *scheme++ = '\0';
    *meaning++ = '\0';
    return copy(c->value, sizeof c->value, buf, key) ||
                   copy(c->scheme, sizeof c->scheme, scheme, key) ||
                   copy(c->meaning, sizeof c->meaning, meaning, key)
               ? -1
               : 0;
}

/* SOP-CLASS SERIES SOP [STUDY] */
static int ref(dicom_report_ref *d, const char *v, const char *key)
{
    char a[4][RL_UID_SIZE] = { "", "", "", "" };
    int n = 0;
    const char *p = v;
    while (*p && n < 4) {
        size_t k = strcspn(p, " ");
        if (k >= RL_UID_SIZE) {
            fprintf(stderr, "report_write: %s: a UID past 64 characters\n", key);
            return -1;
        }
        memcpy(a[n++], p, k);
        p += k + strspn(p + k, " ");
    }
    if (n < 3) {
        fprintf(stderr, "report_write: %s: SOP-CLASS SERIES SOP [STUDY] expected\n", key);
        return -1;
    }
    memcpy(d->sop_class, a[0], RL_UID_SIZE);
    memcpy(d->series_uid, a[1], RL_UID_SIZE);
    memcpy(d->sop_uid, a[2], RL_UID_SIZE);
    memcpy(d->study_uid, a[3], RL_UID_SIZE);
    return 0;
}

static int section(tool *t, const char *v)
{
    report *r = &t->r;
    if (r->nsections == RL_REPORT_SECTIONS_MAX) {
        fprintf(stderr, "report_write: more than %d sections\n", RL_REPORT_SECTIONS_MAX);
        return -1;
    }
    report_section *sec = &r->sections[r->nsections];
    size_t k = strcspn(v, "^");
    int kind = -1;
    for (int i = 0; i < REPORT_SECTION_KINDS; i++)
        if (strlen(kinds[i]) == k && !strncmp(v, kinds[i], k))
            kind = i;
    if (kind < 0) {
        fprintf(stderr, "report_write: section=%s: unknown kind\n", v);
        return -1;
    }
    memset(sec, 0, sizeof *sec);
    sec->kind = (report_section_kind)kind;
    sec->first = r->ntexts;
    r->nsections++;
    return v[k] ? code(&sec->obs, v + k + 1, "section") : 0;
}

/* "\n" as a line break, "\\" as a backslash */
static int text(tool *t, const char *v)
{
    report *r = &t->r;
    if (r->nsections == 0 || r->ntexts == RL_REPORT_TEXTS_MAX) {
        fprintf(stderr, "report_write: text=: no section before it, or too many texts\n");
        return -1;
    }
    char *out = malloc(strlen(v) + 1);
    if (!out)
        return -1;
    size_t n = 0;
    for (const char *p = v; *p; p++) {
        if (p[0] == '\\' && (p[1] == 'n' || p[1] == '\\'))
            out[n++] = *++p == 'n' ? '\n' : '\\';
        else
            out[n++] = *p;
    }
    t->texts[r->ntexts++] = (rl_str){ out, n };
    r->sections[r->nsections - 1].n++;
    return 0;
}

/* A whole file (radlink's own reader) into a malloc'd buffer of *n bytes;
 * NULL on failure, said on stderr. */
static char *slurp(const char *path, size_t *n)
{
    rl_buf b;
    rl_buf_init(&b, 0);
    rl_err err;
    if (rl_read_file(path, &b, &err) != 0) {
        fprintf(stderr, "report_write: %s\n", err.msg);
        rl_buf_free(&b);
        return NULL;
    }
    *n = b.len;
    return b.data ? b.data : calloc(1, 1);
}

static int read_pdf(tool *t, const char *path)
{
    size_t n;
    char *b = slurp(path, &n);
    if (!b)
        return -1;
    free(t->pdf);
    t->pdf = b;
    t->r.pdf = (rl_str){ b, n };
    return 0;
}

/* The report as the engine reads it from a message (its CR segment ends;
 * LF ends are taken too). */
static int read_hl7(tool *t, const char *path)
{
    if (t->from_hl7) {
        fprintf(stderr, "report_write: hl7= given twice\n");
        return -1;
    }
    size_t n;
    char *b = slurp(path, &n);
    if (!b)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (b[i] == '\n')
            b[i] = '\r';
    t->hl7 = b;
    t->from_hl7 = true;
    hl7_msg_init(&t->m, NULL);
    rl_arena_init(&t->a, 1 << 16, 0);
    rl_err err;
    if (hl7_parse(&t->m, b, n, &err) != HL7_OK || report_from_hl7(&t->m, &t->a, &t->r, &err)) {
        fprintf(stderr, "report_write: %s: %s\n", path, err.msg);
        return -1;
    }
    return 0;
}

static int number(unsigned *dst, const char *v, const char *key)
{
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (!*v || *end || n > 0x7fffffffUL) {
        fprintf(stderr, "report_write: %s=%s: a number expected\n", key, v);
        return -1;
    }
    *dst = (unsigned)n;
    return 0;
}

static int status(tool *t, const char *v)
{
    if (strlen(v) != 1 || !strchr("PFC", v[0])) {
        fprintf(stderr, "report_write: status=%s: P, F or C expected\n", v);
        return -1;
    }
    t->r.status = (report_status)v[0];
    return 0;
}

static int kind(tool *t, const char *v)
{
    if (strcmp(v, "sr") && strcmp(v, "pdf")) {
        fprintf(stderr, "report_write: kind=%s: sr or pdf expected\n", v);
        return -1;
    }
    t->kind = !strcmp(v, "pdf") ? DICOM_REPORT_PDF : DICOM_REPORT_SR;
    return 0;
}

static int evidence(tool *t, const char *v)
{
    if (t->s.nevidence == EVIDENCE_MAX) {
        fprintf(stderr, "report_write: more than %d evidence references\n", EVIDENCE_MAX);
        return -1;
    }
    return ref(&t->evidence[t->s.nevidence++], v, "evidence");
}

static int set(tool *t, const char *k, const char *v)
{
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (!strcmp(k, fields[i].key))
            return copy((char *)t + fields[i].off, fields[i].size, v, k);
    if (!strcmp(k, "kind"))
        return kind(t, v);
    if (!strcmp(k, "status"))
        return status(t, v);
    if (!strcmp(k, "procedure"))
        return code(&t->r.procedure, v, k);
    if (!strcmp(k, "section"))
        return section(t, v);
    if (!strcmp(k, "text"))
        return text(t, v);
    if (!strcmp(k, "pdf"))
        return read_pdf(t, v);
    if (!strcmp(k, "hl7"))
        return read_hl7(t, v);
    if (!strcmp(k, "evidence"))
        return evidence(t, v);
    if (!strcmp(k, "predecessor"))
        return ref(&t->s.predecessor, v, k);
    if (!strcmp(k, "study.series_number"))
        return number(&t->s.series_number, v, k);
    if (!strcmp(k, "study.instance_number"))
        return number(&t->s.instance_number, v, k);
    fprintf(stderr, "report_write: unknown key %s\n", k);
    return -1;
}

static int line(tool *t, char *l)
{
    l[strcspn(l, "\r\n")] = '\0';
    if (!l[0] || l[0] == '#')
        return 0;
    char *eq = strchr(l, '=');
    if (!eq) {
        fprintf(stderr, "report_write: [%s]: KEY=VALUE expected\n", l);
        return -1;
    }
    *eq = '\0';
    return set(t, l, eq + 1);
}

static int read_file(tool *t, const char *path)
{
    if (!strcmp(path, "-"))
        return 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    char *l = NULL;
    size_t cap = 0;
    int rc = 0;
    while (rc == 0 && getline(&l, &cap, f) >= 0)
        rc = line(t, l);
    free(l);
    fclose(f);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: report_write FILE OUT [KEY=VALUE]...\n");
        return 1;
    }
    tool *t = calloc(1, sizeof *t);
    if (!t)
        return 1;
    t->r.status = REPORT_FINAL;
    t->r.texts = t->texts;
    t->s.evidence = t->evidence;
    t->s.series_number = t->s.instance_number = 1;
    int rc = read_file(t, argv[1]);
    for (int i = 3; rc == 0 && i < argc; i++)
        rc = line(t, argv[i]);
    rl_err err;
    if (rc == 0 && dicom_report_write(&t->r, t->kind, &t->s, argv[2], &err) != 0) {
        fprintf(stderr, "report_write: %s\n", err.msg);
        rc = -1;
    }
    for (size_t i = 0; !t->from_hl7 && i < t->r.ntexts; i++)
        free((char *)t->texts[i].p);
    if (t->from_hl7) {
        rl_arena_free(&t->a);
        hl7_msg_free(&t->m);
        free(t->hl7);
    }
    free(t->pdf);
    free(t);
    return rc == 0 ? 0 : 1;
}
