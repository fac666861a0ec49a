// Associations radlink opens to a peer (files.cc), shared by the SCUs:
// C-FIND, N-ACTION and MPPS in files.cc, C-STORE in send.cc.
#ifndef RADLINK_DICOM_SCU_H
#define RADLINK_DICOM_SCU_H

extern "C" {
#include "radlink/dicom.h"
}

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmnet/scu.h"

namespace rl_dicom {

// Who calls whom, and the timeouts (ACSE 30 s, DIMSE 60 s, non-blocking).
void peer_setup(DcmSCU &s, const char *calling_ae, const dicom_peer *to);
// The network, TLS when the peer wants it, and the association.
OFCondition associate(DcmSCU &s, const dicom_peer *to);

} // namespace rl_dicom

#endif
