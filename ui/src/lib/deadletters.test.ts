import { describe, expect, it } from 'vitest';
import { importNote } from './deadletters';

describe('importNote', () => {
  it('says what the import did', () => {
    expect(importNote({ messageId: 'm-1', outcome: 'accepted', inboxId: 7, detail: null })).toBe(
      'm-1 recorded (inbox #7) and removed from the dead-letter queue',
    );
    expect(importNote({ messageId: 'm-1', outcome: 'duplicate', inboxId: 7, detail: null })).toContain('duplicate, no second effect');
    const rejected = importNote({ messageId: 'm-2', outcome: 'rejected', inboxId: 8, detail: 'INVALID_MESSAGE: card: missing' });
    expect(rejected).toContain('INVALID_MESSAGE: card: missing');
    expect(rejected).toContain('an ERROR is queued for NGOC');
    expect(importNote({ messageId: 'm-3', outcome: 'ignored', inboxId: 9, detail: 'why' })).toBe('m-3: ignored — why');
  });
});
