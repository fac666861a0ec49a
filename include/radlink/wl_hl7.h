/* HL7 values in DICOM form for the worklist (engine/wl/convert.c): what the
 * order mapping (radlink/wl_hook.h) and the patient action (radlink/
 * patient.h) write into worklist entries. */
#ifndef RADLINK_WL_HL7_H
#define RADLINK_WL_HL7_H

#include "radlink/hl7.h"
#include "radlink/util.h"

/* HL7 person name at p (XPN, or XCN/NDL for the fields of those types) as a
 * DICOM PN, family^given^middle^prefix^suffix without trailing '^',
 * appended to out. */
int wl_hl7_pn(hl7_msg *m, hl7_path p, rl_buf *out);
/* HL7 administrative sex to DICOM: M, F, else O. */
rl_str wl_hl7_sex(rl_str v);
/* A DICOM modality (PS3.3 C.7.3.1.1.1), or an HL7 diagnostic service
 * section (table 0074) that names one, as the DICOM term; "" for anything
 * else. A static string. */
rl_str wl_hl7_modality(rl_str v);
/* HL7 priority (table 0027, TQ1-9 table 0485) or a DICOM term as the DICOM
 * Requested Procedure Priority; "" when it is neither. A static string. */
rl_str wl_hl7_priority(rl_str v);

#endif
