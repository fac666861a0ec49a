/* libFuzzer target for the HL7 codec: parse, walk every value and decode it,
 * edit, serialize, acknowledge, split, and parse the input as a path too. */
#include <stdint.h>
#include <string.h>

#include "radlink/hl7.h"

static int count_cb(void *ctx, rl_str msg, size_t offset)
{
    (void)msg;
    (void)offset;
    (*(unsigned *)ctx)++;
    return 0;
}

static void walk(hl7_msg *m)
{
    rl_err err;
    for (size_t i = 0; i < m->nsegs; i++) {
        unsigned nf = hl7_field_count(m, m->segs[i]);
        for (unsigned f = 1; f <= nf && f < 64; f++) {
            rl_str fv, rv, cv, sv, out;
            if (hl7_field(m, m->segs[i], f, &fv) == HL7_ABSENT)
                continue;
            unsigned nr = hl7_piece_count(fv, m->seps.rep);
            for (unsigned r = 1; r <= nr && r < 16; r++) {
                hl7_piece(fv, m->seps.rep, r, &rv);
                unsigned nc = hl7_piece_count(rv, m->seps.comp);
                for (unsigned c = 1; c <= nc && c < 16; c++) {
                    hl7_piece(rv, m->seps.comp, c, &cv);
                    unsigned ns = hl7_piece_count(cv, m->seps.sub);
                    for (unsigned s = 1; s <= ns && s < 16; s++) {
                        hl7_piece(cv, m->seps.sub, s, &sv);
                        (void)hl7_decode(m, sv, &out, &err);
                    }
                }
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static hl7_msg m;
    static int ready;
    if (!ready) {
        hl7_msg_init(&m, NULL);
        ready = 1;
    }
    const char *text = (const char *)data;
    rl_err err;
    rl_buf out;
    rl_buf_init(&out, 0);

    hl7_path p;
    (void)hl7_path_parse((rl_str){ text, size < 40 ? size : 40 }, &p, &err);

    int rc = hl7_parse(&m, text, size, &err);
    hl7_ack_info info = { .code = rc == HL7_OK ? "AA" : "AR",
                          .err_code = rc == HL7_OK ? 0 : HL7_ERR_SEGMENT_SEQUENCE,
                          .err_text = rc == HL7_OK ? NULL : err.msg,
                          .control_id = "F" };
    (void)hl7_ack_build(&m, &info, &out);
    if (rc == HL7_OK) {
        walk(&m);
        static const char *paths[] = { "PID-3", "PID-5.1.1", "OBR-4.2", "MSH-9.2", "OBX[3]-5",
                                       "MSH-18", "PID-3[2].1" };
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
            hl7_path q;
            rl_str v;
            hl7_path_parse(rl_str_c(paths[i]), &q, &err);
            (void)hl7_get(&m, &q, &v, &err);
            (void)hl7_set(&m, &q, RL_STR("X|Y^Z"), &err);
        }
        rl_buf_reset(&out);
        (void)hl7_serialize(&m, &out);
    }
    unsigned n = 0;
    (void)hl7_split((rl_str){ text, size }, count_cb, &n, NULL, &err);
    rl_buf_free(&out);
    return 0;
}
