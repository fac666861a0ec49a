#!/usr/bin/env node
// A modality's MPPS SCU (N-CREATE / N-SET) for radlink's tests and
// benchmarks, over dcmjs-dimse (DCMTK 3.6.7 has no MPPS client).
//
//   mpps_scu.js HOST PORT CALLED CALLING OPS.json
//     OPS.json: [{"op": "create"|"set", "uid": "1.2...", "dataset": {...}}, ...]
//     (datasets in dcmjs's naturalized form); every operation goes over one
//     association, in order; prints one line per operation:
//     "create|set UID STATUS(hex) ERROR-COMMENT"; exit 0 when every one was
//     answered (whatever the status), 1 otherwise. With MPPS_TLS_KEY,
//     MPPS_TLS_CERT and MPPS_TLS_CA set: over DICOM TLS.
//   mpps_scu.js --bench HOST PORT CALLED CALLING PAIRS PARALLEL TEMPLATE.json
//     PAIRS N-CREATE + N-SET (COMPLETED) round trips over PARALLEL
//     associations; TEMPLATE.json holds {"create": {...}, "set": {...}}
//     with "@N" in values replaced by the pair's number; prints the rate.
'use strict';
// dcmjs-dimse leaves Nagle on: every request would wait ~40 ms for the
// peer's delayed ACK. A modality does not wait like that; neither do we.
const net = require('net');
const connect = net.connect;
net.connect = function (...args) {
  const s = connect.apply(this, args);
  s.setNoDelay(true);
  return s;
};
const fs = require('fs');
const dimse = require('dcmjs-dimse');
const { Client, Dataset } = dimse;
const { NCreateRequest, NSetRequest } = dimse.requests;
const { SopClass } = dimse.constants;
dimse.log.setLevel('error'); // its info log would mix with the answers

function request(op) {
  const r = op.op === 'create'
    ? new NCreateRequest(SopClass.ModalityPerformedProcedureStep, op.uid)
    : new NSetRequest(SopClass.ModalityPerformedProcedureStep, op.uid);
  r.setDataset(new Dataset(op.dataset));
  return r;
}

// Run ops on one association; resolves with the answers in order. With
// times, each answer's wall clock (ms) is pushed as [op, tag, ms].
function run(host, port, called, calling, ops, times) {
  return new Promise((resolve) => {
    const client = new Client();
    const answers = new Array(ops.length).fill(null);
    ops.forEach((op, i) => {
      const r = request(op);
      r.on('response', (rsp) => {
        answers[i] = { status: rsp.getStatus(), comment: rsp.getErrorComment() || '' };
        if (times)
          times.push([op.op, op.tag, Date.now()]);
      });
      client.addRequest(r);
    });
    let done = false;
    const finish = (why) => {
      if (!done) {
        done = true;
        resolve({ answers, why });
      }
    };
    client.on('associationRejected', (r) => finish('association rejected: ' + JSON.stringify(r)));
    client.on('networkError', (e) => finish('network error: ' + e.message));
    client.on('closed', () => finish(''));
    client.send(host, port, calling, called, sendOptions());
  });
}

// DICOM TLS when MPPS_TLS_KEY, MPPS_TLS_CERT and MPPS_TLS_CA name PEM files
// (the server's certificate is verified against the CA).
function sendOptions() {
  const { MPPS_TLS_KEY: key, MPPS_TLS_CERT: cert, MPPS_TLS_CA: ca } = process.env;
  if (!key || !cert || !ca) return undefined;
  return {
    securityOptions: {
      key: fs.readFileSync(key), cert: fs.readFileSync(cert), ca: fs.readFileSync(ca),
      rejectUnauthorized: true, minVersion: 'TLSv1.2',
    },
  };
}

function fill(obj, n) {
  return JSON.parse(JSON.stringify(obj).split('@N').join(String(n)));
}

async function main() {
  const a = process.argv.slice(2);
  if (a[0] === '--bench') {
    const [host, port, called, calling, pairs, parallel, file] = a.slice(1);
    const t = JSON.parse(fs.readFileSync(file, 'utf8'));
    const per = Math.ceil(Number(pairs) / Number(parallel));
    const start = process.hrtime.bigint();
    const runs = [];
    const times = process.env.MPPS_TIMES ? [] : null;
    let bad = 0;
    for (let p = 0; p < Number(parallel); p++) {
      const ops = [];
      for (let i = p * per; i < Math.min(Number(pairs), (p + 1) * per); i++) {
        const uid = '2.25.' + (BigInt(Date.now()) * 1000000n + BigInt(i)).toString();
        ops.push({ op: 'create', uid, tag: i, dataset: fill(t.create, i) });
        ops.push({ op: 'set', uid, tag: i, dataset: fill(t.set, i) });
      }
      runs.push(run(host, Number(port), called, calling, ops, times).then((r) => {
        bad += r.answers.filter((x) => !x || x.status !== 0).length;
      }));
    }
    await Promise.all(runs);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (times) // the N-SET goes out when the N-CREATE's answer came: its send time
      fs.writeFileSync(process.env.MPPS_TIMES,
                       times.filter((x) => x[0] === 'create').map((x) => `${x[1]} ${x[2]}`).join('\n') + '\n');
    console.log(`${pairs} N-CREATE+N-SET pairs over ${parallel} associations in ${ms.toFixed(0)} ms: ` +
                `${(Number(pairs) / (ms / 1000)).toFixed(0)} pairs/s, ${bad} failed`);
    process.exit(bad ? 1 : 0);
  }
  const [host, port, called, calling, file] = a;
  const ops = JSON.parse(fs.readFileSync(file, 'utf8'));
  const r = await run(host, Number(port), called, calling, ops);
  let missing = 0;
  ops.forEach((op, i) => {
    const x = r.answers[i];
    if (!x) missing++;
    console.log(`${op.op} ${op.uid} ${x ? x.status.toString(16).padStart(4, '0') : 'none'} ` +
                `${x ? x.comment : r.why}`);
  });
  process.exit(missing ? 1 : 0);
}

main();
