// The web console in a real browser: Debian's chromium, headless, driven by
// puppeteer-core. What an operator does on a shift: log in, find a message
// by PID-3 and replay it, park and retry a queued message, link a study on
// the exception list to its order and see its state change; and what a
// viewer may not do. A screenshot of every page goes to SHOTS.
//
// usage: node console_test.js BASE_URL SHOTS_DIR CHROMIUM
// Exit status 0 when every check held; else 1 with what failed.
'use strict';
const puppeteer = require('puppeteer-core');
const path = require('path');

const [base, shots, chromium] = process.argv.slice(2);
// Each wait's limit is for a plain build on an idle machine, times the
// factor the sanitizer build sets (tests/integration/lib.sh).
const F = Number(process.env.RADLINK_TIME_FACTOR) || 1;
let step = '';

function check(ok, what) {
  if (!ok) throw new Error(what);
  console.log('ok - ' + what);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });
}

// Go to a console page and wait until it has drawn.
async function go(page, hash) {
  await page.evaluate(h => { location.hash = h; }, hash);
  await page.waitForFunction(() => !document.querySelector('#page').hasAttribute('data-loading') &&
    document.querySelector('#page').childNodes.length > 0, { timeout: 10000 * F });
}

async function texts(page, sel) {
  return page.$$eval(sel, els => els.map(e => e.textContent.trim()));
}

async function login(page, user, password) {
  await page.goto(base + '/', { waitUntil: 'load' });
  await page.waitForSelector('#login:not([hidden])');
  await page.type('#login-user', user);
  await page.type('#login-password', password);
  await Promise.all([
    page.waitForFunction(() => document.querySelector('#who').textContent.length > 0, { timeout: 15000 * F }),
    page.click('#login-submit'),
  ]);
}

async function bannerText(page) {
  await page.waitForFunction(() => !document.querySelector('#banner').hidden, { timeout: 10000 * F });
  return page.$eval('#banner', b => b.textContent);
}

// The queue page's items as it shows them: [destination, qseq, state] a row.
async function queueRows(page) {
  return page.$$eval('#queue-items tr', trs => trs.slice(1).map(tr =>
    [...tr.querySelectorAll('td')].slice(0, 3).map(td => td.textContent.trim())));
}

// The queue page's destinations: [name, queued, parked] a row.
async function destinationRows(page) {
  return page.$$eval('#destinations tr', trs => trs.slice(1).map(tr => {
    const td = [...tr.querySelectorAll('td')].map(x => x.textContent.trim());
    return [td[0], td[1], td[3]];
  }));
}

async function messageSeqs(page) {
  return page.evaluate(async () => {
    const r = await fetch('/api/messages?limit=100');
    return (await r.json()).messages.map(m => m.seq);
  });
}

