import { describe, expect, it } from 'vitest';
import { exportMessages } from './clipboard';
import type { QueueMessage } from './bindings/QueueMessage';

const msg = (id: number, body: string): QueueMessage => ({
  id, direction: 'in', messageId: `m-${id}`, subject: 'EXTERNAL_PRODUCTION_REQUEST_SENT', correlationId: null,
  at: '2026-11-23T08:00:00.000Z', state: 'rejected', reason: 'bad', cardId: null, shipmentId: null,
  attempts: 1, body, pretty: null, masked: false,
  sentAt: null, firstSentAt: null, resentCount: 0, lastResentAt: null, queue: null, destination: null,
});

describe('export', () => {
  it('keeps JSON bodies as JSON and others as text', () => {
    const out = JSON.parse(exportMessages([msg(1, '{"a":1}'), msg(2, '{not json')]));
    expect(out[0].body).toEqual({ a: 1 });
    expect(out[1].body).toBe('{not json');
    expect(out[1].reason).toBe('bad');
  });
});
