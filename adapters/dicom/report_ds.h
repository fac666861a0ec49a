// The report writers' shared parts (report_common.cc: the object's
// character set, the patient, study, series and instance attributes, the
// date and time the report's content bears) and their builders (the Basic
// Text SR: report_sr.cc; the Encapsulated PDF: report_pdf.cc), which
// dicom_report_write (report.cc) calls.
#ifndef RADLINK_DICOM_REPORT_DS_H
#define RADLINK_DICOM_REPORT_DS_H

extern "C" {
#include "radlink/err.h"
#include "radlink/report.h"
}
#include "radlink/dicom.h"

#include <string>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"

namespace rl_dicom {

// The object's values in its Specific Character Set: Latin-1 (ISO_IR 100)
// when every value fits, else UTF-8 (ISO_IR 192). A writer builds the object
// in Latin-1 first; when some value does not fit (overflow), it builds it
// again in UTF-8, where only a value that is not UTF-8 at all fails (bad
// names it).
class report_text {
  public:
    explicit report_text(bool latin1) : latin1_(latin1) {}
    std::string enc(const char *what, const std::string &utf8);
    const char *scs() const { return latin1_ ? "ISO_IR 100" : "ISO_IR 192"; }
    bool latin1() const { return latin1_; }
    bool overflow = false;
    std::string bad;

  private:
    bool latin1_;
};

// The report's content date and time (DA, TM): its own, else when it was
// observed, else now.
void report_when(const report *r, std::string &date, std::string &time);

// A value of the study that falls back on the report's (the study's are
// the corrected ones).
inline std::string study_or(const char *study, const char *rep)
{
    return std::string(study[0] ? study : rep);
}

// Patient, General Study, the new series and instance (UIDs and numbers),
// Specific Character Set, Manufacturer and Content Date/Time, into ds.
OFCondition report_put_common(DcmItem *ds, const report *r, const dicom_report_study *s,
                              report_text &t);

// One item of a code sequence (Code Value or Long Code Value, Coding
// Scheme Designator, Code Meaning).
OFCondition report_put_code(DcmItem *ds, const DcmTagKey &seq, const char *value,
                            const char *scheme, const std::string &meaning);

// The builders: the object into ff, in t's character set. 0, or
// DICOM_E_VALUE with why (what r or s holds cannot be written). A value t
// could not hold is not an error here: t.overflow or t.bad says so.
int report_build_sr(const report *r, const dicom_report_study *s, report_text &t,
                    DcmFileFormat &ff, rl_err *err);
int report_build_pdf(const report *r, const dicom_report_study *s, report_text &t,
                     DcmFileFormat &ff, rl_err *err);

} // namespace rl_dicom

#endif
