// The run history: each run's RunLog kept in IndexedDB, one record per run, so that a reload or a
// crash does not lose it. No DOM: the page and the training worker both open it.

import { openDB, type DBSchema, type IDBPDatabase, type IDBPObjectStore, type IDBPTransaction } from 'idb';
import type { BackendName } from '../core/backends';
import type { ClassWeighting } from '../core/class-weights';
import type { SplitName } from '../core/dataset';
import type { NormalizationMode } from '../core/preprocess-spec';
import type { RunLog, RunSegment } from '../core/run-report';
import { trainingStateArrays, type TrainingState } from '../core/run-records';
import type { OptimizerKind } from '../core/training-config';

export const DEFAULT_DATABASE_NAME = 'finetune-lab';
/** The shape of a stored record; a record with another version is listed but never opened. */
export const RUN_RECORD_VERSION = 1;
export const MAX_RUN_NAME_CHARS = 120;

const RUNS_STORE = 'runs';
/** A kept model's zip per run, apart from the runs: listing them never reads ~100 MB of weights. */
const MODELS_STORE = 'models';
/** The training state of a run in progress, saved at each epoch's end, to resume it from. */
const STATES_STORE = 'states';
/** The database's schema (stores and indexes), not the records': bump it with a step in `upgrade`. */
const DATABASE_VERSION = 3;
/** Keeps a default name within MAX_RUN_NAME_CHARS with room for " · 2025-01-31 23:59". */
const MAX_DEFAULT_NAME_DATASET_CHARS = 80;

/** The key settings of a run segment as it started (live changes are in RunLog.changes). */
export interface RunSummarySettings {
  sizePx: number;
  freezeDepth: number;
  learningRate: number;
  epochs: number;
  batchSize: number;
  classWeighting: ClassWeighting;
  normalization: NormalizationMode;
  optimizer: OptimizerKind;
}

export type RunStatus = 'running' | NonNullable<RunSegment['ended']>['status'];

/** What the history list shows of a run, derived from its RunLog by summarizeRun. */
export interface RunSummary {
  /** The dropped folder's name; null when it had none. */
  datasetName: string | null;
  classNames: string[];
  /** Images each split read. */
  imageCounts: Record<SplitName, number>;
  epochsDone: number;
  stepsDone: number;
  /**
   * Of the last run segment; null before the first one starts. A 'running' run from an earlier
   * session was cut off (the tab closed or crashed) before it ended.
   */
  status: RunStatus | null;
  backend: BackendName | null;
  /** Of the last run segment; null before the first one starts. */
  settings: RunSummarySettings | null;
  /** Over every epoch's validation; null without one. */
  bestValidationAccuracy: number | null;
  bestValidationMacroF1: number | null;
}

/** A run as stored. */
export interface StoredRun {
  id: string;
  version: typeof RUN_RECORD_VERSION;
  name: string;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601: the last createRun or saveRun (a rename does not move a run up the list). */
  updatedAt: string;
  log: RunLog;
  summary: RunSummary;
  /** The run's trained model, when the user kept it (its zip is in the models store). */
  model?: KeptModelInfo;
  /** The folder it trained on, when it was picked with the folder picker: its handle reopens it for a resume. */
  folder?: unknown;
  /** While the run has not ended: the epoch its saved training state resumes from (the state is in the states store). */
  resumable?: { epoch: number; step: number; sizeBytes: number; savedAt: string };
}

/** A model kept with its run: the lab's TF.js zip, as "Export TF.js model" writes it. */
export interface KeptModelInfo {
  fileName: string;
  sizeBytes: number;
  /** ISO 8601. */
  savedAt: string;
}

interface StoredModel {
  runId: string;
  fileName: string;
  bytes: Uint8Array;
}

/** A run without its log: what listRuns and createRun return. */
export interface StoredRunSummary extends Omit<StoredRun, 'log'> {
  kind: 'run';
}

/** A record this version of the lab cannot read: it is listed so that it can be deleted. */
export interface UnreadableRun {
  kind: 'unreadable';
  id: string;
  name?: string;
  /** Why, for the user. */
  unreadable: string;
}

