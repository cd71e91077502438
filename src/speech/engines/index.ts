// The engine registry.
import type { Engine, EngineName } from './engine.ts';
import { espeak } from './espeak.ts';
import { flite } from './flite.ts';
import { pico } from './pico.ts';

export const ENGINES: Record<EngineName, Engine> = { espeak, flite, pico };

export function getEngine(name: string): Engine | undefined {
  return (ENGINES as Record<string, Engine>)[name];
}

/** Engines that can run in a browser worker (all three today, given their assets). */
export function browserEngines(): Engine[] {
  return Object.values(ENGINES).filter((e) => e.browser);
}
