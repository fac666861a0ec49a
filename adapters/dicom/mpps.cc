// Modality Performed Procedure Step data sets (PS3.4 F.7, PS3.3 B.17): the
// checks an N-CREATE and an N-SET must pass, reading what the engine needs
// from a stored step, the N-SET merge, and a dump for `radlink mpps show`.
// Stored data sets are UTF-8 (ISO_IR 192) in Explicit VR Little Endian.
extern "C" {
#include "radlink/util.h"
}
#include "radlink/dicom.h"

#include "mpps.h"

#include <cstdio>
#include <cstring>
#include <exception>
#include <sstream>
#include <string>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcistrmb.h"
#include "dcmtk/dcmdata/dcostrmb.h"

namespace rl_mpps {

namespace {

// Type 1 attributes of an N-CREATE (PS3.4 table F.7.2-1): present, with a value.
const DcmTagKey create_type1[] = {
    DCM_ScheduledStepAttributesSequence, DCM_PerformedProcedureStepID,
    DCM_PerformedStationAETitle, DCM_PerformedProcedureStepStartDate,
    DCM_PerformedProcedureStepStartTime, DCM_PerformedProcedureStepStatus, DCM_Modality,
};

// Attributes an N-SET may not carry (the "Not allowed" rows of table F.7.2-1:
// what identifies the patient, the step, the station and its start).
const DcmTagKey set_not_allowed[] = {
    DCM_ScheduledStepAttributesSequence, DCM_PatientName, DCM_PatientID,
    DCM_IssuerOfPatientID, DCM_PatientBirthDate, DCM_PatientSex, DCM_ReferencedPatientSequence,
    DCM_PerformedProcedureStepID, DCM_PerformedStationAETitle, DCM_PerformedStationName,
    DCM_PerformedLocation, DCM_PerformedProcedureStepStartDate,
    DCM_PerformedProcedureStepStartTime, DCM_Modality, DCM_StudyID, DCM_SOPClassUID,
    DCM_SOPInstanceUID,
};

bool known_status(const OFString &s)
{
    return s == "IN PROGRESS" || s == "COMPLETED" || s == "DISCONTINUED";
}

std::string name_of(const DcmTagKey &k)
{
    DcmTag t(k);
    char b[80];
    std::snprintf(b, sizeof b, "%s %s", t.getTagName(), k.toString().c_str());
    return b;
}

void get(DcmItem *it, const DcmTagKey &k, char *out, size_t n)
{
    OFString v;
    it->findAndGetOFStringArray(k, v);
    std::snprintf(out, n, "%s", v.c_str());
}

bool load(rl_str bytes, DcmDataset &ds)
{
    DcmInputBufferStream in;
    in.setBuffer(bytes.p, offile_off_t(bytes.n));
    in.setEos();
    ds.transferInit();
    OFCondition c = ds.read(in, EXS_LittleEndianExplicit);
    ds.transferEnd();
    return c.good();
}

} // namespace

Check check_create(DcmDataset *ds)
{
    for (const DcmTagKey &k : create_type1) {
        DcmElement *el = nullptr;
        if (ds->findAndGetElement(k, el).bad() || !el)
            return { 0x0120, "missing " + name_of(k) };
        bool empty = el->ident() == EVR_SQ ? static_cast<DcmSequenceOfItems *>(el)->card() == 0
                                           : el->getLength() == 0;
        if (empty)
            return { 0x0121, "no value: " + name_of(k) };
    }
    OFString status;
    ds->findAndGetOFString(DCM_PerformedProcedureStepStatus, status);
    if (status != "IN PROGRESS")
        return { 0x0106, "a step is created IN PROGRESS, not " + std::string(status.c_str()) };
    DcmItem *it = nullptr;
    for (long i = 0; ds->findAndGetSequenceItem(DCM_ScheduledStepAttributesSequence, it, i).good();
         i++) {
        OFString uid;
        if (it->findAndGetOFString(DCM_StudyInstanceUID, uid).bad() || uid.empty())
            return { 0x0121, "no value: StudyInstanceUID (0020,000d) in Scheduled Step "
                             "Attributes Sequence item " + std::to_string(i + 1) };
    }
    return { 0, "" };
}

Check check_set(DcmDataset *ds)
{
    for (const DcmTagKey &k : set_not_allowed)
        if (ds->tagExists(k))
            return { 0x0105, "may not be set: " + name_of(k) };
    OFString status;
    if (ds->findAndGetOFString(DCM_PerformedProcedureStepStatus, status).good() &&
        !known_status(status))
        return { 0x0106, "not a step status: " + std::string(status.c_str()) };
    return { 0, "" };
}

bool encode(DcmDataset *ds, std::string &out)
{
    ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
    Uint32 n = ds->calcElementLength(EXS_LittleEndianExplicit, EET_ExplicitLength);
    out.assign(n, '\0');
    DcmOutputBufferStream os(&out[0], n);
    ds->transferInit();
    OFCondition c = ds->write(os, EXS_LittleEndianExplicit, EET_ExplicitLength, nullptr);
    ds->transferEnd();
    void *buf = nullptr;
    offile_off_t len = 0;
    os.flushBuffer(buf, len);
    out.resize(size_t(len));
    return c.good();
}

bool decode(const char *bytes, size_t n, DcmDataset &ds)
{
    return load(rl_str{ bytes, n }, ds);
}

} // namespace rl_mpps

