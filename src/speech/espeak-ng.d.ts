// Types for the parts of @echogarden/espeak-ng-emscripten (no bundled typings) that src/speech/synth.ts uses.
declare module '@echogarden/espeak-ng-emscripten' {
  export interface EspeakEvent {
    type: string;
    text_position: number;
    word_length: number;
    audio_position: number; // milliseconds from the start of the synthesis
    id: string | number | undefined;
  }
  export interface EspeakWorker {
    set_voice(name: string, language: string, gender: number, age: number, variant: number): number;
    set_rate(wpm: number): void;
    set_pitch(pitch: number): void;
    set_range(range: number): void;
    get_samplerate(): number;
    synthesize(text: string, cb: (pcm: Int16Array, events: EspeakEvent[]) => boolean | void): void;
    delete?(): void;
  }
  export interface EspeakModule {
    eSpeakNGWorker: new () => EspeakWorker;
  }
  const createModule: (opts?: object) => Promise<EspeakModule>;
  export default createModule;
}
