// The Modality Worklist C-FIND service (PS3.4 K), as the dispatcher in
// scp.cc sees it; scp_find.cc answers.
#ifndef RADLINK_DICOM_SCP_FIND_H
#define RADLINK_DICOM_SCP_FIND_H

#include "scp.h"

namespace rl_dicom {

extern const Service find_service;

} // namespace rl_dicom

#endif
