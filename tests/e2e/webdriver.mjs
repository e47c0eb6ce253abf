// A minimal W3C WebDriver client over fetch (Node 20): enough to drive the app through
// tauri-driver → WebKitWebDriver without any npm dependency.
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  static async start(base, application, args = []) {
    const body = {
      capabilities: {
        alwaysMatch: { browserName: 'wry', 'tauri:options': { application, args } },
      },
    };
    const r = await request(base, 'POST', '/session', body, 60_000);
    return new Session(base, r.sessionId ?? r.value?.sessionId);
  }

  cmd(method, path, body, timeoutMs = 30_000) {
    return request(this.base, method, `/session/${this.id}${path}`, body, timeoutMs).then((r) => r.value);
  }

  async find(css) {
    const v = await this.cmd('POST', '/element', { using: 'css selector', value: css });
    return v[ELEMENT];
  }

  async findAll(css) {
    const v = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return v.map((e) => e[ELEMENT]);
  }

  /** Waits until `css` matches an element (and `test(text)` holds, when given). */
  async waitFor(css, { timeoutMs = 15_000, text } = {}) {
    const until = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < until) {
      try {
        const els = await this.findAll(css);
        for (const el of els) {
          const t = await this.text(el);
          last = t;
          if (!text || (typeof text === 'string' ? t.includes(text) : text.test(t))) return el;
        }
      } catch {
        // not there yet
      }
      await sleep(200);
    }
    throw new Error(`timed out waiting for ${css}${text ? ` with ${text}` : ''} (last text: ${last.slice(0, 200)})`);
  }

  text(el) {
    return this.cmd('GET', `/element/${el}/text`);
  }

  click(el) {
    return this.cmd('POST', `/element/${el}/click`, {});
  }

  clear(el) {
    return this.cmd('POST', `/element/${el}/clear`, {});
  }

  type(el, text) {
    if (text === '') return Promise.resolve();
    return this.cmd('POST', `/element/${el}/value`, { text });
  }

  /** Clicks through the DOM (for table rows, which WebKitWebDriver deems not interactable). */
  jsClick(el) {
    return this.exec('arguments[0].click()', [{ [ELEMENT]: el }]);
  }

  exec(script, args = []) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }

  async screenshot() {
    // WebKitWebDriver answers a screenshot after the page's next paint. In WebKit's non-composited
    // mode (the app's rendering path on machines without a GPU, see src-tauri/src/rendering.rs) an
    // idle page — no caret, no animation — never paints again and the screenshot never comes. So
    // while it is taken, one near-transparent pixel changes every frame, then goes away.
    await this.exec(
      `const d = document.createElement('div');
       d.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;background:#000';
       document.body.appendChild(d);
       window.__e2ePainting = true;
       (function tick() {
         if (!window.__e2ePainting) return d.remove();
         d.style.opacity = d.style.opacity === '0.01' ? '0.02' : '0.01';
         requestAnimationFrame(tick);
       })();`,
    );
    try {
      return Buffer.from(await this.cmd('GET', '/screenshot'), 'base64');
    } finally {
      await this.exec(`window.__e2ePainting = false`).catch(() => {});
    }
  }

  end() {
    return request(this.base, 'DELETE', `/session/${this.id}`, undefined, 15_000).catch(() => {});
  }
}

export const KEY = { Enter: '\uE007', Down: '\uE015', Up: '\uE013', Escape: '\uE00C' };

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function request(base, method, path, body, timeoutMs) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok || json?.value?.error) {
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json?.value ?? json).slice(0, 300)}`);
  }
  return json;
}

export async function waitForDriver(base, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const r = await fetch(base + '/status', { signal: AbortSignal.timeout(2000) });
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await sleep(250);
  }
  throw new Error(`WebDriver at ${base} did not answer within ${timeoutMs} ms`);
}
