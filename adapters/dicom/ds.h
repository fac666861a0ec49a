// The data set of radlink/dicom.h (dicom_ds), as the adapter's files share
// it: the file as DCMTK holds it, the values changed since it was read or
// last saved (for the Original Attributes Sequence), and the site secret
// de-identification derives new UIDs from. ds.cc reads, changes and writes
// it; deid.cc de-identifies it; scp_store.cc wraps a received file in one.
#ifndef RADLINK_DICOM_DS_H
#define RADLINK_DICOM_DS_H

extern "C" {
#include "radlink/dicom.h"
}

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"

// A top-level attribute's value before the first change made to it (or
// inside it, for a sequence: the whole sequence as it was), for the
// Original Attributes Sequence; was is nullptr when it was absent.
struct dicom_ds_old {
    uint32_t tag;
    std::unique_ptr<DcmElement> was;
};

struct dicom_ds {
    DcmFileFormat ff;          // owned, unless borrowed is set
    DcmFileFormat *borrowed = nullptr; // the SCP's file, changed in place
    std::vector<dicom_ds_old> old;     // first old value of each changed attribute
    // the top-level values (binary ones aside) as they were before the data
    // set was converted to UTF-8 for a value its character set could not
    // hold: old values are recorded from here, so that the Original
    // Attributes Sequence item holds them in one character set, the old
    // Specific Character Set it records
    std::unique_ptr<DcmItem> before_utf8;
    bool have_secret = false;
    uint8_t secret[DICOM_DEID_SECRET_SIZE] = {};

    DcmFileFormat &file() { return borrowed ? *borrowed : ff; }
    DcmDataset *dataset() { return file().getDataset(); }
};

namespace rl_dicom {

// A data set over the SCP's own file (changes made in place).
dicom_ds *ds_borrow(DcmFileFormat &ff);

} // namespace rl_dicom

#endif
