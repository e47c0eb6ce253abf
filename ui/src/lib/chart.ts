// The production chart's data, apart from drawing: hour starts as uPlot's x values, and times
// shown in the bureau's local time (`[documents.shift] utc_offset_minutes`), whatever zone the
// workstation runs in.
import type { ProductionChart } from './bindings/ProductionChart';

/** x (seconds since the epoch, UTC) and one row per series: produced, REPORT_OK, errors. */
export function chartData(c: ProductionChart): [number[], number[], number[], number[]] {
  return [
    c.hours.map((h) => Date.parse(h.hour) / 1000),
    c.hours.map((h) => h.produced),
    c.hours.map((h) => h.reportOk),
    c.hours.map((h) => h.errors),
  ];
}

/**
 * A Date whose local fields (getHours…) are the bureau's local time of `seconds`: what uPlot
 * formats its axis and legend with.
 */
export function bureauDate(seconds: number, utcOffsetMinutes: number): Date {
  const shifted = new Date((seconds + utcOffsetMinutes * 60) * 1000);
  return new Date(shifted.getTime() + shifted.getTimezoneOffset() * 60_000);
}

export function totals(c: ProductionChart) {
  return c.hours.reduce(
    (t, h) => ({ produced: t.produced + h.produced, reportOk: t.reportOk + h.reportOk, errors: t.errors + h.errors }),
    { produced: 0, reportOk: 0, errors: 0 },
  );
}

/**
 * uPlot formats numbers with `Intl.NumberFormat(navigator.language)` when it loads, and a session
 * under the C locale (Xvfb, a kiosk) reports `navigator.language` as "C", which Intl refuses: the
 * import would throw. Such a navigator is given "en-US" first.
 */
export function intlSafeLanguage(nav: { language: string } = navigator) {
  try {
    new Intl.NumberFormat(nav.language);
  } catch {
    Object.defineProperty(nav, 'language', { value: 'en-US', configurable: true });
  }
}

/** uPlot, loaded when the chart is first shown (and after the locale is made safe for it). */
export async function loadUplot() {
  intlSafeLanguage();
  return (await import('uplot')).default;
}
