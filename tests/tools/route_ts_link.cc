// For programs built only for tests that call dicom_ds_save. ds.cc includes
// radlink/dicom.h outside extern "C", and radlink/route_dicom.h (which it
// includes) has no extern "C" of its own, so ds.cc asks for
// route_dicom_ts_name with C++ linkage, while engine/route defines it in C:
// no program that calls dicom_ds_save links. Until that header or ds.cc
// says extern "C", this gives the C++ name, forwarding to the C function.
// Delete it (and its line in tests/CMakeLists.txt) when they do.
extern "C" {
#include "radlink/route_dicom.h"
}

extern "C" const char *route_ts_name_c(route_ts ts) __asm__("route_dicom_ts_name");

namespace link_cxx {
const char *route_dicom_ts_name(route_ts ts) __asm__("_Z19route_dicom_ts_name8route_ts");
const char *route_dicom_ts_name(route_ts ts)
{
    return route_ts_name_c(ts);
}
} // namespace link_cxx
