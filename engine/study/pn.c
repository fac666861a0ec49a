/* Person names (radlink/pn.h). */
#include <string.h>

#include "radlink/pn.h"

static rl_str trim(rl_str v)
{
    while (v.n && (v.p[v.n - 1] == '^' || v.p[v.n - 1] == ' '))
        v.n--;
    return v;
}

rl_str pn_group(rl_str v, int g)
{
    if (!v.n)
        return (rl_str){ "", 0 };
    const char *p = v.p, *end = v.p + v.n;
    for (int i = 0; i < g; i++) {
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq)
            return (rl_str){ "", 0 };
        p = eq + 1;
    }
    const char *eq = memchr(p, '=', (size_t)(end - p));
    return trim((rl_str){ p, (size_t)((eq ? eq : end) - p) });
}

static bool eq_icase(rl_str a, rl_str b)
{
    if (a.n != b.n)
        return false;
    for (size_t i = 0; i < a.n; i++) {
        unsigned char x = (unsigned char)a.p[i], y = (unsigned char)b.p[i];
        if (x >= 'a' && x <= 'z')
            x = (unsigned char)(x - 32);
        if (y >= 'a' && y <= 'z')
            y = (unsigned char)(y - 32);
        if (x != y)
            return false;
    }
    return true;
}

bool pn_agree(rl_str image, rl_str ris)
{
    if (!eq_icase(pn_group(image, PN_ALPHABETIC), pn_group(ris, PN_ALPHABETIC)))
        return false;
    for (int g = PN_IDEOGRAPHIC; g < PN_GROUPS; g++) {
        rl_str r = pn_group(ris, g);
        if (r.n && !rl_str_eq(r, pn_group(image, g)))
            return false;
    }
    return true;
}

void pn_merge(rl_str image, rl_str ris, rl_buf *out)
{
    rl_str g[PN_GROUPS];
    int last = 0;
    for (int i = 0; i < PN_GROUPS; i++) {
        g[i] = pn_group(ris, i);
        if (i > 0 && !g[i].n)
            g[i] = pn_group(image, i);
        if (g[i].n)
            last = i;
    }
    for (int i = 0; i <= last; i++) {
        if (i)
            rl_buf_add_c(out, "=");
        rl_buf_add_str(out, g[i]);
    }
}
