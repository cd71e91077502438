// A full localStorage must not break a page: persist writes on every state change, and a write that throws would
// throw out of the change itself. Through keptStorage the change goes on and the failure is recorded to be shown.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { keptStorage, useNotKept } from '../../src/app/stores/kept.ts';

/** A localStorage whose writes throw the browser's quota error while `full`. */
function fakeLocalStorage() {
  const items = new Map<string, string>();
  const fake = {
    full: false,
    getItem: (k: string) => items.get(k) ?? null,
    setItem: (k: string, v: string) => {
      if (fake.full) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      items.set(k, v);
    },
    removeItem: (k: string) => void items.delete(k),
    items,
  };
  return fake;
}

interface Counter {
  n: number;
  bump(): void;
}

function counterStore(name: string, storage: ReturnType<typeof keptStorage<Partial<Counter>>>) {
  return create<Counter>()(persist((set, get) => ({ n: 0, bump: () => set({ n: get().n + 1 }) }), { name, storage, partialize: (s) => ({ n: s.n }) }));
}

describe('stores kept in localStorage', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    useNotKept.setState({ failures: {} });
  });

  it('a full storage: the state still changes, the failure is recorded, and cleared once a write succeeds', () => {
    const ls = fakeLocalStorage();
    vi.stubGlobal('localStorage', ls);
    const store = counterStore('lab.test', keptStorage());
    store.getState().bump();
    expect(JSON.parse(ls.items.get('lab.test')!).state).toEqual({ n: 1 });
    ls.full = true;
    expect(() => store.getState().bump()).not.toThrow();
    expect(store.getState().n).toBe(2);
    expect(useNotKept.getState().failures).toEqual({ 'lab.test': "the browser's storage for this page is full" });
    ls.full = false;
    store.getState().bump();
    expect(useNotKept.getState().failures).toEqual({});
    expect(JSON.parse(ls.items.get('lab.test')!).state).toEqual({ n: 3 });
  });

  it("persist's own localStorage storage throws out of the state change (what keptStorage prevents)", () => {
    const ls = fakeLocalStorage();
    vi.stubGlobal('localStorage', ls);
    const store = counterStore('lab.plain', createJSONStorage(() => localStorage));
    ls.full = true;
    expect(() => store.getState().bump()).toThrow(/quota/);
  });
});
