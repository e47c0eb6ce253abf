// The typed client of the shell. Every command the UI may call is declared once here, with the
// argument and result types generated from Rust (./bindings, by ts-rs). A Rust test checks that
// this list matches the shell's command list, so the UI cannot call a command that does not exist.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { AppEvent } from './bindings/AppEvent';
import type { AppInfo } from './bindings/AppInfo';
import type { CardHold } from './bindings/CardHold';
import type { CardView } from './bindings/CardView';
import type { ChartPeriod } from './bindings/ChartPeriod';
import type { ChipApplied } from './bindings/ChipApplied';
import type { ChipView } from './bindings/ChipView';
import type { CommandError } from './bindings/CommandError';
import type { Cursor } from './bindings/Cursor';
import type { Dashboard } from './bindings/Dashboard';
import type { DeadLetterImported } from './bindings/DeadLetterImported';
import type { DeadLetterList } from './bindings/DeadLetterList';
import type { DocumentsWritten } from './bindings/DocumentsWritten';
import type { DevicesView } from './bindings/DevicesView';
import type { LogLines } from './bindings/LogLines';
import type { OrganisationSeen } from './bindings/OrganisationSeen';
import type { ParcelDraft } from './bindings/ParcelDraft';
import type { ParcelView } from './bindings/ParcelView';
import type { Produced } from './bindings/Produced';
import type { ProductionChart } from './bindings/ProductionChart';
import type { QueueExported } from './bindings/QueueExported';
import type { QueueMessage } from './bindings/QueueMessage';
import type { QueueOverview } from './bindings/QueueOverview';
import type { QueueQuery } from './bindings/QueueQuery';
import type { ReadoutCheck } from './bindings/ReadoutCheck';
import type { ReadoutValue } from './bindings/ReadoutValue';
import type { RefusedView } from './bindings/RefusedView';
import type { ScanMeaningView } from './bindings/ScanMeaningView';
import type { ScanVerdict } from './bindings/ScanVerdict';
import type { Settings } from './bindings/Settings';
import type { ShipmentItem } from './bindings/ShipmentItem';
import type { ShipmentView } from './bindings/ShipmentView';
import type { Status } from './bindings/Status';
import type { WorklistItem } from './bindings/WorklistItem';
import type { WorklistPage } from './bindings/WorklistPage';
import type { WorklistQuery } from './bindings/WorklistQuery';
import type { ReportingView } from './bindings/ReportingView';
import type { WebhookAdded } from './bindings/WebhookAdded';
import type { SubscriberView } from './bindings/SubscriberView';
import type { DeliveryAttemptView } from './bindings/DeliveryAttemptView';
import { Pending } from './pending';

