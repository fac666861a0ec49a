/* Views (engine/ops/view.c): one description of each record kind (a message,
 * a queue entry, a job, a study, a worklist entry, an MPPS, an audit event, a
 * user) from which the CLI's text and the API's JSON both come. A record's
 * view function calls view_str, view_u64, view_time... once per field with
 * the field's description; the view renders it:
 *   - text, in a list: the fields with a column header, padded to their
 *     width, one row a line (the header line from the same descriptions);
 *   - text, in a detail: the fields with a label, one "  label  value" line;
 *   - JSON: every field with a key, as a member of the current object.
 * Patient data (VIEW_PHI) stays out of JSON lists: only a detail answer, to a
 * logged-in user, carries it.
 *
 * A view is owned by its caller; the text and JSON it makes belong to it
 * until view_free. Not thread-safe: one view per request. */
#ifndef RADLINK_VIEW_H
#define RADLINK_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "radlink/util.h"

enum {
    VIEW_PHI = 1u << 0,       /* patient data: left out of JSON list rows */
    VIEW_ISO = 1u << 1,       /* a time shown in text as ISO 8601, not local */
    VIEW_NULL_EMPTY = 1u << 2,/* JSON null for an empty string or a zero number */
    VIEW_RIGHT = 1u << 3,     /* text column right-aligned */
    VIEW_OMIT_EMPTY = 1u << 4,/* text detail: no line when the value is empty or zero */
    VIEW_DASH = 1u << 5,      /* text: "-" for an empty value or a zero time */
};

typedef struct view_field {
    const char *key;   /* JSON member; NULL: text only */
    const char *head;  /* text column header; NULL: not a list column */
    int width;         /* text column: padded to this width (0: not padded, last column) */
    int max;           /* text: at most this many bytes of the value (0: all) */
    const char *label; /* text detail line's label; NULL: not a detail line */
    unsigned flags;    /* VIEW_* */
} view_field;

typedef enum view_mode { VIEW_TEXT, VIEW_JSON } view_mode;

typedef struct view view;

/* A view rendering text (into its own buffer) or JSON (into its own tree). */
view *view_new(view_mode mode);
/* A text view that writes what it makes to sink as it goes (the CLI's
 * stdout): a long list is never held whole in memory. */
view *view_new_file(FILE *sink);
void view_free(view *v);
view_mode view_get_mode(const view *v);
bool view_is_json(const view *v);
/* The text made so far (VIEW_TEXT), valid until the next call on v. */
rl_str view_text(view *v);
/* The JSON made (VIEW_JSON), taken over by the caller (NULL when none). */
json_t *view_take_json(view *v);

/* The failure's words: the CLI prints them after "radlink VERB: ", the API
 * answers {"error": ...}; returns status (an op_status) for `return`. */
int view_fail(view *v, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* What view_fail said ("" when nothing). */
const char *view_failure(const view *v);

/* ---- lists ---- */

/* A list under key (JSON: an array member of the current object); text: the
 * header line from cols (NULL-terminated). cols NULL: no header line. */
void view_list(view *v, const char *key, const view_field *const *cols);
void view_row(view *v);     /* a record of the list begins */
void view_row_end(view *v); /* text: the line ends */
void view_list_end(view *v);

/* ---- details ---- */

/* A detail: text lines "  label value" with labels padded to label_width;
 * JSON: the current object takes the fields. */
void view_detail(view *v, int label_width);
void view_detail_end(view *v);

/* ---- fields ---- */

void view_str(view *v, const view_field *f, rl_str s);
void view_cstr(view *v, const view_field *f, const char *s);
void view_u64(view *v, const view_field *f, uint64_t n);
void view_int(view *v, const view_field *f, long long n);
void view_real(view *v, const view_field *f, double x);
void view_bool(view *v, const view_field *f, bool b);
void view_time(view *v, const view_field *f, int64_t us); /* 0: none (JSON null) */
/* JSON only: a member that is already JSON (taken over). */
void view_json(view *v, const char *key, json_t *j);

/* ---- nesting (JSON objects and arrays; text: nothing by themselves) ---- */

void view_obj(view *v, const char *key); /* key NULL: an element of the current array */
void view_obj_end(view *v);
void view_arr(view *v, const char *key);
void view_arr_end(view *v);

/* ---- text only ---- */

/* Words the text carries and JSON does not (headings, footers, notes). */
void view_printf(view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void view_add(view *v, rl_str text);

/* A JSON string of bytes from outside (HL7, DICOM): UTF-8 as it is, else each
 * byte read as ISO 8859-1 (HL7's usual default), so that nothing is lost. */
json_t *view_jstr(rl_str s);
/* A time as JSON: ISO 8601, or null for 0. */
json_t *view_jtime(int64_t us);
/* Local time, "2026-11-23 10:15:30". */
void view_fmt_time(int64_t us, char *out, size_t n);

#endif
