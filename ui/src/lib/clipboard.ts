import type { QueueMessage } from './bindings/QueueMessage';

/** Copies text; falls back to a hidden textarea where the async clipboard is not allowed. */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

/** Selected messages as one JSON document: envelope fields plus the body parsed when it is JSON. */
export function exportMessages(messages: QueueMessage[]): string {
  return JSON.stringify(
    messages.map((m) => {
      let body: unknown = m.body;
      try {
        body = JSON.parse(m.body);
      } catch {
        // Not JSON: keep the raw text.
      }
      return {
        direction: m.direction,
        id: m.id,
        messageId: m.messageId,
        subject: m.subject,
        correlationId: m.correlationId,
        at: m.at,
        state: m.state,
        reason: m.reason,
        body,
      };
    }),
    null,
    2,
  );
}
