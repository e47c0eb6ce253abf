// Card elements and message bodies come from outside: no screen may render them as HTML.
import { describe, expect, it } from 'vitest';

const sources = import.meta.glob(['../**/*.svelte', '../**/*.ts', '!../**/*.test.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

describe('rendering', () => {
  it('never uses {@html} or innerHTML', () => {
    expect(Object.keys(sources).length).toBeGreaterThan(10);
    const offenders = Object.entries(sources)
      .filter(([, text]) => /\{@html|innerHTML|outerHTML|insertAdjacentHTML/.test(text))
      .map(([file]) => file);
    expect(offenders).toEqual([]);
  });
});
