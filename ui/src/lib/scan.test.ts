import { describe, expect, it } from 'vitest';
import type { ScanMeaningView } from './bindings/ScanMeaningView';
import { isTextEntry, scanAction } from './scan';

const uid: ScanMeaningView = {
  kind: 'readout', cardId: 'C-1', field: 'MIFARE_UID', value: '04A22B1C', msbFirst: '04A22B1C', lsbFirst: '1C2BA204',
};

describe('what a scan does at the production station', () => {
  it('selects a card and opens a shipment wherever it was scanned', () => {
    for (const focused of [null, 'MIFARE_UID']) {
      expect(scanAction({ kind: 'card', cardId: 'C-2' }, focused, 'C-2')).toEqual({ do: 'select', cardId: 'C-2' });
      expect(scanAction({ kind: 'shipment', shipmentId: 'S-1' }, focused, 'S-1')).toEqual({ do: 'open-shipment', shipmentId: 'S-1' });
    }
  });

  it('fills the field the core names, in its normal form, from the scan box', () => {
    expect(scanAction(uid, null, '04:a2:2b:1c')).toEqual({ do: 'fill', field: 'MIFARE_UID', value: '04A22B1C' });
  });

  it('in a readout field, keeps the value where the operator typed it unless the scan names its field', () => {
    expect(scanAction(uid, 'MIFARE_UID', '04a22b1c')).toEqual({ do: 'fill', field: 'MIFARE_UID', value: '04A22B1C' });
    // A hex print serial typed into PRINT_SERIAL also parses as a UID: it stays in PRINT_SERIAL.
    expect(scanAction(uid, 'PRINT_SERIAL', '04A22B1C')).toEqual({ do: 'keep', reason: null });
    // "MIFARE_UID=…" scanned into another field goes to MIFARE_UID.
    expect(scanAction(uid, 'PRINT_SERIAL', 'MIFARE_UID=04A22B1C')).toEqual({ do: 'fill', field: 'MIFARE_UID', value: '04A22B1C' });
  });

  it('says why a bad readout or an unknown code is refused', () => {
    const bad: ScanMeaningView = { kind: 'bad_readout', cardId: 'C-1', field: 'MIFARE_UID', reason: '3 bytes; MIFARE_UID must be 4, 7 or 10 bytes' };
    expect(scanAction(bad, null, '04A22B')).toEqual({
      do: 'refuse',
      reason: '"04A22B" is no card or shipment, and no valid MIFARE_UID for C-1: 3 bytes; MIFARE_UID must be 4, 7 or 10 bytes',
    });
    expect(scanAction(bad, 'MIFARE_UID', '04A22B')).toEqual({ do: 'keep', reason: 'MIFARE_UID: 3 bytes; MIFARE_UID must be 4, 7 or 10 bytes' });
    // Free text in PRINT_SERIAL is for that field's own check, not the core's UID guess.
    expect(scanAction(bad, 'PRINT_SERIAL', 'A-17')).toEqual({ do: 'keep', reason: null });

    const unknown: ScanMeaningView = { kind: 'unknown', reason: 'no such card or shipment, and no card is selected' };
    const r = scanAction(unknown, null, 'ZZ-404');
    expect(r).toEqual({ do: 'refuse', reason: '"ZZ-404" not understood: no such card or shipment, and no card is selected' });
    expect(scanAction(unknown, 'PRINT_SERIAL', 'A-17')).toEqual({ do: 'keep', reason: null });
  });

  it('tells a text input from the rest of the page', () => {
    const el = (tagName: string, isContentEditable = false) => ({ tagName, isContentEditable }) as unknown as Element;
    expect(isTextEntry(el('INPUT'))).toBe(true);
    expect(isTextEntry(el('TEXTAREA'))).toBe(true);
    expect(isTextEntry(el('DIV', true))).toBe(true);
    expect(isTextEntry(el('BUTTON'))).toBe(false);
    expect(isTextEntry(el('BODY'))).toBe(false);
    expect(isTextEntry(null)).toBe(false);
  });
});