extern "C" int dicom_mpps_info_read(rl_str bytes, dicom_mpps_info *info, rl_err *err)
{
    try {
        std::memset(info, 0, sizeof *info);
        DcmDataset ds;
        if (!rl_mpps::load(bytes, ds))
            return rl_err_set(err, DICOM_E_FILE, -1, "an MPPS record does not decode");
        using rl_mpps::get;
        get(&ds, DCM_PerformedProcedureStepStatus, info->status, sizeof info->status);
        get(&ds, DCM_PerformedProcedureStepID, info->pps_id, sizeof info->pps_id);
        get(&ds, DCM_PerformedStationAETitle, info->station_ae, sizeof info->station_ae);
        get(&ds, DCM_Modality, info->modality, sizeof info->modality);
        get(&ds, DCM_PerformedProcedureStepStartDate, info->start_date, sizeof info->start_date);
        get(&ds, DCM_PerformedProcedureStepStartTime, info->start_time, sizeof info->start_time);
        get(&ds, DCM_PerformedProcedureStepEndDate, info->end_date, sizeof info->end_date);
        get(&ds, DCM_PerformedProcedureStepEndTime, info->end_time, sizeof info->end_time);
        get(&ds, DCM_PatientID, info->patient_id, sizeof info->patient_id);
        get(&ds, DCM_PatientName, info->patient_name, sizeof info->patient_name);
        get(&ds, DCM_PerformedProcedureStepDescription, info->description,
            sizeof info->description);
        DcmItem *it = nullptr;
        if (ds.findAndGetSequenceItem(DCM_PerformedProcedureStepDiscontinuationReasonCodeSequence,
                                      it, 0).good() && it)
            get(it, DCM_CodeMeaning, info->discontinued_why, sizeof info->discontinued_why);
        for (long i = 0; info->nsteps < DICOM_MPPS_STEPS &&
                         ds.findAndGetSequenceItem(DCM_ScheduledStepAttributesSequence, it, i).good();
             i++) {
            dicom_mpps_step &s = info->steps[info->nsteps++];
            get(it, DCM_AccessionNumber, s.accession, sizeof s.accession);
            get(it, DCM_RequestedProcedureID, s.rp_id, sizeof s.rp_id);
            get(it, DCM_ScheduledProcedureStepID, s.sps_id, sizeof s.sps_id);
            get(it, DCM_StudyInstanceUID, s.study_uid, sizeof s.study_uid);
        }
        for (long i = 0; ds.findAndGetSequenceItem(DCM_PerformedSeriesSequence, it, i).good(); i++) {
            info->series++;
            DcmSequenceOfItems *imgs = nullptr;
            if (it->findAndGetSequence(DCM_ReferencedImageSequence, imgs).good() && imgs)
                info->instances += unsigned(imgs->card());
        }
        return 0;
    } catch (const std::exception &x) {
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "MPPS: %s", x.what());
    }
}

extern "C" int dicom_mpps_merge(rl_str stored, rl_str mod, rl_buf *out, rl_err *err)
{
    try {
        DcmDataset base, set;
        if (!rl_mpps::load(stored, base) || !rl_mpps::load(mod, set))
            return rl_err_set(err, DICOM_E_FILE, -1, "an MPPS data set does not decode");
        for (unsigned long i = 0; i < set.card(); i++) {
            DcmElement *el = set.getElement(i);
            if (el->getTag() == DCM_SpecificCharacterSet)
                continue;
            base.findAndDeleteElement(el->getTag());
            DcmElement *copy = OFstatic_cast(DcmElement *, el->clone());
            if (base.insert(copy, OFTrue).bad())
                delete copy;
        }
        std::string bytes;
        if (!rl_mpps::encode(&base, bytes))
            return rl_err_set(err, DICOM_E_FILE, -1, "the merged MPPS cannot be encoded");
        rl_buf_add(out, bytes.data(), bytes.size());
        return 0;
    } catch (const std::exception &x) {
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "MPPS: %s", x.what());
    }
}

extern "C" int dicom_mpps_dump(rl_str bytes, rl_buf *out, rl_err *err)
{
    try {
        DcmDataset ds;
        if (!rl_mpps::load(bytes, ds))
            return rl_err_set(err, DICOM_E_FILE, -1, "an MPPS record does not decode");
        std::ostringstream os;
        ds.print(os);
        std::string s = os.str();
        rl_buf_add(out, s.data(), s.size());
        return 0;
    } catch (const std::exception &x) {
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "MPPS: %s", x.what());
    }
}
