// Types for the parts of @echogarden/svoxpico-wasm (an Emscripten module, no bundled typings) that pico.ts uses.
declare module '@echogarden/svoxpico-wasm' {
  export interface SvoxPicoModule {
    HEAPU8: Uint8Array;
    FS: { writeFile(path: string, data: Uint8Array): void; analyzePath(path: string): { exists: boolean } };
    getValue(ptr: number, type: 'i8' | 'i16' | 'i32'): number;
    _malloc(n: number): number;
    _free(ptr: number): void;
    _pico_initialize(mem: number, size: number, systemPtr: number): number;
    _pico_terminate(systemPtr: number): number;
    _pico_loadResource(system: number, fileName: number, resourcePtr: number): number;
    _pico_unloadResource(system: number, resourcePtr: number): number;
    _pico_getResourceName(system: number, resource: number, name: number): number;
    _pico_createVoiceDefinition(system: number, voiceName: number): number;
    _pico_addResourceToVoiceDefinition(system: number, voiceName: number, resourceName: number): number;
    _pico_releaseVoiceDefinition(system: number, voiceName: number): number;
    _pico_newEngine(system: number, voiceName: number, enginePtr: number): number;
    _pico_disposeEngine(system: number, enginePtr: number): number;
    _pico_putTextUtf8(engine: number, text: number, size: number, sentPtr: number): number;
    _pico_getData(engine: number, buffer: number, size: number, receivedPtr: number, typePtr: number): number;
    _pico_getSystemStatusMessage(system: number, code: number, message: number): number;
  }
  const createModule: (opts?: object) => Promise<SvoxPicoModule>;
  export default createModule;
}
