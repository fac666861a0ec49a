/* How a value is shown in a dry-run trace: quoted, line breaks as spaces,
 * long values shortened; absent and HL7 null named as such. */
#include "radlink/hl7.h"
#include "trace.h"

void rt_trace_value(rl_buf *trace, rl_str v, int kind)
{
    if (kind == HL7_ABSENT) {
        rl_buf_add_c(trace, "(absent)");
        return;
    }
    if (kind == HL7_NULL) {
        rl_buf_add_c(trace, "(null \"\")");
        return;
    }
    rl_buf_add_ch(trace, '"');
    size_t n = v.n > 60 ? 57 : v.n;
    for (size_t i = 0; i < n; i++)
        rl_buf_add_ch(trace, (v.p[i] == '\n' || v.p[i] == '\r') ? ' ' : v.p[i]);
    rl_buf_add_c(trace, v.n > 60 ? "...\"" : "\"");
}
