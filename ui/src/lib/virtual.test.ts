import { describe, expect, it } from 'vitest';
import { nearEnd, scrollToShow, visibleWindow } from './virtual';

describe('virtual list', () => {
  it('renders only the rows in view plus a margin, whatever the length', () => {
    const w = visibleWindow(32 * 500_000, 640, 32, 1_000_000, 8);
    expect(w.start).toBe(500_000 - 8);
    expect(w.end - w.start).toBeLessThan(50);
    expect(w.offset).toBe((500_000 - 8) * 32);
  });
  it('clamps at both ends', () => {
    expect(visibleWindow(0, 640, 32, 5)).toEqual({ start: 0, end: 5, offset: 0 });
    expect(visibleWindow(-50, 640, 32, 0)).toEqual({ start: 0, end: 0, offset: 0 });
  });
  it('asks for the next page before the end is reached', () => {
    expect(nearEnd(0, 600, 32, 200)).toBe(false);
    expect(nearEnd(32 * 180, 600, 32, 200)).toBe(true);
  });
  it('scrolls just enough to show the selected row', () => {
    expect(scrollToShow(5, 0, 320, 32)).toBeNull();
    expect(scrollToShow(20, 0, 320, 32)).toBe(21 * 32 - 320);
    expect(scrollToShow(2, 200, 320, 32)).toBe(64);
  });
});
