import { describe, expect, it } from 'vitest';
import { cleanScan, KeyBuffer, looksScanned } from './scanner';

describe('scanner', () => {
  it('cleans what a scanner typed', () => {
    expect(cleanScan('  C-0000012\r')).toBe('C-0000012');
    expect(cleanScan(']C1C-0000012')).toBe('C-0000012');
    expect(cleanScan('\u0002C-1\u0003')).toBe('C-1');
  });
  it('tells a scan from typing by speed', () => {
    expect(looksScanned([0, 8, 16, 25, 33])).toBe(true);
    expect(looksScanned([0, 120, 240, 390, 500])).toBe(false);
    expect(looksScanned([0, 5])).toBe(false);
  });
  it('collects keys typed outside an input into one scan ended by Enter', () => {
    const b = new KeyBuffer(1000);
    let t = 0;
    for (const k of 'C-0000012') expect(b.key(k, (t += 10))).toBeNull();
    expect(b.key('Shift', (t += 5))).toBeNull();
    expect(b.key('Enter', (t += 10))).toBe('C-0000012');
    expect(b.key('Enter', (t += 10))).toBeNull();
  });
  it('forgets stray keys after a pause', () => {
    const b = new KeyBuffer(1000);
    b.key('x', 0);
    b.key('S', 5000);
    b.key('1', 5010);
    expect(b.key('Enter', 5020)).toBe('S1');
  });
});
