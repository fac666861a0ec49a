/* Views (radlink/view.h): one set of calls per record, rendered as the CLI's
 * text or as the API's JSON. */
#include "radlink/view.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "radlink/limits.h"

struct view {
    view_mode mode;
    FILE *sink;      /* text written through as it is made (NULL: kept in text) */
    rl_buf text;
    rl_buf fail;
    /* JSON: the containers open, the root first */
    json_t *stack[RL_VIEW_DEPTH_MAX];
    int depth;
    int rows;        /* list rows open (JSON: patient data stays out) */
    bool in_row;     /* text: inside a list row */
    int col;         /* text: columns written in this row */
    bool in_detail;  /* text: detail lines */
    int label_width;
};

view *view_new(view_mode mode)
{
    view *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->mode = mode;
    rl_buf_init(&v->text, RL_CTL_OUTPUT_MAX);
    rl_buf_init(&v->fail, RL_VIEW_FAIL_MAX);
    if (mode == VIEW_JSON) {
        v->stack[0] = json_object();
        v->depth = v->stack[0] ? 1 : 0;
    }
    return v;
}

view *view_new_file(FILE *sink)
{
    view *v = view_new(VIEW_TEXT);
    if (v)
        v->sink = sink;
    return v;
}

/* A view with a sink passes on what it made (a reader that writes into a
 * pipe holds its read transaction while the pipe is full, as a reader should
 * be able to: the engine clears the slot of one that dies there). */
static void pass_on(view *v)
{
    if (v->sink && v->text.len) {
        fwrite(v->text.data, 1, v->text.len, v->sink);
        rl_buf_reset(&v->text);
    }
}

void view_free(view *v)
{
    if (!v)
        return;
    if (v->depth)
        json_decref(v->stack[0]);
    rl_buf_free(&v->text);
    rl_buf_free(&v->fail);
    free(v);
}

view_mode view_get_mode(const view *v)
{
    return v->mode;
}

bool view_is_json(const view *v)
{
    return v->mode == VIEW_JSON;
}

rl_str view_text(view *v)
{
    return rl_buf_view(&v->text);
}

json_t *view_take_json(view *v)
{
    if (!v->depth)
        return NULL;
    json_t *root = v->stack[0];
    v->depth = 0;
    return root;
}

int view_fail(view *v, int status, const char *fmt, ...)
{
    va_list ap;
    rl_buf_reset(&v->fail);
    va_start(ap, fmt);
    rl_buf_vprintf(&v->fail, fmt, ap);
    va_end(ap);
    return status;
}

const char *view_failure(const view *v)
{
    const char *s = rl_buf_cstr((rl_buf *)&v->fail);
    return s ? s : "";
}

/* ---- JSON values ---- */

json_t *view_jstr(rl_str s)
{
    json_t *j = json_stringn(s.p ? s.p : "", s.n);
    if (j)
        return j;
    char *u = malloc(s.n * 2 + 1);
    size_t k = 0;
    if (!u)
        return json_null();
    for (size_t i = 0; i < s.n; i++) {
        unsigned char b = (unsigned char)s.p[i];
        if (b < 0x80) {
            u[k++] = (char)b;
        } else {
            u[k++] = (char)(0xC0 | (b >> 6));
            u[k++] = (char)(0x80 | (b & 0x3F));
        }
    }
    j = json_stringn(u, k);
    free(u);
    return j ? j : json_null();
}

json_t *view_jtime(int64_t us)
{
    if (!us)
        return json_null();
    char t[RL_TIME_TEXT_MAX];
    rl_time_iso(us, t, sizeof t);
    return json_string(t);
}

void view_fmt_time(int64_t us, char *out, size_t n)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static void put(view *v, const char *key, json_t *j)
{
    if (!j)
        return;
    if (!v->depth) {
        json_decref(j);
        return;
    }
    json_t *top = v->stack[v->depth - 1];
    if (json_is_array(top))
        json_array_append_new(top, j);
    else if (key)
        json_object_set_new(top, key, j);
    else
        json_decref(j);
}

static void push(view *v, const char *key, json_t *j)
{
    if (!j || v->depth == RL_VIEW_DEPTH_MAX) {
        json_decref(j);
        return;
    }
    json_incref(j);
    put(v, key, j);
    v->stack[v->depth++] = j;
    json_decref(j);
}

static void pop(view *v)
{
    if (v->depth > 1)
        v->depth--;
}

/* ---- text ---- */

/* The value of a field in text, padded as its column or detail line says. */
static void text_value(view *v, const view_field *f, rl_str s)
{
    if (!s.n && (f->flags & VIEW_DASH))
        s = RL_STR("-");
    if (f->max > 0 && s.n > (size_t)f->max)
        s.n = (size_t)f->max;
    if (v->in_row) {
        if (!f->head)
            return;
        if (v->col++)
            rl_buf_add_ch(&v->text, ' ');
        int pad = f->width > (int)s.n ? f->width - (int)s.n : 0;
        if (f->flags & VIEW_RIGHT)
            rl_buf_printf(&v->text, "%*s", pad, "");
        rl_buf_add(&v->text, s.p, s.n);
        if (!(f->flags & VIEW_RIGHT))
            rl_buf_printf(&v->text, "%*s", pad, "");
        return;
    }
    if (!v->in_detail || !f->label)
        return;
    if (!s.n && (f->flags & VIEW_OMIT_EMPTY))
        return;
    rl_buf_printf(&v->text, "  %-*s %.*s\n", v->label_width, f->label, RL_STR_FMT(s));
    pass_on(v);
}

