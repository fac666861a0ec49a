/* Bytes of a message shown in an error text (engine/hl7/fmt.c); the lowest
 * file of the HL7 codec, used by the parser, the splitter and the character
 * sets. Not part of the codec's public face. */
#ifndef RADLINK_HL7_FMT_H
#define RADLINK_HL7_FMT_H

#include <stddef.h>

/* Render up to n bytes of p into out (outn bytes, NUL-terminated), control
 * bytes and quotes as \xNN; stops early rather than cut an escape. */
void hl7_fmt_bytes(const char *p, size_t n, char *out, size_t outn);

#endif
