// Renders a component to HTML in Node (no DOM, no effects) against a lab store, for tests that
// read what a panel shows in a given state.

import { createElement, type ComponentType } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { LabStoreContext } from '../../../src/state/hooks';
import type { LabStore } from '../../../src/state/store';

export function renderWithStore(store: LabStore, component: ComponentType): string {
  // A server render reads the store's initial state (useSyncExternalStore's server snapshot):
  // this one's initial state is its state now.
  const now: LabStore = { ...store, getInitialState: store.getState };
  return renderToStaticMarkup(createElement(LabStoreContext.Provider, { value: now }, createElement(component)));
}