static bool json_wanted(const view *v, const view_field *f)
{
    return v->mode == VIEW_JSON && f->key && !(v->rows && (f->flags & VIEW_PHI));
}

/* ---- fields ---- */

void view_str(view *v, const view_field *f, rl_str s)
{
    if (v->mode == VIEW_TEXT)
        text_value(v, f, s);
    else if (json_wanted(v, f))
        put(v, f->key, !s.n && (f->flags & VIEW_NULL_EMPTY) ? json_null() : view_jstr(s));
}

void view_cstr(view *v, const view_field *f, const char *s)
{
    view_str(v, f, rl_str_c(s ? s : ""));
}

void view_u64(view *v, const view_field *f, uint64_t n)
{
    if (v->mode == VIEW_TEXT) {
        char b[RL_NUM_TEXT_MAX];
        int k = n || !(f->flags & (VIEW_OMIT_EMPTY | VIEW_DASH))
                    ? snprintf(b, sizeof b, "%llu", (unsigned long long)n) : 0;
        text_value(v, f, (rl_str){ b, (size_t)k });
    } else if (json_wanted(v, f)) {
        put(v, f->key, !n && (f->flags & VIEW_NULL_EMPTY) ? json_null()
                                                          : json_integer((json_int_t)n));
    }
}

void view_int(view *v, const view_field *f, long long n)
{
    if (v->mode == VIEW_TEXT) {
        char b[RL_NUM_TEXT_MAX];
        int k = snprintf(b, sizeof b, "%lld", n);
        text_value(v, f, (rl_str){ b, (size_t)k });
    } else if (json_wanted(v, f)) {
        put(v, f->key, json_integer((json_int_t)n));
    }
}

void view_real(view *v, const view_field *f, double x)
{
    if (v->mode == VIEW_TEXT) {
        char b[RL_NUM_TEXT_MAX];
        int k = snprintf(b, sizeof b, "%g", x);
        text_value(v, f, (rl_str){ b, (size_t)k });
    } else if (json_wanted(v, f)) {
        put(v, f->key, json_real(x));
    }
}

void view_bool(view *v, const view_field *f, bool b)
{
    if (v->mode == VIEW_TEXT)
        text_value(v, f, b ? RL_STR("yes") : RL_STR("no"));
    else if (json_wanted(v, f))
        put(v, f->key, json_boolean(b));
}

void view_time(view *v, const view_field *f, int64_t us)
{
    if (v->mode == VIEW_TEXT) {
        char b[RL_TIME_TEXT_MAX] = "";
        if (us && (f->flags & VIEW_ISO))
            rl_time_iso(us, b, sizeof b);
        else if (us)
            view_fmt_time(us, b, sizeof b);
        text_value(v, f, rl_str_c(b));
    } else if (json_wanted(v, f)) {
        put(v, f->key, view_jtime(us));
    }
}

void view_json(view *v, const char *key, json_t *j)
{
    if (v->mode == VIEW_JSON)
        put(v, key, j);
    else
        json_decref(j);
}

/* ---- structure ---- */

static void header(view *v, const view_field *const *cols)
{
    v->in_row = true;
    v->col = 0;
    for (size_t i = 0; cols[i]; i++) {
        view_field h = *cols[i];
        h.flags &= ~(unsigned)VIEW_DASH;
        text_value(v, &h, rl_str_c(h.head));
    }
    rl_buf_add_ch(&v->text, '\n');
    v->in_row = false;
    pass_on(v);
}

void view_list(view *v, const char *key, const view_field *const *cols)
{
    if (v->mode == VIEW_JSON)
        push(v, key, json_array());
    else if (cols)
        header(v, cols);
}

void view_row(view *v)
{
    if (v->mode == VIEW_JSON) {
        push(v, NULL, json_object());
        v->rows++;
    } else {
        v->in_row = true;
        v->col = 0;
    }
}

void view_row_end(view *v)
{
    if (v->mode == VIEW_JSON) {
        pop(v);
        v->rows--;
    } else {
        rl_buf_add_ch(&v->text, '\n');
        v->in_row = false;
        pass_on(v);
    }
}

void view_list_end(view *v)
{
    if (v->mode == VIEW_JSON)
        pop(v);
}

void view_detail(view *v, int label_width)
{
    v->in_detail = true;
    v->label_width = label_width;
}

void view_detail_end(view *v)
{
    v->in_detail = false;
}

void view_obj(view *v, const char *key)
{
    if (v->mode == VIEW_JSON)
        push(v, key, json_object());
}

void view_obj_end(view *v)
{
    if (v->mode == VIEW_JSON)
        pop(v);
}

void view_arr(view *v, const char *key)
{
    if (v->mode == VIEW_JSON)
        push(v, key, json_array());
}

void view_arr_end(view *v)
{
    if (v->mode == VIEW_JSON)
        pop(v);
}

void view_printf(view *v, const char *fmt, ...)
{
    if (v->mode != VIEW_TEXT)
        return;
    va_list ap;
    va_start(ap, fmt);
    rl_buf_vprintf(&v->text, fmt, ap);
    va_end(ap);
    pass_on(v);
}

void view_add(view *v, rl_str text)
{
    if (v->mode == VIEW_TEXT) {
        rl_buf_add_str(&v->text, text);
        pass_on(v);
    }
}
