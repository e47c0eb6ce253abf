// The webview phases' shared test runner: named tests run in order on one app session, a
// failure is counted, printed and saved as a screenshot, and the phase exits non-zero unless
// every test it ran passed. E2E_ONLY=text runs only the tests whose name contains it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './webdriver.mjs';

export const ARTIFACTS = process.env.E2E_ARTIFACTS ?? 'tests/artifacts';
mkdirSync(ARTIFACTS, { recursive: true });

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** A runner for one phase; `session()` gives the app's WebDriver session once it has started.
 * `failedPrefix` names the screenshots of failed tests. */
export function runner(session, failedPrefix) {
  let passed = 0;
  let failed = 0;
  const only = process.env.E2E_ONLY;

  async function shot(name) {
    await sleep(400); // let the last DOM change paint
    writeFileSync(join(ARTIFACTS, `${name}.png`), await session().screenshot());
  }

  async function test(name, fn) {
    if (only && !name.includes(only)) return;
    const t0 = Date.now();
    try {
      await fn();
      passed++;
      console.log(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name}: ${e.message}`);
      await shot(`${failedPrefix}${name.replace(/\W+/g, '-')}`).catch(() => {});
    }
  }

  /** Prints the count and ends the process: 0 only when tests ran and all passed. */
  function finish() {
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed === 0 && passed > 0 ? 0 : 1);
  }

  return { test, shot, finish };
}
