// Small named hooks over the store, so components subscribe to the slice they show and nothing else.

import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { LabState } from './lab-state';
import type { LabActions, LabStore } from './store';

export const LabStoreContext = createContext<LabStore | null>(null);

function useLab<T>(selector: (state: LabState & { actions: LabActions }) => T): T {
  const store = useContext(LabStoreContext);
  if (!store) throw new Error('Lab hooks must be used inside <LabStoreContext.Provider>.');
  return useStore(store, selector);
}

const selectBackend = (state: LabState) => state.backend;
const selectModel = (state: LabState) => state.model;
const selectPhotoChecks = (state: LabState) => state.photoChecks;
const selectDataset = (state: LabState) => state.dataset;
const selectSamples = (state: LabState) => state.samples;
const selectTraining = (state: LabState) => state.training;
const selectTrainingStatus = (state: LabState) => state.training.status;
const selectThumbnails = (state: LabState) => state.thumbnails;
const selectDiagnostics = (state: LabState) => state.diagnostics;
const selectWorkerError = (state: LabState) => state.workerError;
const selectActions = (state: { actions: LabActions }) => state.actions;

export const useBackend = () => useLab(selectBackend);
export const useModelStatus = () => useLab(selectModel);
export const usePhotoChecks = () => useLab(selectPhotoChecks);
export const useDataset = () => useLab(selectDataset);
export const useSamples = () => useLab(selectSamples);
export const useTraining = () => useLab(selectTraining);
/** Only the run's status: for components that must not re-render at every step. */
export const useTrainingStatus = () => useLab(selectTrainingStatus);
export const useThumbnails = () => useLab(selectThumbnails);
export const useDiagnostics = () => useLab(selectDiagnostics);
export const useWorkerError = () => useLab(selectWorkerError);
export const useLabActions = () => useLab(selectActions);
