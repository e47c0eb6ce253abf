// A barcode scanner types like a keyboard and ends with Enter. These helpers turn what arrived in
// a field into a clean code and tell a scan from typing by its speed.

/** Trims, drops control characters and the prefixes some scanners add (e.g. "]C1"). */
export function cleanScan(raw: string): string {
  let s = raw.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  s = s.replace(/^\][A-Za-z][0-9]/, '');
  return s;
}

/** Whether keystrokes came as fast as a scanner sends them (typing is slower than ~30 ms/key). */
export function looksScanned(keyTimes: number[], maxGapMs = 35): boolean {
  if (keyTimes.length < 4) return false;
  for (let i = 1; i < keyTimes.length; i++) {
    if (keyTimes[i] - keyTimes[i - 1] > maxGapMs) return false;
  }
  return true;
}

/**
 * Collects what a keyboard-wedge scanner types while no input has focus, so a scan works
 * wherever the operator's focus happens to be. Feed it every keydown outside an input; it answers
 * the scanned text on Enter. A pause longer than `maxGapMs` starts afresh (stray key presses do
 * not pile up in front of the next scan).
 */
export class KeyBuffer {
  private text = '';
  private last = -Infinity;
  constructor(private readonly maxGapMs = 1000) {}

  /** One keydown (`KeyboardEvent.key`, time in ms); the finished scan on Enter, else null. */
  key(key: string, at: number): string | null {
    if (at - this.last > this.maxGapMs) this.text = '';
    this.last = at;
    if (key === 'Enter') {
      const done = cleanScan(this.text);
      this.text = '';
      return done || null;
    }
    if (key.length === 1) this.text += key;
    return null;
  }
}
