// App-wide live state, fed by the shell's events.
import type { Progress } from './bindings/Progress';
import type { Settings } from './bindings/Settings';

export const live = $state({
  outboxDepth: 0,
  links: {} as Record<string, { state: string; detail: string | null }>,
  changes: 0, // bumped on every store change: screens reload what they show
  /** The last chip read on a PC/SC reader; `seq` tells a new read from the same one seen again. */
  chip: null as { reader: string; uid: string; atr: string; seq: number } | null,
  /** Readers connected now, and why none can be watched if so. */
  readers: [] as string[],
  readerProblem: null as string | null,
  /** Long work under way (shown after a short delay), and its last step when it reports steps. */
  working: null as string | null,
  progress: null as Progress | null,
});

export const app = $state({
  screen: 'worklist' as Screen,
  cardId: '' as string, // the card opened at the production station
  shipmentId: '' as string,
  settings: null as Settings | null,
  /** Sequence mode at the production station: on until the operator turns it off (SEQUENCE_KEY). */
  sequence: false,
});

/** The key that turns sequence mode on and off, anywhere: a function key, which no scanner types. */
export const SEQUENCE_KEY = 'F8';

export type Screen = 'worklist' | 'production' | 'shipments' | 'queues' | 'dashboard' | 'settings' | 'logs';

export function openCard(cardId: string) {
  app.cardId = cardId;
  app.screen = 'production';
}

export function openShipment(shipmentId: string) {
  app.shipmentId = shipmentId;
  app.screen = 'shipments';
}
