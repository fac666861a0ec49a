/* radlink console: one page over the JSON API (/api/...). Every value from
 * the engine is put in the page as text (textContent), never as markup.
 * State changes carry the session's CSRF token; the engine decides who may
 * do what and the page shows its answer. */
'use strict';

const S = { user: null, role: null, csrf: null };
const ROLES = { viewer: 1, operator: 2, admin: 3 };

function $(sel) { return document.querySelector(sel); }

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids) {
    if (k === null || k === undefined) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

function banner(text, ok) {
  const b = $('#banner');
  b.textContent = text || '';
  b.className = ok ? 'ok' : '';
  b.hidden = !text;
}

async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: 'same-origin' };
  if (method !== 'GET') {
    opts.headers['X-CSRF-Token'] = S.csrf || '';
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body || {});
  }
  const r = await fetch(path, opts);
  let j = null;
  try { j = await r.json(); } catch (e) { j = { error: 'not JSON (' + r.status + ')' }; }
  if (r.status === 401 && path !== '/api/login') {
    showLogin(j.error);
    throw new Error(j.error);
  }
  if (!r.ok) {
    banner(j.error || (j.output || ('HTTP ' + r.status)), false);
    const e = new Error(j.error || 'HTTP ' + r.status);
    e.status = r.status;
    e.body = j;
    throw e;
  }
  return j;
}

async function act(path, body, label) {
  try {
    const j = await api('POST', path, body);
    banner((label ? label + ': ' : '') + (j.output || 'done').trim(), j.done !== false);
    return j;
  } catch (e) {
    return null;
  }
}

function params() {
  const h = location.hash.replace(/^#/, '') || '/';
  const i = h.indexOf('?');
  const path = i < 0 ? h : h.slice(0, i);
  return { path, q: new URLSearchParams(i < 0 ? '' : h.slice(i + 1)) };
}

function link(text, hash) { return el('a', { href: '#' + hash }, text); }

function table(cols, rows, id) {
  const t = el('table', { id });
  t.append(el('tr', {}, ...cols.map(c => el('th', { class: c.num ? 'num' : null }, c.h))));
  for (const r of rows) {
    t.append(el('tr', {}, ...cols.map(c => {
      const v = c.f(r);
      return el('td', { class: c.num ? 'num' : null }, v === null || v === undefined ? '' : v);
    })));
  }
  if (!rows.length) t.append(el('tr', {}, el('td', { colspan: cols.length, class: 'muted' }, 'none')));
  return t;
}

function kv(pairs) {
  const d = el('dl', { class: 'kv' });
  for (const [k, v] of pairs) {
    if (v === null || v === undefined || v === '') continue;
    d.append(el('dt', {}, k), el('dd', {}, v));
  }
  return d;
}

function when(iso) { return iso ? iso.replace('T', ' ').replace(/\.\d+/, '').replace(/Z$/, ' UTC') : ''; }

function filters(fields, onsubmit) {
  const f = el('form', { class: 'filters' });
  for (const x of fields) {
    let input;
    if (x.options) {
      input = el('select', { name: x.name, id: 'f-' + x.name },
        ...x.options.map(o => el('option', { value: o }, o || 'any')));
      input.value = x.value || '';
    } else {
      input = el('input', { name: x.name, id: 'f-' + x.name, placeholder: x.ph || '', value: x.value || '' });
    }
    f.append(el('label', {}, x.label, input));
  }
  f.append(el('button', { type: 'submit', class: 'primary', id: 'f-submit' }, 'Show'));
  f.addEventListener('submit', ev => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const x of fields) {
      const v = f.elements[x.name].value.trim();
      if (v) q.set(x.name, v);
    }
    onsubmit(q);
  });
  return f;
}

/* ---- charts: inline SVG, no library ---- */

