// Associations radlink opens to a peer (files.cc), shared by the SCUs:
// C-FIND, N-ACTION and MPPS in files.cc, C-STORE in send.cc, query/retrieve
// in qr.cc.
#ifndef RADLINK_DICOM_SCU_H
#define RADLINK_DICOM_SCU_H

extern "C" {
#include "radlink/dicom.h"
}

#include <string>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmnet/scu.h"

namespace rl_dicom {

// Who calls whom, and the timeouts (ACSE 30 s, DIMSE 60 s, non-blocking).
void peer_setup(DcmSCU &s, const char *calling_ae, const dicom_peer *to);
// The network, TLS when the peer wants it, and the association.
OFCondition associate(DcmSCU &s, const dicom_peer *to);
// An association for one service (sop_class, in Explicit or Implicit VR
// Little Endian), its presentation context in *pres; DICOM_E_REFUSED or
// DICOM_E_NET with the reason.
int open_scu(DcmSCU &s, const char *calling_ae, const dicom_peer *to, const char *sop_class,
             T_ASC_PresentationContextID *pres, rl_err *err);

// An answer's values: the raw bytes ("" when absent; *present says which),
// and the value in UTF-8 ("?" when it cannot be decoded), cut to n - 1 bytes.
std::string raw_of(DcmItem *item, const DcmTagKey &key, bool *present = nullptr);
void utf8_of(DcmItem *ds, const DcmTagKey &key, char *out, size_t n);

} // namespace rl_dicom

#endif
