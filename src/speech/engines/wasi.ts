// A minimal WASI (preview 1) host for command-line programs compiled to wasm32-wasi, such as flite: argv, an
// in-memory folder preopened as fd 3, captured stdout/stderr, a pinned clock (so runs do not depend on when they
// happen) and proc_exit. It runs unchanged in Node and in browser workers (no node:wasi, no file system), and
// implements exactly the imports such programs use; any other import traps with a message naming it.

const ERRNO_SUCCESS = 0;
const ERRNO_BADF = 8;
const ERRNO_INVAL = 28;
const ERRNO_NOENT = 44;
const ERRNO_NOSYS = 52;

const FILETYPE_CHARACTER_DEVICE = 2;
const FILETYPE_DIRECTORY = 3;
const FILETYPE_REGULAR_FILE = 4;

const OFLAGS_CREAT = 1;
const OFLAGS_TRUNC = 8;

/** Thrown by proc_exit to unwind the program; carries the exit code. */
class WasiExit {
  constructor(readonly code: number) {}
}

/** A growable byte file. */
class MemFile {
  bytes = new Uint8Array(0);
  size = 0;
  write(pos: number, data: Uint8Array): void {
    const end = pos + data.length;
    if (end > this.bytes.length) {
      const grown = new Uint8Array(Math.max(end, this.bytes.length * 2, 4096));
      grown.set(this.bytes.subarray(0, this.size));
      this.bytes = grown;
    }
    this.bytes.set(data, pos);
    this.size = Math.max(this.size, end);
  }
  contents(): Uint8Array {
    return this.bytes.slice(0, this.size);
  }
}

interface OpenFile {
  file: MemFile;
  pos: number;
}

export interface WasiRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Files in the preopened folder after the run, by name relative to it. */
  files: Map<string, Uint8Array>;
}

export interface WasiRunOptions {
  args: string[];
  /** Name of the preopened folder as the program sees it (default "/work"). */
  dir?: string;
  /** Files present in the folder at the start. */
  files?: Map<string, Uint8Array>;
}