function svgEl(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function chart(title, series, colors) {
  const w = 300, h = 90;
  const n = Math.max(...series.map(s => s.length), 1);
  const max = Math.max(1, ...series.flat());
  const svg = svgEl('svg', { viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: 'none', role: 'img' });
  svg.append(svgEl('line', { x1: 0, y1: h - 0.5, x2: w, y2: h - 0.5, stroke: '#ccc' }));
  series.forEach((s, k) => {
    const pts = s.map((v, i) => `${(i * w / Math.max(n - 1, 1)).toFixed(1)},${(h - 2 - v * (h - 6) / max).toFixed(1)}`);
    svg.append(svgEl('polyline', { points: pts.join(' '), fill: 'none', stroke: colors[k], 'stroke-width': 1.5 }));
  });
  const t = svgEl('title', {});
  t.textContent = title;
  svg.append(t);
  return el('div', { class: 'chart' }, el('div', {}, title, el('span', { class: 'muted' }, '  (max ' + max + ')')), svg);
}

/* ---- pages ---- */

function card(label, value, hash, bad) {
  const inner = el('div', {}, el('div', { class: 'v' + (bad ? ' bad' : '') }, value), label);
  return el('div', { class: 'card' }, hash ? el('a', { href: '#' + hash }, inner) : inner);
}

async function pageOverview(page) {
  const s = await api('GET', '/api/status');
  const jobs = s.jobs || {};
  const st = s.store || {};
  const used = st.map_bytes ? Math.round(100 * st.used_bytes / st.map_bytes) : 0;
  const errors = (s.last_hour.error || []).reduce((a, b) => a + b, 0) +
                 (s.last_hour.rejected || []).reduce((a, b) => a + b, 0);
  page.append(el('h1', {}, 'Overview'),
    el('div', { class: 'cards', id: 'cards' },
      card('messages logged', s.messages_logged, '/messages'),
      card('refused in the last hour (AE/AR)', errors, '/messages?status=error', errors > 0),
      card('queued for destinations', s.queued_total, '/queues?state=pending'),
      card('parked (refused by a destination)', s.parked_total, '/queues?state=parked', s.parked_total > 0),
      card('jobs waiting', (jobs.pending || 0) + (jobs.failed || 0) + (jobs.running || 0), '/jobs?state=pending'),
      card('jobs dead', jobs.dead || 0, '/jobs?state=dead', jobs.dead > 0),
      card('jobs unverified', jobs.unverified || 0, '/jobs?state=unverified', jobs.unverified > 0),
      card('unmatched studies', s.unmatched, '/exceptions', s.unmatched > 0),
      card('store used', used + ' %', null, used > 85)));
  const lh = s.last_hour;
  const sm = s.samples || [];
  page.append(el('h2', {}, 'The last hour'), el('div', { class: 'charts' },
    chart('messages per minute: accepted (blue), AE/AR (red)', [lh.accepted, lh.error.map((v, i) => v + lh.rejected[i])], ['#1f77b4', '#d62728']),
    chart('queued (blue) and parked (red), sampled each minute', [sm.map(x => x.pending), sm.map(x => x.parked)], ['#1f77b4', '#d62728']),
    chart('unmatched studies (orange), dead jobs (red)', [sm.map(x => x.unmatched), sm.map(x => x.jobs_dead)], ['#ff7f0e', '#d62728'])));
  page.append(el('h2', {}, 'Destinations'), table([
    { h: 'destination', f: d => link(d.name, '/queues?dest=' + encodeURIComponent(d.name)) },
    { h: 'queued', num: 1, f: d => link(String(d.pending), '/queues?state=pending&dest=' + encodeURIComponent(d.name)) },
    { h: 'oldest (s)', num: 1, f: d => d.oldest_age_s.toFixed(0) },
    { h: 'parked', num: 1, f: d => link(String(d.parked), '/queues?state=parked&dest=' + encodeURIComponent(d.name)) },
  ], s.destinations, 'destinations'));
  pagePacs(page, s);
  page.append(el('h2', {}, 'Engine and listeners'), el('pre', { id: 'engine' }, s.engine));
}

// The PACS and DICOM nodes: what the engine found (a storage commitment
// refused) and, on request, what each allows (`radlink pacs check`).
function pagePacs(page, s) {
  if (!(s.pacs || []).length) return;
  const notes = (s.engine || '').split('\n').filter(l => /^pacs \S+: /.test(l));
  page.append(el('h2', {}, 'PACS and DICOM nodes'));
  if (notes.length) page.append(el('ul', { id: 'pacs-notes', class: 'bad' }, ...notes.map(l => el('li', {}, l))));
  const out = el('div', { id: 'pacs-check' });
  page.append(table([
    { h: 'AE title', f: p => p.ae },
    { h: 'kind', f: p => p.kind },
    { h: 'address', f: p => p.host + ':' + p.port + (p.tls ? ' (TLS)' : '') },
    { h: '', f: p => el('button', { class: 'check', 'data-ae': p.ae, onclick: async ev => {
      ev.target.disabled = true;
      out.replaceChildren(el('p', { class: 'muted' }, 'asking ' + p.ae + ' (C-ECHO, storage commitment, C-FIND)…'));
      try {
        const r = await api('GET', '/api/pacs/' + encodeURIComponent(p.ae) + '/check');
        out.replaceChildren(el('h3', {}, p.ae + ' allows'), table([
          { h: '', f: c => c.ok ? 'ok' : 'no' },
          { h: 'what', f: c => c.what },
          { h: 'why not, and the remedy', f: c => c.ok ? '' : c.why + ' — ' + c.remedy },
        ], r.checks || [], 'pacs-checks'), r.verify ? el('p', { id: 'pacs-verify' }, 'verify="' + r.verify + '" suits it. update: ' + r.update)
          : el('p', { id: 'pacs-verify', class: 'bad' }, 'It does not answer C-ECHO: nothing more can be asked of it.'));
      } catch (e) { out.replaceChildren(el('p', { class: 'bad' }, e.message)); }
      ev.target.disabled = false;
    } }, 'Check') },
  ], s.pacs, 'pacs'), out);
}

async function pageMessages(page, q) {
  page.append(el('h1', {}, 'Messages'), filters([
    { name: 'patient', label: 'patient ID', ph: '12345 or 12345^^^HOSP', value: q.get('patient') },
    { name: 'accession', label: 'accession', value: q.get('accession') },
    { name: 'name', label: 'name', ph: 'DOE^J*', value: q.get('name') },
    { name: 'q', label: 'search PATH=VALUE', ph: 'PID-3.1=12345', value: q.get('q') },
    { name: 'status', label: 'status', options: ['', 'accepted', 'error', 'rejected', 'duplicate'], value: q.get('status') },
    { name: 'type', label: 'type', ph: 'ORM^O01, ADT^A0*', value: q.get('type') },
    { name: 'since', label: 'since', ph: '2h, 2026-11-23', value: q.get('since') },
  ], nq => { location.hash = '#/messages?' + nq; }));
  const j = await api('GET', '/api/messages?' + q);
  page.append(el('p', { class: 'muted', id: 'search-info' },
    `${j.messages.length} shown, ${j.scanned} read in ${j.search_ms.toFixed(1)} ms` +
    (j.index ? ` (by the ${j.index} index)` : j.scan ? ` (the whole log: ${j.scan})` : '')));
  page.append(table([
    { h: 'seq', num: 1, f: m => link(String(m.seq), '/message/' + m.seq) },
    { h: 'received', f: m => when(m.received) },
    { h: 'status', f: m => m.status },
    { h: 'ACK', f: m => m.ack },
    { h: 'type', f: m => m.type },
    { h: 'control ID', f: m => m.control_id },
    { h: 'peer', f: m => m.peer },
    { h: 'note', f: m => m.note },
  ], j.messages, 'messages'));
  const pager = el('div', { class: 'pager' });
  if (j.next_before) {
    const nq = new URLSearchParams(q);
    nq.set('before', j.next_before);
    pager.append(link('older →', '/messages?' + nq));
  }
  page.append(pager);
}

async function pageMessage(page, seq) {
  const m = await api('GET', '/api/messages/' + encodeURIComponent(seq));
  page.append(el('h1', {}, 'Message ' + m.seq),
    el('div', {}, el('button', { id: 'replay', class: 'primary', onclick: async () => {
      const j = await act('/api/messages/' + m.seq + '/replay', {}, 'replay');
      if (j) $('#replay-output').textContent = j.output;
    } }, 'Replay'), ' ', el('span', { class: 'muted' }, 'runs it through the routes again, as a new log entry')),
    el('pre', { id: 'replay-output' }),
    kv([['received', when(m.received)], ['peer', m.peer + ' (listener ' + m.listener + ')'],
        ['status', m.status + ' (' + m.ack_code + ')'], ['type', m.type], ['control ID', m.control_id],
        ['sender', m.sender.application + ' / ' + m.sender.facility],
        ['duplicate of', m.duplicate_of ? link(String(m.duplicate_of), '/message/' + m.duplicate_of) : null],
        ['error', m.error], ['routing', m.routing]]),
    traceLinks(m),
    el('h2', {}, 'Raw'), el('pre', { id: 'raw' }, m.raw.replace(/\r/g, '\n')),
    el('h2', {}, 'Tree'), el('pre', { id: 'tree' }, m.tree),
    el('h2', {}, 'Route trace (a dry run with the routes running now)'), el('pre', { id: 'trace' }, m.trace || ''),
    el('h2', {}, 'ACK sent'), el('pre', { id: 'ack' }, (m.ack_sent || '').replace(/\r/g, '\n')));
}

// Links to the stories of what a record names (radlink trace).
function traceLinks(x) {
  const links = [];
  for (const a of x.accessions || []) links.push(link('order ' + a, '/trace?accession=' + encodeURIComponent(a)));
  for (const p of x.patients || []) links.push(link('patient ' + p, '/trace?patient=' + encodeURIComponent(p)));
  for (const s of x.studies || []) links.push(link('study ' + s, '/trace?study=' + encodeURIComponent(s)));
  const p = el('p', { class: 'trace-links' }, 'The story of: ');
  links.forEach((l, i) => p.append(...(i ? [', ', l] : [l])));
  return links.length ? p : el('span');
}

// radlink trace: an order's, a patient's or a study's story in time order.
async function pageTrace(page, q) {
  page.append(el('h1', {}, 'Trace'), filters([
    { name: 'accession', label: 'accession', value: q.get('accession') },
    { name: 'patient', label: 'patient ID', value: q.get('patient') },
    { name: 'study', label: 'study UID', value: q.get('study') },
  ], nq => { location.hash = '#/trace?' + nq; }));
  const acc = q.get('accession'), pat = q.get('patient'), study = q.get('study');
  if (!acc && !pat && !study) return;
  const j = await api('GET', acc ? '/api/trace/' + encodeURIComponent(acc)
    : '/api/trace?' + (pat ? 'patient=' + encodeURIComponent(pat) : 'study=' + encodeURIComponent(study)));
  page.append(kv([['orders', (j.accessions || []).join(', ')], ['patients', (j.patients || []).join(', ')],
    ['studies', (j.studies || []).join(', ')]]));
  const pages = /^\/(message|wl|study|job)\//;
  page.append(table([
    { h: 'time', f: e => when(e.time) },
    { h: 'what', f: e => e.what },
    { h: 'record', f: e => pages.test(e.link) ? link(e.ref, e.link) : e.ref },
    { h: 'what happened', f: e => e.text },
  ], j.events, 'story'));
  if (j.cut) page.append(el('p', { class: 'bad' }, 'Not everything: the story is longer than a trace shows at once.'));
}

async function pageQueues(page, q) {
  page.append(el('h1', {}, 'Queues'), filters([
    { name: 'dest', label: 'destination', value: q.get('dest') },
    { name: 'state', label: 'state', options: ['', 'pending', 'parked'], value: q.get('state') },
  ], nq => { location.hash = '#/queues?' + nq; }));
  const [s, j] = await Promise.all([api('GET', '/api/status'), api('GET', '/api/queues?' + q)]);
  page.append(table([
    { h: 'destination', f: d => d.name },
    { h: 'queued', num: 1, f: d => d.pending },
    { h: 'oldest (s)', num: 1, f: d => d.oldest_age_s.toFixed(0) },
    { h: 'parked', num: 1, f: d => d.parked },
    { h: '', f: d => d.parked ? el('button', { class: 'retry-all', onclick: async () => {
      if (await act('/api/queues/' + encodeURIComponent(d.name) + '/retry-all', {}, 'retry all parked')) route();
    } }, 'Retry all parked') : '' },
  ], s.destinations, 'destinations'));
  page.append(el('p', { class: 'muted' }, j.total + ' item(s)'), table([
    { h: 'destination', f: i => i.dest },
    { h: 'qseq', num: 1, f: i => i.qseq },
    { h: 'state', f: i => i.state },
    { h: 'message', num: 1, f: i => link(String(i.msg_seq), '/message/' + i.msg_seq) },
    { h: 'queued', f: i => when(i.queued) },
    { h: 'attempts', num: 1, f: i => i.attempts },
    { h: 'next attempt', f: i => when(i.next_attempt) },
    { h: 'last error', f: i => i.last_error },
    { h: '', f: i => el('button', { class: i.state === 'parked' ? 'retry' : 'park', 'data-qseq': i.qseq, onclick: async () => {
      const what = i.state === 'parked' ? 'retry' : 'park';
      if (await act('/api/queues/' + encodeURIComponent(i.dest) + '/' + i.qseq + '/' + what, {}, what)) route();
    } }, i.state === 'parked' ? 'Retry' : 'Park') },
  ], j.items, 'queue-items'));
}

async function pageJobs(page, q) {
  page.append(el('h1', {}, 'Jobs'), filters([
    { name: 'state', label: 'state', options: ['', 'pending', 'running', 'failed', 'done', 'dead', 'unverified'], value: q.get('state') },
    { name: 'kind', label: 'kind', options: ['', 'study', 'prefetch'], value: q.get('kind') },
  ], nq => { location.hash = '#/jobs?' + nq; }),
  el('button', { id: 'retry-dead', onclick: async () => { if (await act('/api/jobs/retry-dead', {}, 'retry dead jobs')) route(); } }, 'Retry all dead jobs'));
  const j = await api('GET', '/api/jobs?' + q);
  page.append(table([
    { h: 'ID', num: 1, f: x => link(String(x.id), '/job/' + x.id) },
    { h: 'state', f: x => x.state },
    { h: 'kind', f: x => x.kind },
    { h: 'study / order', f: x => x.kind === 'prefetch' ? x.study_uid : link(x.study_uid, '/study/' + encodeURIComponent(x.study_uid)) },
    { h: 'to', f: x => x.destination },
    { h: 'attempts', num: 1, f: x => x.attempts },
    { h: 'updated', f: x => when(x.updated) },
    { h: 'result / last error', f: x => x.state === 'done' ? x.result : x.last_error },
    { h: '', f: x => ['dead', 'unverified', 'failed'].includes(x.state) ? el('button', { class: 'retry', onclick: async () => {
      if (await act('/api/jobs/' + x.id + '/retry', {}, 'retry job ' + x.id)) route();
    } }, 'Retry') : '' },
  ], j.jobs, 'jobs'));
  if (j.next_from) {
    const nq = new URLSearchParams(q);
    nq.set('from', j.next_from);
    page.append(link('more →', '/jobs?' + nq));
  }
}

async function pageJob(page, id) {
  const x = await api('GET', '/api/jobs/' + encodeURIComponent(id));
  page.append(el('h1', {}, 'Job ' + x.id), kv([['state', x.state], ['kind', x.kind],
    ['study', link(x.study_uid, '/study/' + encodeURIComponent(x.study_uid))], ['to', x.destination],
    ['attempts', String(x.attempts)],
    ['created', when(x.created)], ['updated', when(x.updated)], ['not before', when(x.not_before)],
    ['worker', x.worker], ['result', x.result], ['last error', x.last_error]]),
  traceLinks(x.kind === 'prefetch' ? { accessions: [x.study_uid] } : { studies: [x.study_uid] }),
  el('button', { id: 'retry', onclick: async () => { if (await act('/api/jobs/' + x.id + '/retry', {}, 'retry')) route(); } }, 'Retry'));
}

function studyTable(rows) {
  return table([
    { h: 'study', f: s => link(s.study_uid, '/study/' + encodeURIComponent(s.study_uid)) },
    { h: 'state', f: s => s.state },
    { h: 'accession', f: s => s.accession },
    { h: 'date', f: s => s.study_date },
    { h: 'modality', f: s => s.modality },
    { h: 'instances', num: 1, f: s => s.instances },
    { h: 'candidates / discrepancies', num: 1, f: s => s.notes },
    { h: 'first received', f: s => when(s.first) },
  ], rows, 'studies');
}

function reportTable(rows) {
  return table([
    { h: 'message', num: 1, f: r => link(String(r.message), '/message/' + r.message) },
    { h: 'accession', f: r => r.accession },
    { h: 'status', f: r => r.status },
    { h: 'state', f: r => r.state },
    { h: 'objects', f: r => r.objects },
    { h: 'study', f: r => r.study_uid === '-' ? '-' : link(r.study_uid, '/study/' + encodeURIComponent(r.study_uid)) },
    { h: 'received', f: r => when(r.received) },
  ], rows, 'reports');
}

async function pageExceptions(page) {
  const j = await api('GET', '/api/recon/unmatched');
  const rep = await api('GET', '/api/recon/reports');
  page.append(el('h1', {}, 'Exceptions: studies without an order'),
    el('p', { class: 'muted' }, 'Open a study to see the orders of its patient, day and modality, and link one.'),
    studyTable(j.studies),
    el('h2', {}, 'Reports without their study'),
    el('p', { class: 'muted' }, 'Waiting: the order is known, the study has not arrived. Held: neither the order nor the study is known. Each goes to its study when a study of its accession arrives.'),
    reportTable(rep.reports));
}

async function pageStudies(page, q) {
  page.append(el('h1', {}, 'Studies'), filters([
    { name: 'state', label: 'state', options: ['', 'new', 'matched', 'unmatched', 'correcting', 'corrected', 'unverified', 'forwarded'], value: q.get('state') },
  ], nq => { location.hash = '#/studies?' + nq; }));
  const j = await api('GET', '/api/recon?' + q);
  page.append(el('p', { class: 'muted' }, j.total + ' stud(ies)'), studyTable(j.studies));
}

async function pageStudy(page, uid) {
  const s = await api('GET', '/api/recon/' + encodeURIComponent(uid));
  const link_form = el('form', { class: 'filters', id: 'link-form' },
    el('label', {}, 'accession number', el('input', { name: 'accession', id: 'link-accession', required: '' })),
    el('button', { type: 'submit', class: 'primary', id: 'link-submit' }, 'Link to this order'));
  link_form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const acc = link_form.elements.accession.value.trim();
    if (await act('/api/recon/' + encodeURIComponent(s.study_uid) + '/link', { accession: acc }, 'link')) route();
  });
  page.append(el('h1', {}, 'Study ' + s.study_uid), traceLinks({ studies: [s.study_uid] }),
    kv([['state', el('span', { id: 'study-state' }, s.state)], ['instances', String(s.instances)],
        ['first received', when(s.first)], ['updated', when(s.updated)],
        ['order', s.order ? `accession ${s.order.accession}, procedure ${s.order.procedure}, step ${s.order.step}` : 'none'],
        ['goes to', el('span', { id: 'study-destinations' }, (s.destinations || []).join(', ') || 'every PACS')],
        ...(s.held ? [['held', el('span', { id: 'study-held' }, `${s.held} instance${s.held === 1 ? '' : 's'}: ${s.held_why}`)]] : [])]),
    el('h2', {}, 'Header values'), kv(Object.entries(s.fields)));
  if (s.state === 'unmatched' || s.state === 'forwarded' || !s.order) {
    page.append(el('h2', {}, 'Candidate orders (this patient, day and modality)'), table([
      { h: 'accession', f: c => c.accession },
      { h: 'order', f: c => c.what },
      { h: '', f: c => c.taken ? 'taken by another study' : el('button', { class: 'link-candidate', onclick: async () => {
        if (await act('/api/recon/' + encodeURIComponent(s.study_uid) + '/link', { accession: c.accession }, 'link')) route();
      } }, 'Link') },
    ], s.candidates, 'candidates'), link_form);
  }
  page.append(el('h2', {}, 'Discrepancies (in the images → from the RIS)'), table([
    { h: 'attribute', f: d => d.attribute }, { h: 'in the images', f: d => d.in_images }, { h: 'from the RIS', f: d => d.from_ris },
  ], s.discrepancies, 'discrepancies'),
  el('h2', {}, 'Changes made'), table([
    { h: 'attribute', f: d => d.attribute }, { h: 'old', f: d => d.old }, { h: 'new', f: d => d.new },
    { h: 'job', num: 1, f: d => link(String(d.job), '/job/' + d.job) }, { h: 'reason', f: d => d.reason },
  ], s.changes, 'changes'),
  el('h2', {}, 'Instances'), table([
    { h: 'SOP instance', f: i => i.sop_uid }, { h: 'modality', f: i => i.modality }, { h: 'received', f: i => when(i.received) },
  ], s.instance_list, 'instances'),
  el('h2', {}, 'Reports'), reportTable(s.reports));
}

