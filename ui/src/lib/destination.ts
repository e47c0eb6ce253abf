// The outbound consumer an outbox message goes to, as the queue inspector names it: NGOC's
// outbound queue, or one of the bureau's subscribers (`webhook:NAME`, `forward:NAME`, the
// destinations the event log queues for them).

const KNOWN: Record<string, string> = { ngoc: 'NGOC (outbound queue)' };
const KINDS: Record<string, string> = { webhook: 'webhook', forward: 'forwarding sink' };

export function destinationName(destination: string | null | undefined): string {
  if (!destination) return '—';
  if (KNOWN[destination]) return KNOWN[destination];
  const [kind, name] = splitDestination(destination);
  return name && KINDS[kind] ? `${KINDS[kind]} ${name}` : destination;
}

/** Whether the row goes to a webhook or forwarding sink (which record delivery attempts). */
export function isSubscriberDestination(destination: string | null | undefined): boolean {
  if (!destination) return false;
  const [kind, name] = splitDestination(destination);
  return !!name && kind in KINDS;
}

function splitDestination(destination: string): [string, string] {
  const i = destination.indexOf(':');
  return i < 0 ? [destination, ''] : [destination.slice(0, i), destination.slice(i + 1)];
}
