/* De-identification's rules apart from any data set (PS3.15 Annex E): the
 * action Table E.1-1 and the options give a tag, the one radlink takes of a
 * combined action, the UIDs it derives and how it cleans free text. deid.cc
 * applies them to a DCMTK data set; C-callable so that the unit tests
 * reach them. Every function is pure and thread-safe. */
#ifndef RADLINK_DICOM_DEID_RULES_H
#define RADLINK_DICOM_DEID_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "radlink/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The actions of PS3.15 E.1.1. */
typedef enum dicom_deid_act {
    DICOM_DEID_NONE = 0, /* the table does not name the tag: kept */
    DICOM_DEID_D,        /* a dummy value of its VR */
    DICOM_DEID_Z,        /* zero length (a sequence: no items) */
    DICOM_DEID_X,        /* removed */
    DICOM_DEID_K,        /* kept (a sequence: its items de-identified) */
    DICOM_DEID_C,        /* cleaned (dicom_deid_clean) */
    DICOM_DEID_U,        /* a new UID (dicom_deid_uid) */
    DICOM_DEID_XZ,       /* X/Z, X/D, X/Z/D, Z/D, X/Z/U*: as the attribute's Type asks */
    DICOM_DEID_XD,
    DICOM_DEID_XZD,
    DICOM_DEID_ZD,
    DICOM_DEID_XZU,
} dicom_deid_act;

/* The table's option columns: route_deid_option's six bits, in order. */
#define DICOM_DEID_OPTIONS 6

/* Table E.1-1's action for tag (group << 16 | element) under options
 * (route_deid_option bits): the action of an option asked for when its
 * column names one, else the Basic Profile's; DICOM_DEID_NONE when the
 * table does not name the tag. An odd group is a private attribute (X). */
dicom_deid_act dicom_deid_action(uint32_t tag, unsigned options);

/* What radlink does for action a of attribute tag without knowing the IOD,
 * which alone says whether an attribute is Type 1, 2 or 3: one of NONE, D,
 * Z, X, K, C, U. A combined action takes the choice that is conformant
 * whatever the Type (deid_rules.cc says which and why; a sequence with items
 * under X/Z or X/Z/D is removed, unless it is Type 2 in the storage modules,
 * then emptied); empty: the attribute is present with no value (a sequence:
 * no items); sequence: its VR is SQ. */
dicom_deid_act dicom_deid_choose(uint32_t tag, dicom_deid_act a, bool empty, bool sequence);

/* "X/Z/U*", "D", ...; "" for DICOM_DEID_NONE. */
const char *dicom_deid_act_name(dicom_deid_act a);
/* The edition of the standard the table is from ("2024b") and its rows. */
const char *dicom_deid_edition(void);
size_t dicom_deid_table_rows(void);

/* The new UID for uid[0..n): "2.25." and the first 128 bits of
 * HMAC-SHA256(secret, uid) as one decimal integer (PS3.5 B.2's form), so
 * the same UID and secret always give the same new UID and references
 * inside sequences stay consistent with the instances they name. The
 * caller strips the value's padding. */
void dicom_deid_uid(const uint8_t *secret, size_t secret_n, const char *uid, size_t n,
                    char out[RL_UUID_UID_SIZE]);

/* A UID the standard or DCMTK's dictionary defines (a SOP class, a
 * transfer syntax, a coding scheme, a well-known frame of reference):
 * never replaced, since it names no instance. */
bool dicom_deid_uid_well_known(const char *uid);

/* Identifiers shorter than this are not cleaned out of free text: a
 * one-letter middle initial would take every lone "J" of a description. */
#define DICOM_DEID_WORD_MIN 2

/* Clean text[0..n) in place (PS3.15 E.1.1 C): every occurrence of one of
 * words (tried in the order given: longest first, so that a name's
 * longer form goes before its parts), compared without ASCII case and as a
 * whole word (not inside a run of letters and digits; bytes of 0x80 and
 * above count as letters), is taken out; runs of spaces that leaves become
 * one, and spaces at either end go. Returns the new length. */
size_t dicom_deid_clean(char *text, size_t n, const char *const *words, size_t nwords);

#ifdef __cplusplus
}
#endif

#endif