async function pageWorklist(page, q) {
  page.append(el('h1', {}, 'Worklist'), filters([
    { name: 'date', label: 'date', ph: '20261123 or 20261101-20261130', value: q.get('date') },
    { name: 'station', label: 'station AE', value: q.get('station') },
    { name: 'modality', label: 'modality', value: q.get('modality') },
  ], nq => { location.hash = '#/worklist?' + nq; }));
  const j = await api('GET', '/api/worklist?' + q);
  page.append(table([
    { h: 'accession', f: e => link(e.accession, '/wl/' + encodeURIComponent(e.accession)) },
    { h: 'procedure', f: e => e.procedure }, { h: 'step', f: e => e.step },
    { h: 'date', f: e => e.date }, { h: 'time', f: e => e.time }, { h: 'modality', f: e => e.modality },
    { h: 'station', f: e => e.station }, { h: 'status', f: e => e.status },
  ], j.entries, 'worklist'));
  if (j.more) page.append(el('p', { class: 'muted' }, 'more entries than shown: narrow the date or station'));
}

async function pageWorklistEntry(page, acc) {
  const j = await api('GET', '/api/worklist/' + encodeURIComponent(acc));
  page.append(el('h1', {}, 'Worklist entry ' + j.accession), traceLinks({ accessions: [j.accession] }));
  for (const e of j.entries) {
    page.append(kv([['created', when(e.created)], ['updated', when(e.updated)],
      ['by message', e.message ? link(String(e.message), '/message/' + e.message) : null], ['imported from', e.source]]),
    table([{ h: 'tag', f: a => a.tag }, { h: 'attribute', f: a => a.keyword }, { h: 'value', f: a => a.value }], e.attributes, 'wl-attributes'));
  }
}

