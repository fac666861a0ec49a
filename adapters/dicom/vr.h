// What a value of each DICOM VR may hold (PS3.5 6.2), for constants in
// route files (dict.cc) and values set on a data set (ds_io.cc): one rule
// for both, so a route file that loads never fails at the first instance
// for a value its attribute cannot hold.
#ifndef RADLINK_DICOM_VR_H
#define RADLINK_DICOM_VR_H

#include <cstdint>
#include <string>

namespace rl_dicom {

// The longest value of the VR in characters (PN: of each component group),
// 0 when it has no limit that matters here (UC, UT, UR, binary VRs).
uint32_t vr_max_chars(const char *vr);

// Can an attribute of VR vr ("" when unknown: anything goes) hold this
// UTF-8 text (multi-valued with '\' where the VR allows it)? false with
// why ("'19701302' is not a date (DA: YYYYMMDD)").
bool vr_value_ok(const char *vr, const std::string &utf8, std::string &why);

} // namespace rl_dicom

#endif
