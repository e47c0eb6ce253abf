// What the production station does with a scan. The core says what the scan means
// (`interpret_scan`: a card, a shipment, a readout of the card in hand, or why not); this decides
// the screen's action from that answer and from where the scan was typed.
import type { ScanMeaningView } from './bindings/ScanMeaningView';

export type ScanAction =
  /** Select this card at the station. */
  | { do: 'select'; cardId: string }
  /** Open the shipment batching screen on this shipment. */
  | { do: 'open-shipment'; shipmentId: string }
  /** Put this value into this readout field of the card in hand. */
  | { do: 'fill'; field: string; value: string }
  /** Leave the text in the readout field it was typed into; `reason` is the core's word when the
   *  field's own check refuses it. */
  | { do: 'keep'; reason: string | null }
  /** Nothing to do with it: say why. */
  | { do: 'refuse'; reason: string };

/**
 * `focusedField`: the readout field the scan was typed into, or null for the station's scan box
 * and for a scan while no input has focus. In a readout field the operator has said which field
 * is meant: a readout the core matched to another field (only its format guessed it) stays where
 * it was typed, unless the scan named its field ("PRINT_SERIAL=A-17").
 */
export function scanAction(m: ScanMeaningView, focusedField: string | null, raw: string): ScanAction {
  switch (m.kind) {
    case 'card':
      return { do: 'select', cardId: m.cardId };
    case 'shipment':
      return { do: 'open-shipment', shipmentId: m.shipmentId };
    case 'readout':
      if (focusedField === null || m.field === focusedField || namesField(raw, m.field)) {
        return { do: 'fill', field: m.field, value: m.value };
      }
      return { do: 'keep', reason: null };
    case 'bad_readout':
      // The core looks for a card and a shipment first: this is neither, nor a valid readout.
      if (focusedField === null) {
        return { do: 'refuse', reason: `"${raw}" is no card or shipment, and no valid ${m.field} for ${m.cardId}: ${m.reason}` };
      }
      return { do: 'keep', reason: m.field === focusedField ? `${m.field}: ${m.reason}` : null };
    case 'unknown':
      if (focusedField === null) return { do: 'refuse', reason: `"${raw}" not understood: ${m.reason}` };
      return { do: 'keep', reason: null };
  }
}

function namesField(raw: string, field: string): boolean {
  const i = raw.indexOf('=');
  return i > 0 && raw.slice(0, i).trim() === field;
}

/** True when keyboard focus is in something that takes text (a scan there is that input's). */
export function isTextEntry(el: Element | null): boolean {
  if (!el) return false;
  const tag = el.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || (el as HTMLElement).isContentEditable === true;
}
