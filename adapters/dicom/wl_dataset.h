// Worklist entries and queries as DICOM data sets (the data side of the
// worklist C-FIND, scp_find.cc, and of dicom_write_wl): a request's
// elements as wl_query keys, and an entry as the answer to a request.
#ifndef RADLINK_DICOM_WL_DATASET_H
#define RADLINK_DICOM_WL_DATASET_H

extern "C" {
#include "radlink/wl.h"
}

#include <string>
#include <vector>

class DcmItem;

namespace rl_dicom {

// The request's elements as q's keys (q->n counts them on from where it
// is): the worklist model's attributes match (PS3.4 C.2.2.2), the others
// are return keys; an empty sequence is universal. The values point into
// text, which must not move (reserve WL_MAX_ATTRS before) and must outlive q.
void read_query(DcmItem *req, wl_query *q, std::vector<std::string> &text);

// The answer to req for e: every key of req, filled from e; an empty
// sequence of req gets everything e holds under it.
void write_answer(const wl_entry *e, DcmItem *req, DcmItem *rsp);

} // namespace rl_dicom

#endif
