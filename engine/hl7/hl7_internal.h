/* Helpers shared by the files of the HL7 codec; not part of its public face. */
#ifndef RADLINK_HL7_INTERNAL_H
#define RADLINK_HL7_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "radlink/hl7.h"

/* Word-at-a-time byte tests (Bit Twiddling Hacks, "determine if a word has a
 * byte less than n"): exact as a yes/no answer for n <= 128. */
#define HL7_ONES 0x0101010101010101ULL
#define HL7_HIGHS 0x8080808080808080ULL
static inline uint64_t hl7_load64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline uint64_t hl7_has_less(uint64_t w, unsigned n)
{
    return (w - HL7_ONES * n) & ~w & HL7_HIGHS;
}
static inline uint64_t hl7_has_byte(uint64_t w, unsigned char c)
{
    return hl7_has_less(w ^ (HL7_ONES * c), 1);
}

void hl7_fmt_bytes(const char *p, size_t n, char *out, size_t outn);
void hl7_iconv_close(hl7_msg *m);
/* Convert UTF-8 text to the message charset (for edits); returns the input view
 * when the message charset is UTF-8 or the default. */
int hl7_to_msg_charset(hl7_msg *m, rl_str utf8, rl_str *out, rl_err *err);

#endif
