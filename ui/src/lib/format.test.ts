import { describe, expect, it } from 'vitest';
import { age, statusTone, STATUS_LABEL, ALL_STATUSES, timelineLabel } from './format';

describe('age', () => {
  const now = Date.parse('2026-11-23T12:00:00Z');
  it('says minutes, hours and days', () => {
    expect(age('2026-11-23T11:59:30Z', now)).toBe('just now');
    expect(age('2026-11-23T11:55:00Z', now)).toBe('5 min');
    expect(age('2026-11-23T09:00:00Z', now)).toBe('3 h');
    expect(age('2026-11-20T12:00:00Z', now)).toBe('3 d');
  });
  it('is empty for text that is not a time', () => {
    expect(age('soon', now)).toBe('');
  });
});

describe('statuses', () => {
  it('label and colour every status', () => {
    for (const s of ALL_STATUSES) {
      expect(STATUS_LABEL[s]).toBeTruthy();
      expect(['todo', 'wait', 'ok', 'bad', 'done']).toContain(statusTone(s));
    }
    expect(statusTone('report_error')).toBe('bad');
    expect(statusTone('produced')).toBe('wait');
  });
  it('names timeline steps in words', () => {
    expect(timelineLabel('report_ok')).toBe('REPORT_OK from NGOC');
    expect(timelineLabel('something_new')).toBe('something new');
  });
});
