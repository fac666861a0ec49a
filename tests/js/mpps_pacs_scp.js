#!/usr/bin/env node
// A PACS's MPPS SCP for radlink's forwarding test, over dcmjs-dimse's
// Server: it keeps the steps it was given (N-CREATE of a known instance:
// 0111; N-SET of an unknown one: 0112; of a finished one: 0110, as PS3.4
// F.7 says) and appends one JSON line per request to LOG:
//   {"op": "create"|"set", "uid": ..., "called": ..., "calling": ...,
//    "status": "<PerformedProcedureStepStatus>", "patient": ..., "answer": <status>}
//   mpps_pacs_scp.js PORT AE LOG [refuse]
// PORT 0: a port the system picks; it prints "ready PORT" once it listens.
// With "refuse", every request is answered 0110 with a comment (a PACS that
// will not take them).
// A stand-in, written here: no PACS that Debian packages answers MPPS
// (Orthanc has no MPPS SCP; dcm4chee-arc, which has one, is not packaged),
// and DCMTK 3.6.7 has no MPPS tool. It is written on dcmjs-dimse, a DIMSE
// implementation nobody here wrote, and follows PS3.4 F.7's statuses.
'use strict';
const fs = require('fs');
const dimse = require('dcmjs-dimse');
const { Server, Scp } = dimse;
const { NCreateResponse, NSetResponse } = dimse.responses;
const { PresentationContextResult, SopClass, Status, TransferSyntax } = dimse.constants;
dimse.log.setLevel('error');

const [port, ae, log, mode] = process.argv.slice(2);
const steps = new Map(); // uid -> status
const FINISHED = new Set(['COMPLETED', 'DISCONTINUED']);

class PacsMppsScp extends Scp {
  associationRequested(association) {
    this.association = association;
    if (association.getCalledAeTitle() !== ae) {
      this.sendAssociationReject();
      return;
    }
    association.getPresentationContexts().forEach((c) => {
      const ctx = association.getPresentationContext(c.id);
      if (ctx.getAbstractSyntaxUid() === SopClass.ModalityPerformedProcedureStep)
        ctx.setResult(PresentationContextResult.Accept, TransferSyntax.ImplicitVRLittleEndian);
      else
        ctx.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
    });
    this.sendAssociationAccept();
  }
  associationReleaseRequested() { this.sendAssociationReleaseResponse(); }
  record(op, request, answer) {
    const ds = request.getDataset();
    const e = ds ? ds.getElements() : {};
    const line = {
      op, uid: op === 'create' ? request.getAffectedSopInstanceUid() : request.getRequestedSopInstanceUid(),
      called: this.association.getCalledAeTitle(), calling: this.association.getCallingAeTitle(),
      status: e.PerformedProcedureStepStatus || '', patient: e.PatientName || '',
      charset: e.SpecificCharacterSet || '', answer,
    };
    fs.appendFileSync(log, JSON.stringify(line) + '\n');
  }
  answer(op, request, Response, status, comment) {
    const r = Response.fromRequest(request);
    r.setStatus(status);
    if (comment)
      r.setErrorComment(comment);
    this.record(op, request, status);
    return r;
  }
  nCreateRequest(request, callback) {
    const uid = request.getAffectedSopInstanceUid();
    const e = request.getDataset().getElements();
    if (mode === 'refuse')
      return callback(this.answer('create', request, NCreateResponse, 0x0110, 'refused for the test'));
    if (steps.has(uid))
      return callback(this.answer('create', request, NCreateResponse, 0x0111, ''));
    steps.set(uid, e.PerformedProcedureStepStatus);
    callback(this.answer('create', request, NCreateResponse, Status.Success, ''));
  }
  nSetRequest(request, callback) {
    const uid = request.getRequestedSopInstanceUid();
    const e = request.getDataset().getElements();
    if (mode === 'refuse')
      return callback(this.answer('set', request, NSetResponse, 0x0110, 'refused for the test'));
    if (!steps.has(uid))
      return callback(this.answer('set', request, NSetResponse, 0x0112, ''));
    if (FINISHED.has(steps.get(uid)))
      return callback(this.answer('set', request, NSetResponse, 0x0110, 'finished'));
    if (e.PerformedProcedureStepStatus)
      steps.set(uid, e.PerformedProcedureStepStatus);
    callback(this.answer('set', request, NSetResponse, Status.Success, ''));
  }
}

const server = new Server(PacsMppsScp);
server.on('listening', () => console.log(`ready ${server.server.address().port}`));
server.listen(Number(port));
