// The microphone's AudioWorklet: each render quantum (128 frames) is mixed down to mono and written into the
// SharedArrayBuffer ring that the asr worker reads (ring.ts). The main thread never sees the samples; it reads the
// peak level from the ring's header to draw a meter. Loaded with Vite's `?worker&url` (bundled into one file).
import { RingWriter } from './ring.ts';

// The AudioWorkletGlobalScope's names (not in TypeScript's DOM library).
declare abstract class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: { processorOptions?: unknown });
}
declare function registerProcessor(name: string, ctor: new (options: { processorOptions: MicOptions }) => AudioWorkletProcessor): void;

export interface MicOptions {
  ring: SharedArrayBuffer;
}

/** The name the page's AudioWorkletNode asks for (mic.ts repeats it: importing it from here would run this file). */
const MIC_PROCESSOR = 'lab-mic';

class MicProcessor extends AudioWorkletProcessor {
  private readonly ring: RingWriter;
  private mono = new Float32Array(128);
  private stopped = false;

  constructor(options: { processorOptions: MicOptions }) {
    super(options);
    this.ring = new RingWriter(options.processorOptions.ring);
    this.port.onmessage = (e: MessageEvent) => {
      if (e.data === 'stop') {
        this.stopped = true;
        this.ring.close();
      }
    };
  }

  process(inputs: Float32Array[][]): boolean {
    if (this.stopped) return false;
    const channels = inputs[0];
    // No input connected (a device unplugged): nothing to write; keep the node alive.
    if (!channels || channels.length === 0) {
      this.ring.setLevel(0);
      return true;
    }
    const n = channels[0].length;
    if (this.mono.length !== n) this.mono = new Float32Array(n);
    const m = this.mono;
    if (channels.length === 1) m.set(channels[0]);
    else {
      m.fill(0);
      for (const c of channels) for (let i = 0; i < n; i++) m[i] += c[i];
      const g = 1 / channels.length;
      for (let i = 0; i < n; i++) m[i] *= g;
    }
    let peak = 0;
    for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(m[i]));
    this.ring.setLevel(peak);
    this.ring.write(m);
    return true;
  }
}

registerProcessor(MIC_PROCESSOR, MicProcessor);
