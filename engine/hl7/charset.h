/* What the rest of the HL7 codec asks of the character sets (engine/hl7/
 * charset.c) beyond radlink/hl7.h: closing a message's converters, and
 * converting an edit's UTF-8 back to the message's set. */
#ifndef RADLINK_HL7_CHARSET_H
#define RADLINK_HL7_CHARSET_H

#include "radlink/hl7.h"

/* Close the iconv descriptors cached in m (hl7_msg_free). */
void hl7_iconv_close(hl7_msg *m);
/* Convert UTF-8 text to the message charset (for edits); returns the input view
 * when the message charset is UTF-8 or the default. */
int hl7_to_msg_charset(hl7_msg *m, rl_str utf8, rl_str *out, rl_err *err);

#endif
