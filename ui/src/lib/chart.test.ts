import { describe, expect, it } from 'vitest';
import { bureauDate, chartData, intlSafeLanguage, totals } from './chart';
import type { ProductionChart } from './bindings/ProductionChart';

const chart: ProductionChart = {
  name: 'early 2026-11-23',
  from: '2026-11-23T05:00:00.000Z',
  to: '2026-11-23T07:00:00.000Z',
  utcOffsetMinutes: 60,
  hours: [
    { hour: '2026-11-23T05:00:00.000Z', produced: 3, reportOk: 1, errors: 0 },
    { hour: '2026-11-23T06:00:00.000Z', produced: 4, reportOk: 2, errors: 1 },
  ],
  stations: [],
  thisStation: 'LINE-1',
};

describe('the production chart data', () => {
  it('puts hours on the x axis and one row per figure', () => {
    expect(chartData(chart)).toEqual([[Date.parse('2026-11-23T05:00:00Z') / 1000, Date.parse('2026-11-23T06:00:00Z') / 1000], [3, 4], [1, 2], [0, 1]]);
    expect(totals(chart)).toEqual({ produced: 7, reportOk: 3, errors: 1 });
  });

  it("shows times in the bureau's local time, whatever the workstation's zone", () => {
    const d = bureauDate(Date.parse('2026-11-23T05:00:00Z') / 1000, 60);
    expect([d.getHours(), d.getMinutes(), d.getDate()]).toEqual([6, 0, 23]);
    const india = bureauDate(Date.parse('2026-11-23T20:00:00Z') / 1000, 330);
    expect([india.getHours(), india.getMinutes(), india.getDate()]).toEqual([1, 30, 24]);
  });
});

describe('uPlot under the C locale', () => {
  it('gives a navigator whose language Intl refuses a usable one', () => {
    const c = { language: 'C' };
    expect(() => new Intl.NumberFormat(c.language)).toThrow();
    intlSafeLanguage(c);
    expect(c.language).toBe('en-US');
    const sv = { language: 'sv-SE' };
    intlSafeLanguage(sv);
    expect(sv.language).toBe('sv-SE');
  });
});
