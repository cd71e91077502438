// A progress line on stderr (stdout stays clean for --json).

export function progressLine(prefix: string): (done: number, total: number, label: string) => void {
  const tty = process.stderr.isTTY;
  return (done, total, label) => {
    const line = `${prefix} ${done}/${total} ${label}`;
    process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
    if (tty && done === total) process.stderr.write('\n');
  };
}
