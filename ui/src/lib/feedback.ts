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
  if (about.status && about.status !== now.status) return false;
  if (about.values) {
    for (const [field, value] of Object.entries(about.values)) {
      if ((now.values[field] ?? '') !== value) return false;
    }
  }
  return true;
}
