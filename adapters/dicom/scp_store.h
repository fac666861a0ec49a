// The Storage service, C-STORE (PS3.4 B), as the dispatcher in scp.cc sees
// it; scp_store.cc answers. Offered when the engine takes instances.
#ifndef RADLINK_DICOM_SCP_STORE_H
#define RADLINK_DICOM_SCP_STORE_H

#include "scp.h"

namespace rl_dicom {

extern const Service store_service;

} // namespace rl_dicom

#endif
