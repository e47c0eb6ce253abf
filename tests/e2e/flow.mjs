// The full operator flow on the embedded NGOC simulator, with the daemon running in the app:
// requests arrive live → readouts → produced → REPORT_OK → parcel shipped → SHIPPED_OK.
// Started by tests/e2e/run.sh after e2e.mjs, on a fresh data directory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KEY, Session, sleep, waitForDriver } from './webdriver.mjs';
import { runner } from './runner.mjs';

const DRIVER = process.env.E2E_DRIVER ?? 'http://127.0.0.1:4444';
const EL = 'element-6066-11e4-a52e-4f735466cecf';

let s;
const { test, shot, finish } = runner(() => s, 'FAILED-flow-');
const go = async (screen) => { await s.click(await s.find(`button[data-screen="${screen}"]`)); await sleep(300); };
/** Tells the virtual card of tests/pcsc/vcard.py what to do ("insert UID", "remove"). */
function virtualCard(command) {
  return new Promise((resolve, reject) => {
    const sock = createConnection(process.env.CARDBENCH_PCSC_CARD);
    let answer = '';
    sock.on('data', (d) => (answer += d));
    sock.on('end', () => (answer.startsWith('ok') ? resolve() : reject(new Error(`virtual card: ${answer}`))));
    sock.on('error', reject);
    sock.write(command + '\n');
  });
}
/** Opens the next card waiting for readouts at the production station; returns its id and fields. */
async function nextWaitingCard() {
  await go('production');
  await s.click(await s.find('[data-testid="sequence-toggle"]'));
  const id = await s.text(await s.waitFor('[data-testid="card-id"]', { timeoutMs: 45_000 }));
  await s.click(await s.find('[data-testid="sequence-toggle"]'));
  const fields = await s.exec(`return [...document.querySelectorAll('input.readout')].map(i => i.dataset.testid.replace('readout-', ''))`);
  return { id, fields };
}
/** How many times NGOC's side (the simulator in the app) received `messageId`, asked through
 * the real CLI on the app's data directory (`cardbench sim received`). */