export interface Commands {
  app_info: { args: Record<string, never>; result: AppInfo };
  first_paint: { args: { rows: number }; result: null };
  worklist: { args: { query: WorklistQuery }; result: WorklistPage };
  card: { args: { cardId: string }; result: CardView };
  check_readout: { args: { field: string; value: string }; result: ReadoutCheck };
  next_card: { args: { after: Cursor | null }; result: WorklistItem | null };
  take_card: { args: { cardId: string }; result: CardHold };
  release_card: { args: { cardId: string }; result: null };
  take_next_card: { args: { after: Cursor | null }; result: WorklistItem | null };
  save_readouts: { args: { cardId: string; values: ReadoutValue[]; source: string }; result: Status };
  produce: { args: { cardId: string; values: ReadoutValue[]; source: string }; result: Produced };
  spoil: { args: { cardId: string; reason: string }; result: null };
  refuse: { args: { cardId: string; code: string; details: string }; result: RefusedView };
  shipments: { args: { openOnly: boolean }; result: ShipmentItem[] };
  shipment: { args: { shipmentId: string }; result: ShipmentView };
  scan_into_parcel: { args: { shipmentId: string; cardId: string; already: string[] }; result: ScanVerdict };
  interpret_scan: { args: { raw: string; cardInHand: string | null }; result: ScanMeaningView };
  ship: { args: { draft: ParcelDraft }; result: ParcelView };
  parcel_details_check: { args: { carrier: string | null; trackingId: string | null }; result: string[] };
  inbox: { args: { query: QueueQuery }; result: QueueMessage[] };
  outbox: { args: { query: QueueQuery }; result: QueueMessage[] };
  reveal_inbox: { args: { inboxId: number }; result: QueueMessage };
  resend: { args: { outboxId: number }; result: null };
  export_messages: { args: { direction: 'in' | 'out'; query: QueueQuery; ids: number[] | null }; result: QueueExported };
  dead_letters: { args: { max: number }; result: DeadLetterList };
  import_dead_letter: { args: { messageId: string }; result: DeadLetterImported };
  queue_overview: { args: Record<string, never>; result: QueueOverview };
  dashboard: { args: Record<string, never>; result: Dashboard };
  production_chart: { args: { period: ChartPeriod }; result: ProductionChart };
  get_settings: { args: Record<string, never>; result: Settings };
  save_settings: { args: { settings: Settings }; result: Settings };
  organisations: { args: Record<string, never>; result: OrganisationSeen[] };
  devices_status: { args: Record<string, never>; result: DevicesView };
  parcel_slip: { args: { parcelId: number; print: boolean }; result: DocumentsWritten };
  period_documents: { args: { from: string; to: string }; result: DocumentsWritten };
  apply_chip: { args: { cardId: string | null; chip: ChipView }; result: ChipApplied };
  log_tail: { args: { lines: number }; result: LogLines };
  reporting: { args: Record<string, never>; result: ReportingView };
  add_webhook: { args: { name: string; url: string; topics: string[]; encoding: string }; result: WebhookAdded };
  add_forward: { args: { name: string; url: string; topics: string[]; user: string; password: string }; result: SubscriberView };
  remove_subscriber: { args: { kind: string; name: string }; result: null };
  resume_subscriber: { args: { name: string }; result: null };
  save_api_settings: { args: { enabled: boolean; listen: string }; result: ReportingView };
  api_token: { args: { rotate: boolean }; result: string };
  delivery_attempts: { args: { outboxId: number }; result: DeliveryAttemptView[] };
}

/** A refusal from the shell, with the reason in words. */
export class ApiError extends Error {
  code: string;
  problems: string[];
  constructor(e: CommandError) {
    super(e.message);
    this.code = e.code;
    this.problems = e.problems;
  }
}

export function isCommandError(e: unknown): e is CommandError {
  return typeof e === 'object' && e !== null && 'code' in e && 'message' in e;
}

/** What the working indicator says while a command that can take long runs. */
const LONG_WORK: Partial<Record<keyof Commands, string>> = {
  save_settings: 'Saving settings and restarting the connection',
  parcel_slip: 'Writing the packing slip',
  period_documents: "Writing the period's documents",
  export_messages: 'Exporting messages',
  ship: 'Queuing SHIPPED',
  worklist: 'Searching the worklist',
  save_api_settings: 'Saving the card API settings and restarting the connection',
};

const pending = new Pending();
let onWorkingChange: ((label: string | null) => void) | null = null;

/** Called with the label to show (or null) whenever long work starts showing or ends. */
export function onWorking(handler: (label: string | null) => void) {
  onWorkingChange = handler;
}

function workingChanged() {
  onWorkingChange?.(pending.showing(Date.now()));
}

export async function call<K extends keyof Commands>(cmd: K, args: Commands[K]['args']): Promise<Commands[K]['result']> {
  const label = LONG_WORK[cmd];
  const job = label ? pending.start(label, Date.now()) : null;
  if (job !== null) setTimeout(workingChanged, pending.delayMs);
  try {
    return (await invoke(cmd, args as Record<string, unknown>)) as Commands[K]['result'];
  } catch (e) {
    if (isCommandError(e)) throw new ApiError(e);
    throw new ApiError({ code: 'ipc', message: String(e), problems: [] });
  } finally {
    if (job !== null) {
      pending.end(job);
      workingChanged();
    }
  }
}

export const EVENT_CHANNEL = 'cardbench://event';

export function onEvent(handler: (e: AppEvent) => void): Promise<UnlistenFn> {
  return listen<AppEvent>(EVENT_CHANNEL, (msg) => handler(msg.payload));
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.problems.length > 1 ? `${e.message}` : e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