/** Run a WASI command module's `_start` once, in a fresh instance, and return what it printed and wrote. */
export async function runWasi(module: WebAssembly.Module, opts: WasiRunOptions): Promise<WasiRun> {
  const dirName = opts.dir ?? '/work';
  const folder = new Map<string, MemFile>();
  for (const [name, bytes] of opts.files ?? []) {
    const f = new MemFile();
    f.write(0, bytes);
    folder.set(name, f);
  }
  const fds = new Map<number, OpenFile>();
  let nextFd = 4;
  let out = '', err = '';
  const dec = new TextDecoder();
  let memory: WebAssembly.Memory | undefined;
  const view = () => new DataView(memory!.buffer);
  const u8 = () => new Uint8Array(memory!.buffer);
  const enc = new TextEncoder();
  const argBytes = opts.args.map((a) => enc.encode(`${a}\0`));

  const resolveName = (dirfd: number, ptr: number, len: number): string | null => {
    if (dirfd !== 3) return null;
    let p = dec.decode(u8().subarray(ptr, ptr + len));
    while (p.startsWith('./')) p = p.slice(2);
    if (p.startsWith('/')) p = p.slice(1);
    return p;
  };

  const iovecs = (ptr: number, n: number): { buf: number; len: number }[] => {
    const v = view();
    const r: { buf: number; len: number }[] = [];
    for (let i = 0; i < n; i++) r.push({ buf: v.getUint32(ptr + 8 * i, true), len: v.getUint32(ptr + 8 * i + 4, true) });
    return r;
  };

  const imports: Record<string, (...a: never[]) => number | void> = {
    args_sizes_get(argcPtr: number, sizePtr: number) {
      const v = view();
      v.setUint32(argcPtr, argBytes.length, true);
      v.setUint32(sizePtr, argBytes.reduce((a, b) => a + b.length, 0), true);
      return ERRNO_SUCCESS;
    },
    args_get(argvPtr: number, bufPtr: number) {
      const v = view();
      let p = bufPtr;
      argBytes.forEach((b, i) => {
        v.setUint32(argvPtr + 4 * i, p, true);
        u8().set(b, p);
        p += b.length;
      });
      return ERRNO_SUCCESS;
    },
    environ_sizes_get(countPtr: number, sizePtr: number) {
      view().setUint32(countPtr, 0, true);
      view().setUint32(sizePtr, 0, true);
      return ERRNO_SUCCESS;
    },
    environ_get() {
      return ERRNO_SUCCESS;
    },
    clock_time_get(_id: number, _precision: bigint, timePtr: number) {
      view().setBigUint64(timePtr, 0n, true); // pinned: the program sees the same time on every run
      return ERRNO_SUCCESS;
    },
    fd_close(fd: number) {
      if (fd <= 3) return ERRNO_SUCCESS;
      return fds.delete(fd) ? ERRNO_SUCCESS : ERRNO_BADF;
    },
    fd_fdstat_get(fd: number, ptr: number) {
      const type = fd <= 2 ? FILETYPE_CHARACTER_DEVICE : fd === 3 ? FILETYPE_DIRECTORY : fds.has(fd) ? FILETYPE_REGULAR_FILE : -1;
      if (type < 0) return ERRNO_BADF;
      const v = view();
      v.setUint8(ptr, type);
      v.setUint16(ptr + 2, 0, true);
      v.setBigUint64(ptr + 8, 0xffffffffffffffffn, true);
      v.setBigUint64(ptr + 16, 0xffffffffffffffffn, true);
      return ERRNO_SUCCESS;
    },
    fd_fdstat_set_flags() {
      return ERRNO_SUCCESS;
    },
    fd_prestat_get(fd: number, ptr: number) {
      if (fd !== 3) return ERRNO_BADF;
      const v = view();
      v.setUint8(ptr, 0);
      v.setUint32(ptr + 4, enc.encode(dirName).length, true);
      return ERRNO_SUCCESS;
    },
    fd_prestat_dir_name(fd: number, ptr: number, len: number) {
      if (fd !== 3) return ERRNO_BADF;
      u8().set(enc.encode(dirName).subarray(0, len), ptr);
      return ERRNO_SUCCESS;
    },
    fd_read(fd: number, iovs: number, n: number, nreadPtr: number) {
      let total = 0;
      if (fd === 0) {
        // empty standard input
      } else {
        const f = fds.get(fd);
        if (!f) return ERRNO_BADF;
        for (const { buf, len } of iovecs(iovs, n)) {
          const k = Math.max(0, Math.min(len, f.file.size - f.pos));
          u8().set(f.file.bytes.subarray(f.pos, f.pos + k), buf);
          f.pos += k;
          total += k;
          if (k < len) break;
        }
      }
      view().setUint32(nreadPtr, total, true);
      return ERRNO_SUCCESS;
    },
    fd_write(fd: number, iovs: number, n: number, nwrittenPtr: number) {
      let total = 0;
      for (const { buf, len } of iovecs(iovs, n)) {
        const data = u8().slice(buf, buf + len);
        if (fd === 1) out += dec.decode(data, { stream: true });
        else if (fd === 2) err += dec.decode(data, { stream: true });
        else {
          const f = fds.get(fd);
          if (!f) return ERRNO_BADF;
          f.file.write(f.pos, data);
          f.pos += len;
        }
        total += len;
      }
      view().setUint32(nwrittenPtr, total, true);
      return ERRNO_SUCCESS;
    },
    fd_seek(fd: number, offset: bigint, whence: number, newPtr: number) {
      const f = fds.get(fd);
      if (!f) return fd <= 2 ? ERRNO_INVAL : ERRNO_BADF;
      const base = whence === 0 ? 0 : whence === 1 ? f.pos : f.file.size;
      const pos = base + Number(offset);
      if (pos < 0) return ERRNO_INVAL;
      f.pos = pos;
      view().setBigUint64(newPtr, BigInt(pos), true);
      return ERRNO_SUCCESS;
    },
    fd_tell(fd: number, ptr: number) {
      const f = fds.get(fd);
      if (!f) return ERRNO_BADF;
      view().setBigUint64(ptr, BigInt(f.pos), true);
      return ERRNO_SUCCESS;
    },
    path_open(dirfd: number, _dirflags: number, pathPtr: number, pathLen: number, oflags: number, _rb: bigint, _ri: bigint, _fdflags: number, fdPtr: number) {
      const name = resolveName(dirfd, pathPtr, pathLen);
      if (name === null) return ERRNO_BADF;
      let file = folder.get(name);
      if (!file) {
        if (!(oflags & OFLAGS_CREAT)) return ERRNO_NOENT;
        file = new MemFile();
        folder.set(name, file);
      } else if (oflags & OFLAGS_TRUNC) file.size = 0;
      const fd = nextFd++;
      fds.set(fd, { file, pos: 0 });
      view().setUint32(fdPtr, fd, true);
      return ERRNO_SUCCESS;
    },
    proc_exit(code: number) {
      throw new WasiExit(code);
    },
  };

  const wanted: Record<string, WebAssembly.ImportValue> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module !== 'wasi_snapshot_preview1') throw new Error(`runWasi: the module imports ${imp.module}.${imp.name}, which is not WASI`);
    wanted[imp.name] = imports[imp.name] ?? (() => ERRNO_NOSYS);
  }
  const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wanted });
  memory = instance.exports.memory as WebAssembly.Memory;
  let exitCode = 0;
  try {
    (instance.exports._start as () => void)();
  } catch (e) {
    if (e instanceof WasiExit) exitCode = e.code;
    else throw e;
  }
  out += dec.decode();
  const files = new Map<string, Uint8Array>();
  for (const [name, f] of folder) files.set(name, f.contents());
  return { exitCode, stdout: out, stderr: err, files };
}
