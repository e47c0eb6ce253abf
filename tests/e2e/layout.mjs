// Layouts that fit a workstation screen (issue 17): the window opens fitted to the monitor, and at
// 1280×800 and at 1920×1080 every screen shows its key columns and controls inside the viewport,
// ids on one line (never wrapped mid-id, a cut one shows its whole value on hover), and no screen
// needs a horizontal scrollbar. Started by tests/e2e/run.sh as its own phase on a freshly seeded
// data directory (cardbench-seed --demo --sim-ids, no daemon), under an Xvfb screen of 1920×1080.
// Each screen at each size is saved as tests/artifacts/layout-<w>x<h>-<screen>.png.

import { join } from 'node:path';
import { KEY, Session, sleep, waitForDriver } from './webdriver.mjs';
import { assert, runner } from './runner.mjs';

const DRIVER = process.env.E2E_DRIVER ?? 'http://127.0.0.1:4444';
const APP = process.env.E2E_APP;
const EL = 'element-6066-11e4-a52e-4f735466cecf';
const SIZES = [
  [1280, 800],
  [1920, 1080],
];
// Seeded by `cardbench-seed --sim-ids`: ids in the embedded simulator's shape (the longest an
// operator sees on the simulator), in a shipment that waits for REPORT_OK.
const SIM_SHIPMENT = 'SHP-4TGT-000017';
const SIM_CARD = '4TGT-0000101';

let s;
const { test, shot, finish } = runner(() => s, 'FAILED-layout-');

async function go(screen) {
  await s.click(await s.find(`button[data-screen="${screen}"]`));
  await sleep(400);
}

async function field(testid, text, { enter = false } = {}) {
  const el = await s.find(`[data-testid="${testid}"]`);
  await s.exec(`arguments[0].value = ''; arguments[0].dispatchEvent(new Event('input', { bubbles: true }));`, [{ [EL]: el }]);
  await s.type(el, text + (enter ? KEY.Enter : ''));
  return el;
}

/** Sets the window's outer size and waits until the page has that viewport. */
async function resize(width, height) {
  await s.cmd('POST', '/window/rect', { x: 0, y: 0, width, height });
  const until = Date.now() + 10_000;
  let seen;
  while (Date.now() < until) {
    seen = await s.exec(`return [window.innerWidth, window.innerHeight]`);
    if (Math.abs(seen[0] - width) <= 4 && Math.abs(seen[1] - height) <= 40) return;
    await sleep(200);
  }
  throw new Error(`the window did not become ${width}×${height}: the page sees ${seen}`);
}