export type StoredRunListing = StoredRunSummary | UnreadableRun;

export interface StorageEstimate {
  /** null when the browser does not say. */
  usedBytes: number | null;
  availableBytes: number | null;
}

export interface RunStoreOptions {
  /** The IndexedDB database. Default: 'finetune-lab'. */
  name?: string;
  /**
   * Tests only: writes fail as the browser's full storage fails them once the records' JSON,
   * the new one included, would exceed this. Default: none (the browser's own quota).
   */
  quotaBytes?: number;
  /** The clock of createdAt, updatedAt and default names. Default: the system clock. */
  now?: () => Date;
}

export interface RunStore {
  /** Stores a new run; the name defaults to "<dataset> · <date time>". */
  createRun(log: RunLog, name?: string): Promise<StoredRunSummary>;
  /** Replaces the log and summary of a stored run; fails with 'not-found' when it was deleted. */
  saveRun(id: string, log: RunLog): Promise<void>;
  /** Newest updatedAt first; records of other versions last. */
  listRuns(): Promise<StoredRunListing[]>;
  /** null when there is no such run; fails with 'unreadable' for a record of another version. */
  getRun(id: string): Promise<StoredRun | null>;
  renameRun(id: string, name: string): Promise<void>;
  /** Deleting a run that is already gone (another tab deleted it) is not an error. Its kept model goes with it. */
  deleteRun(id: string): Promise<void>;
  /** Keeps the run's trained model (a TF.js zip) with it, replacing one kept before. */
  saveModel(id: string, fileName: string, bytes: Uint8Array): Promise<KeptModelInfo>;
  /** The run's kept model; null when it has none. */
  getModel(id: string): Promise<{ fileName: string; bytes: Uint8Array } | null>;
  /**
   * Keeps a run's training state to resume from, replacing the one before. Ignored once the run
   * has ended (a state read after the run's last save): saveRun of an ended run drops it.
   */
  saveState(id: string, state: TrainingState): Promise<void>;
  /** The saved training state of a run that did not end; null when there is none. */
  getState(id: string): Promise<TrainingState | null>;
  /** Keeps the handle of the folder the run trained on (showDirectoryPicker's), to reopen it for a resume. */
  saveFolder(id: string, handle: unknown): Promise<void>;
  estimate(): Promise<StorageEstimate>;
  close(): void;
}

export type RunStoreErrorCode = 'quota' | 'not-found' | 'unreadable' | 'invalid-name' | 'unavailable';

/** A failure of the run history; the message is for the user and says what was not saved. */
export class RunStoreError extends Error {
  override readonly name = 'RunStoreError';

