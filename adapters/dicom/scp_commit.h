// Storage commitment reports, N-EVENT-REPORT (PS3.4 J.3.3), as the
// dispatcher in scp.cc sees them; scp_commit.cc answers. Offered when the
// engine takes them.
#ifndef RADLINK_DICOM_SCP_COMMIT_H
#define RADLINK_DICOM_SCP_COMMIT_H

#include "scp.h"

namespace rl_dicom {

extern const Service commit_service;

} // namespace rl_dicom

#endif