// One page-side check of a screen. `keys` lists what must be inside the viewport, each a CSS
// selector with:
//   vertical: its box also lies within the viewport's height (headers, main controls);
//   oneLine:  its text is on one line (id cells: never wrapped);
//   whole:    its text is not cut, or it is cut with an ellipsis and a title holding all of it;
//   minWidth: its box is at least this wide (free text such as reasons gets the width);
//   within:   its box lies inside the content box of its closest ancestor matching this selector.
// Answers the list of problems, empty when the screen is fine.
const CHECK = `
  const [keys] = arguments;
  const vw = document.documentElement.clientWidth, vh = window.innerHeight;
  const problems = [];
  const name = (el) => (el.dataset.testid ? '[data-testid=' + el.dataset.testid + ']' : el.tagName.toLowerCase()) + ' "' + el.textContent.trim().slice(0, 40) + '"';
  const lines = (el) => {
    const r = document.createRange();
    r.selectNodeContents(el);
    const tops = [...r.getClientRects()].filter((b) => b.width > 0 && b.height > 0).map((b) => b.bottom);
    const rows = [];
    for (const t of tops.sort((a, b) => a - b)) if (!rows.some((x) => Math.abs(x - t) < 4)) rows.push(t);
    return rows.length;
  };
  for (const k of keys) {
    const els = [...document.querySelectorAll(k.css)].slice(0, k.max ?? 12);
    if (els.length === 0) { problems.push(k.css + ': not on the screen'); continue; }
    for (const el of els) {
      const b = el.getBoundingClientRect();
      if (b.width === 0 && b.height === 0) { problems.push(k.css + ': ' + name(el) + ' is not shown'); continue; }
      if (b.left < -1 || b.right > vw + 1) problems.push(k.css + ': ' + name(el) + ' lies outside the viewport across (' + Math.round(b.left) + '…' + Math.round(b.right) + ' of ' + vw + ')');
      if (k.vertical && (b.top < -1 || b.bottom > vh + 1)) problems.push(k.css + ': ' + name(el) + ' lies outside the viewport down (' + Math.round(b.top) + '…' + Math.round(b.bottom) + ' of ' + vh + ')');
      // Inside a scrolled panel: within that panel's visible box across.
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const ov = getComputedStyle(p).overflowX;
        if (ov === 'auto' || ov === 'scroll' || ov === 'hidden') {
          const pb = p.getBoundingClientRect();
          if (b.left < pb.left - 1 || b.right > pb.right + 1) problems.push(k.css + ': ' + name(el) + ' overflows its panel across (' + Math.round(b.right) + ' > ' + Math.round(pb.right) + ')');
          break;
        }
      }
      if (k.oneLine && lines(el) > 1) problems.push(k.css + ': ' + name(el) + ' wraps over ' + lines(el) + ' lines');
      if (k.whole) {
        const cut = [el, ...el.querySelectorAll('*')].some((x) => x.scrollWidth > x.clientWidth + 1 && getComputedStyle(x).overflowX !== 'visible');
        const title = el.closest('[title]')?.getAttribute('title') ?? '';
        if (cut && !title.includes(el.textContent.trim())) problems.push(k.css + ': ' + name(el) + ' is cut without a title holding its whole value');
      }
      const box = k.within && el.parentElement.closest(k.within);
      if (box) {
        const pb = box.getBoundingClientRect(), cs = getComputedStyle(box);
        const right = pb.right - parseFloat(cs.paddingRight) - parseFloat(cs.borderRightWidth);
        if (b.right > right + 1) problems.push(k.css + ': ' + name(el) + ' overflows its ' + k.within + ' (' + Math.round(b.right) + ' > ' + Math.round(right) + ')');
      }
      if (k.minWidth && b.width < k.minWidth) problems.push(k.css + ': ' + name(el) + ' is only ' + Math.round(b.width) + 'px wide (want ' + k.minWidth + ')');
    }
  }
  // No horizontal scrollbar: neither the page nor the screen's scrolling area.
  for (const el of [document.scrollingElement, document.querySelector('main.content')]) {
    if (el && el.scrollWidth > el.clientWidth + 1) problems.push((el.className || el.tagName) + ' scrolls across: ' + el.scrollWidth + ' > ' + el.clientWidth);
  }
  return problems;
`;

async function check(keys) {
  const problems = await s.exec(CHECK, [keys]);
  assert(problems.length === 0, problems.join('; '));
}

