/* Transfer syntaxes a DICOM route's <send> asks for (radlink/route_dicom.h). */
#include "radlink/route_dicom.h"

const char *route_dicom_ts_name(route_ts ts)
{
    static const char *const names[ROUTE_TS_COUNT] = { "keep", "explicit-little",
                                                       "jpeg-ls-lossless", "jpeg2000-lossless",
                                                       "rle" };
    return (unsigned)ts < ROUTE_TS_COUNT ? names[ts] : "?";
}
