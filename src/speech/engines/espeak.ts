// espeak-ng (npm @echogarden/espeak-ng-emscripten, GPL-3) behind the Engine interface: 600 voices (8 English
// accents x 75 variants, synth.ts), 22050 Hz, phone alignments from its phoneme events. Stateful (see synth.ts).
import type { Split } from '../manifest.ts';
import { fromEspeak } from '../phones.ts';
import { hash32 } from '../rng.ts';
import { EspeakSession, allVoices } from '../synth.ts';
import type { Engine } from './engine.ts';

/** The split an espeak voice belongs to (fixed for all seeds): hash(voice) mod 10 = 0 -> test, 1 -> dev. */
export function voiceSplit(voice: string): Split {
  const h = hash32('voice', voice) % 10;
  return h === 0 ? 'test' : h === 1 ? 'dev' : 'train';
}

export const espeak: Engine = {
  name: 'espeak',
  synth: 'espeak-ng',
  licence: 'GPL-3.0 (espeak-ng compiled to wasm by Echogarden)',
  voices: allVoices(),
  voiceSplits: 'by-voice',
  phones: true,
  browser: true,
  trim: false,
  stateful: true,
  speaker: (voice) => voice,
  voiceSplit,
  async session() {
    const s = await EspeakSession.create();
    return {
      async synthesize(text, voice, prosody) {
        const out = s.synthesize(text, { voice, rate: prosody.rate, pitch: prosody.pitch, range: prosody.range });
        return {
          sampleRate: out.sampleRate,
          pcm: out.pcm,
          marks: out.phonemes.map((e) => ({ name: e.name, phones: fromEspeak(e.name), start: e.start })),
        };
      },
      close() {},
    };
  },
};
