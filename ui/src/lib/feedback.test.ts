import { describe, expect, it } from 'vitest';
import { shownText, stillHolds, type Feedback } from './feedback';

const now = (status: 'received' | 'produced' | 'report_ok', values: Record<string, string> = {}) => ({ cardId: 'C-1', status, values });

describe('a production station message belongs to the state it describes', () => {
  it('a readout error goes once the field is corrected', () => {
    const f: Feedback = { ok: false, text: 'MIFARE_UID: not hexadecimal', problems: [], about: { cardId: 'C-1', status: 'received', values: { MIFARE_UID: '04:ZZ' } } };
    expect(stillHolds(f, now('received', { MIFARE_UID: '04:ZZ' }))).toBe(true);
    expect(stillHolds(f, now('received', { MIFARE_UID: '04A22B7C' }))).toBe(false);
  });

  it('"awaiting REPORT_OK" goes once REPORT_OK is in', () => {
    const f: Feedback = { ok: true, text: 'Produced C-1 — awaiting REPORT_OK', problems: [], about: { cardId: 'C-1', status: 'produced' } };
    expect(stillHolds(f, now('produced'))).toBe(true);
    expect(stillHolds(f, now('report_ok'))).toBe(false);
  });

  it('"Produced" stays as the record and only its "awaiting REPORT_OK" goes once REPORT_OK is in', () => {
    const f: Feedback = { ok: true, text: 'Produced C-1', pending: ', awaiting REPORT_OK', problems: [], about: { cardId: 'C-1', status: 'produced' } };
    expect(stillHolds(f, now('produced'))).toBe(true);
    expect(shownText(f, now('produced'))).toBe('Produced C-1, awaiting REPORT_OK');
    expect(stillHolds(f, now('report_ok'))).toBe(true);
    expect(shownText(f, now('report_ok'))).toBe('Produced C-1');
  });

  it('a refusal goes once the card moved on', () => {
    const f: Feedback = { ok: false, text: 'C-1: refused', problems: [], about: { cardId: 'C-1', status: 'received' } };
    expect(stillHolds(f, now('produced'))).toBe(false);
  });

  it('a message about another card, or about no card, stays', () => {
    const f: Feedback = { ok: true, text: 'Produced C-0', problems: [], about: { cardId: 'C-0', status: 'produced' } };
    expect(stillHolds(f, now('received'))).toBe(true);
    expect(stillHolds({ ok: false, text: 'no such card', problems: [] }, { cardId: null, status: null, values: {} })).toBe(true);
  });
});
