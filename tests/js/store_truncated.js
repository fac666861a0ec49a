#!/usr/bin/env node
// A sender of broken instances for radlink's tests: C-STORE of FILE with
// its last CUT bytes left out of the data set stream (a value shorter than
// its declared length), over dcmjs-dimse.
//
//   store_truncated.js HOST PORT CALLED CALLING FILE CUT
//   prints "status XXXX COMMENT" (hex) for the response; exit 0 when one came.
'use strict';
const dimse = require('dcmjs-dimse');
const { Client, Dataset } = dimse;
const { CStoreRequest } = dimse.requests;
dimse.log.setLevel('error');

const [host, port, called, calling, file, cut] = process.argv.slice(2);
const ds = Dataset.fromFile(file);
const whole = ds.getDenaturalizedDataset.bind(ds);
ds.getDenaturalizedDataset = (...a) => {
  const b = whole(...a);
  return b.slice(0, b.length - Number(cut));
};
const client = new Client();
const req = new CStoreRequest(ds);
let answered = false;
req.on('response', (rsp) => {
  answered = true;
  const status = rsp.getStatus().toString(16).padStart(4, '0');
  console.log(`status ${status} ${rsp.getErrorComment() || ''}`.trim());
});
client.addRequest(req);
client.on('networkError', (e) => console.log(`network error ${e.message || e}`));
client.on('closed', () => process.exit(answered ? 0 : 1));
client.send(host, Number(port), calling, called);