async function pageRoutes(page) {
  const r = await api('GET', '/api/routes');
  page.append(el('h1', {}, 'Routes'), kv([['file', r.file], ['sha256', r.sha256], ['routes', r.count], ['last reload', r.reload]]),
    el('button', { id: 'reload', class: 'primary', onclick: async () => { if (await act('/api/routes/reload', {}, 'reload')) route(); } }, 'Reload the route file'),
    el('span', { class: 'muted' }, ' (admins)'));
}

async function pageUsers(page) {
  const j = await api('GET', '/api/users');
  const f = el('form', { class: 'filters', id: 'user-form' },
    el('label', {}, 'name', el('input', { name: 'name', required: '' })),
    el('label', {}, 'role', el('select', { name: 'role' }, ...['viewer', 'operator', 'admin'].map(r => el('option', { value: r }, r)))),
    el('label', {}, 'password', el('input', { name: 'password', type: 'password', required: '', autocomplete: 'new-password' })),
    el('button', { type: 'submit', class: 'primary' }, 'Add or change'));
  f.addEventListener('submit', async ev => {
    ev.preventDefault();
    if (await act('/api/users', { name: f.elements.name.value, role: f.elements.role.value, password: f.elements.password.value }, 'user')) route();
  });
  page.append(el('h1', {}, 'Users'), table([
    { h: 'name', f: u => u.name }, { h: 'role', f: u => u.role },
    { h: '', f: u => el('button', { onclick: async () => {
      const r = await fetch('/api/users/' + encodeURIComponent(u.name), { method: 'DELETE', headers: { 'X-CSRF-Token': S.csrf } });
      const b = await r.json();
      banner(b.error || b.output, r.ok);
      if (r.ok) route();
    } }, 'Remove') },
  ], j.users, 'users'), f);
}

