// What the SCP checks before it relies on what a peer sent: a UID's form,
// and a received or spooled instance read whole (load_complete: files.cc).
#ifndef RADLINK_DICOM_CHECK_H
#define RADLINK_DICOM_CHECK_H

#include <cstring>
#include <string>

class DcmFileFormat;

namespace rl_dicom {

// Load path into ff, walking every element (values over 4 KiB stay in the
// file) and checking native pixel data against Rows, Columns, Samples per
// Pixel, Bits Allocated and Number of Frames. false with why; unreadable
// says whether the file could not be parsed at all.
bool load_complete(DcmFileFormat &ff, const char *path, std::string &why, bool &unreadable);

// A UID: digits and dots, 64 characters at most, no empty component (so
// never "." or "..", which also keeps spool paths inside the spool).
inline bool valid_uid(const char *u)
{
    size_t n = std::strlen(u);
    if (n == 0 || n > 64 || u[0] == '.' || u[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (u[i] == '.' && u[i + 1] == '.')
            return false;
        if (u[i] != '.' && (u[i] < '0' || u[i] > '9'))
            return false;
    }
    return true;
}

} // namespace rl_dicom

#endif
