import { describe, expect, it } from 'vitest';
import { addDays, age, hourLabel, isoDate, parseIsoDate, stamp, statusTone, STATUS_LABEL, ALL_STATUSES, timelineLabel, today } from './format';

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

describe('dates and timestamps', () => {
  it('writes a local date as ISO 8601', () => {
    expect(isoDate(new Date(2026, 11, 7, 23, 59))).toBe('2026-12-07');
    expect(isoDate(new Date(2026, 0, 1, 0, 0))).toBe('2026-01-01');
    expect(today(new Date(2026, 2, 9, 0, 30))).toBe('2026-03-09');
  });
  it('writes a timestamp as YYYY-MM-DD HH:MM:SS in local time', () => {
    const local = new Date(2026, 11, 7, 14, 3, 27);
    expect(stamp(local.toISOString())).toBe('2026-12-07 14:03:27');
    expect(stamp(null)).toBe('');
    expect(stamp('not a time')).toBe('not a time');
  });
  it('names the local hour', () => {
    expect(hourLabel(new Date(2026, 11, 7, 9, 40).toISOString())).toBe('09:00');
    expect(hourLabel('never')).toBe('');
  });
  it('reads only real ISO dates', () => {
    expect(parseIsoDate('2026-12-07')).toBe('2026-12-07');
    expect(parseIsoDate(' 2028-02-29 ')).toBe('2028-02-29');
    for (const bad of ['12/07/2026', '07.12.2026', '2026-2-7', '2026-02-30', '2027-02-29', '2026-13-01', '2026-12-07x', ''])
      expect(parseIsoDate(bad), bad).toBeNull();
  });
  it('moves by days across months and years', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });
});

describe('message types', () => {
  it('lists every type generated from Rust, in the protocol order, by its short name', async () => {
    const { SUBJECTS, SUBJECT_SHORT } = await import('./format');
    expect(SUBJECTS).toEqual([
      'EXTERNAL_PRODUCTION_REQUEST_SENT',
      'EXTERNAL_PRODUCTION_CARD_PRODUCED',
      'EXTERNAL_PRODUCTION_REPORT_OK',
      'EXTERNAL_PRODUCTION_SHIPPED',
      'EXTERNAL_PRODUCTION_SHIPPED_OK',
      'EXTERNAL_PRODUCTION_ERROR',
    ]);
    expect(SUBJECTS.map((s) => SUBJECT_SHORT[s])).toEqual(['REQUEST_SENT', 'CARD_PRODUCED', 'REPORT_OK', 'SHIPPED', 'SHIPPED_OK', 'ERROR']);
  });
  it('shows a type it does not know as received, and a missing one as (none)', async () => {
    const { subjectShort } = await import('./format');
    expect(subjectShort('EXTERNAL_PRODUCTION_SHIPPED_OK')).toBe('SHIPPED_OK');
    expect(subjectShort('EXTERNAL_PRODUCTION_SOMETHING_NEW')).toBe('EXTERNAL_PRODUCTION_SOMETHING_NEW');
    expect(subjectShort('constructor')).toBe('constructor');
    expect(subjectShort(null)).toBe('(none)');
  });
});
