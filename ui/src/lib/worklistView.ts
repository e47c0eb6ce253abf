// What the worklist shows: its filters and sort, kept while the operator works on other screens
// and (all but the search text) across restarts, in the webview's localStorage.
import type { Status } from './bindings/Status';
import type { WorklistSort } from './bindings/WorklistSort';
import { ALL_STATUSES } from './format';

export type WorklistView = {
  statuses: Status[];
  organisation: string;
  article: string;
  shipment: string;
  /** Received on or after / on or before (YYYY-MM-DD). */
  from: string;
  to: string;
  sort: WorklistSort;
  descending: boolean;
  /**
   * Never stored: with names shown, a search may be a cardholder's name, and the webview's
   * storage is a file on disk that retention does not purge.
   */
  search: string;
};

export const VIEW_KEY = 'cardbench.worklist.view';

export const SORTS: WorklistSort[] = ['received', 'card', 'organisation', 'shipment', 'article', 'holder', 'status'];

export function defaultView(): WorklistView {
  return { statuses: [], organisation: '', article: '', shipment: '', from: '', to: '', sort: 'received', descending: false, search: '' };
}

const text = (v: unknown) => (typeof v === 'string' ? v : '');
const day = (v: unknown) => (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : '');

/** The view kept in `storage`, or the default; anything unreadable is left at its default. */
export function loadView(storage: Pick<Storage, 'getItem'> | undefined): WorklistView {
  const view = defaultView();
  let kept: Record<string, unknown> = {};
  try {
    const raw = storage?.getItem(VIEW_KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : {};
    if (parsed && typeof parsed === 'object') kept = parsed as Record<string, unknown>;
  } catch {
    return view;
  }
  if (Array.isArray(kept.statuses)) view.statuses = ALL_STATUSES.filter((s) => (kept.statuses as unknown[]).includes(s));
  view.organisation = text(kept.organisation);
  view.article = text(kept.article);
  view.shipment = text(kept.shipment);
  view.from = day(kept.from);
  view.to = day(kept.to);
  if (SORTS.includes(kept.sort as WorklistSort)) view.sort = kept.sort as WorklistSort;
  view.descending = kept.descending === true;
  return view;
}

export function saveView(storage: Pick<Storage, 'setItem'> | undefined, view: WorklistView) {
  const { search: _search, ...kept } = view;
  try {
    storage?.setItem(VIEW_KEY, JSON.stringify(kept));
  } catch {
    // Storage full or refused: the view is still kept for this session.
  }
}

/** A click on a column heading: that column ascending, or the other way round if it is the sort. */
export function sortBy(view: WorklistView, column: WorklistSort) {
  if (view.sort === column) view.descending = !view.descending;
  else {
    view.sort = column;
    view.descending = false;
  }
}

/** A status chip: in the filter or out of it (none in it: every status). */
export function toggleStatus(view: WorklistView, status: Status) {
  view.statuses = view.statuses.includes(status)
    ? view.statuses.filter((s) => s !== status)
    : ALL_STATUSES.filter((s) => s === status || view.statuses.includes(s));
}

/** The worklist query of a view (the dates and search as typed; the core reads them). */
export function viewQuery(view: WorklistView) {
  return {
    statuses: [...view.statuses],
    organisationId: view.organisation.trim() || null,
    shipmentId: view.shipment.trim() || null,
    articleId: view.article.trim() || null,
    search: view.search || null,
    receivedFrom: view.from || null,
    receivedTo: view.to || null,
    sort: view.sort,
    descending: view.descending,
  };
}
