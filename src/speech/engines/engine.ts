// Speech synthesis engines behind one small interface, so the corpus builder can mix them (and hold one out).
//
//   engine   licence            voices                      rate   phones                       browser
//   espeak   GPL-3 (wasm, npm)  600 (8 accents x 75)        22050  yes: phoneme events          yes
//   flite    BSD-like (WASI)    slt kal kal16 awb rms       16000  yes: segment end times       yes, with flite.wasm fetched
//                                                           (kal 8000)                           (21 MB)
//   pico     Apache-2.0 (wasm)  en-US en-GB                 16000  NO: SVOX Pico reports none   yes, with the lingware fetched
//
// Phones: `marks` are the engine's own phone labels with start times, already mapped onto the inventory of
// phones.ts (`phones`: [] = merge into the neighbour, null = could not be mapped). An engine without alignments
// returns no marks, and the corpus builder writes manifest entries without `phones` (analysis code tells by
// `entry.phones === undefined`).
//
// Assets: engines that need files beyond their npm module's own loader (flite's wasm, Pico's lingware) get them
// through an AssetLoader from the host (the CLI reads node_modules and data/; a browser would fetch them), so
// nothing here touches a file system.
import type { Split } from '../manifest.ts';

export type EngineName = 'espeak' | 'flite' | 'pico';
export const ENGINE_NAMES: readonly EngineName[] = ['espeak', 'flite', 'pico'];

/** Prosody in espeak-ng's terms, which every engine maps onto its own controls. */
export interface Prosody {
  /** Words per minute (espeak's default is 175). */
  rate: number;
  /** Base pitch 0..100 (50 = the voice's own). */
  pitch: number;
  /** Pitch range 0..100 (50 = the voice's own); engines without such a control ignore it. */
  range: number;
}

export interface PhoneMark {
  /** The engine's label (IPA for espeak, ARPAbet for flite). */
  name: string;
  /** Inventory phones for it: [] merges into the neighbour; null: unmappable (counted, then merged). */
  phones: string[] | null;
  /** Start in seconds from the start of the returned audio. */
  start: number;
}

export interface Synthesis {
  sampleRate: number;
  pcm: Float32Array;
  /** Phone marks in time order, or undefined when the engine gives no alignment. */
  marks?: PhoneMark[];
}

export interface EngineSession {
  synthesize(text: string, voice: string, prosody: Prosody): Promise<Synthesis>;
  /** Release what the session holds (wasm memory). */
  close(): void;
}

/** Bytes of a named asset: 'flite.wasm', 'pico/en-US_ta.bin', ... */
export type AssetLoader = (name: string) => Promise<Uint8Array>;

export interface Engine {
  name: EngineName;
  /** What the corpus manifest records as `source.synth`. */
  synth: string;
  licence: string;
  voices: readonly string[];
  /**
   * How voices map onto splits: 'by-voice' puts each voice in one split (espeak's 600 voices: `voiceSplit`), so
   * dev and test voices are never heard in training; 'shared' uses every voice in every split (an engine with a
   * handful of voices), so that engine's own held-out test is by sentence, and a truly unseen voice comes from
   * leaving the whole engine out of training (`corpus build --engines pico --split test`).
   */
  voiceSplits: 'by-voice' | 'shared';
  /** True when the engine reports phone alignments. */
  phones: boolean;
  /** True when it runs in a browser worker (given its assets). */
  browser: boolean;
  /**
   * True when an engine's output depends on what the same session synthesised before (espeak-ng): the corpus
   * builder then starts a fresh session every block of utterances and replays a block's earlier utterances when
   * it resumes in the middle of one. Stateless engines give the same output for the same call, always.
   */
  stateful: boolean;
  /**
   * True when the engine pads its audio with silence of its own (flite about 0.2 s before, Pico about 0.65 s
   * after): the builder then trims it (to 20 ms beyond the first and last sample within 50 dB of the peak)
   * before adding its own seeded padding, so every engine's utterances start and end alike.
   */
  trim: boolean;
  /** Manifest speaker id of a voice. */
  speaker(voice: string): string;
  /** Split of a voice when voiceSplits is 'by-voice'. */
  voiceSplit?(voice: string): Split;
  session(assets: AssetLoader): Promise<EngineSession>;
}

/** An AssetLoader that has nothing: for engines that need no assets, or to report what is missing. */
export const noAssets: AssetLoader = async (name) => {
  throw new Error(`no asset loader was given, and this engine needs "${name}"`);
};

/** Pin Date.now (and so C time()) while `fn` runs, so engines that seed from the clock are repeatable. */
export function pinnedClock<T>(fn: () => T): T {
  const now = Date.now;
  Date.now = () => 0;
  try {
    return fn();
  } finally {
    Date.now = now;
  }
}
