// One tab at a time per training run: a run's folder in OPFS is shared by every tab of the origin, and two tabs
// training it together would interleave their checkpoints and log. The worker that trains a run (or removes it)
// holds the run's Web Lock; another tab asking for it is refused at once, with what to do. The browser releases
// the lock when that tab closes or its worker ends, so a crashed tab never keeps a run locked.
import { LabError } from '../gpu/errors.ts';

/** Run `work` holding the lock on `run`; refuses at once, saying so, when another tab holds it. */
export async function withRunLock<T>(run: string, doing: string, work: () => Promise<T>): Promise<T> {
  return navigator.locks.request(`lab-run:${run}`, { ifAvailable: true }, async (lock) => {
    if (!lock) throw new LabError('bad-input', `Run ${run} is training in another tab of this browser: ${doing}.`);
    return work();
  });
}
