// A floor of two stations on one PostgreSQL store (issue 15): the app is station LINE-1; the
// real CLI, configured as station LINE-2 on the same database, changes the worklist beside it.
// The app is started without its daemon, so nothing in its own process tells its screens of
// the change: only the store's change feed (LISTEN/NOTIFY) does. Started by tests/e2e/run.sh
// when a test PostgreSQL is running (CARDBENCH_TEST_PG_URL).
import { execFileSync } from 'node:child_process';
import { Session, sleep, waitForDriver, KEY } from './webdriver.mjs';
import { assert, runner } from './runner.mjs';

const DRIVER = process.env.E2E_DRIVER ?? 'http://127.0.0.1:4444';
let s;
const { test, shot, finish } = runner(() => s, 'FAILED-floor-');
const go = async (screen) => { await s.click(await s.find(`button[data-screen="${screen}"]`)); await sleep(300); };

/** The real CLI as station LINE-2 (its own config and data directory, the same store). */
function lineTwo(args) {
  const out = execFileSync(process.env.E2E_CLI, ['--json', ...args], {
    env: { ...process.env, CARDBENCH_CONFIG: process.env.E2E_LINE2_CONFIG, CARDBENCH_DATA_DIR: process.env.E2E_LINE2_DATA, CARDBENCH_OPERATOR: 'björn' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return out.trim() ? JSON.parse(out) : null;
}

/** A card waiting for readouts whose only expected field is MIFARE_UID (so the CLI can make it). */
function cardToMake() {
  const rows = lineTwo(['cards', 'list', '--status', 'received', '--limit', '50']).rows;
  for (const r of rows) {
    const detail = lineTwo(['cards', 'show', r.card_id]);
    const fields = detail.card.request.card.expectedReportDataFields;
    if (fields.length === 1 && fields[0] === 'MIFARE_UID') return r.card_id;
  }
  throw new Error('no received card expecting only MIFARE_UID in the seeded store');
}

/** SQL on the test server as its administrator, each statement on its own. */
const FLOOR_DB = process.env.E2E_FLOOR_DB;
const admin = (...sql) =>
  execFileSync('psql', [process.env.CARDBENCH_TEST_PG_URL, '-qAt', ...sql.flatMap((q) => ['-c', q])], { encoding: 'utf8', timeout: 30_000 });

/** The store-failing banner is gone (the database is back). */
async function noStoreBanner() {
  const banner = await s.exec(`return document.querySelector('[data-testid="store-failing"]') !== null`);
  assert(!banner, 'the store-failing banner stays once the database is back');
}

await waitForDriver(DRIVER);
// The station starts while the floor's database takes no connections (IT's maintenance).
admin(`ALTER DATABASE ${FLOOR_DB} ALLOW_CONNECTIONS false`);
let refusing = true;
s = await Session.start(DRIVER, process.env.E2E_APP);
let made = '';
try {
  await test('a station started while the floor database is down opens, says so, and loads the worklist once it is back', async () => {
    try {
      // Within a second of the window (its first look), not after a wait for news.
      await s.waitFor('[data-testid="store-failing"]', { text: 'database unreachable since', timeoutMs: 10_000 });
      await shot('59-floor-started-while-database-down');
    } finally {
      admin(`ALTER DATABASE ${FLOOR_DB} ALLOW_CONNECTIONS true`);
      refusing = false;
    }
    const t0 = Date.now();
    await s.waitFor('[data-card]', { timeoutMs: 10_000 });
    console.log(`     worklist shown ${Date.now() - t0} ms after the database took connections again`);
    await noStoreBanner();
  });

  await test('Settings shows the floor store in use and this station', async () => {
    await s.waitFor('[data-card]', { timeoutMs: 30_000 });
    await go('settings');
    const inUse = await s.text(await s.waitFor('[data-testid="store-in-use"]', { text: 'postgres://' }));
    assert(!inUse.includes(process.env.E2E_PG_PASSWORD ?? '\u0000'), `a password is shown: ${inUse}`);
    const station = await s.exec(`return document.querySelector('[data-testid="station-name"]').value`);
    assert(station === 'LINE-1', `station field: ${station}`);
    await shot('60-floor-settings');
  });

  await test('a card produced at another station shows here at once, without a click', async () => {
    made = cardToMake();
    await go('worklist');
    await s.exec(`document.querySelector('[data-testid="worklist-search"]').value = ''`);
    const row = `[data-card="${made}"]`;
    await s.waitFor(`${row}[data-status="received"]`, { timeoutMs: 10_000 });
    const t0 = Date.now();
    lineTwo(['produce', made, 'MIFARE_UID=04A1B2C3D4E5F6']);
    const cliDone = Date.now();
    await s.waitFor(`${row}[data-status="produced"]`, { timeoutMs: 5_000 });
    console.log(`     seen at LINE-1 ${Date.now() - cliDone} ms after the CLI at LINE-2 returned (${Date.now() - t0} ms with the CLI's own run)`);
    await shot('61-floor-worklist-live');
  });

  await test("the card's timeline says who produced it, at which station", async () => {
    await go('production');
    const lookup = await s.find('[data-testid="card-lookup"]');
    await s.type(lookup, made + KEY.Enter);
    await s.waitFor('[data-testid="timeline"]', { text: 'by björn at LINE-2', timeoutMs: 10_000 });
    await shot('62-floor-timeline');
  });

  await test('a card taken at another station is marked taken here, live, and cannot be produced here', async () => {
    const card = cardToMake();
    await go('worklist');
    await s.waitFor(`[data-card="${card}"]`, { timeoutMs: 10_000 });
    lineTwo(['cards', 'take', card]);
    // Read from the DOM: live refreshes re-render the row under the driver's element references.
    const markerBy = Date.now() + 5_000;
    let marker = '';
    while (Date.now() < markerBy && !marker.includes('taken at LINE-2')) {
      marker = await s.exec(`return document.querySelector(arguments[0])?.textContent ?? ''`, [`[data-card="${card}"] [data-testid="taken-marker"]`]);
      await sleep(100);
    }
    assert(marker.includes('taken at LINE-2'), `no "taken at LINE-2" marker on ${card}: ${marker}`);
    await go('production');
    await s.type(await s.find('[data-testid="card-lookup"]'), card + KEY.Enter);
    await s.waitFor('[data-testid="taken-banner"]', { text: 'Taken at LINE-2 by björn since', timeoutMs: 10_000 });
    const produceOff = await s.exec(`return document.querySelector('[data-testid="produce"]').disabled`);
    assert(produceOff, 'Produce is enabled on a card taken at another station');
    await shot('64-floor-taken-at-line-2');
    // LINE-2 produces it; here it turns produced without a click, and the banner goes.
    lineTwo(['produce', card, 'MIFARE_UID=04A1B2C3D4E5F7']);
    await s.waitFor('[data-testid="timeline"]', { text: 'by björn at LINE-2', timeoutMs: 5_000 });
  });

  await test('the dashboard says which station did what this shift', async () => {
    await go('dashboard');
    const row = await s.waitFor('[data-testid="by-station"] [data-station="LINE-2"]', { timeoutMs: 10_000 });
    const cells = await s.exec(`return [...arguments[0].querySelectorAll('td')].map(td => td.textContent.trim())`, [{ 'element-6066-11e4-a52e-4f735466cecf': row }]);
    assert(Number(cells[1]) >= 1, `LINE-2 produced: ${cells}`);
    await shot('63-floor-dashboard');
  });
  await test('the database going away shows on the station at once, and all is live again once it is back', async () => {
    const db = FLOOR_DB;
    await go('worklist');
    const card = cardToMake();
    await s.waitFor(`[data-card="${card}"][data-status="received"]`, { timeoutMs: 10_000 });
    // A failover in progress: the database refuses connections, and the station's sessions end.
    admin(`ALTER DATABASE ${db} ALLOW_CONNECTIONS false`, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '${db}'`);
    try {
      const t0 = Date.now();
      await s.waitFor('[data-testid="link-state"]', { text: 'Store failing: database unreachable since', timeoutMs: 5_000 });
      console.log(`     shown ${Date.now() - t0} ms after the database went away`);
      await s.waitFor('[data-testid="store-failing"]', { text: 'cannot be saved', timeoutMs: 2_000 });
      await shot('65-floor-database-unreachable');
    } finally {
      admin(`ALTER DATABASE ${db} ALLOW_CONNECTIONS true`);
    }
    const back = Date.now() + 5_000;
    let state = '';
    while (Date.now() < back && (state === '' || state.includes('Store failing'))) {
      state = await s.exec(`return document.querySelector('[data-testid="link-state"]').textContent`);
      await sleep(100);
    }
    assert(!state.includes('Store failing'), `still shown failing once the database is back: ${state}`);
    await noStoreBanner();
    // The change feed listens again: LINE-2's work shows here without a click.
    lineTwo(['produce', card, 'MIFARE_UID=04A1B2C3D4E5F8']);
    await s.waitFor(`[data-card="${card}"][data-status="produced"]`, { timeoutMs: 5_000 });
  });
} finally {
  if (refusing) admin(`ALTER DATABASE ${FLOOR_DB} ALLOW_CONNECTIONS true`);
  await s.end();
}

finish();
