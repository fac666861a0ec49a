/* Placeholders of the DICOM route evaluator while it is being built
 * (radlink/route_dicom.h): every program is refused with the reason. */
#include <string.h>

#include "radlink/route_dicom.h"

bool route_dicom_present(const route_set *rs)
{
    (void)rs;
    return false;
}

int route_dicom_prog_apply(rl_str prog, const route_dcm_io *io, void *ds, rl_buf *trace,
                           rl_err *err)
{
    (void)prog, (void)io, (void)ds, (void)trace;
    return rl_err_set(err, ROUTE_E_COERCE, -1, "DICOM route programs are not available");
}

int route_dicom_prog_info(rl_str prog, route_prog_info *out, rl_err *err)
{
    (void)prog, (void)out;
    return rl_err_set(err, ROUTE_E_COERCE, -1, "DICOM route programs are not available");
}

int route_dicom_receive(const route_set *rs, const route_dcm_io *io, void *ds,
                        const route_dcm_who *who, route_dicom_decision *d, rl_buf *trace,
                        rl_err *err)
{
    (void)rs, (void)io, (void)ds, (void)who, (void)trace;
    memset(d, 0, sizeof *d);
    return rl_err_set(err, ROUTE_E_COERCE, -1, "DICOM routes are not available");
}

void route_dicom_decision_free(route_dicom_decision *d)
{
    if (d)
        rl_buf_free(&d->progs);
}
