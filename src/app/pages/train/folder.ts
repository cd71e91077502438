// The files of a folder the user dropped or picked, with their paths inside it (the import reads the layout).
// Only File handles are collected here: the train worker reads their bytes.

export interface PickedFile {
  path: string;
  file: File;
}

/** Files from an <input type="file" webkitdirectory>: paths relative to the chosen folder's parent. */
export function fromInput(files: FileList): { name: string; files: PickedFile[] } {
  const list = [...files].map((file) => ({ path: file.webkitRelativePath || file.name, file }));
  return { name: list[0]?.path.split('/')[0] ?? 'corpus', files: list };
}

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  // readEntries hands out at most about 100 entries per call: call until it returns none.
  return new Promise((resolve, reject) => {
    const out: FileSystemEntry[] = [];
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(out);
        else {
          out.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, out: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ path: entry.fullPath.replace(/^\//, ''), file });
  } else if (entry.isDirectory) {
    for (const child of await readAll((entry as FileSystemDirectoryEntry).createReader())) await walk(child, out);
  }
}

/** Files of dropped folders (and loose files). */
export async function fromDrop(data: DataTransfer): Promise<{ name: string; files: PickedFile[] }> {
  // Entries must be taken synchronously, before the drop event returns.
  const entries = [...data.items].map((i) => i.webkitGetAsEntry()).filter((e): e is FileSystemEntry => e !== null);
  const files: PickedFile[] = [];
  for (const e of entries) await walk(e, files);
  const folder = entries.find((e) => e.isDirectory);
  return { name: folder?.name ?? 'corpus', files };
}
