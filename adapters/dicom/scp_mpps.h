// The MPPS service, N-CREATE and N-SET (PS3.4 F.7), as the dispatcher in
// scp.cc sees it; scp_mpps.cc answers. Offered when the engine takes them.
#ifndef RADLINK_DICOM_SCP_MPPS_H
#define RADLINK_DICOM_SCP_MPPS_H

#include "scp.h"

namespace rl_dicom {

extern const Service mpps_service;

} // namespace rl_dicom

#endif
