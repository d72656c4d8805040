// Small named hooks over the store, so components subscribe to the slice they show and nothing else.

import { createContext, useContext, useEffect, useState } from 'react';
import { useStore } from 'zustand';
import { throttle } from '../core/throttle';
import type { LabState } from './lab-state';
import type { LabActions, LabStore } from './store';

export const LabStoreContext = createContext<LabStore | null>(null);

/** How often the charts and the progress line follow a run. */
const TRAINING_VIEW_INTERVAL_MS = 200;

function useLabStore(): LabStore {
  const store = useContext(LabStoreContext);
  if (!store) throw new Error('Lab hooks must be used inside <LabStoreContext.Provider>.');
  return store;
}

function useLab<T>(selector: (state: LabState & { actions: LabActions }) => T): T {
  return useStore(useLabStore(), selector);
}

/**
 * A slice that follows the store at most once per `intervalMs` (the first value at once, the last
 * always): for views of what changes at every training step, a few hundred times a second.
 */
function useLabThrottled<T>(selector: (state: LabState) => T, intervalMs: number): T {
  const store = useLabStore();
  const [value, setValue] = useState(() => selector(store.getState()));
  useEffect(() => {
    // Through an updater: a selected value that is itself a function must not be called.
    const throttled = throttle<T>(intervalMs, (next) => setValue(() => next));
    throttled.push(selector(store.getState()));
    const unsubscribe = store.subscribe((state) => throttled.push(selector(state)));
    return () => {
      unsubscribe();
      throttled.cancel();
    };
  }, [store, selector, intervalMs]);
  return value;
}

const selectBackend = (state: LabState) => state.backend;
const selectModel = (state: LabState) => state.model;
const selectPhotoChecks = (state: LabState) => state.photoChecks;
const selectDataset = (state: LabState) => state.dataset;
const selectSamples = (state: LabState) => state.samples;
const selectSampleFailures = (state: LabState) => state.sampleFailures;
const selectThumbnailFailure = (state: LabState) => state.thumbnailFailure;
const selectTraining = (state: LabState) => state.training;
const selectTrainingStatus = (state: LabState) => state.training.status;
const selectTrainingSettings = (state: LabState) => state.training.settings;
const selectTrainingMessage = (state: LabState) => state.training.message;
const selectThumbnails = (state: LabState) => state.thumbnails;
const selectDatasetEdits = (state: LabState) => state.datasetEdits;
const selectDiagnostics = (state: LabState) => state.diagnostics;
const selectWorkerError = (state: LabState) => state.workerError;
const selectKeptModel = (state: LabState) => state.trained.model;
const selectExports = (state: LabState) => state.trained.exports;
const selectPredictions = (state: LabState) => state.predictions;
const selectHistory = (state: LabState) => state.history;
const selectActions = (state: { actions: LabActions }) => state.actions;

export const useBackend = () => useLab(selectBackend);
export const useModelStatus = () => useLab(selectModel);
export const usePhotoChecks = () => useLab(selectPhotoChecks);
export const useDataset = () => useLab(selectDataset);
export const useSamples = () => useLab(selectSamples);
export const useSampleFailures = () => useLab(selectSampleFailures);
/** Why the latest preview request failed, if it did. */
export const useThumbnailFailure = () => useLab(selectThumbnailFailure);
export const useTraining = () => useLab(selectTraining);
/** The run as charts and progress show it: updated 5 times a second, however fast steps end. */
export const useTrainingThrottled = () => useLabThrottled(selectTraining, TRAINING_VIEW_INTERVAL_MS);
/** Only the run's status: for components that must not re-render at every step. */
export const useTrainingStatus = () => useLab(selectTrainingStatus);
/** Only the settings the next run starts with (the live ones also apply to the running one). */
export const useTrainingSettings = () => useLab(selectTrainingSettings);
/** Why the run paused or failed, or a warning. */
export const useTrainingMessage = () => useLab(selectTrainingMessage);
export const useThumbnails = () => useLab(selectThumbnails);
/** Images left out of the open dataset, one list per click. */
export const useDatasetEdits = () => useLab(selectDatasetEdits);
export const useDiagnostics = () => useLab(selectDiagnostics);
export const useWorkerError = () => useLab(selectWorkerError);
/** The model a run left or an import brought (none, importing, ready, failed). */
export const useKeptModel = () => useLab(selectKeptModel);
/** Each export format's status for the kept model. */
export const useExports = () => useLab(selectExports);
/** "Try it": the predict batches, newest first, and why the last pick sent nothing. */
export const usePredictions = () => useLab(selectPredictions);
/** The runs kept across reloads, the one opened and those compared. */
export const useRunHistory = () => useLab(selectHistory);
export const useLabActions = () => useLab(selectActions);
