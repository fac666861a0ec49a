/* The HL7 codec's own header: its public face (radlink/hl7.h) and the
 * word-at-a-time byte tests its scanners share. Helpers of one level live in
 * headers of their own (fmt.h, charset.h), so that the codec's files depend
 * on each other one way. Not part of the codec's public face. */
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

#endif
