// A received or spooled instance read whole before anything relies on it
// (files.cc; used by the SCP in mwl_scp.cc).
#ifndef RADLINK_DICOM_CHECK_H
#define RADLINK_DICOM_CHECK_H

#include <string>

class DcmFileFormat;

namespace rl_dicom {

// Load path into ff, walking every element (values over 4 KiB stay in the
// file) and checking native pixel data against Rows, Columns, Samples per
// Pixel, Bits Allocated and Number of Frames. false with why; unreadable
// says whether the file could not be parsed at all.
bool load_complete(DcmFileFormat &ff, const char *path, std::string &why, bool &unreadable);

} // namespace rl_dicom

#endif
