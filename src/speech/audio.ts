// Audio decoding by content (not by file name): RIFF WAV, NIST SPHERE, FLAC. Mono mixing and 16 kHz conversion.
import { decodeFlac, isFlac } from './flac.ts';
import { resample } from './resample.ts';
import { AudioFormatError, decodeSphere, decodeWav, isSphere, isWav, type Audio } from './wav.ts';

export { AudioFormatError, type Audio } from './wav.ts';

/** The model's sample rate. */
export const SAMPLE_RATE = 16000;

export function decodeAudio(bytes: Uint8Array): Audio {
  if (bytes.length === 0) throw new AudioFormatError('empty file');
  let audio: Audio;
  if (isWav(bytes)) audio = decodeWav(bytes);
  else if (isFlac(bytes)) audio = decodeFlac(bytes);
  else if (isSphere(bytes)) audio = decodeSphere(bytes);
  else throw new AudioFormatError('unknown audio format (expected WAV, FLAC or NIST SPHERE)');
  if (audio.channels.length === 0 || audio.channels[0].length === 0) throw new AudioFormatError('no audio samples');
  return audio;
}

/** Average of the channels. */
export function toMono(audio: Audio): Float32Array {
  const { channels } = audio;
  if (channels.length === 1) return channels[0];
  const n = channels[0].length;
  const out = new Float32Array(n);
  for (const c of channels) for (let i = 0; i < n; i++) out[i] += c[i];
  const k = 1 / channels.length;
  for (let i = 0; i < n; i++) out[i] *= k;
  return out;
}

/** Decode any supported file to mono float samples at 16 kHz. */
export function decodeTo16k(bytes: Uint8Array): Float32Array {
  const audio = decodeAudio(bytes);
  const mono = toMono(audio);
  return audio.sampleRate === SAMPLE_RATE ? mono : resample(mono, audio.sampleRate, SAMPLE_RATE);
}
