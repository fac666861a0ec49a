/* Which repetition of a CX list (PID-3, MRG-1) names the patient, by the
 * route file's <patient-id> rule (radlink/patient_id.h): used by the ADT
 * action and by the worklist's order mapping alike. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "radlink/patient_id.h"

static rl_str cx_part(hl7_msg *m, const char *seg, unsigned field, unsigned rep, unsigned comp)
{
    hl7_path p = { .seg_idx = 1, .field = field, .rep = rep, .comp = comp, .sub = comp == 4 };
    snprintf(p.seg, sizeof p.seg, "%s", seg);
    rl_str v;
    rl_err err;
    return hl7_get(m, &p, &v, &err) == HL7_VALUE ? v : (rl_str){ "", 0 };
}

static bool has_word(const char *list, rl_str w)
{
    for (const char *p = list; w.n && p && *p;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n == w.n && !strncasecmp(p, w.p, n))
            return true;
        p += n;
    }
    return false;
}

unsigned patient_id_rep(hl7_msg *m, const char *seg, unsigned field,
                        const route_patient_id *rule)
{
    hl7_path all = { .seg_idx = 1, .field = field };
    snprintf(all.seg, sizeof all.seg, "%s", seg);
    unsigned n = hl7_rep_count(m, &all);
    if (n > 32)
        n = 32;
    unsigned best = 0;
    int best_score = -1;
    for (unsigned r = 1; r <= n; r++) {
        if (!cx_part(m, seg, field, r, 1).n)
            continue;
        rl_str auth = cx_part(m, seg, field, r, 4), type = cx_part(m, seg, field, r, 5);
        int score = 0;
        if (rule && rule->authority && auth.n && rl_str_eq(auth, rl_str_c(rule->authority)))
            score += 8;
        else if (rule && rule->authority)
            score -= 8; /* another authority's number: only when nothing else has one */
        if (rule && rule->types && has_word(rule->types, type))
            score += 4;
        else if (rl_str_eq(type, RL_STR("MR")))
            score += 2;
        else if (rl_str_eq(type, RL_STR("PI")))
            score += 1;
        if (score > best_score) {
            best_score = score;
            best = r;
        }
    }
    return best;
}
