// SVOX Pico (npm @echogarden/svoxpico-wasm, Apache-2.0) behind the Engine interface: two voices, en-US (lh0) and
// en-GB (kh0), both female, 16 kHz. The npm package ships the engine only; its language files ("lingware":
// en-US_ta.bin + en-US_lh0_sg.bin, en-GB_ta.bin + en-GB_kh0_sg.bin, 2.4 MB) come from Debian's libttspico-data
// (see data/README.md) and reach the engine through the AssetLoader as pico/<file>.
//
// Phones: NONE. Pico's API returns audio samples only, no phone or word timings, so manifest entries from this
// engine carry no `phones` field (analysis that needs phones must skip them; `entry.phones === undefined`).
//
// Prosody: Pico's own markup, <speed level="100 * wpm / 175"> and <pitch level="100 * 2^((pitch - 50) / 100)">;
// range is not used.
// Stateless: Pico keeps noise-generator state across utterances within one "system", so every call initialises
// a fresh system (about 7 ms) in a shared wasm instance; the same call then gives the same samples.
import type { SvoxPicoModule } from '@echogarden/svoxpico-wasm';
import type { AssetLoader, Engine, EngineSession } from './engine.ts';

export const PICO_VOICES: readonly string[] = ['en-US', 'en-GB'];
const LINGWARE: Record<string, [string, string]> = {
  'en-US': ['en-US_ta.bin', 'en-US_lh0_sg.bin'],
  'en-GB': ['en-GB_ta.bin', 'en-GB_kh0_sg.bin'],
};
const PICO_MEM = 2_500_000; // bytes for one Pico system, as pico2wave uses
const PICO_STEP_IDLE = 200;
const PICO_STEP_BUSY = 201;

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

class PicoSession implements EngineSession {
  private constructor(private readonly m: SvoxPicoModule) {}

  static async create(assets: AssetLoader): Promise<PicoSession> {
    const mod = await import('@echogarden/svoxpico-wasm');
    const m = await mod.default();
    for (const files of Object.values(LINGWARE)) for (const f of files) m.FS.writeFile(`/${f}`, await assets(`pico/${f}`));
    return new PicoSession(m);
  }

  private cstr(s: string): number {
    const b = new TextEncoder().encode(`${s}\0`);
    const p = this.m._malloc(b.length);
    this.m.HEAPU8.set(b, p);
    return p;
  }

  async synthesize(text: string, voice: string, prosody: { rate: number; pitch: number }) {
    const files = LINGWARE[voice];
    if (!files) throw new Error(`pico: unknown voice "${voice}" (voices: ${PICO_VOICES.join(', ')})`);
    const m = this.m;
    const allocs: number[] = [];
    const alloc = (n: number) => { const p = m._malloc(n); allocs.push(p); return p; };
    const str = (s: string) => { const p = this.cstr(s); allocs.push(p); return p; };
    const mem = alloc(PICO_MEM);
    // Pico reads parts of its memory area before writing them: start every system from zeros, as a fresh
    // allocation would be, or the output depends on what the previous call left there.
    m.HEAPU8.fill(0, mem, mem + PICO_MEM);
    const sysPtr = alloc(4), resPtr = alloc(8), engPtr = alloc(4), msg = alloc(256);
    const check = (what: string, status: number, system?: number) => {
      if (status === 0) return;
      let detail = '';
      if (system) { m._pico_getSystemStatusMessage(system, status, msg); detail = new TextDecoder().decode(m.HEAPU8.subarray(msg, m.HEAPU8.indexOf(0, msg))); }
      throw new Error(`pico: ${what} failed (${status}${detail ? `: ${detail}` : ''})`);
    };
    check('initialize', m._pico_initialize(mem, PICO_MEM, sysPtr));
    const sys = m.getValue(sysPtr, 'i32');
    const voiceName = str('PicoVoice');
    let engine = 0;
    try {
      const names: number[] = [];
      for (const [k, f] of files.entries()) {
        check(`loading ${f}`, m._pico_loadResource(sys, str(`/${f}`), resPtr + 4 * k), sys);
        const name = alloc(64);
        check('getResourceName', m._pico_getResourceName(sys, m.getValue(resPtr + 4 * k, 'i32'), name), sys);
        names.push(name);
      }
      check('createVoiceDefinition', m._pico_createVoiceDefinition(sys, voiceName), sys);
      for (const name of names) check('addResourceToVoiceDefinition', m._pico_addResourceToVoiceDefinition(sys, voiceName, name), sys);
      check('newEngine', m._pico_newEngine(sys, voiceName, engPtr), sys);
      engine = m.getValue(engPtr, 'i32');

      const speed = Math.round((100 * prosody.rate) / 175);
      const pitch = Math.round(100 * 2 ** ((prosody.pitch - 50) / 100));
      const bytes = new TextEncoder().encode(`<speed level="${speed}"><pitch level="${pitch}">${escapeXml(text)}</pitch></speed>\0`);
      const textPtr = alloc(bytes.length);
      m.HEAPU8.set(bytes, textPtr);
      const out = alloc(256), sent = alloc(4), recv = alloc(4), type = alloc(4);
      const chunks: Int16Array[] = [];
      let remaining = bytes.length, at = textPtr;
      while (remaining > 0) {
        check('putTextUtf8', m._pico_putTextUtf8(engine, at, remaining, sent), sys);
        const n = m.getValue(sent, 'i16');
        remaining -= n;
        at += n;
        let status: number;
        do {
          status = m._pico_getData(engine, out, 256, recv, type);
          const got = m.getValue(recv, 'i16');
          if (got > 0) chunks.push(new Int16Array(m.HEAPU8.slice(out, out + got).buffer));
        } while (status === PICO_STEP_BUSY);
        if (status !== PICO_STEP_IDLE) check('getData', status, sys);
      }
      const total = chunks.reduce((a, c) => a + c.length, 0);
      const pcm = new Float32Array(total);
      let o = 0;
      for (const c of chunks) {
        for (let i = 0; i < c.length; i++) pcm[o + i] = c[i] / 32768;
        o += c.length;
      }
      return { sampleRate: 16000, pcm };
    } finally {
      if (engine) m._pico_disposeEngine(sys, engPtr);
      m._pico_releaseVoiceDefinition(sys, voiceName);
      for (let k = 0; k < files.length; k++) if (m.getValue(resPtr + 4 * k, 'i32')) m._pico_unloadResource(sys, resPtr + 4 * k);
      m._pico_terminate(sysPtr);
      for (const p of allocs) m._free(p);
    }
  }

  close(): void {}
}

export const pico: Engine = {
  name: 'pico',
  synth: 'svox-pico',
  licence: "Apache-2.0 (SVOX Pico, compiled to wasm by Echogarden; lingware from Debian's libttspico-data)",
  voices: PICO_VOICES,
  voiceSplits: 'shared',
  phones: false,
  browser: true,
  trim: true,
  stateful: false,
  speaker: (voice) => `pico-${voice}`,
  session: (assets) => PicoSession.create(assets),
};
