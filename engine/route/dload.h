/* Loading a route file's <dicom-routes> (engine/route/dload.c), called by
 * the file's loader (load.c). */
#ifndef RADLINK_ROUTE_DLOAD_H
#define RADLINK_ROUTE_DLOAD_H

#include "lutil.h"

/* Tables inside root's <dicom-routes>, for the room the loader reserves. */
size_t rt_dicom_count_tables(const xmlNode *root);
/* Load the tables inside root's <dicom-routes>, after the file's own (one
 * namespace: HL7 and DICOM routes may name either). */
void rt_dicom_load_tables(rt_loader *L, const xmlNode *root);
/* Compile the <dicom-routes> element dr into L->rs->dicom, every error to L. */
void rt_dicom_load(rt_loader *L, const xmlNode *dr);
/* Free what the set's DICOM routes hold outside its arena (regexes). */
void rt_dicom_free(route_set *rs);

#endif
