// What the stores keep across reloads goes to localStorage through zustand's persist, which writes on every
// state change and would throw inside that change when localStorage is full or refused (a long transcript, many
// benchmark rows), breaking the page. Stores persist through keptStorage instead: a write that fails is
// recorded here, one line per store, and the app says so; the page goes on, only not kept across reloads.
import { create } from 'zustand';
import { createJSONStorage, type PersistStorage, type StateStorage } from 'zustand/middleware';

/** Per store name, why its last write to localStorage failed (absent once a write succeeds again). */
export const useNotKept = create<{ failures: Record<string, string> }>(() => ({ failures: {} }));

function record(name: string, reason: string | undefined): void {
  const { failures } = useNotKept.getState();
  if (failures[name] === reason) return;
  const next = { ...failures };
  if (reason === undefined) delete next[name];
  else next[name] = reason;
  useNotKept.setState({ failures: next });
}

/** Why a localStorage write failed, in words. */
export function notKeptReason(e: unknown): string {
  if (e instanceof DOMException && e.name === 'QuotaExceededError') return "the browser's storage for this page is full";
  return e instanceof Error ? e.message : String(e);
}

const browserStorage: StateStorage = {
  getItem: (name) => {
    try {
      return localStorage.getItem(name);
    } catch {
      return null;
    }
  },
  setItem: (name, value) => {
    try {
      localStorage.setItem(name, value);
      record(name, undefined);
    } catch (e) {
      record(name, notKeptReason(e));
    }
  },
  removeItem: (name) => {
    try {
      localStorage.removeItem(name);
    } catch {
      // Nothing could be kept, so there is nothing to remove.
    }
  },
};

/** localStorage for persist that never throws into a state update. */
export function keptStorage<S>(): PersistStorage<S> | undefined {
  return createJSONStorage<S>(() => browserStorage);
}