// What each screen must show, and how to bring it into the state the operator sees.
const SCREENS = [
  {
    screen: 'worklist',
    async prepare() {
      await field('worklist-search', '');
      await s.waitFor('[data-card]');
      // The simulator-shaped shipment first, so its long ids are among the rows checked.
      await field('worklist-search', 'SHP-4TGT');
      await s.waitFor(`[data-card="${SIM_CARD}"]`);
      await field('worklist-search', '');
      await s.waitFor('[data-card="C-0000000"]');
    },
    keys: [
      { css: '[data-testid="worklist-head"] > span', vertical: true, oneLine: true },
      { css: '[data-testid="worklist-search"]', vertical: true },
      { css: '[data-card] > [data-col="card"]', oneLine: true, whole: true, max: 25 },
      { css: '[data-card] > [data-col="shipment"]', oneLine: true, whole: true, max: 25 },
      { css: '[data-card] > [data-col="status"]', oneLine: true, max: 25 },
    ],
    async extra() {
      // The simulator's ids are shown whole, not cut to 'SHP-4TGT-00…'.
      await field('worklist-search', SIM_SHIPMENT);
      await s.waitFor(`[data-card="${SIM_CARD}"]`);
      await check([
        { css: '[data-card] > [data-col="card"]', oneLine: true, whole: true },
        { css: '[data-card] > [data-col="shipment"]', oneLine: true, whole: true },
      ]);
      const cut = await s.exec(`return [...document.querySelectorAll('[data-card] > [data-col="shipment"], [data-card] > [data-col="card"]')]
        .filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent)`);
      assert(cut.length === 0, `simulator ids cut: ${cut.join(', ')}`);
      await field('worklist-search', '');
    },
  },
  {
    screen: 'production',
    async prepare() {
      await field('card-lookup', SIM_CARD, { enter: true });
      await s.waitFor('[data-testid="card-id"]', { text: SIM_CARD });
    },
    keys: [
      { css: '[data-testid="card-lookup"]', vertical: true },
      { css: '[data-testid="card-id"]', vertical: true, oneLine: true },
      { css: '[data-testid="card-status"]', vertical: true, oneLine: true },
      { css: '[data-testid="card-elements"]' },
      { css: 'input.readout', vertical: true },
      { css: '[data-testid="produce"]' },
    ],
  },
  {
    screen: 'shipments',
    async prepare() {
      await s.jsClick(await s.waitFor('[data-testid="shipment-list"] tr', { text: SIM_SHIPMENT }));
      await s.waitFor('h1.mono', { text: SIM_SHIPMENT });
      await s.waitFor('[data-testid="gate"]', { text: 'await REPORT_OK' });
    },
    keys: [
      { css: '[data-testid="shipment-list"] th', vertical: true, oneLine: true },
      { css: '[data-testid="shipment-list"] td[data-col="shipment"] > :first-child', oneLine: true, whole: true },
      { css: '[data-testid="shipment-list"] td[data-col="waiting"]', oneLine: true },
      { css: '[data-testid="gate"]', vertical: true },
      { css: '[data-testid="parcel-scan"]', vertical: true },
      { css: '[data-testid="parcel-accessories"] input', within: '.panel' },
      { css: '[data-testid="parcel-accessories"]', within: '.panel' },
      { css: '[data-testid="parcel-accessories"] th', oneLine: true },
      { css: '[data-testid="shipment-cards"] td[data-col="card"]', oneLine: true, whole: true },
      { css: '[data-testid="send-shipped"]' },
    ],
  },
  {
    screen: 'queues',
    async prepare() {
      await s.click(await s.find('[data-testid="tab-inbox"]'));
      await s.waitFor('[data-testid="queue-messages"] tr[data-state]');
    },
    keys: [
      { css: '[data-testid="queue-messages"] th', vertical: true, oneLine: true },
      { css: '[data-testid="queue-messages"] td[data-col="id"]', oneLine: true, max: 40 },
      { css: '[data-testid="queue-messages"] td[data-col="at"]', oneLine: true },
      { css: '[data-testid="queue-messages"] td[data-col="card"]', oneLine: true, whole: true, max: 40 },
      // Something to read beside the list, not an empty pane: the first message is shown.
      { css: '[data-testid="message-detail"] [data-testid="message-body"]', vertical: true },
    ],
  },
  {
    screen: 'dashboard',
    async prepare() {
      await s.waitFor('[data-testid="status-counts"]', { text: 'cards in all' });
    },
    keys: [
      { css: '[data-testid="status-counts"] .tile', vertical: true },
      { css: '[data-testid="write-documents"]', vertical: true },
      { css: '[data-testid="period-from"]', vertical: true },
      { css: '[data-testid="recent-errors"] td[data-col="card"]', oneLine: true, whole: true },
      // A reason reads as text: at least ~40 characters a line, not a few letters.
      { css: '[data-testid="recent-errors"] td[data-col="detail"]', minWidth: 300 },
    ],
  },
  {
    screen: 'settings',
    async prepare() {
      await s.waitFor('[data-testid="operator-name"]');
    },
    keys: [
      { css: '[data-testid="operator-name"]', vertical: true },
      { css: '[data-testid="inbound-queue"]' },
      { css: '[data-testid="hot-folder"]' },
      { css: '[data-testid="save-settings"]' },
      { css: '[data-testid="config-file"]', whole: true },
    ],
  },
  {
    screen: 'logs',
    async prepare() {
      await s.waitFor('[data-testid="log-lines"]', { text: 'Cardbench starting' });
    },
    keys: [{ css: '[data-testid="log-lines"]', vertical: true }],
  },
];

