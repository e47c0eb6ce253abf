import { describe, expect, it } from 'vitest';
import { VIEW_KEY, defaultView, loadView, saveView, sortBy, toggleStatus, viewQuery } from './worklistView';

function memory() {
  const items = new Map<string, string>();
  return { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v), items };
}

describe('the worklist view', () => {
  it('keeps filters and sort across a restart, but never the search text', () => {
    const storage = memory();
    const view = defaultView();
    view.statuses = ['received', 'report_error'];
    view.organisation = 'ORG-NORDBANK';
    view.article = 'ART-TRANSIT';
    view.from = '2026-11-01';
    view.sort = 'shipment';
    view.descending = true;
    view.search = 'Åsa Öberg';
    saveView(storage, view);
    expect(storage.items.get(VIEW_KEY)).not.toContain('Åsa');
    const back = loadView(storage);
    expect(back).toEqual({ ...view, search: '' });
  });

  it('starts from the default on nothing kept or on junk', () => {
    expect(loadView(undefined)).toEqual(defaultView());
    expect(loadView({ getItem: () => '{not json' })).toEqual(defaultView());
    const junk = loadView({ getItem: () => JSON.stringify({ statuses: ['lost', 'produced'], sort: 'colour', from: 'yesterday', descending: 'yes' }) });
    expect(junk.statuses).toEqual(['produced']);
    expect(junk.sort).toBe('received');
    expect(junk.from).toBe('');
    expect(junk.descending).toBe(false);
  });

  it('sorts by a column, and the other way round on a second click', () => {
    const view = defaultView();
    sortBy(view, 'organisation');
    expect([view.sort, view.descending]).toEqual(['organisation', false]);
    sortBy(view, 'organisation');
    expect([view.sort, view.descending]).toEqual(['organisation', true]);
    sortBy(view, 'status');
    expect([view.sort, view.descending]).toEqual(['status', false]);
  });

  it('filters by several statuses at once, in the workflow order', () => {
    const view = defaultView();
    toggleStatus(view, 'report_error');
    toggleStatus(view, 'received');
    expect(view.statuses).toEqual(['received', 'report_error']);
    toggleStatus(view, 'report_error');
    expect(view.statuses).toEqual(['received']);
    expect(viewQuery(view)).toMatchObject({ statuses: ['received'], sort: 'received', descending: false, articleId: null });
  });
});
