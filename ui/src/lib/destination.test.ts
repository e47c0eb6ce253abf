import { describe, expect, it } from 'vitest';
import { destinationName } from './destination';

describe('destinationName', () => {
  it('names NGOC for its notifications', () => {
    expect(destinationName('ngoc')).toBe('NGOC (outbound queue)');
  });
  it('shows another consumer by its own name, and a dash for none', () => {
    expect(destinationName('webhook')).toBe('webhook');
    expect(destinationName(null)).toBe('—');
    expect(destinationName(undefined)).toBe('—');
  });
});
