#!/usr/bin/env node
// The benchmark's baseline: dcmjs-dimse's own SCP answering every MPPS
// N-CREATE and N-SET with success at once, storing nothing. What it reaches
// is the most the client side can drive; radlink's rate beside it shows the
// cost of checking, committing and forwarding.
//   mpps_null_scp.js PORT   (0: one the system picks; prints "ready PORT")
'use strict';
// Nagle off on every accepted connection (dcmjs-dimse leaves it on).
const net = require('net');
const createServer = net.createServer;
let listening = null;
net.createServer = function (opts, listener) {
  listening = createServer.call(this, opts, (s) => {
    s.setNoDelay(true);
    listener(s);
  });
  return listening;
};
const dimse = require('dcmjs-dimse');
const { Server, Scp } = dimse;
const { NCreateResponse, NSetResponse } = dimse.responses;
const { PresentationContextResult, SopClass, Status, TransferSyntax } = dimse.constants;
dimse.log.setLevel('error');

class NullScp extends Scp {
  associationRequested(association) {
    this.association = association;
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
  nCreateRequest(request, callback) {
    const r = NCreateResponse.fromRequest(request);
    r.setStatus(Status.Success);
    callback(r);
  }
  nSetRequest(request, callback) {
    const r = NSetResponse.fromRequest(request);
    r.setStatus(Status.Success);
    callback(r);
  }
}

const server = new Server(NullScp);
server.on('listening', () => console.log('ready', listening.address().port));
server.listen(Number(process.argv[2]));