function timesNgocReceived(messageId) {
  const out = execFileSync(process.env.E2E_CLI, ['--json', 'sim', 'received', '--message-id', messageId], {
    env: { ...process.env, CARDBENCH_DATA_DIR: process.env.E2E_DATA_DIR, CARDBENCH_CONFIG: process.env.E2E_CONFIG },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const rows = JSON.parse(out);
  return rows.length === 0 ? 0 : rows[0].timesReceived;
}
const hex = () => Array.from({ length: 7 }, () => Math.floor(Math.random() * 256).toString(16).padStart(2, '0')).join('').toUpperCase();

await waitForDriver(DRIVER);
s = await Session.start(DRIVER, process.env.E2E_APP);
let cardId = '';
try {
  await test('requests from the simulator appear in the worklist live, and the link is up', async () => {
    await s.waitFor('[data-testid="link-state"]', { text: 'Link: up', timeoutMs: 30_000 });
    await s.waitFor('[data-card]', { timeoutMs: 45_000 });
    await shot('20-flow-worklist-live');
  });

  await test('an unknown code scanned with no card in hand is refused with the reason', async () => {
    await go('production');
    await s.type(await s.find('[data-testid="card-lookup"]'), 'ZZ-NOT-A-CARD' + KEY.Enter);
    const banner = await s.waitFor('[data-testid="feedback"]', { text: 'not understood' });
    const text = await s.text(banner);
    if (!text.includes('"ZZ-NOT-A-CARD" not understood: no such card or shipment, and no card is selected')) throw new Error(text);
    const bad = await s.exec(`return document.querySelector('[data-testid="feedback"]').classList.contains('bad')`);
    if (!bad) throw new Error('the refusal does not show in the failure colour');
  });

  await test('sequence mode presents the next card and produces it from scanned readouts', async () => {
    await go('production');
    await s.click(await s.find('[data-testid="sequence-toggle"]'));
    cardId = await s.text(await s.waitFor('[data-testid="card-id"]', { timeoutMs: 15_000 }));
    const inputs = await s.findAll('input.readout');
    for (let i = 0; i < inputs.length; i++) {
      await s.type(inputs[i], hex() + KEY.Enter);
      await sleep(150);
    }
    if (inputs.length === 0) await s.click(await s.find('[data-testid="produce"]'));
    // With a single card waiting, sequence mode moves on at once and the banner may already say
    // there is nothing left; the next test checks the card itself (REPORT_OK on it).
    await s.waitFor('[data-testid="feedback"]', { text: new RegExp(`Produced ${cardId}|No more cards to produce`) });
    await shot('21-flow-sequence-produced');
  });

  await test('REPORT_OK from NGOC arrives and shows on the card', async () => {
    await s.click(await s.find('[data-testid="sequence-toggle"]'));
    const lookup = await s.find('[data-testid="card-lookup"]');
    await s.type(lookup, cardId + KEY.Enter);
    await s.waitFor('[data-testid="card-status"]', { text: 'REPORT_OK', timeoutMs: 30_000 });
    await s.waitFor('[data-testid="timeline"]', { text: 'REPORT_OK from NGOC' });
    await shot('22-flow-report-ok');
  });

  await test('the card ships in a parcel and NGOC answers SHIPPED_OK', async () => {
    const shipment = await s.exec(`return [...document.querySelectorAll('.kv dt')].find(d => d.textContent === 'Shipment')?.nextElementSibling?.textContent`);
    await go('shipments');
    const row = await s.waitFor('[data-testid="shipment-list"] tr', { text: shipment });
    await s.exec('arguments[0].click()', [{ [EL]: row }]);
    await s.waitFor('[data-testid="gate"]', { text: shipment ? /ready|blocked/ : /./ });
    await s.type(await s.find('[data-testid="parcel-scan"]'), cardId + KEY.Enter);
    await s.waitFor('[data-testid="parcel-cards"]', { text: cardId });
    await s.type(await s.find('[data-testid="carrier"]'), 'PostNord');
    await s.type(await s.find('[data-testid="tracking"]'), 'PN000111222SE');
    await s.click(await s.find('[data-testid="send-shipped"]'));
    await s.click(await s.waitFor('[data-testid="confirm-shipped"]'));
    await s.waitFor('[data-testid="ship-result"]', { text: 'SHIPPED queued' });
    await s.waitFor('[data-testid="parcel-history"]', { text: 'SHIPPED_OK', timeoutMs: 30_000 });
    await shot('23-flow-shipped-ok');
  });

  await test('the outbox drained through the link', async () => {
    await go('queues');
    await s.click(await s.find('[data-testid="tab-outbox"]'));
    await s.waitFor('[data-testid="queue-messages"] tr[data-state="sent"]', { timeoutMs: 15_000 });
    await go('dashboard');
    await shot('24-flow-dashboard');
  });

  await test('a message resent from the queue inspector reaches NGOC again with the same messageId', async () => {
    await go('queues');
    await s.click(await s.find('[data-testid="tab-outbox"]'));
    const row = await s.waitFor('[data-testid="queue-messages"] tr[data-state="sent"]', { text: 'CARD_PRODUCED', timeoutMs: 15_000 });
    await s.jsClick(row);
    const messageId = (await s.text(await s.waitFor('[data-testid="message-id"]', { text: /-/ }))).trim();
    const before = timesNgocReceived(messageId);
    if (before !== 1) throw new Error(`NGOC had ${messageId} ${before} times before the resend, expected 1`);
    const firstSent = (await s.text(await s.waitFor('[data-testid="first-sent"]', { text: /\d{4}-/ }))).trim();
    // Resend asks first, naming what goes again; Enter confirms.
    await s.click(await s.find('[data-testid="resend"]'));
    const ask = await s.text(await s.waitFor('[data-testid="resend-confirm"]'));
    if (!ask.includes(messageId) || !ask.includes('CARD_PRODUCED') || !ask.includes(firstSent)) throw new Error(`the question does not name what goes again: ${ask}`);
    await s.cmd('POST', '/actions', { actions: [{ type: 'key', id: 'kb', actions: [{ type: 'keyDown', value: KEY.Enter }, { type: 'keyUp', value: KEY.Enter }] }] });
    await s.waitFor('.banner', { text: 'same messageId' });
    const until = Date.now() + 30_000;
    let now = before;
    while (now < 2 && Date.now() < until) {
      await sleep(500);
      now = timesNgocReceived(messageId);
    }
    if (now !== 2) throw new Error(`NGOC received ${messageId} ${now} times after the resend, expected 2`);
    // The first send time stays beside the resend's.
    await s.waitFor('[data-testid="resent"]', { text: /1 time\(s\), last .* sent again \d{4}-/, timeoutMs: 15_000 });
    const still = (await s.text(await s.find('[data-testid="first-sent"]'))).trim();
    if (still !== firstSent) throw new Error(`the first send time changed from ${firstSent} to ${still}`);
    await shot('24b-flow-resent');
  });

  await test('"awaiting REPORT_OK" goes from the production station once REPORT_OK is in', async () => {
    const { id, fields } = await nextWaitingCard();
    for (const f of fields) {
      const box = await s.find(`[data-testid="readout-${f}"]`);
      const filled = await s.exec('return arguments[0].value', [{ [EL]: box }]);
      if (!filled) await s.type(box, f === 'MIFARE_UID' ? hex() : `${f}-E2E-2`);
      await sleep(150);
    }
    await s.click(await s.find('[data-testid="produce"]'));
    // The simulator may answer before the produce message is even read: wait for the answer.
    await s.waitFor('[data-testid="card-status"]', { text: /^REPORT_OK$/, timeoutMs: 30_000 });
    await s.waitFor('[data-testid="timeline"]', { text: 'REPORT_OK from NGOC' });
    await sleep(500);
    const stale = await s.exec(`return document.querySelector('[data-testid="feedback"]')?.textContent ?? ''`);
    if (stale.includes('awaiting REPORT_OK')) throw new Error(`beside the REPORT_OK badge the station still says: ${stale}`);
    if (!stale.includes(`Produced ${id}`)) throw new Error(`the record of what the operator did went too: "${stale}"`);
    await shot('24c-flow-report-ok-message-gone');
  });

  await test('a result file in the hot folder set in Settings produces its card', async () => {
    const hot = mkdtempSync(join(tmpdir(), 'cardbench-hot-'));
    await go('settings');
    await s.waitFor('[data-testid="hotfolder-status"]', { text: 'none configured' });
    const box = await s.find('[data-testid="hot-folder"]');
    await s.clear(box);
    await s.type(box, hot);
    await s.click(await s.find('[data-testid="save-settings"]'));
    await s.waitFor('[data-testid="settings-result"]', { text: 'Settings saved' });
    await s.waitFor('[data-testid="hotfolder-status"]', { text: 'watching' });
    // The daemon restarted with the new settings: the link comes back up.
    await s.waitFor('[data-testid="link-state"]', { text: 'Link: up', timeoutMs: 30_000 });

    const { id, fields } = await nextWaitingCard();
    const values = fields.map((f) => (f === 'MIFARE_UID' ? hex() : `${f}-E2E-1`));
    // Written under a temporary name and renamed, as encoders do.
    writeFileSync(join(hot, 'result.tmp'), `cardId,${fields.join(',')}\n${id},${values.join(',')}\n`);
    renameSync(join(hot, 'result.tmp'), join(hot, 'result-1.csv'));
    await s.waitFor('[data-testid="card-status"]', { text: /Awaiting REPORT_OK|REPORT_OK/, timeoutMs: 30_000 });
    await go('settings');
    await s.waitFor('[data-testid="hotfolder-files"]', { text: /result-1\.csv\s*processed/ });
    await s.exec(`document.querySelector('[data-testid="devices-status"]').scrollIntoView()`);
    await shot('25-settings-hot-folder');
  });

  await test('a chip put on the PC/SC reader is the readout of the card in hand', async () => {
    if (!process.env.CARDBENCH_PCSC_CARD) {
      if (process.env.CARDBENCH_SKIP_PCSC_TESTS === '1') return;
      throw new Error('no virtual card: CARDBENCH_PCSC_CARD is not set (tests/pcsc/start-pcscd.sh; CARDBENCH_SKIP_PCSC_TESTS=1 skips)');
    }
    let { id, fields } = await nextWaitingCard();
    // The simulator sends some cards that expect no readout at all: a chip is refused for them
    // ("expects no readout a chip gives"), so produce such a card by hand and take the next.
    for (let skipped = 0; fields.length === 0 && skipped < 5; skipped++) {
      await go('production');
      await s.click(await s.find('[data-testid="produce"]'));
      await s.waitFor('[data-testid="feedback"]', { text: `Produced ${id}` });
      ({ id, fields } = await nextWaitingCard());
    }
    await s.waitFor('[data-testid="reader-indicator"]', { text: 'Reader: ', timeoutMs: 15_000 });
    const uid = '04' + hex().slice(2);
    await virtualCard(`insert ${uid}`);
    try {
      const chipOnly = fields.every((f) => f === 'MIFARE_UID');
      const expected = chipOnly ? `Produced ${id} from the chip` : `${id}: chip stored; still missing`;
      await s.waitFor('[data-testid="feedback"]', { text: expected, timeoutMs: 15_000 });
      await s.waitFor('[data-testid="norm-MIFARE_UID"]', { text: uid });
      await shot('26-production-chip');
    } finally {
      await virtualCard('remove');
    }
  });

  await test("the simulator's fault rates are set in Settings for training: invalid requests arrive and are refused", async () => {
    const setFault = async (testid, value) => {
      await go('settings');
      const box = await s.waitFor(`[data-testid="${testid}"]`);
      await s.exec(`arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', { bubbles: true }));`, [{ [EL]: box }, String(value)]);
      await s.click(await s.find('[data-testid="save-settings"]'));
      await s.waitFor('[data-testid="settings-result"]', { text: 'Settings saved' });
      await s.waitFor('[data-testid="link-state"]', { text: 'Link: up', timeoutMs: 30_000 });
    };
    await setFault('fault-invalid-requests', 100);
    try {
      await go('queues');
      await s.exec(`const el = document.querySelector('[data-testid="queue-state"]'); el.value = 'rejected'; el.dispatchEvent(new Event('change', { bubbles: true }));`);
      const row = await s.waitFor('[data-testid="queue-messages"] tr[data-state="rejected"]', { timeoutMs: 45_000 });
      await s.jsClick(row);
      const reason = await s.text(await s.waitFor('[data-testid="message-reason"]'));
      if (!/Reason:/.test(reason)) throw new Error(`no reason shown: ${reason}`);
      await shot('27-flow-training-invalid-request');
    } finally {
      await setFault('fault-invalid-requests', 0);
    }
  });

  // ---- Reporting to the bureau's systems (issue 16): webhooks, the card API, delivery attempts ----
  /** Sets an input's value as typing would (Svelte's bind listens to `input`). */
  const typeInto = (css, value) =>
    s.exec(`const el = document.querySelector(arguments[0]); el.value = arguments[1]; el.dispatchEvent(new Event('input', { bubbles: true }));`, [css, value]);
  const pick = (css, value) =>
    s.exec(`const el = document.querySelector(arguments[0]); el.value = arguments[1]; el.dispatchEvent(new Event('change', { bubbles: true }));`, [css, value]);

  await test('Reporting: a webhook is added in Settings: its secret is shown once, kept in the keyring, and the webhook is listed', async () => {
    await go('settings');
    await s.waitFor('[data-testid="add-webhook"]');
    await typeInto('[data-testid="webhook-name"]', 'erp-e2e');
    await typeInto('[data-testid="webhook-url"]', 'https://erp.example.invalid/hooks/cards');
    await pick('[data-testid="webhook-encoding"]', 'base64');
    await s.exec(`for (const t of ['CARD_PRODUCED', 'SHIPPED']) document.querySelector('[data-testid="webhook-topics"] input[value="' + t + '"]').click();`);
    await s.jsClick(await s.find('[data-testid="add-webhook-button"]'));
    await s.waitFor('[data-testid="webhook-secret-banner"]', { text: 'this once' });
    const secret = await s.exec(`return document.querySelector('[data-testid="webhook-secret"]').value`);
    if (!/^[0-9a-f]{64}$/.test(secret)) throw new Error(`not a generated secret: ${secret}`);
    const kept = readFileSync(join(process.env.CARDBENCH_SECRETS_DIR, 'cardbench-webhook', 'erp-e2e'), 'utf8').trim();
    if (kept !== secret) throw new Error('the secret shown is not the one kept');
    const row = await s.waitFor('[data-testid="webhook-list"] tr[data-name="erp-e2e"]');
    const text = await s.text(row);
    if (!/active/.test(text) || !/CARD_PRODUCED, SHIPPED/.test(text) || !/base64/.test(text)) throw new Error(`listed as: ${text}`);
    await s.exec(`document.querySelector('[data-testid="webhooks"]').scrollIntoView()`);
    await shot('30-reporting-webhook-secret-once');
    await s.jsClick(await s.find('[data-testid="dismiss-secret"]'));
    const still = await s.exec(`return document.body.innerHTML.includes(arguments[0])`, [secret]);
    if (still) throw new Error('the secret is still on the screen after Done');
    // Added twice: refused with the reason, the first one untouched.
    await typeInto('[data-testid="webhook-name"]', 'erp-e2e');
    await typeInto('[data-testid="webhook-url"]', 'https://erp.example.invalid/other');
    await s.exec(`document.querySelector('[data-testid="webhook-topics"] input[value="REPORT_OK"]').click();`);
    await s.jsClick(await s.find('[data-testid="add-webhook-button"]'));
    await s.waitFor('[data-testid="webhook-result"]', { text: 'erp-e2e' });
    if (readFileSync(join(process.env.CARDBENCH_SECRETS_DIR, 'cardbench-webhook', 'erp-e2e'), 'utf8').trim() !== secret) throw new Error('a refused add replaced the secret');
  });

  await test('Reporting: the card API is enabled in Settings, its token shown once, and it answers with that token only', async () => {
    await go('settings');
    await s.waitFor('[data-testid="api-settings"]');
    const enabled = await s.exec(`return document.querySelector('[data-testid="api-enabled"]').checked`);
    if (!enabled) await s.jsClick(await s.find('[data-testid="api-enabled"]'));
    await typeInto('[data-testid="api-listen"]', '127.0.0.1:0');
    await s.jsClick(await s.find('[data-testid="save-api"]'));
    await s.waitFor('[data-testid="api-result"]', { text: 'saved', timeoutMs: 30_000 });
    await s.waitFor('[data-testid="api-status"]', { text: 'NOT served', timeoutMs: 30_000 });
    await s.jsClick(await s.find('[data-testid="generate-token"]'));
    await s.waitFor('[data-testid="api-token-banner"]', { text: 'this once' });
    const token = await s.exec(`return document.querySelector('[data-testid="api-token"]').value`);
    const status = await s.text(await s.waitFor('[data-testid="api-status"]', { text: 'serving on', timeoutMs: 30_000 }));
    const addr = /http:\/\/([0-9.]+:[0-9]+)\/api\//.exec(status)?.[1];
    if (!addr) throw new Error(`no address in ${status}`);
    await s.exec(`document.querySelector('[data-testid="api-settings"]').scrollIntoView()`);
    await shot('31-reporting-card-api');
    const page = await fetch(`http://${addr}/api/events?limit=5`, { headers: { Authorization: `Bearer ${token}` } });
    if (page.status !== 200) throw new Error(`GET /api/events with the token: ${page.status}`);
    const body = await page.json();
    if (!Array.isArray(body.events) || body.events.length === 0 || !body.events[0].eventId) throw new Error(`events: ${JSON.stringify(body).slice(0, 200)}`);
    const refused = await fetch(`http://${addr}/api/events`, { headers: { Authorization: 'Bearer not-the-token' } });
    if (refused.status !== 401) throw new Error(`a wrong token: ${refused.status}`);
    await s.jsClick(await s.find('[data-testid="dismiss-token"]'));
    await s.waitFor('[data-testid="api-token-state"]', { text: 'kept in the OS keyring' });
  });

  await test("Reporting: a webhook's delivery attempts show in Queues beside NGOC's messages, filtered by destination", async () => {
    // A paused webhook with an event and two failed attempts, written into the running app's store.
    const seed = join(dirname(process.env.E2E_CLI), 'cardbench-seed');
    execFileSync(seed, ['--data-dir', process.env.E2E_DATA_DIR, '--webhook-attempts'], { timeout: 60_000 });
    await go('queues');
    await s.click(await s.find('[data-testid="tab-outbox"]'));
    await s.waitFor('[data-testid="queue-destination"] option[value="webhook:seeded-erp"]');
    await pick('[data-testid="queue-destination"]', 'webhook:seeded-erp');
    const row = await s.waitFor('[data-testid="queue-messages"] tr[data-state]', { text: 'webhook seeded-erp' });
    const shown = await s.exec(`return [...document.querySelectorAll('[data-testid="queue-messages"] td[data-col="destination"]')].map((td) => td.textContent.trim())`);
    if (!shown.length || shown.some((d) => d !== 'webhook seeded-erp')) throw new Error(`the filter shows ${shown.join(', ')}`);
    await s.jsClick(row);
    await s.waitFor('[data-testid="message-destination"]', { text: 'webhook seeded-erp' });
    const attempts = await s.text(await s.waitFor('[data-testid="delivery-attempts"]', { text: '503' }));
    for (const want of ['retry', 'HTTP 503 Service Unavailable', 'upstream ERP is restarting', 'no answer', 'connection refused', '41 ms']) {
      if (!attempts.includes(want)) throw new Error(`attempts lack ${want}: ${attempts}`);
    }
    await shot('32-queues-webhook-attempts');
    // Redeliverable as NGOC's messages are, said in the webhook's terms.
    await s.jsClick(await s.find('[data-testid="resend"]'));
    await s.waitFor('[data-testid="resend-confirm"]', { text: 'again to webhook seeded-erp' });
    await s.jsClick(await s.find('[data-testid="confirm-resend"]'));
    await s.waitFor('[data-testid="queue-note"]', { text: 'put back in line for webhook seeded-erp' });
    // All destinations again: the other destinations' rows are listed beside it.
    await pick('[data-testid="queue-destination"]', '');
    await s.waitFor('[data-testid="queue-messages"] td[data-col="destination"]', { text: 'webhook erp-e2e' });
    await s.waitFor('[data-testid="queue-messages"] td[data-col="destination"]', { text: 'webhook seeded-erp' });
    // Settings names it paused, with the reason.
    await go('settings');
    const paused = await s.text(await s.waitFor('[data-testid="webhook-list"] tr[data-name="seeded-erp"]'));
    if (!/paused/.test(paused) || !/10 failed attempts/.test(paused) || !/\b1\b/.test(paused)) throw new Error(`seeded-erp: ${paused}`);
  });

  await test('issue 15: a card taken at another station shows as taken in the worklist and at the production station, with Produce off, until it is released', async () => {
    // Another station on the same store: the real CLI under another station name.
    const other = (args) => execFileSync(process.env.E2E_CLI, args, {
      env: { ...process.env, CARDBENCH_DATA_DIR: process.env.E2E_DATA_DIR, CARDBENCH_CONFIG: process.env.E2E_CONFIG, CARDBENCH_STATION: 'e2e-bench-9', CARDBENCH_OPERATOR: 'Other Operator' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    await go('worklist');
    await sleep(500);
    const waiting = JSON.parse(other(['--json', 'cards', 'list', '--status', 'received', '--limit', '50'])).rows.map((r) => r.card_id).reverse();
    let card = null;
    for (const id of waiting) {
      try { other(['cards', 'take', id]); card = id; break; } catch { /* held here: the next one */ }
    }
    if (!card) throw new Error(`no received card could be taken at the other station (${waiting.length} waiting)`);
    const search = await s.find('[data-testid="worklist-search"]');
    await s.exec(`arguments[0].value = ''; arguments[0].dispatchEvent(new Event('input', { bubbles: true }));`, [{ [EL]: search }]);
    await s.type(search, card + KEY.Enter);
    // Read from the DOM (laid out, not zero-sized): the row is re-rendered by live refreshes.
    let marker = { text: '', title: '' };
    const markerBy = Date.now() + 15_000;
    while (Date.now() < markerBy && !marker.text.includes('taken at e2e-bench-9')) {
      marker = await s.exec(
        `const m = document.querySelector(arguments[0]); const r = m?.getBoundingClientRect();
         return m && r.width > 0 && r.height > 0 ? { text: m.textContent, title: m.title } : { text: '', title: '' };`,
        [`[data-card="${card}"] [data-testid="taken-marker"]`],
      );
      await sleep(200);
    }
    if (!marker.text.includes('taken at e2e-bench-9')) throw new Error(`no "taken at" marker on ${card} in the worklist`);
    if (!/Taken at e2e-bench-9 by Other Operator since \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/.test(marker.title)) throw new Error(`marker title: ${marker.title}`);
    await shot('35-flow-worklist-taken-elsewhere');

    await go('production');
    await s.type(await s.find('[data-testid="card-lookup"]'), card + KEY.Enter);
    await s.waitFor('[data-testid="card-id"]', { text: card });
    const banner = await s.text(await s.waitFor('[data-testid="taken-banner"]', { text: 'Taken at e2e-bench-9 by Other Operator since' }));
    if (!/since \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/.test(banner)) throw new Error(`banner: ${banner}`);
    const produceOff = await s.exec(`return document.querySelector('[data-testid="produce"]').disabled`);
    if (!produceOff) throw new Error('Produce is enabled on a card taken at another station');
    const inputsOff = await s.exec(`return [...document.querySelectorAll('input.readout')].every(i => i.disabled)`);
    if (!inputsOff) throw new Error('readout fields take input on a card taken at another station');
    await shot('36-flow-production-taken-elsewhere');

    // Released there: the banner goes, this station takes the card (the other one now cannot).
    other(['cards', 'release', card]);
    const until = Date.now() + 15_000;
    while (Date.now() < until && (await s.exec(`return !!document.querySelector('[data-testid="taken-banner"]')`))) await sleep(250);
    if (await s.exec(`return !!document.querySelector('[data-testid="taken-banner"]')`)) throw new Error('the banner stayed after the other station released the card');
    let refused = '';
    try { other(['cards', 'take', card]); } catch (e) { refused = `${e.status} ${e.stderr}`; }
    if (!refused.startsWith('6 ') || !refused.includes('is taken at')) throw new Error(`the other station could take the card back: ${refused || 'exit 0'}`);
  });
} finally {
  await s.end();
}
finish();
