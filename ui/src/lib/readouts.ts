// The production station's readout fields: which values one chip read fills (NGOC's translations
// of one UID), which fields are secret, and what Produce sends. Pure, so it is tested without a
// webview; the core decides again on Produce (this only saves the operator typing).
import type { ExpectedFieldView } from './bindings/ExpectedFieldView';
import type { ReadoutCheck } from './bindings/ReadoutCheck';
import type { ReadoutValue } from './bindings/ReadoutValue';

/**
 * The values other expected fields take from a valid read of `source`: its translations the card
 * expects, never the source itself, never a secret field, and only where the value changes.
 */
export function translationsToFill(
  expected: ExpectedFieldView[],
  source: string,
  check: ReadoutCheck,
  values: Record<string, string>,
): Record<string, string> {
  if (!check.ok) return {};
  const fill: Record<string, string> = {};
  for (const t of check.translations) {
    const f = expected.find((e) => e.field === t.field);
    if (!f || f.secret || f.field === source || values[f.field] === t.value) continue;
    fill[f.field] = t.value;
  }
  return fill;
}

/** Values when a card is loaded: a secret never reaches the screen, so its box starts empty. */
export function initialValues(expected: ExpectedFieldView[]): Record<string, string> {
  return Object.fromEntries(expected.map((f) => [f.field, f.secret ? '' : f.value ?? '']));
}

/**
 * Whether Produce may be pressed: every field checked valid, except secret ones, which need a
 * typed value or one captured before (kept by the core, shown masked).
 */
export function allReady(expected: ExpectedFieldView[], values: Record<string, string>, checks: Record<string, ReadoutCheck>): boolean {
  return expected.every((f) => fieldReady(f, values, checks));
}

/** One field of [`allReady`]. */
export function fieldReady(f: ExpectedFieldView, values: Record<string, string>, checks: Record<string, ReadoutCheck>): boolean {
  return f.secret ? !!(values[f.field] ?? '').trim() || f.value !== null : checks[f.field]?.ok === true;
}

/** What Produce sends: a secret field left empty is not sent (the core keeps the one captured). */
export function readoutsToSend(expected: ExpectedFieldView[], values: Record<string, string>): ReadoutValue[] {
  return expected
    .filter((f) => !(f.secret && !(values[f.field] ?? '').trim()))
    .map((f) => ({ field: f.field, value: values[f.field] ?? '' }));
}