await waitForDriver(DRIVER);
s = await Session.start(DRIVER, APP);
try {
  await s.waitFor('[data-card]', { timeoutMs: 30_000 });

  await test('the window opens fitted to the screen', async () => {
    const rect = await s.cmd('GET', '/window/rect');
    const screen = await s.exec(`return [screen.availWidth, screen.availHeight]`);
    assert(rect.width >= screen[0] - 2 && rect.height >= screen[1] - 40,
      `the window is ${rect.width}×${rect.height} on a ${screen[0]}×${screen[1]} screen`);
  });

  await test('the window keeps a minimum size of 1280×720', async () => {
    await s.cmd('POST', '/window/rect', { x: 0, y: 0, width: 1000, height: 600 });
    await sleep(800);
    const rect = await s.cmd('GET', '/window/rect');
    assert(rect.width >= 1280 && rect.height >= 720, `the window became ${rect.width}×${rect.height}`);
  });

  await test('date fields show and take ISO dates (2026-12-07), whatever the locale', async () => {
    await go('dashboard');
    const fields = await s.exec(`return [...document.querySelectorAll('[data-testid="period-from"], [data-testid="period-to"]')]
      .map((e) => ({ type: e.type, value: e.value, placeholder: e.placeholder }))`);
    assert(fields.length === 2, `the dashboard has ${fields.length} period fields`);
    for (const f of fields) {
      // WebKitGTK's type=date shows the locale's order (12/07/2026): the field is ISO text.
      assert(f.type === 'text' && /^\d{4}-\d{2}-\d{2}$/.test(f.value) && f.placeholder === 'YYYY-MM-DD', `period field ${JSON.stringify(f)}`);
    }
    // A worklist filter typed as ISO applies; a date in another order is marked and not applied.
    await go('worklist');
    await field('worklist-search', '');
    await field('worklist-from', '2099-01-01');
    await s.waitFor('[data-testid="worklist-count"]', { text: /^0 cards/ });
    await field('worklist-from', '01/01/2020');
    await s.exec(`document.querySelector('[data-testid="worklist-search"]').focus()`);
    const bad = await s.exec(`const e = document.querySelector('[data-testid="worklist-from"]'); return [e.getAttribute('aria-invalid'), e.validationMessage]`);
    assert(bad[0] === 'true' && bad[1].includes('YYYY-MM-DD'), `01/01/2020 is not marked: ${bad}`);
    await field('worklist-from', '');
    await s.waitFor('[data-card]');
  });

  await test('typed text is clearly darker than placeholders', async () => {
    await go('worklist');
    // WebKit's getComputedStyle(input, '::placeholder') answers the input's own colour, so the
    // placeholder's colour is read from the app's rule that sets it (without one the webview's
    // default applies, which the app does not control: the check fails).
    const [ink, hint] = await s.exec(`const e = document.querySelector('[data-testid="worklist-search"]');
      const rule = [...document.styleSheets].flatMap((sh) => [...sh.cssRules])
        .filter((r) => r.selectorText && /(^|,\\s*)input::placeholder/.test(r.selectorText) && r.style.color).pop();
      let hint = getComputedStyle(e).color;
      if (rule) { const probe = document.createElement('span'); probe.style.color = rule.style.color; document.body.append(probe); hint = getComputedStyle(probe).color; probe.remove(); }
      return [getComputedStyle(e).color, hint]`);
    const lum = (c) => {
      const [r, g, b] = c.match(/[\d.]+/g).slice(0, 3).map((v) => Number(v) / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ratio = (lum(hint) + 0.05) / (lum(ink) + 0.05);
    assert(ratio >= 4, `placeholder ${hint} against typed ${ink}: contrast ${ratio.toFixed(2)}, want ≥ 4`);
  });

  for (const [w, h] of SIZES) {
    for (const sc of SCREENS) {
      await test(`at ${w}×${h} the ${sc.screen} screen shows its key columns without a horizontal scrollbar`, async () => {
        await resize(w, h);
        await go(sc.screen);
        await sc.prepare();
        await sleep(300);
        await shot(`layout-${w}x${h}-${sc.screen}`);
        await check(sc.keys);
        if (sc.extra) await sc.extra();
      });
    }
  }
} finally {
  await s.end();
}

finish();
