import { describe, expect, it } from 'vitest';
import { cleanScan, looksScanned, splitFieldScan } from './scanner';

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
  it('splits FIELD=VALUE scans only for expected fields', () => {
    expect(splitFieldScan('MIFARE_UID=04A22B1C', ['MIFARE_UID'])).toEqual({ field: 'MIFARE_UID', value: '04A22B1C' });
    expect(splitFieldScan('OTHER=1', ['MIFARE_UID'])).toBeNull();
    expect(splitFieldScan('04A22B1C', ['MIFARE_UID'])).toBeNull();
  });
});