const PAGES = [
  [/^\/$/, pageOverview],
  [/^\/messages$/, pageMessages],
  [/^\/message\/(\d+)$/, pageMessage],
  [/^\/queues$/, pageQueues],
  [/^\/jobs$/, pageJobs],
  [/^\/job\/(\d+)$/, pageJob],
  [/^\/exceptions$/, pageExceptions],
  [/^\/studies$/, pageStudies],
  [/^\/study\/(.+)$/, pageStudy],
  [/^\/worklist$/, pageWorklist],
  [/^\/wl\/(.+)$/, pageWorklistEntry],
  [/^\/trace$/, pageTrace],
  [/^\/routes$/, pageRoutes],
  [/^\/users$/, pageUsers],
];

// What the alert rules fire now (/api/alerts), above every page: the same
// list `radlink alerts list` prints. A console without the right to read it
// or an engine with no rules shows nothing.
async function alertsBanner() {
  const box = $('#alerts');
  let j;
  try {
    const r = await fetch('/api/alerts', { credentials: 'same-origin' });
    if (!r.ok) { box.hidden = true; return; }
    j = await r.json();
  } catch (e) { box.hidden = true; return; }
  const firing = (j.alerts || []).filter(a => a.fired_us);
  box.replaceChildren();
  if (!firing.length) { box.hidden = true; return; }
  box.append(el('strong', {}, firing.length + (firing.length === 1 ? ' alert firing' : ' alerts firing')));
  const ul = el('ul');
  for (const a of firing)
    ul.append(el('li', { 'data-alert': a.on }, el('strong', {}, a.on + ' ' + a.subject + ': '), a.text));
  box.append(ul);
  box.hidden = false;
}