  constructor(
    readonly code: RunStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface RunsSchema extends DBSchema {
  runs: {
    key: string;
    // Written as StoredRun; a record of another version may have any shape, so every read goes
    // through readRecord.
    value: StoredRun;
    indexes: { updatedAt: string };
  };
  models: {
    key: string;
    value: StoredModel;
  };
  states: {
    key: string;
    value: { runId: string; state: TrainingState };
  };
}

type RunsDatabase = IDBPDatabase<RunsSchema>;
type RunsTransaction = IDBPTransaction<RunsSchema, ['runs', 'models', 'states'], 'readwrite'>;
type RunsObjectStore = IDBPObjectStore<RunsSchema, ['runs', 'models', 'states'], 'runs', 'readwrite'>;

export function summarizeRun(log: RunLog): RunSummary {
  const last = log.runs.at(-1);
  const validations = log.epochs.flatMap((e) => (e.validation ? [e.validation.metrics] : []));
  return {
    datasetName: log.dataset.rootName,
    classNames: [...log.classNames],
    imageCounts: {
      train: log.dataset.files.train.length,
      validation: log.dataset.files.validation.length,
      test: log.dataset.files.test.length,
    },
    epochsDone: log.epochs.length,
    stepsDone: log.steps.length,
    status: last ? (last.ended?.status ?? 'running') : null,
    backend: log.backend?.name ?? null,
    settings: last ? segmentSettings(last) : null,
    bestValidationAccuracy: largest(validations.map((m) => m.accuracy)),
    bestValidationMacroF1: largest(validations.map((m) => m.macroF1)),
  };
}

function segmentSettings({ settings }: RunSegment): RunSummarySettings {
  const { config } = settings;
  return {
    sizePx: settings.sizePx,
    freezeDepth: config.freezeDepth,
    learningRate: config.learningRate,
    epochs: config.epochs,
    batchSize: config.batchSize,
    classWeighting: config.classWeighting,
    normalization: settings.normalization,
    optimizer: config.optimizer,
  };
}

function largest(values: number[]): number | null {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length > 0 ? Math.max(...finite) : null;
}

export async function openRunStore(options: RunStoreOptions = {}): Promise<RunStore> {
  const now = options.now ?? (() => new Date());
  const { quotaBytes } = options;
  /** Why this connection can no longer be used; null while it can. */
  let lost: string | null = null;
  const db = await openDatabase(options.name ?? DEFAULT_DATABASE_NAME, (reason) => {
    lost = reason;
  });

  const modelBytes = async (except?: string) => (await db.getAll(MODELS_STORE)).reduce((sum, m) => sum + (m.runId === except ? 0 : m.bytes.byteLength), 0);
  const storedBytes = async () =>
    (await db.getAll(RUNS_STORE)).reduce((sum, record) => sum + jsonBytes(record), 0) +
    (await modelBytes()) +
    (await db.getAll(STATES_STORE)).reduce((sum, s) => sum + stateBytes(s.state), 0);

  const estimate = async (): Promise<StorageEstimate> => {
    if (quotaBytes === undefined) return browserEstimate();
    const usedBytes = await storedBytes();
    return { usedBytes, availableBytes: Math.max(0, quotaBytes - usedBytes) };
  };

  /** Runs `operation`, turning any failure into a RunStoreError that begins with `subject()`. */
  const guard = async <T>(subject: () => string, operation: () => Promise<T>, quotaAdvice = 'Delete old runs to make room.'): Promise<T> => {
    if (lost !== null) throw new RunStoreError('unavailable', `${subject()}: ${lost}`);
    try {
      return await operation();
    } catch (error) {
      if (error instanceof RunStoreError) throw error;
      if (isQuotaError(error)) {
        const usedBytes = await estimate().then((e) => e.usedBytes, () => null);
        const used = usedBytes === null ? '' : ` (${formatMegabytes(usedBytes)} used)`;
        throw new RunStoreError('quota', `${subject()}: the browser's storage for this page is full${used}. ${quotaAdvice}`, { cause: error });
      }
      const reason = lost ?? `the browser's storage failed (${describe(error)}).`;
      throw new RunStoreError('unavailable', `${subject()}: ${reason}`, { cause: error });
    }
  };

  /** The run `id` as stored, for a change to it; fails when it is gone or cannot be read. */
  const existingRun = async (store: RunsObjectStore, id: string, subject: string): Promise<StoredRun> => {
    const record = readRecord(await store.get(id));
    if (record === undefined) {
      throw new RunStoreError('not-found', `${subject}: it is no longer in the run history (it may have been deleted in another tab).`);
    }
    if ('unreadable' in record) throw new RunStoreError('unreadable', record.unreadable);
    return record;
  };

  /** The test quota's check: `models` is what the stored models take (read before the transaction). */
  const put = async (store: RunsObjectStore, record: StoredRun, models = 0, adding = 0) => {
    if (quotaBytes !== undefined) {
      const others = (await store.getAll()).filter((r) => r.id !== record.id);
      const usedBytes = others.reduce((sum, r) => sum + jsonBytes(r), 0) + models;
      if (usedBytes + jsonBytes(record) + adding > quotaBytes) {
        throw new DOMException(`The test quota of ${quotaBytes} bytes is exceeded.`, 'QuotaExceededError');
      }
    }
    await store.put(record);
  };

  /** Model bytes stored, for the test quota only (a read of every model otherwise saved for nothing). */
  const quotaModels = (except?: string) => (quotaBytes === undefined ? Promise.resolve(0) : modelBytes(except));

  return {
    async createRun(log, name) {
      const at = now();
      const record: StoredRun = {
        id: crypto.randomUUID(),
        version: RUN_RECORD_VERSION,
        name: name === undefined ? defaultName(log, at) : validName(name, 'The run was not saved'),
        createdAt: at.toISOString(),
        updatedAt: at.toISOString(),
        log,
        summary: summarizeRun(log),
      };
      const models = await quotaModels();
      await guard(
        () => `The run “${record.name}” was not saved`,
        () => inTransaction(db, (store) => put(store, record, models)),
        'Delete old runs to make room; the run goes on.',
      );
      return listing(record);
    },

    async saveRun(id, log) {
      let subject = 'The run was not saved';
      const models = await quotaModels();
      await guard(
        () => subject,
        () =>
          inTransaction(db, async (runs, tx) => {
            const existing = await existingRun(runs, id, subject);
            subject = `The run “${existing.name}” was not saved`;
            const summary = summarizeRun(log);
            const { resumable, ...rest } = existing;
            // An ended run has nothing to resume: its state goes.
            const ended = summary.status !== 'running';
            await put(runs, { ...rest, ...(resumable && !ended ? { resumable } : {}), updatedAt: now().toISOString(), log, summary }, models);
            if (ended && resumable) await tx.objectStore(STATES_STORE).delete(id);
          }),
        'Delete old runs to make room; the run goes on.',
      );
    },

    async saveState(id, state) {
      let subject = 'The run’s state for resuming was not saved';
      const models = await quotaModels();
      const sizeBytes = stateBytes(state);
      await guard(
        () => subject,
        () =>
          inTransaction(db, async (runs, tx) => {
            const existing = await existingRun(runs, id, subject);
            subject = `The state of “${existing.name}” for resuming was not saved`;
            // A run that ended has nothing to resume; a state ahead of the stored log would
            // resume past epochs the log does not have.
            if (existing.summary.status !== 'running' || state.epoch > existing.summary.epochsDone) return;
            const states = tx.objectStore(STATES_STORE);
            // The test quota counts the states too (the one replaced excepted).
            const others = quotaBytes === undefined ? 0 : (await states.getAll()).filter((s) => s.runId !== id).reduce((sum, s) => sum + stateBytes(s.state), 0);
            await put(runs, { ...existing, resumable: { epoch: state.epoch, step: state.step, sizeBytes, savedAt: now().toISOString() } }, models + others, sizeBytes);
            await states.put({ runId: id, state });
          }),
        'Delete old runs to make room; the run goes on, but cannot be resumed from this epoch.',
      );
    },

    async saveFolder(id, handle) {
      let subject = 'The folder of the run was not kept';
      await guard(
        () => subject,
        () =>
          inTransaction(db, async (store) => {
            const existing = await existingRun(store, id, subject);
            subject = `The folder of “${existing.name}” was not kept`;
            await put(store, { ...existing, folder: handle });
          }),
      );
    },

    async getState(id) {
      const stored = await guard(
        () => 'The run’s saved state could not be read',
        () => db.get(STATES_STORE, id),
      );
      return stored?.state ?? null;
    },

    async listRuns() {
      const values: unknown[] = await guard(
        () => 'The run history could not be read',
        () => db.getAll(RUNS_STORE),
      );
      // Sorted here rather than read through the updatedAt index: the index leaves out a record
      // of another version that lacks updatedAt.
      const entries = values.map((value) => {
        const record = readRecord(value)!;
        return 'unreadable' in record ? { listing: record, updatedAt: '' } : { listing: listing(record), updatedAt: record.updatedAt };
      });
      entries.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
      return entries.map((e) => e.listing);
    },

    async getRun(id) {
      const record = readRecord(
        await guard(
          () => 'The run could not be read',
          () => db.get(RUNS_STORE, id),
        ),
      );
      if (record === undefined) return null;
      if ('unreadable' in record) throw new RunStoreError('unreadable', record.unreadable);
      return record;
    },

    async renameRun(id, name) {
      let subject = 'The run was not renamed';
      const newName = validName(name, subject);
      await guard(
        () => subject,
        () =>
          inTransaction(db, async (store) => {
            const existing = await existingRun(store, id, subject);
            subject = `The run “${existing.name}” was not renamed`;
            await put(store, { ...existing, name: newName });
          }),
      );
    },

    async deleteRun(id) {
      await guard(
        () => 'The run was not deleted',
        () =>
          inTransaction(db, async (runs, tx) => {
            await Promise.all([runs.delete(id), tx.objectStore(MODELS_STORE).delete(id), tx.objectStore(STATES_STORE).delete(id)]);
          }),
      );
    },

    async saveModel(id, fileName, bytes) {
      let subject = 'The model was not kept';
      const models = await quotaModels(id);
      return guard(
        () => subject,
        () =>
          inTransaction(db, async (runs, tx) => {
            const existing = await existingRun(runs, id, subject);
            subject = `The model of “${existing.name}” was not kept`;
            const model: KeptModelInfo = { fileName, sizeBytes: bytes.byteLength, savedAt: now().toISOString() };
            await put(runs, { ...existing, model }, models, bytes.byteLength);
            await tx.objectStore(MODELS_STORE).put({ runId: id, fileName, bytes });
            return model;
          }),
        'Delete old runs or their models to make room.',
      );
    },

    async getModel(id) {
      const stored = await guard(
        () => 'The kept model could not be read',
        () => db.get(MODELS_STORE, id),
      );
      return stored ? { fileName: stored.fileName, bytes: stored.bytes } : null;
    },

    async estimate() {
      return guard(() => 'The storage used could not be measured', estimate);
    },

    close() {
      lost ??= 'the run history is closed.';
      db.close();
    },
  };
}

/**
 * Opens (and on first use creates) the database. `onLost` is told when the connection closes
 * under the store: a newer version of the lab in another tab needs it, or the browser ended it.
 */
async function openDatabase(name: string, onLost: (reason: string) => void): Promise<RunsDatabase> {
  if (typeof indexedDB === 'undefined') {
    throw new RunStoreError('unavailable', 'Runs are not kept: this browser offers no IndexedDB here (private browsing can turn it off).');
  }
  let blocked = false;
  let reportBlocked = () => {};
  const blockedSignal = new Promise<never>((_, reject) => {
    reportBlocked = () =>
      reject(new RunStoreError('unavailable', 'Runs are not kept: another tab has an older version of the lab open. Close it and reload this page.'));
  });
  const opening = openDB<RunsSchema>(name, DATABASE_VERSION, {
    upgrade(database, oldVersion) {
      if (oldVersion < 1) database.createObjectStore(RUNS_STORE, { keyPath: 'id' }).createIndex('updatedAt', 'updatedAt');
      if (oldVersion < 2) database.createObjectStore(MODELS_STORE, { keyPath: 'runId' });
      if (oldVersion < 3) database.createObjectStore(STATES_STORE, { keyPath: 'runId' });
    },
    blocked() {
      blocked = true;
      reportBlocked();
    },
    blocking(_currentVersion, _blockedVersion, event) {
      // Holding on would keep the newer version from opening in the other tab.
      (event.target as IDBDatabase).close();
      onLost('the lab was updated in another tab. Reload this page to keep saving runs.');
    },
    terminated() {
      onLost('the browser closed the run history. Reload this page to keep saving runs.');
    },
  });
  // Should the other tab let go after all, this store was already reported unavailable.
  opening.then(
    (database) => {
      if (blocked) database.close();
    },
    () => undefined,
  );
  try {
    return await Promise.race([opening, blockedSignal]);
  } catch (error) {
    if (error instanceof RunStoreError) throw error;
    throw new RunStoreError('unavailable', `Runs are not kept: the browser would not open their storage (${describe(error)}).`, { cause: error });
  }
}

/**
 * Runs `work` in one readwrite transaction over every store (a run, its model and its state
 * change together): all of it is written, or none.
 */
async function inTransaction<T>(db: RunsDatabase, work: (runs: RunsObjectStore, tx: RunsTransaction) => Promise<T>): Promise<T> {
  const tx = db.transaction([RUNS_STORE, MODELS_STORE, STATES_STORE], 'readwrite');
  // Its failure reaches the caller through `work` or the await below, never as an unhandled rejection.
  tx.done.catch(() => undefined);
  try {
    const result = await work(tx.objectStore(RUNS_STORE), tx);
    await tx.done;
    return result;
  } catch (error) {
    try {
      tx.abort();
    } catch {
      // Already aborted by the failure itself.
    }
    throw error;
  }
}

/** A stored value as this version reads it; undefined when there is none. */
function readRecord(value: unknown): StoredRun | UnreadableRun | undefined {
  if (value === undefined) return undefined;
  const record = value as Partial<Record<keyof StoredRun, unknown>>;
  const isObject = (field: unknown) => typeof field === 'object' && field !== null;
  if (
    record.version === RUN_RECORD_VERSION &&
    isObject(record.log) &&
    isObject(record.summary) &&
    typeof record.name === 'string' &&
    typeof record.createdAt === 'string' &&
    typeof record.updatedAt === 'string'
  ) {
    return value as StoredRun;
  }
  const version = typeof record.version === 'number' || typeof record.version === 'string' ? record.version : 'unknown';
  return {
    kind: 'unreadable',
    id: String(record.id),
    ...(typeof record.name === 'string' ? { name: record.name } : {}),
    unreadable: `This run was saved by another version of the lab (record version ${version}) and cannot be opened.`,
  };
}

function listing({ log: _log, ...rest }: StoredRun): StoredRunSummary {
  return { kind: 'run', ...rest };
}

/** The name trimmed; fails with a message that begins with `subject` when it is empty or too long. */
function validName(name: string, subject: string): string {
  const trimmed = name.trim();
  if (trimmed === '') throw new RunStoreError('invalid-name', `${subject}: a run's name cannot be empty.`);
  const length = [...trimmed].length;
  if (length > MAX_RUN_NAME_CHARS) {
    throw new RunStoreError('invalid-name', `${subject}: a run's name can have at most ${MAX_RUN_NAME_CHARS} characters, and this one has ${length}.`);
  }
  return trimmed;
}

/** "<dataset> · YYYY-MM-DD HH:MM", in local time. */
function defaultName(log: RunLog, at: Date): string {
  const characters = [...(log.dataset.rootName?.trim() || 'Run')];
  const dataset = characters.length > MAX_DEFAULT_NAME_DATASET_CHARS ? `${characters.slice(0, MAX_DEFAULT_NAME_DATASET_CHARS - 1).join('')}…` : characters.join('');
  const two = (n: number) => String(n).padStart(2, '0');
  return `${dataset} · ${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}`;
}

async function browserEstimate(): Promise<StorageEstimate> {
  const unknown = { usedBytes: null, availableBytes: null };
  // Node has no navigator before 21, and some browsers no navigator.storage outside secure contexts.
  if (typeof navigator === 'undefined' || typeof navigator.storage?.estimate !== 'function') return unknown;
  try {
    const { usage, quota } = await navigator.storage.estimate();
    return {
      usedBytes: usage ?? null,
      availableBytes: usage !== undefined && quota !== undefined ? Math.max(0, quota - usage) : null,
    };
  } catch {
    return unknown;
  }
}

/** The browser's full storage: a DOMException named QuotaExceededError (legacy code 22). */
function isQuotaError(error: unknown): boolean {
  return error instanceof DOMException && (error.name === 'QuotaExceededError' || error.code === DOMException.QUOTA_EXCEEDED_ERR);
}

/** Bytes of a training state's arrays (its few numbers besides are left out). */
function stateBytes(state: TrainingState): number {
  return trainingStateArrays(state).reduce((sum, a) => sum + a.byteLength, 0);
}

const utf8 = new TextEncoder();

function jsonBytes(value: unknown): number {
  return utf8.encode(JSON.stringify(value)).byteLength;
}

function formatMegabytes(bytes: number): string {
  const megabytes = bytes / 1_000_000;
  if (megabytes >= 10) return `${Math.round(megabytes)} MB`;
  if (megabytes >= 0.1) return `${megabytes.toFixed(1)} MB`;
  return 'less than 0.1 MB';
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
