/* The worklist module's own header. Its files include this, not
 * radlink/wl.h directly: radlink/wl.h is the face the other modules see and
 * is implemented by several files here, which depend on each other one way:
 *
 *   model.c   the attributes radlink knows        (nothing of the module)
 *   record.c  entries, their record and indexes  (nothing of the module)
 *   match.c   queries                            model, record
 *   convert.c HL7 values in DICOM form            (nothing of the module)
 *   import.c  entries read from worklist files    model, record, convert
 *   mapping.c the order mapping's recipes         model
 *   apply.c   the `worklist` route action         all of the above
 *
 * A file of a lower line never calls one of a higher line. */
#ifndef RADLINK_WL_INTERNAL_H
#define RADLINK_WL_INTERNAL_H

#include "radlink/wl.h"

#endif
