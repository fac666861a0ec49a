// The data dictionary as the adapter's own files use it (dict.cc): a tag's
// VR, and a path as a person reads it, for messages.
#ifndef RADLINK_DICOM_DICT_H
#define RADLINK_DICOM_DICT_H

extern "C" {
#include "radlink/dpath.h"
}

#include <cstdint>
#include <string>

namespace rl_dicom {

// The VR the dictionary gives a tag ("PN", "SQ"; "US" or "SS" resolved to
// one), "" for a private or unknown tag.
std::string dict_vr(uint32_t tag);

// "RequestAttributesSequence/AccessionNumber", private tags as (gggg,eeee).
std::string dict_path_text(const dicom_path *p);

} // namespace rl_dicom

#endif
