/* The Modality Worklist information model (PS3.4 K.6, the Modality Worklist
 * C-FIND identifier): the attributes an entry may hold, where each one lives
 * (top level, the Scheduled Procedure Step item, or a code sequence item), its
 * VR and its maximum length. Keywords are the DICOM dictionary's. */
#include <string.h>

#include "wl_internal.h"

#define T WL_TAG
#define SPS WL_SPS_SEQ
#define RPCS T(0x0032, 0x1064)
#define SPCS T(0x0040, 0x0008)

static const wl_model_attr model[] = {
    /* SOP common, patient identification and demographics */
    { "AccessionNumber", "AccessionNumber", { WL_ACCESSION }, 1, "SH", 16 },
    { "InstitutionName", "InstitutionName", { T(0x0008, 0x0080) }, 1, "LO", 64 },
    { "ReferringPhysicianName", "ReferringPhysicianName", { T(0x0008, 0x0090) }, 1, "PN", 64 },
    { "AdmittingDiagnosesDescription", "AdmittingDiagnosesDescription", { T(0x0008, 0x1080) }, 1, "LO", 64 },
    { "ReferencedStudySequence", "ReferencedStudySequence", { T(0x0008, 0x1110) }, 1, "SQ", 0 },
    { "ReferencedPatientSequence", "ReferencedPatientSequence", { T(0x0008, 0x1120) }, 1, "SQ", 0 },
    { "PatientName", "PatientName", { WL_PATIENT_NAME }, 1, "PN", 64 },
    { "PatientID", "PatientID", { WL_PATIENT_ID }, 1, "LO", 64 },
    { "IssuerOfPatientID", "IssuerOfPatientID", { T(0x0010, 0x0021) }, 1, "LO", 64 },
    { "PatientBirthDate", "PatientBirthDate", { T(0x0010, 0x0030) }, 1, "DA", 8 },
    { "PatientSex", "PatientSex", { T(0x0010, 0x0040) }, 1, "CS", 16 },
    { "OtherPatientIDs", "OtherPatientIDs", { T(0x0010, 0x1000) }, 1, "LO", 64 },
    { "PatientSize", "PatientSize", { T(0x0010, 0x1020) }, 1, "DS", 16 },
    { "PatientWeight", "PatientWeight", { T(0x0010, 0x1030) }, 1, "DS", 16 },
    { "MedicalAlerts", "MedicalAlerts", { T(0x0010, 0x2000) }, 1, "LO", 64 },
    { "Allergies", "Allergies", { T(0x0010, 0x2110) }, 1, "LO", 64 },
    { "PregnancyStatus", "PregnancyStatus", { T(0x0010, 0x21C0) }, 1, "US", 0 },
    { "PatientComments", "PatientComments", { T(0x0010, 0x4000) }, 1, "LT", 10240 },
    /* study and request */
    { "StudyInstanceUID", "StudyInstanceUID", { WL_STUDY_UID }, 1, "UI", 64 },
    { "RequestingPhysician", "RequestingPhysician", { T(0x0032, 0x1032) }, 1, "PN", 64 },
    { "RequestingService", "RequestingService", { T(0x0032, 0x1033) }, 1, "LO", 64 },
    { "RequestedProcedureDescription", "RequestedProcedureDescription", { T(0x0032, 0x1060) }, 1, "LO", 64 },
    { "RequestedProcedureCodeSequence", "RequestedProcedureCodeSequence", { RPCS }, 1, "SQ", 0 },
    { "RequestedProcedureCodeSequence/CodeValue", "RequestedProcedureCodeSequence/CodeValue", { RPCS, T(0x0008, 0x0100) }, 2, "SH", 16 },
    { "RequestedProcedureCodeSequence/CodingSchemeDesignator", "RequestedProcedureCodeSequence/CodingSchemeDesignator", { RPCS, T(0x0008, 0x0102) }, 2, "SH", 16 },
    { "RequestedProcedureCodeSequence/CodeMeaning", "RequestedProcedureCodeSequence/CodeMeaning", { RPCS, T(0x0008, 0x0104) }, 2, "LO", 64 },
    { "AdmissionID", "AdmissionID", { T(0x0038, 0x0010) }, 1, "LO", 64 },
    { "CurrentPatientLocation", "CurrentPatientLocation", { T(0x0038, 0x0300) }, 1, "LO", 64 },
    { "PatientState", "PatientState", { T(0x0038, 0x0500) }, 1, "LO", 64 },
    { "RequestedProcedureID", "RequestedProcedureID", { WL_RP_ID }, 1, "SH", 16 },
    { "ReasonForTheRequestedProcedure", "ReasonForTheRequestedProcedure", { T(0x0040, 0x1002) }, 1, "LO", 64 },
    { "RequestedProcedurePriority", "RequestedProcedurePriority", { T(0x0040, 0x1003) }, 1, "SH", 16 },
    { "PatientTransportArrangements", "PatientTransportArrangements", { T(0x0040, 0x1004) }, 1, "LO", 64 },
    { "RequestedProcedureComments", "RequestedProcedureComments", { T(0x0040, 0x1400) }, 1, "LT", 10240 },
    { "PlacerOrderNumberImagingServiceRequest", "PlacerOrderNumberImagingServiceRequest", { T(0x0040, 0x2016) }, 1, "LO", 64 },
    { "FillerOrderNumberImagingServiceRequest", "FillerOrderNumberImagingServiceRequest", { T(0x0040, 0x2017) }, 1, "LO", 64 },
    { "ImagingServiceRequestComments", "ImagingServiceRequestComments", { T(0x0040, 0x2400) }, 1, "LT", 10240 },
    { "ConfidentialityConstraintOnPatientDataDescription", "ConfidentialityConstraintOnPatientDataDescription", { T(0x0040, 0x3001) }, 1, "LO", 64 },
    /* the Scheduled Procedure Step item */
    { "ScheduledProcedureStepSequence", "ScheduledProcedureStepSequence", { SPS }, 1, "SQ", 0 },
    { "Modality", "ScheduledProcedureStepSequence/Modality", { SPS, WL_MODALITY }, 2, "CS", 16 },
    { "ScheduledStationAETitle", "ScheduledProcedureStepSequence/ScheduledStationAETitle", { SPS, WL_STATION_AE }, 2, "AE", 16 },
    { "ScheduledProcedureStepStartDate", "ScheduledProcedureStepSequence/ScheduledProcedureStepStartDate", { SPS, WL_SPS_DATE }, 2, "DA", 8 },
    { "ScheduledProcedureStepStartTime", "ScheduledProcedureStepSequence/ScheduledProcedureStepStartTime", { SPS, WL_SPS_TIME }, 2, "TM", 16 },
    { "ScheduledPerformingPhysicianName", "ScheduledProcedureStepSequence/ScheduledPerformingPhysicianName", { SPS, T(0x0040, 0x0006) }, 2, "PN", 64 },
    { "ScheduledProcedureStepDescription", "ScheduledProcedureStepSequence/ScheduledProcedureStepDescription", { SPS, T(0x0040, 0x0007) }, 2, "LO", 64 },
    { "ScheduledProtocolCodeSequence", "ScheduledProcedureStepSequence/ScheduledProtocolCodeSequence", { SPS, SPCS }, 2, "SQ", 0 },
    { "ScheduledProtocolCodeSequence/CodeValue", "ScheduledProcedureStepSequence/ScheduledProtocolCodeSequence/CodeValue", { SPS, SPCS, T(0x0008, 0x0100) }, 3, "SH", 16 },
    { "ScheduledProtocolCodeSequence/CodingSchemeDesignator", "ScheduledProcedureStepSequence/ScheduledProtocolCodeSequence/CodingSchemeDesignator", { SPS, SPCS, T(0x0008, 0x0102) }, 3, "SH", 16 },
    { "ScheduledProtocolCodeSequence/CodeMeaning", "ScheduledProcedureStepSequence/ScheduledProtocolCodeSequence/CodeMeaning", { SPS, SPCS, T(0x0008, 0x0104) }, 3, "LO", 64 },
    { "ScheduledProcedureStepID", "ScheduledProcedureStepSequence/ScheduledProcedureStepID", { SPS, WL_SPS_ID }, 2, "SH", 16 },
    { "ScheduledStationName", "ScheduledProcedureStepSequence/ScheduledStationName", { SPS, T(0x0040, 0x0010) }, 2, "SH", 16 },
    { "ScheduledProcedureStepLocation", "ScheduledProcedureStepSequence/ScheduledProcedureStepLocation", { SPS, T(0x0040, 0x0011) }, 2, "SH", 16 },
    { "PreMedication", "ScheduledProcedureStepSequence/PreMedication", { SPS, T(0x0040, 0x0012) }, 2, "LO", 64 },
    { "ScheduledProcedureStepStatus", "ScheduledProcedureStepSequence/ScheduledProcedureStepStatus", { SPS, WL_SPS_STATUS }, 2, "CS", 16 },
    { "RequestedContrastAgent", "ScheduledProcedureStepSequence/RequestedContrastAgent", { SPS, T(0x0032, 0x1070) }, 2, "LO", 64 },
    { "CommentsOnTheScheduledProcedureStep", "ScheduledProcedureStepSequence/CommentsOnTheScheduledProcedureStep", { SPS, T(0x0040, 0x0400) }, 2, "LT", 10240 },
};

const wl_model_attr *wl_model_find(const char *keyword)
{
    for (size_t i = 0; i < sizeof model / sizeof *model; i++)
        if (strcmp(model[i].keyword, keyword) == 0 || strcmp(model[i].path, keyword) == 0)
            return &model[i];
    return NULL;
}

const wl_model_attr *wl_model_by_path(const uint32_t *tags, uint8_t depth)
{
    for (size_t i = 0; i < sizeof model / sizeof *model; i++)
        if (model[i].depth == depth && memcmp(model[i].tags, tags, depth * sizeof *tags) == 0)
            return &model[i];
    return NULL;
}


size_t wl_value_len(const wl_model_attr *m, rl_str v)
{
    if (strcmp(m->vr, "AE") != 0 && strcmp(m->vr, "CS") != 0)
        return rl_utf8_chars(v);
    size_t len = 0; /* the longest of the values */
    for (size_t k = 0, start = 0; k <= v.n; k++)
        if (k == v.n || v.p[k] == '\\') {
            if (k - start > len)
                len = k - start;
            start = k + 1;
        }
    return len;
}
