// The adapter's C face lets no exception cross it: each entry point runs its
// body through guard, which turns an exception into an error code with the
// entry's label ("file.dcm: out of memory").
#ifndef RADLINK_DICOM_GUARD_H
#define RADLINK_DICOM_GUARD_H

extern "C" {
#include "radlink/err.h"
}

#include <exception>
#include <new>

namespace rl_dicom {

template <typename F> int guard(const char *label, rl_err *err, F call)
{
    try {
        return call();
    } catch (const std::bad_alloc &) {
        return rl_err_set(err, RL_E_NOMEM, -1, "%s: out of memory", label);
    } catch (const std::exception &e) {
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "%s: %s", label, e.what());
    } catch (...) {
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "%s: an unknown exception", label);
    }
}

} // namespace rl_dicom

#endif
