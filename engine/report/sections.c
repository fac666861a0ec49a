/* Which TID 2000 section an OBX's observation identifier is filed under
 * (radlink/report.h). */
#include <string.h>
#include <strings.h>

#include "radlink/report.h"

/* The last word of an identifier ("&GDT", "RAD&IMP", "R-IMP": "GDT", "IMP"). */
static const char *last_word(const char *s)
{
    const char *w = s;
    for (const char *p = s; *p; p++)
        if (*p == '&' || *p == '-' || *p == ' ' || *p == '.' || *p == '_')
            w = p + 1;
    return w;
}

report_section_kind report_section_of(const report_code *obs)
{
    static const struct {
        const char *loinc, *word1, *word2;
        report_section_kind kind;
    } by[] = {
        { "19005-8", "IMP", "IMPRESSION", REPORT_IMPRESSION },
        { "11329-0", "HX", "HISTORY", REPORT_HISTORY },
        { "", "ADD", "ADDENDUM", REPORT_ADDENDUM },
        { "18783-1", "REC", "RECOMMENDATION", REPORT_RECOMMENDATION },
        { "55110-1", "CONCL", "CONCLUSION", REPORT_CONCLUSION },
        { "18782-3", "GDT", "FINDINGS", REPORT_FINDINGS },
    };
    const char *w = last_word(obs->value), *m = last_word(obs->meaning);
    for (size_t i = 0; i < sizeof by / sizeof *by; i++) {
        if (by[i].loinc[0] && !strcmp(obs->value, by[i].loinc))
            return by[i].kind;
        if (!strcasecmp(w, by[i].word1) || !strcasecmp(w, by[i].word2) ||
            !strcasecmp(m, by[i].word1) || !strcasecmp(m, by[i].word2))
            return by[i].kind;
    }
    return REPORT_FINDINGS;
}
