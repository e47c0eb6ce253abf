// The outbound consumer an outbox message goes to, as the queue inspector names it. Every message
// the workstation sends today goes to NGOC; a second consumer (a webhook forwarder) is shown by
// its own name.

const KNOWN: Record<string, string> = { ngoc: 'NGOC (outbound queue)' };

export function destinationName(destination: string | null | undefined): string {
  if (!destination) return '—';
  return KNOWN[destination] ?? destination;
}
