// What the Dead letters view says after an import, from what the core made of the message.
import type { DeadLetterImported } from './bindings/DeadLetterImported';

export function importNote(r: DeadLetterImported): string {
  const id = r.messageId;
  const inbox = r.inboxId != null ? ` (inbox #${r.inboxId})` : '';
  switch (r.outcome) {
    case 'accepted':
      return `${id} recorded${inbox} and removed from the dead-letter queue`;
    case 'duplicate':
      return `${id} was already received${inbox}: recorded as a duplicate, no second effect; removed from the dead-letter queue`;
    case 'rejected':
      return `${id} recorded as rejected${inbox} — ${r.detail ?? ''}; an ERROR is queued for NGOC`;
    default:
      return `${id}: ${r.outcome}${r.detail ? ` — ${r.detail}` : ''}`;
  }
}
