/* DICOM person names (PS3.5 6.2) in UTF-8: up to three component groups
 * separated by '=' (alphabetic, ideographic, phonetic), each of up to five
 * components separated by '^'. A RIS usually sends the alphabetic group
 * only; the images of an Asian site often carry all three. Views returned
 * point into the arguments. */
#ifndef RADLINK_PN_H
#define RADLINK_PN_H

#include <stdbool.h>

#include "radlink/util.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { PN_ALPHABETIC = 0, PN_IDEOGRAPHIC = 1, PN_PHONETIC = 2, PN_GROUPS = 3 };

/* Component group g of v, without trailing '^' and spaces ("" when absent). */
rl_str pn_group(rl_str v, int g);

/* Do the images' name and the RIS's agree? The alphabetic groups compare
 * ignoring ASCII case (and trailing empty components); an ideographic or
 * phonetic group is compared only when the RIS sent one. */
bool pn_agree(rl_str image, rl_str ris);

/* The corrected name: the RIS's groups, with the image's ideographic and
 * phonetic groups kept where the RIS sent none; appended to out. */
void pn_merge(rl_str image, rl_str ris, rl_buf *out);

#ifdef __cplusplus
}
#endif

#endif
