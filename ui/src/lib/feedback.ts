import type { Status } from './bindings/Status';

/**
 * The state a message at the production station describes: the card it is about, that card's
 * status when it was said, and (for a message judging readouts) the values it judged. A message
 * is shown while that state holds and goes when it does not — a readout error once the field is
 * corrected, "awaiting REPORT_OK" once REPORT_OK is in, a refusal once the card moved on.
 */
export interface About {
  cardId: string;
  status?: Status;
  values?: Record<string, string>;
}

export interface Feedback {
  ok: boolean;
  text: string;
  problems: string[];
  about?: About;
  /** A part true only while the card keeps `about.status` (", awaiting REPORT_OK"): it goes when
   * the status changes and the rest stays, so "Produced C-1" remains the record of what the
   * operator did even when NGOC answers before it was read. */
  pending?: string;
}

/** The station now: the card in hand (if any), its status and the values in its fields. */
export interface StationNow {
  cardId: string | null;
  status: Status | null;
  values: Record<string, string>;
}

/**
 * Whether `f` still describes the station. A message about another card than the one in hand
 * (the card just produced, in sequence mode) is a record of what happened and stays.
 */
export function stillHolds(f: Feedback, now: StationNow): boolean {
  const about = f.about;
  if (!about || about.cardId !== now.cardId) return true;
  if (statusMoved(f, now) && f.pending === undefined) return false;
  if (about.values) {
    for (const [field, value] of Object.entries(about.values)) {
      if ((now.values[field] ?? '') !== value) return false;
    }
  }
  return true;
}

function statusMoved(f: Feedback, now: StationNow): boolean {
  const about = f.about;
  return !!about?.status && about.cardId === now.cardId && about.status !== now.status;
}

/** The words of `f` that still describe the station: without its `pending` part once the card's
 * status moved on. */
export function shownText(f: Feedback, now: StationNow): string {
  return f.pending === undefined || statusMoved(f, now) ? f.text : f.text + f.pending;
}
