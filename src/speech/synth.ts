// Speech synthesis with espeak-ng (compiled to wasm, npm @echogarden/espeak-ng-emscripten): audio at the
// synthesiser's rate (22050 Hz) plus its phoneme events (IPA names with audio positions in ms).
import type { EspeakEvent, EspeakWorker } from '@echogarden/espeak-ng-emscripten';

/** English accents espeak-ng ships. */
export const ACCENTS: readonly string[] = [
  'en-us', 'en', 'en-029', 'en-gb-scotland', 'en-gb-x-gbclan', 'en-gb-x-gbcwmd', 'en-gb-x-rp', 'en-us-nyc',
];

/** Voice variants that sound like people (robotic, whispering and effect variants left out). */
export const VARIANTS: readonly string[] = [
  'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'f1', 'f2', 'f3', 'f4', 'f5',
  'klatt', 'klatt2', 'klatt3', 'klatt4', 'klatt5', 'klatt6',
  'Alex', 'Andy', 'Annie', 'adam', 'anika', 'aunty', 'belinda', 'benjamin', 'boris', 'caleb', 'david', 'ed',
  'edward', 'grandma', 'grandpa', 'ian', 'john', 'linda', 'max', 'michel', 'paul', 'quincy', 'rob', 'robert',
  'shelby', 'steph', 'travis', 'victor', 'zac', 'Lee', 'Michael', 'Mike', 'Gene', 'Reed', 'Alicia', 'Andrea',
  'Denis', 'Hugo', 'Jacky', 'Marco', 'Mario', 'Nguyen', 'Henrique', 'Diogo', 'antonio', 'gustave', 'pablo',
  'pedro', 'miguel', 'marcelo', 'sandro', 'norbert', 'iven', 'iven2', 'iven3', 'iven4',
];

/** Every voice: `${accent}+${variant}` (8 x 75 = 600). */
export function allVoices(): string[] {
  return ACCENTS.flatMap((a) => VARIANTS.map((v) => `${a}+${v}`));
}

export interface SynthParams {
  voice: string; // e.g. "en-us+f3"
  rate: number; // words per minute (espeak default 175)
  pitch: number; // 0..100 (default 50)
  range: number; // 0..100 (default 50)
}

export interface SynthOutput {
  sampleRate: number;
  pcm: Float32Array;
  /** Phoneme events in order: IPA name and start in seconds. */
  phonemes: { name: string; start: number }[];
}

/**
 * espeak-ng seeds its noise generator from the clock (time(), which emscripten reads through Date.now) when an
 * instance initialises. Pin the clock while espeak runs (synchronously) so output does not depend on when.
 */
function pinnedClock<T>(fn: () => T): T {
  const now = Date.now;
  Date.now = () => 0;
  try {
    return fn();
  } finally {
    Date.now = now;
  }
}

/**
 * One espeak-ng instance. espeak-ng carries state from one utterance to the next (jitter and noise generators,
 * smoothing), so the same text and settings sound slightly different depending on what was spoken before in
 * the same instance; output is a pure function of the sequence of calls since `create()`. The corpus builder
 * therefore starts a fresh session every few dozen utterances and replays a block's earlier utterances when it
 * resumes in the middle of one. espeak also seeds noise from the clock; `synthesize` pins it (see there).
 * Creating a session and its first synthesis take about 0.5-1 s.
 */
export class EspeakSession {
  private constructor(private readonly w: EspeakWorker) {}

  static async create(): Promise<EspeakSession> {
    const mod = await import('@echogarden/espeak-ng-emscripten');
    const m = await mod.default();
    return new EspeakSession(pinnedClock(() => new m.eSpeakNGWorker()));
  }

  synthesize(text: string, p: SynthParams): SynthOutput {
    return pinnedClock(() => this.run(text, p));
  }

  private run(text: string, p: SynthParams): SynthOutput {
    const w = this.w;
    if (w.set_voice(p.voice, '', 0, 0, 0) !== 0) throw new Error(`espeak-ng: unknown voice "${p.voice}"`);
    w.set_rate(Math.round(p.rate));
    w.set_pitch(Math.round(p.pitch));
    w.set_range(Math.round(p.range));
    const chunks: Int16Array[] = [];
    const events: EspeakEvent[] = [];
    w.synthesize(text, (pcm, evs) => {
      if (pcm && pcm.length) chunks.push(pcm.slice());
      events.push(...evs);
      return false;
    });
    const n = chunks.reduce((a, c) => a + c.length, 0);
    const pcm = new Float32Array(n);
    let o = 0;
    for (const c of chunks) {
      for (let i = 0; i < c.length; i++) pcm[o + i] = c[i] / 32768;
      o += c.length;
    }
    const phonemes = events
      .filter((e) => e.type === 'phoneme')
      .map((e) => ({ name: typeof e.id === 'string' ? e.id : '', start: e.audio_position / 1000 }));
    return { sampleRate: w.get_samplerate(), pcm, phonemes };
  }
}
