import { describe, expect, it } from 'vitest';
import type { ExpectedFieldView } from './bindings/ExpectedFieldView';
import type { ReadoutCheck } from './bindings/ReadoutCheck';
import { allReady, initialValues, readoutsToSend, translationsToFill } from './readouts';

function field(name: string, extra: Partial<ExpectedFieldView> = {}): ExpectedFieldView {
  return { field: name, knownFormat: true, value: null, msbFirst: null, lsbFirst: null, source: null, secret: false, ...extra };
}

const expected = [
  field('TRANSLATION_MIFARE_HEX_MSB'),
  field('TRANSLATION_MIFARE_HEX_LSB'),
  field('TRANSLATION_MIFARE_DEC_LSB'),
  field('PIN_CODE', { knownFormat: false, secret: true }),
];

const lsbRead: ReadoutCheck = {
  field: 'TRANSLATION_MIFARE_HEX_LSB', ok: true, message: null, value: '1C2BA204', msbFirst: '04A22B1C', lsbFirst: '1C2BA204',
  translations: [
    { field: 'MIFARE_UID', value: '04A22B1C' },
    { field: 'TRANSLATION_MIFARE_HEX_MSB', value: '04A22B1C' },
    { field: 'TRANSLATION_MIFARE_DEC_MSB', value: '77736732' },
    { field: 'TRANSLATION_MIFARE_DEC_LSB', value: '472621572' },
  ],
};

describe('one chip read at the production station', () => {
  it('fills every other translation the card expects, and nothing else', () => {
    const values = { TRANSLATION_MIFARE_HEX_LSB: '1c:2b:a2:04' };
    expect(translationsToFill(expected, 'TRANSLATION_MIFARE_HEX_LSB', lsbRead, values)).toEqual({
      TRANSLATION_MIFARE_HEX_MSB: '04A22B1C',
      TRANSLATION_MIFARE_DEC_LSB: '472621572',
    });
  });

  it('changes nothing already right, and nothing from an invalid read', () => {
    const values = { TRANSLATION_MIFARE_HEX_MSB: '04A22B1C', TRANSLATION_MIFARE_DEC_LSB: '472621572' };
    expect(translationsToFill(expected, 'TRANSLATION_MIFARE_HEX_LSB', lsbRead, values)).toEqual({});
    expect(translationsToFill(expected, 'TRANSLATION_MIFARE_HEX_LSB', { ...lsbRead, ok: false }, {})).toEqual({});
  });
});

describe('secret fields (external report data)', () => {
  it('start empty, never with the masked value', () => {
    const loaded = expected.map((f) => (f.field === 'PIN_CODE' ? { ...f, value: '••••••' } : { ...f, value: '04A22B1C' }));
    expect(initialValues(loaded).PIN_CODE).toBe('');
    expect(initialValues(loaded).TRANSLATION_MIFARE_HEX_MSB).toBe('04A22B1C');
  });

  it('are ready when typed or captured before, and are not sent when left empty', () => {
    const ok = { ok: true } as ReadoutCheck;
    const checks = { TRANSLATION_MIFARE_HEX_MSB: ok, TRANSLATION_MIFARE_HEX_LSB: ok, TRANSLATION_MIFARE_DEC_LSB: ok };
    expect(allReady(expected, { PIN_CODE: '' }, checks)).toBe(false);
    expect(allReady(expected, { PIN_CODE: '4711' }, checks)).toBe(true);
    const captured = expected.map((f) => (f.secret ? { ...f, value: '••••••' } : f));
    expect(allReady(captured, { PIN_CODE: '' }, checks)).toBe(true);
    expect(readoutsToSend(captured, { PIN_CODE: '' }).map((r) => r.field)).not.toContain('PIN_CODE');
    expect(readoutsToSend(expected, { PIN_CODE: '4711' })).toContainEqual({ field: 'PIN_CODE', value: '4711' });
  });
});
