/* A message as an indented tree whose labels are the paths 'radlink hl7 get'
 * takes: `hl7 show`, `msg show` and the console's message page print it. */
#include "ops_internal.h"

#include <stdio.h>

#define SHOW_COL 20

/* One tree line; line breaks inside a value are shown as \n so that every
 * line of the tree stays one value. */
static void show_line(rl_buf *out, int depth, const char *label, rl_str value, hl7_kind k)
{
    size_t before = out->len;
    rl_buf_printf(out, "%*s%s", depth * 2, "", label);
    int n = (int)(out->len - before);
    rl_buf_printf(out, "%*s", n < SHOW_COL ? SHOW_COL - n : 1, "");
    if (k == HL7_NULL) {
        rl_buf_add_c(out, "\"\"\n");
        return;
    }
    for (size_t i = 0; i < value.n; i++) {
        if (value.p[i] == '\n')
            rl_buf_add_c(out, "\\n");
        else if (value.p[i] == '\r')
            rl_buf_add_c(out, "\\r");
        else
            rl_buf_add_ch(out, value.p[i]);
    }
    rl_buf_add_ch(out, '\n');
}

/* Print a leaf decoded, or a composite raw followed by its parts. */
static int show_part(rl_buf *out, hl7_msg *m, int depth, const char *label, rl_str raw, char sep,
                     char subsep, rl_err *err)
{
    hl7_kind k = hl7_classify(raw);
    unsigned parts = sep ? hl7_piece_count(raw, sep) : 1;
    if (parts <= 1) {
        if (subsep)
            return show_part(out, m, depth, label, raw, subsep, 0, err);
        rl_str v;
        if (k == HL7_VALUE && hl7_decode(m, raw, &v, err) != HL7_OK)
            return -1;
        show_line(out, depth, label, k == HL7_VALUE ? v : raw, k);
        return 0;
    }
    show_line(out, depth, label, raw, HL7_VALUE);
    for (unsigned i = 1; i <= parts; i++) {
        rl_str part;
        if (hl7_piece(raw, sep, i, &part) == HL7_EMPTY)
            continue;
        char sub[RL_HL7_LABEL_MAX + 8];
        snprintf(sub, sizeof sub, "%s.%u", label, i);
        if (show_part(out, m, depth + 1, sub, part, subsep, 0, err) != 0)
            return -1;
    }
    return 0;
}

/* The label of segment i: its name, with [occurrence] when it repeats. */
static void segment_label(const hl7_msg *m, size_t i, char *out, size_t n)
{
    rl_str seg = m->segs[i];
    char name[] = { seg.p[0], seg.p[1], seg.p[2], 0 };
    unsigned occ = 0, same = 0;
    for (size_t j = 0; j < m->nsegs; j++) {
        if (hl7_seg_is(m->segs[j], name)) {
            same++;
            if (j <= i)
                occ++;
        }
    }
    if (same > 1)
        snprintf(out, n, "%s[%u]", name, occ);
    else
        snprintf(out, n, "%s", name);
}

static int show_field(rl_buf *out, hl7_msg *m, const char *segl, bool msh, unsigned f, rl_str fv,
                      hl7_kind k, rl_err *err)
{
    char label[RL_HL7_LABEL_MAX];
    if (msh && f <= 2) {
        snprintf(label, sizeof label, "%s-%u", segl, f);
        show_line(out, 1, label, fv, k);
        return 0;
    }
    unsigned reps = hl7_piece_count(fv, m->seps.rep);
    for (unsigned r = 1; r <= reps; r++) {
        rl_str rv;
        if (hl7_piece(fv, m->seps.rep, r, &rv) == HL7_EMPTY)
            continue;
        if (reps > 1)
            snprintf(label, sizeof label, "%s-%u[%u]", segl, f, r);
        else
            snprintf(label, sizeof label, "%s-%u", segl, f);
        if (show_part(out, m, 1, label, rv, m->seps.comp, m->seps.sub, err) != 0)
            return -1;
    }
    return 0;
}

int ops_hl7_tree(hl7_msg *m, rl_buf *out, rl_err *err)
{
    for (size_t i = 0; i < m->nsegs; i++) {
        rl_str seg = m->segs[i];
        char segl[RL_HL7_LABEL_MAX / 2];
        segment_label(m, i, segl, sizeof segl);
        rl_buf_printf(out, "%s\n", segl);
        bool msh = hl7_seg_is(seg, "MSH");
        unsigned nf = hl7_field_count(m, seg);
        for (unsigned f = 1; f <= nf; f++) {
            rl_str fv;
            hl7_kind k = hl7_field(m, seg, f, &fv);
            if (k == HL7_ABSENT || k == HL7_EMPTY)
                continue;
            if (show_field(out, m, segl, msh, f, fv, k, err) != 0)
                return -1;
        }
    }
    return 0;
}

int ops_hl7_tree_of(rl_str raw, rl_buf *out, rl_err *err)
{
    hl7_msg m;
    hl7_msg_init(&m, &(hl7_limits){ .max_bytes = raw.n + 1 });
    int rc = hl7_parse(&m, raw.p, raw.n, err);
    if (rc == HL7_OK)
        rc = ops_hl7_tree(&m, out, err);
    hl7_msg_free(&m);
    return rc;
}
