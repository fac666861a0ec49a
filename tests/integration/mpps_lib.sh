# Helpers for the MPPS tests: what a modality sends (PS3.4 F.7.2), through
# dcmjs-dimse (tests/js/mpps_scu.js) to the engine's DICOM port.

mpps() { # mpps NAME: run $T/NAME.json (PS3.4 F.7.2 data sets), answers in $OUT
    run_rc node "$SRC/tests/js/mpps_scu.js" 127.0.0.1 "$DICOM_PORT" RADLINK CT01 "$T/$1.json"
    expect_rc 0 "mpps_scu $1 ($ERR)"
}
create() { # create UID ACC RP SPS STUDY [STATUS] [MODALITY]
    cat <<JSON
{"op": "create", "uid": "$1", "dataset": {
  "ScheduledStepAttributesSequence": [{"AccessionNumber": "$2", "RequestedProcedureID": "$3",
    "ScheduledProcedureStepID": "$4", "StudyInstanceUID": "$5",
    "ReferencedStudySequence": [], "RequestedProcedureDescription": "PROC",
    "ScheduledProcedureStepDescription": "", "ScheduledProtocolCodeSequence": []}],
  "PatientName": "DOE^JANE", "PatientID": "P1", "PatientBirthDate": "19700412",
  "PatientSex": "F", "ReferencedPatientSequence": [],
  "PerformedProcedureStepID": "PPS-$1", "PerformedStationAETitle": "CT01",
  "PerformedStationName": "", "PerformedLocation": "",
  "PerformedProcedureStepStartDate": "20261124", "PerformedProcedureStepStartTime": "093500",
  "PerformedProcedureStepStatus": "${6:-IN PROGRESS}", "PerformedProcedureStepDescription": "",
  "PerformedProcedureTypeDescription": "", "ProcedureCodeSequence": [],
  "PerformedProcedureStepEndDate": "", "PerformedProcedureStepEndTime": "",
  "Modality": "${7-CT}", "StudyID": "", "PerformedProtocolCodeSequence": [],
  "PerformedSeriesSequence": []}}
JSON
}
finish() { # finish UID STATUS
    cat <<JSON
{"op": "set", "uid": "$1", "dataset": {
  "PerformedProcedureStepStatus": "$2",
  "PerformedProcedureStepEndDate": "20261124", "PerformedProcedureStepEndTime": "095000",
  "PerformedSeriesSequence": [{"PerformingPhysicianName": "", "ProtocolName": "HEAD",
    "OperatorsName": "", "SeriesInstanceUID": "1.2.826.0.1.3680043.2.1125.1.1",
    "SeriesDescription": "", "RetrieveAETitle": "",
    "ReferencedImageSequence": [{"ReferencedSOPClassUID": "1.2.840.10008.5.1.4.1.1.2",
      "ReferencedSOPInstanceUID": "1.2.826.0.1.3680043.2.1125.1.1.1"}],
    "ReferencedNonImageCompositeSOPInstanceSequence": []}]}}
JSON
}
