// DCMTK's own log into radlink's (oflog.cc).
#ifndef RADLINK_DICOM_OFLOG_H
#define RADLINK_DICOM_OFLOG_H

namespace rl_dicom {

// Once per process: every adapter entry that may make DCMTK speak calls it
// first. DCMTK's lines go into radlink's log at debug (a fatal one at
// warning), with radlink's time and level.
void dcmtk_log_into_radlink();

} // namespace rl_dicom

#endif
