// Window arithmetic for the virtual list: only the rows in view (plus a margin) are in the DOM,
// so a list of any length scrolls at the same cost.

export interface Window {
  start: number;
  end: number; // exclusive
  offset: number; // px from the top of the spacer to the first rendered row
}

export function visibleWindow(scrollTop: number, viewport: number, rowHeight: number, total: number, overscan = 8): Window {
  if (total <= 0 || rowHeight <= 0) return { start: 0, end: 0, offset: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const count = Math.ceil(Math.max(0, viewport) / rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(total, first + count + overscan);
  return { start, end, offset: start * rowHeight };
}

/** Whether to fetch the next page: the view is within `pages` screens of the loaded end. */
export function nearEnd(scrollTop: number, viewport: number, rowHeight: number, loaded: number, screens = 2): boolean {
  return scrollTop + viewport * (1 + screens) >= loaded * rowHeight;
}

/** The scrollTop that brings row `index` into view, or null when it is visible already. */
export function scrollToShow(index: number, scrollTop: number, viewport: number, rowHeight: number): number | null {
  const top = index * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + viewport) return top + rowHeight - viewport;
  return null;
}
