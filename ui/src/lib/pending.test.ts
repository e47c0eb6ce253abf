import { describe, expect, it } from 'vitest';
import { Pending } from './pending';

describe('Pending', () => {
  it('shows nothing for quick work and the label once work takes long', () => {
    const p = new Pending(300);
    const id = p.start('Writing the packing slip', 1000);
    expect(p.showing(1100)).toBeNull();
    expect(p.showing(1300)).toBe('Writing the packing slip');
    p.end(id);
    expect(p.showing(5000)).toBeNull();
  });

  it('shows the oldest long job while several run', () => {
    const p = new Pending(300);
    const a = p.start('Saving settings', 0);
    p.start('Searching the worklist', 200);
    expect(p.showing(600)).toBe('Saving settings');
    p.end(a);
    expect(p.showing(600)).toBe('Searching the worklist');
  });
});
