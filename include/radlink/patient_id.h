/* Which repetition of a CX list names the patient (engine/patient/id.c):
 * the patient action (radlink/patient.h) and the worklist's order mapping
 * both ask it, below either. */
#ifndef RADLINK_PATIENT_ID_H
#define RADLINK_PATIENT_ID_H

#include "radlink/route.h"

/* Which repetition of a CX list (PID-3, MRG-1) names the patient: the one
 * with the rule's assigning authority (CX-4.1) and identifier type (CX-5, in
 * the rule's order of preference), else the first with type MR, else PI,
 * else the first with an ID. 0 when none has an ID (PID-2 is then the
 * patient's ID, for PID). rule may be NULL. */
unsigned patient_id_rep(hl7_msg *m, const char *seg, unsigned field,
                        const route_patient_id *rule);

#endif
