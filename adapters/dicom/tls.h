// DICOM over TLS (PS3.15 B.9, BCP 195) with DCMTK's dcmtls: the transport
// layers radlink's listener and its associations to the PACS use.
#ifndef RADLINK_DICOM_TLS_H
#define RADLINK_DICOM_TLS_H

extern "C" {
#include "radlink/dicom.h"
}

#include <memory>
#include <string>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmtls/tlslayer.h"

namespace rl_dicom {

// A TLS layer for one side: the BCP 195 profile (TLS 1.2 or newer), our
// certificate and key when given, the CA that signs the peers' certificates.
// acceptor: with t.verify_peer a client certificate signed by the CA is
// required; requestor: the server's certificate is always verified (against
// the CA given, else the system's trust store). NULL with why set when a
// file cannot be used.
std::unique_ptr<DcmTLSTransportLayer> tls_layer(bool acceptor, const dicom_tls &t,
                                                std::string &why);

// The requestor layer for t, made once and kept for the process (an
// association to the PACS reuses it; SSL_CTX is safe across threads).
DcmTLSTransportLayer *tls_client_layer(const dicom_tls &t, std::string &why);

} // namespace rl_dicom

#endif
