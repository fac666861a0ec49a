// MPPS checks shared by the SCP (scp_mpps.cc) and mpps.cc.
#ifndef RADLINK_DICOM_MPPS_H
#define RADLINK_DICOM_MPPS_H

#include <cstdint>
#include <string>

class DcmDataset;

namespace rl_mpps {

struct Check {
    uint16_t status; // 0: fine; else the DIMSE status to answer
    std::string why;
};

// An N-CREATE's data set: its type 1 attributes, created IN PROGRESS.
Check check_create(DcmDataset *ds);
// An N-SET's modification: nothing that may not be set, a known status.
Check check_set(DcmDataset *ds);
// The data set in Explicit VR Little Endian, and back.
bool encode(DcmDataset *ds, std::string &out);
bool decode(const char *bytes, size_t n, DcmDataset &ds);

} // namespace rl_mpps

#endif
