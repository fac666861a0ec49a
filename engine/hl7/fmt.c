/* Bytes of a message shown in an error text: printable ASCII as it is,
 * anything else as \xNN, so a reason never carries control bytes. */
#include "fmt.h"

void hl7_fmt_bytes(const char *p, size_t n, char *out, size_t outn)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < outn; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7f && c != '\'') {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}
