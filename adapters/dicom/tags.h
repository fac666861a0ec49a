// A tag as the C core holds it (radlink/wl.h WL_TAG: the group in the high
// 16 bits, the element in the low) and as DCMTK keys it, and the depth of
// a worklist path of tags.
#ifndef RADLINK_DICOM_TAGS_H
#define RADLINK_DICOM_TAGS_H

extern "C" {
#include "radlink/wl.h"
}

#include <cstddef>
#include <cstdint>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctagkey.h"

namespace rl_dicom {

// Tags on a worklist path: the sequences', then the element's (wl_attr).
constexpr size_t WL_DEPTH = sizeof(wl_attr::path) / sizeof(uint32_t);

inline uint32_t tag_of(const DcmTagKey &k)
{
    return (uint32_t(k.getGroup()) << 16) | k.getElement();
}

inline DcmTagKey key_of(uint32_t t)
{
    return DcmTagKey(Uint16(t >> 16), Uint16(t & 0xffff));
}

} // namespace rl_dicom

#endif
