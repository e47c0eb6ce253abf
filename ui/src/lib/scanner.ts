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

/** Splits "FIELD=VALUE" scans (some label printers encode the field name) into parts. */
export function splitFieldScan(code: string, fields: string[]): { field: string; value: string } | null {
  const i = code.indexOf('=');
  if (i <= 0) return null;
  const field = code.slice(0, i).trim().toUpperCase();
  if (!fields.includes(field)) return null;
  return { field, value: code.slice(i + 1).trim() };
}
