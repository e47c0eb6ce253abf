import { describe, expect, it } from 'vitest';
import { destinationName, isSubscriberDestination } from './destination';

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

describe('subscriber destinations', () => {
  it('names a webhook or forwarding sink by kind and name', () => {
    expect(destinationName('webhook:erp-main')).toBe('webhook erp-main');
    expect(destinationName('forward:crm')).toBe('forwarding sink crm');
    expect(destinationName('other:thing')).toBe('other:thing');
  });
  it('tells the rows that record delivery attempts', () => {
    expect(isSubscriberDestination('webhook:erp-main')).toBe(true);
    expect(isSubscriberDestination('forward:crm')).toBe(true);
    expect(isSubscriberDestination('ngoc')).toBe(false);
    expect(isSubscriberDestination('webhook')).toBe(false);
    expect(isSubscriberDestination(null)).toBe(false);
  });
});
