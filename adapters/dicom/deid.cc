// De-identification (radlink/dicom.h, dicom_ds_deidentify): PS3.15 Annex E.
extern "C" {
#include "radlink/util.h"
}
#include "radlink/dicom.h"

#include "ds.h"

extern "C" int dicom_ds_deidentify(dicom_ds *ds, const route_deid *d, rl_err *err)
{
    (void)ds;
    (void)d;
    return rl_err_set(err, DICOM_E_INTERNAL, -1, "de-identification is not built yet");
}