(async () => {
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
  const page = await browser.newPage();
  page.setDefaultTimeout(30000 * F);
  await page.setViewport({ width: 1280, height: 900 });
  const failures = [];
  page.on('pageerror', e => failures.push('page error: ' + e.message));
  page.on('console', m => { if (m.type() === 'error' && !/40[13]/.test(m.text())) failures.push('console: ' + m.text()); });
  // nothing may be fetched from anywhere but the engine
  page.on('request', r => { if (!r.url().startsWith(base)) failures.push('fetched from elsewhere: ' + r.url()); });
  try {
    step = 'the login page';
    await page.goto(base + '/', { waitUntil: 'load' });
    await page.waitForSelector('#login:not([hidden])');
    await shot(page, '01-login');
    check(!(await page.content()).includes('SECRET'), 'no patient data before login');

    step = 'a wrong password';
    await page.type('#login-user', 'ann');
    await page.type('#login-password', 'not-the-password');
    await page.click('#login-submit');
    check((await bannerText(page)).includes('wrong user name or password'), 'a wrong password is refused');

    step = 'login as an operator';
    await login(page, 'ann', 'pass-ann-123');
    check((await page.$eval('#who', e => e.textContent)) === 'ann (operator)', 'logged in as ann (operator)');
    check(await page.$eval('#login', e => getComputedStyle(e).display === 'none'), 'the login form is gone');
    await page.waitForSelector('#cards');
    await shot(page, '02-overview');
    const cards = await page.$eval('#cards', e => e.textContent);
    check(/4\s*messages logged/.test(cards), 'the overview counts 4 messages: ' + cards);
    check(/1\s*unmatched studies/.test(cards), 'the overview counts 1 unmatched study');
    check(!(await page.content()).includes('SECRET'), 'no patient data on the overview');
    check((await page.$$('.chart svg polyline')).length >= 4, 'the last hour\'s charts are drawn');

    step = 'the alert banner';
    // the queue of the RIS that is down fires <rule on="queue-depth">: above
    // every page, as `radlink alerts list` says it; no patient in it
    await page.reload();
    await page.waitForFunction(() => !document.querySelector('#alerts').hidden &&
      document.querySelector('#alerts [data-alert="queue-depth"]'), { timeout: 30000 * F });
    const alerts = await page.$eval('#alerts', e => e.textContent);
    check(/1 alert firing/.test(alerts) && alerts.includes('queue-depth ris-down: destination ris-down: 3 messages waiting'),
      'the banner says the queue alert: ' + alerts);
    check(!alerts.includes('SECRET'), 'no patient data in the alert banner');
    await shot(page, '02b-alert-banner');

    step = 'check a DICOM node from the overview';
    await go(page, '/');
    await page.waitForSelector('#pacs button.check[data-ae="DOWNPACS"]');
    await page.click('#pacs button.check[data-ae="DOWNPACS"]');
    await page.waitForSelector('#pacs-checks', { timeout: 30000 * F });
    const checked = await page.$eval('#pacs-check', e => e.textContent);
    check(/noC-ECHO/.test(checked) && checked.includes('check the host and port'),
      'the check says C-ECHO fails, with the remedy: ' + checked);
    await shot(page, '02c-pacs-check');

    step = 'a count is a link to its list';
    await Promise.all([
      page.waitForFunction(() => location.hash === '#/exceptions', { timeout: 5000 * F }),
      page.evaluate(() => [...document.querySelectorAll('#cards a')].find(a => a.textContent.includes('unmatched')).click()),
    ]);
    await page.waitForSelector('#studies');
    check((await texts(page, '#studies td:first-child')).includes('1.2.999.8'), 'the unmatched count opens the exception list');
    await page.waitForSelector('#reports');
    const held = await page.$eval('#reports', e => e.textContent);
    check(/9999\s*final\s*held/.test(held), 'the exception list shows the report held for want of its order: ' + held);
    await shot(page, '03-exceptions');

    step = 'find a message by PID-3';
    await go(page, '#/messages');
    await page.type('#f-q', 'PID-3.1=P-SECRET-2');
    await page.click('#f-submit');
    await page.waitForFunction(() => location.hash.includes('q=') && document.querySelector('#messages'), { timeout: 10000 * F });
    await page.waitForSelector('#search-info');
    const found = await texts(page, '#messages td:first-child');
    check(JSON.stringify(found) === '["3","2"]', 'PID-3.1=P-SECRET-2 finds messages 3 and 2: ' + found);
    check(!(await page.$eval('#messages', e => e.textContent)).includes('SECRET'), 'the list shows no patient data');
    check((await page.$eval('#search-info', e => e.textContent)).includes('by the patient index'), 'the index answered');
    await shot(page, '04-messages-search');

    step = 'open and replay it';
    await Promise.all([page.waitForSelector('#replay'), page.click('#messages td:first-child a')]);
    check((await page.$eval('#raw', e => e.textContent)).includes('P-SECRET-2'), 'the detail page shows the message');
    check((await page.$eval('#tree', e => e.textContent)).includes('PID-3'), 'with its tree');
    check((await page.$eval('#ack', e => e.textContent)).includes('MSA|AA|C3'), 'and the ACK sent');
    await shot(page, '05-message');
    const before = await messageSeqs(page);
    await page.click('#replay');
    check((await bannerText(page)).startsWith('replay:'), 'the replay answers');
    const after = await messageSeqs(page);
    check(after.length === before.length + 1 && after[0] === 5, 'the replay is logged as message 5');
    await shot(page, '06-message-replayed');

    step = 'find a message by name, as the RIS spells it or not';
    await go(page, '#/messages');
    await page.type('#f-name', 'nobody^kn*');
    await page.click('#f-submit');
    // the page before had a list too: wait for the one the name index answered
    await page.waitForFunction(() => location.hash.includes('name=') &&
      (document.querySelector('#search-info') || {}).textContent?.includes('by the name index'), { timeout: 10000 * F });
    const byName = await texts(page, '#messages td:first-child');
    check(JSON.stringify(byName) === '["5","4","3","2"]', 'a folded name prefix finds the replay, the report and both orders: ' + byName);

    step = 'from a message to its order\'s story (trace)';
    await go(page, '#/message/3');
    await page.waitForSelector('.trace-links a');
    await Promise.all([page.waitForSelector('#story'), page.click('.trace-links a')]);
    check(decodeURIComponent(await page.evaluate(() => location.hash)).includes('accession=9003'), 'the first link is the order (OBR-18) of message 3');
    const story = await page.$eval('#story', e => e.textContent);
    check(story.includes('message 3') && story.includes('ORM^O01') && story.includes('worklist 9003'), 'the story shows message 3 and its worklist entry: ' + story.slice(0, 300));
    check(story.includes('message 5'), 'and its replay');
    await shot(page, '06b-trace');

    step = 'park and retry a queued message';
    await go(page, '#/queues');
    await page.waitForSelector('#queue-items button.park');
    await page.click('#queue-items button.park[data-qseq="1"]');
    await page.waitForSelector('#queue-items button.retry[data-qseq="1"]', { timeout: 10000 * F });
    let rows = await queueRows(page);
    // the three orders and the replay wait for the RIS that is down
    check(JSON.stringify(rows) === '[["ris-down","1","parked"],["ris-down","2","pending"],["ris-down","3","pending"],["ris-down","4","pending"]]',
      'the queue page shows item 1 of ris-down parked, 2 to 4 pending: ' + JSON.stringify(rows));
    let dests = await destinationRows(page);
    check(JSON.stringify(dests) === '[["ris-down","3","1"]]',
      'the destination row counts 3 queued and 1 parked: ' + JSON.stringify(dests));
    await shot(page, '07-queues-parked');
    await page.click('#queue-items button.retry[data-qseq="1"]');
    await page.waitForSelector('#queue-items button.park[data-qseq="1"]', { timeout: 10000 * F });
    rows = await queueRows(page);
    check(rows.length === 4 && rows.every(r => r[2] === 'pending'),
      'retried: the queue page shows all four pending: ' + JSON.stringify(rows));
    dests = await destinationRows(page);
    check(JSON.stringify(dests) === '[["ris-down","4","0"]]', 'and none parked: ' + JSON.stringify(dests));
    const parked = await page.evaluate(async () => (await (await fetch('/api/queues?state=parked')).json()).total);
    check(parked === 0, 'retried: nothing parked any more');
    await shot(page, '08-queues-retried');

    step = 'link the unmatched study to its order';
    await go(page, '#/study/1.2.999.8');
    check((await page.$eval('#study-state', e => e.textContent)) === 'unmatched', 'the study is unmatched');
    const dest = await page.$eval('#study-destinations', e => e.textContent);
    check(dest === 'every PACS', 'where its instances go (no DICOM routes, no PACS): ' + dest);
    const cands = await texts(page, '#candidates td:first-child');
    check(JSON.stringify(cands) === '["9002","9003"]', 'its candidate orders: ' + cands);
    await shot(page, '09-study-unmatched');
    await page.click('#candidates button.link-candidate');
    await page.waitForFunction(() => document.querySelector('#study-state') &&
      document.querySelector('#study-state').textContent !== 'unmatched', { timeout: 10000 * F });
    const state = await page.$eval('#study-state', e => e.textContent);
    check(state !== 'unmatched', 'linked: the state is now ' + state);
    check((await page.$eval('main', e => e.textContent)).includes('accession 9002'), 'the order shows');
    await shot(page, '10-study-linked');

    step = 'the other pages';
    for (const [hash, name, sel] of [['#/jobs', '11-jobs', '#jobs'], ['#/studies', '12-studies', '#studies'],
      ['#/worklist?date=20261201', '13-worklist', '#worklist'], ['#/wl/9002', '14-worklist-entry', '#wl-attributes'],
      ['#/routes', '15-routes', '#reload'], ['#/', '16-overview-after', '#cards']]) {
      await go(page, hash);
      await page.waitForSelector(sel);
      await shot(page, name);
    }
    check(JSON.stringify(await texts(page, '#destinations td:first-child')) === '["ris-down"]', 'the destination on the overview');
    await go(page, '#/jobs');
    await page.waitForSelector('#jobs');
    const to = await texts(page, '#jobs td:nth-child(5)');
    check(to.length > 0 && to.every(t => t === '(spool only)'), 'each job names its destination (no PACS here: the spool only): ' + to);
    await go(page, '#/worklist?station=US01');
    check(JSON.stringify(await texts(page, '#worklist td:first-child')) === '["9002","9003"]', 'the worklist by station');

    step = 'an operator may not reload routes';
    await go(page, '#/routes');
    await page.click('#reload');
    check((await bannerText(page)).includes('operator may not do this'), 'reload refused to an operator');

    step = 'log out';
    await page.click('#logout');
    await page.waitForSelector('#login:not([hidden])');
    const gone = await page.evaluate(async () => (await fetch('/api/status')).status);
    check(gone === 401, 'after logout the API answers 401');

    step = 'a viewer is refused an operator action';
    await login(page, 'vic', 'pass-vic-123');
    await go(page, '#/message/1');
    const n0 = (await messageSeqs(page)).length;
    await page.click('#replay');
    const refusal = await bannerText(page);
    check(refusal.includes('viewer may not do this: it needs the operator role'), 'the viewer is told why: ' + refusal);
    check((await messageSeqs(page)).length === n0, 'nothing was replayed');
    await shot(page, '17-viewer-refused');
    await go(page, '#/queues');
    await page.click('#queue-items button.park');
    check((await bannerText(page)).includes('viewer may not do this'), 'a viewer may not park');
    check((await page.evaluate(async () => (await (await fetch('/api/queues?state=parked')).json()).total)) === 0, 'nothing parked');
  } catch (e) {
    failures.push(step + ': ' + e.message);
    try { await shot(page, 'failure'); } catch (ignored) { /* the page is gone */ }
  }
  await browser.close();
  for (const f of failures) console.error('FAIL: ' + f);
  process.exit(failures.length ? 1 : 0);
})();
