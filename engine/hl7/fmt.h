/* Bytes of a message shown in an error text (engine/hl7/fmt.c); the lowest
 * file of the HL7 codec, used by the parser, the splitter and the character
 * sets. Not part of the codec's public face. */
#ifndef RADLINK_HL7_FMT_H
#define RADLINK_HL7_FMT_H

#include <stddef.h>

/* Room to show n bytes: 4 for each (\xNN at worst), the NUL, and the
 * margin hl7_fmt_bytes keeps before an escape. */
#define HL7_SHOWN_SIZE(n) (4u * (n) + 4u)

/* Render up to n bytes of p into out (outn bytes, NUL-terminated), control
 * bytes and quotes as \xNN; stops early rather than cut an escape. */
void hl7_fmt_bytes(const char *p, size_t n, char *out, size_t outn);

#endif
