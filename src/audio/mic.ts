// The page's end of the microphone path: getUserMedia -> an AudioContext at the device's own rate -> the AudioWorklet
// (mic.worklet.ts) that writes into a SharedArrayBuffer ring. The asr worker reads the ring; this thread only
// reads the level for a meter. Every way this can fail becomes one clear sentence (MicError).
import workletUrl from './mic.worklet.ts?worker&url';
import { createRing } from './ring.ts';

/** The worklet's processor name (mic.worklet.ts). */
const MIC_PROCESSOR = 'lab-mic';
/** The ring holds this many seconds (the worker reads it every chunk; more than that means it fell far behind). */
const RING_SECONDS = 10;

export type MicProblem = 'insecure' | 'not-isolated' | 'denied' | 'no-device' | 'busy' | 'audio-refused' | 'unplugged';

export class MicError extends Error {
  constructor(
    readonly problem: MicProblem,
    message: string,
  ) {
    super(message);
    this.name = 'MicError';
  }
}

export interface AudioInput {
  deviceId: string;
  label: string;
}

/** Audio inputs; labels are empty until the page has been allowed the microphone once. */
export async function audioInputs(): Promise<AudioInput[]> {
  if (!navigator.mediaDevices?.enumerateDevices) return [];
  const all = await navigator.mediaDevices.enumerateDevices();
  return all.filter((d) => d.kind === 'audioinput').map((d, i) => ({ deviceId: d.deviceId, label: d.label || `microphone ${i + 1}` }));
}

export interface Microphone {
  ring: SharedArrayBuffer;
  sampleRate: number;
  /** The device's label, as the browser names it. */
  label: string;
  stop(): Promise<void>;
}

function explain(e: unknown): MicError {
  const name = (e as DOMException)?.name;
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') {
    return new MicError('denied', "Microphone access was denied: allow it in the browser's site settings (the icon left of the address) and press Start again.");
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') {
    return new MicError('no-device', 'No microphone found: connect an audio input device and press Start again (files can still be transcribed below).');
  }
  if (name === 'NotReadableError' || name === 'AbortError') {
    return new MicError('busy', `The microphone could not be opened (another program may hold it): ${(e as Error).message}`);
  }
  return new MicError('audio-refused', `The microphone could not be opened: ${(e as Error)?.message ?? String(e)}`);
}

/**
 * Open the microphone (`deviceId` to choose one) and start writing into a new ring. `onEnded` is called once if the
 * device goes away mid-stream (unplugged, or access revoked).
 */
export async function openMicrophone(deviceId: string | undefined, onEnded: (e: MicError) => void): Promise<Microphone> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new MicError('insecure', 'This browser gives the page no microphone API (it needs https or localhost).');
  }
  if (!self.crossOriginIsolated) {
    throw new MicError('not-isolated', 'The page is not cross-origin isolated, so the audio ring cannot be shared with the worker: serve it with COOP/COEP headers (npm run preview does).');
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: { deviceId: deviceId ? { exact: deviceId } : undefined, echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
    });
  } catch (e) {
    throw explain(e);
  }
  const track = stream.getAudioTracks()[0];
  if (!track) {
    stream.getTracks().forEach((t) => t.stop());
    throw new MicError('no-device', 'No microphone found: the browser gave an audio stream without an audio track.');
  }
  let context: AudioContext;
  try {
    context = new AudioContext({ latencyHint: 'interactive' });
    await context.audioWorklet.addModule(workletUrl);
    if (context.state === 'suspended') await context.resume();
  } catch (e) {
    stream.getTracks().forEach((t) => t.stop());
    throw new MicError('audio-refused', `The browser refused to start audio processing (AudioContext): ${(e as Error)?.message ?? String(e)}`);
  }
  const ring = createRing(context.sampleRate * RING_SECONDS, context.sampleRate);
  const source = context.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(context, MIC_PROCESSOR, { numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1, channelCountMode: 'explicit', processorOptions: { ring } });
  source.connect(node);
  let stopped = false;
  track.addEventListener('ended', () => {
    if (!stopped) onEnded(new MicError('unplugged', 'The microphone went away mid-stream (unplugged or access revoked); the transcript so far is kept.'));
  });
  return {
    ring,
    sampleRate: context.sampleRate,
    label: track.label,
    async stop() {
      if (stopped) return;
      stopped = true;
      node.port.postMessage('stop');
      source.disconnect();
      stream.getTracks().forEach((t) => t.stop());
      await context.close().catch(() => undefined);
    },
  };
}