async function route() {
  if (!S.user) return;
  alertsBanner();
  const { path, q } = params();
  const page = $('#page');
  page.replaceChildren();
  page.setAttribute('data-loading', '1');
  for (const a of document.querySelectorAll('#nav a'))
    a.classList.toggle('active', a.getAttribute('href') === '#' + path);
  for (const [re, fn] of PAGES) {
    const m = path.match(re);
    if (!m) continue;
    try {
      if (m.length > 1) await fn(page, decodeURIComponent(m[1]), q);
      else await fn(page, q);
    } catch (e) {
      if (!page.childNodes.length) page.append(el('p', { class: 'bad' }, e.message));
    }
    page.removeAttribute('data-loading');
    return;
  }
  page.append(el('p', {}, 'No such page.'));
  page.removeAttribute('data-loading');
}

function showLogin(why) {
  S.user = null;
  $('#alerts').hidden = true;
  $('#nav').hidden = true;
  $('#logout').hidden = true;
  $('#who').textContent = '';
  $('#page').replaceChildren();
  $('#login').hidden = false;
  if (why && why !== 'log in first') banner(why, false);
}

function loggedIn(j) {
  Object.assign(S, { user: j.user, role: j.role, csrf: j.csrf });
  $('#login').hidden = true;
  $('#nav').hidden = false;
  $('#logout').hidden = false;
  $('#nav-users').hidden = ROLES[j.role] < ROLES.admin;
  $('#who').textContent = j.user + ' (' + j.role + ')';
  route();
}

async function start() {
  $('#login').addEventListener('submit', async ev => {
    ev.preventDefault();
    banner('');
    try {
      loggedIn(await api('POST', '/api/login', { user: $('#login-user').value, password: $('#login-password').value }));
      $('#login-password').value = '';
    } catch (e) { /* the banner says why */ }
  });
  $('#logout').addEventListener('click', async () => {
    try { await api('POST', '/api/logout'); } catch (e) { /* gone already */ }
    banner('logged out', true);
    showLogin();
  });
  window.addEventListener('hashchange', () => { banner(''); route(); });
  try {
    const r = await fetch('/api/session', { credentials: 'same-origin' });
    if (r.ok) loggedIn(await r.json());
    else showLogin();
  } catch (e) { showLogin(e.message); }
}

document.addEventListener('DOMContentLoaded', start);
