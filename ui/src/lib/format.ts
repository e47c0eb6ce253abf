import type { Status } from './bindings/Status';
import type { Subject } from './bindings/Subject';

export const STATUS_LABEL: Record<Status, string> = {
  received: 'Received',
  readouts_captured: 'Readouts captured',
  produced: 'Awaiting REPORT_OK',
  report_ok: 'REPORT_OK',
  report_error: 'Report refused',
  shipped: 'Awaiting SHIPPED_OK',
  shipped_ok: 'SHIPPED_OK',
  ship_error: 'Shipment refused',
  refused: 'Refused by us',
};

export const ALL_STATUSES: Status[] = [
  'received',
  'readouts_captured',
  'produced',
  'report_ok',
  'report_error',
  'shipped',
  'shipped_ok',
  'ship_error',
  'refused',
];

/** The codes a request can be refused with (the core checks them too), with what each means. */
export const REFUSAL_CODES: { code: string; label: string }[] = [
  { code: 'UNKNOWN_ARTICLE', label: 'Article unknown to the bureau' },
  { code: 'CARD_LAYOUT_MISMATCH', label: 'Data does not fit the card layout' },
  { code: 'PHOTO_UNUSABLE', label: 'Photo unusable' },
  { code: 'REQUEST_REFUSED', label: 'Other reason' },
];

/** Tone of a status badge: what the operator should feel at a glance. */
export function statusTone(s: Status): 'todo' | 'wait' | 'ok' | 'bad' | 'done' {
  switch (s) {
    case 'received':
    case 'readouts_captured':
      return 'todo';
    case 'produced':
    case 'shipped':
      return 'wait';
    case 'report_ok':
      return 'ok';
    case 'shipped_ok':
    case 'refused':
      return 'done';
    default:
      return 'bad';
  }
}

/** "just now", "5 min", "3 h", "2 d" since an RFC 3339 time. */
export function age(iso: string, now: number = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 60) return 'just now';
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h`;
  return `${Math.floor(h / 24)} d`;
}

// One date and one timestamp format everywhere, as the CLI and the documents write them
// (cardbench_store::time::display): ISO 8601 dates `2026-12-07` and timestamps
// `2026-12-07 14:03:27`, both in the workstation's local time zone.
const p2 = (n: number) => String(n).padStart(2, '0');

/** `2026-12-07`: the local calendar day of `d`. */
export function isoDate(d: Date): string {
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`;
}

/** Today's local date, `2026-12-07`. */
export function today(now: Date = new Date()): string {
  return isoDate(now);
}

/** "2026-11-23 09:40:12" in local time; text that is no time is shown as it is. */
export function stamp(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${isoDate(d)} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

/** "09:00": the local hour a time falls in. */
export function hourLabel(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : `${p2(d.getHours())}:00`;
}

/** The typed text as an ISO date (`2026-12-07`, a real calendar day), or null. Surrounding
 * blanks are ignored; the parts need their leading zeros. */
export function parseIsoDate(text: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(y, mo - 1, d);
  if (date.getFullYear() !== y || date.getMonth() !== mo - 1 || date.getDate() !== d) return null;
  return m[0];
}

/** The ISO date `days` after (before, when negative) `iso`. */
export function addDays(iso: string, days: number): string {
  const [y, m, d] = iso.split('-').map(Number);
  return isoDate(new Date(y, m - 1, d + days));
}

/** Each message type's short name (a type generated from Rust: a new one does not type-check
 * until it has its name here). */
export const SUBJECT_SHORT: Record<Subject, string> = {
  EXTERNAL_PRODUCTION_REQUEST_SENT: 'REQUEST_SENT',
  EXTERNAL_PRODUCTION_CARD_PRODUCED: 'CARD_PRODUCED',
  EXTERNAL_PRODUCTION_REPORT_OK: 'REPORT_OK',
  EXTERNAL_PRODUCTION_SHIPPED: 'SHIPPED',
  EXTERNAL_PRODUCTION_SHIPPED_OK: 'SHIPPED_OK',
  EXTERNAL_PRODUCTION_ERROR: 'ERROR',
};

/** Every message type, in the protocol's order. */
export const SUBJECTS = Object.keys(SUBJECT_SHORT) as Subject[];

/** A message's subject as a list shows it: the short name of a known type, else the text as
 * received (`(none)` when it had none). */
export function subjectShort(subject: string | null): string {
  if (subject === null) return '(none)';
  return Object.hasOwn(SUBJECT_SHORT, subject) ? SUBJECT_SHORT[subject as Subject] : subject;
}

export const TIMELINE_LABEL: Record<string, string> = {
  received: 'Request received',
  readouts_saved: 'Readouts saved',
  produced_queued: 'CARD_PRODUCED queued',
  report_ok: 'REPORT_OK from NGOC',
  error: 'ERROR from NGOC',
  error_sent: 'ERROR sent to NGOC',
  spoiled: 'Spoiled — to be redone',
  refused: 'Request refused',
  shipped: 'Shipped in a parcel',
  shipped_ok: 'SHIPPED_OK from NGOC',
  resent: 'Resent',
};

export function timelineLabel(what: string): string {
  return TIMELINE_LABEL[what] ?? what.replaceAll('_', ' ');
}
