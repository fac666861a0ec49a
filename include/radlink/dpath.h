/* A DICOM attribute path, as route files write it: a keyword
 * ("BodyPartExamined") or a tag ("(0018,0015)"), through sequences with '/'
 * ("RequestAttributesSequence/AccessionNumber": the attribute in any item of
 * the sequence). Parsed by the DICOM adapter, which knows the data
 * dictionary (dicom_path_parse, radlink/dicom.h); the route module keeps
 * the parsed form and hands it back. Pure data: this header includes
 * nothing of radlink, so both sides can. */
#ifndef RADLINK_DPATH_H
#define RADLINK_DPATH_H

#include <stdint.h>

/* Sequences a path may go through, plus the attribute itself: the deepest
 * path a radiology header needs (Request Attributes > Scheduled Protocol
 * Code > code value) with room to spare. */
#define DICOM_PATH_DEPTH 4
/* "OtherPatientIDsSequence/IssuerOfPatientIDQualifiersSequence/..." */
#define DICOM_PATH_TEXT_MAX 256

typedef struct dicom_path {
    uint32_t tag[DICOM_PATH_DEPTH]; /* (group << 16) | element; tag[n - 1] is the attribute */
    uint8_t n;                      /* tags in use, 1..DICOM_PATH_DEPTH */
    char vr[3];                     /* the attribute's VR from the dictionary ("PN", "UI",
                                     * "SQ"...); "" for a private or unknown tag */
    uint32_t max_chars;             /* the VR's longest value in characters (PS3.5 6.2;
                                     * 64 for LO, 16 for SH, 64 for UI), 0 when none */
} dicom_path;

#endif
