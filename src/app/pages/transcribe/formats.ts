// Transcripts as files: plain text, SRT subtitles and JSON with word times. Pure functions (no DOM).

export interface Word {
  word: string;
  start: number;
  end: number;
}

/** A fixed stretch of transcript: the recognizer's final segment, or a file's whole transcript. */
export interface Segment {
  text: string;
  words: Word[];
  start: number;
  end: number;
}

export interface Cue {
  start: number;
  end: number;
  text: string;
}

/** 3725.5 -> "01:02:05,500". */
export function srtTime(seconds: number): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(Math.floor(ms / 3_600_000))}:${p(Math.floor(ms / 60_000) % 60)}:${p(Math.floor(ms / 1000) % 60)},${p(ms % 1000, 3)}`;
}

/** Words grouped into subtitle lines: at most `maxWords` words or `maxSeconds` each, a new line after a pause. */
export function cuesFromWords(words: readonly Word[], maxWords = 8, maxSeconds = 4, pause = 0.8): Cue[] {
  const cues: Cue[] = [];
  let cur: Word[] = [];
  const close = () => {
    if (cur.length) cues.push({ start: cur[0].start, end: cur[cur.length - 1].end, text: cur.map((w) => w.word).join(' ') });
    cur = [];
  };
  for (const w of words) {
    const last = cur[cur.length - 1];
    if (last && (cur.length >= maxWords || w.end - cur[0].start > maxSeconds || w.start - last.end > pause)) close();
    cur.push(w);
  }
  close();
  return cues;
}

/** Cues of segments: each segment's words grouped into lines (a segment without words is one line). */
export function cuesOf(segments: readonly Segment[]): Cue[] {
  return segments.flatMap((s) => (s.words.length ? cuesFromWords(s.words) : s.text.trim() ? [{ start: s.start, end: s.end, text: s.text.trim() }] : []));
}

export function toSrt(cues: readonly Cue[]): string {
  return cues.map((c, i) => `${i + 1}\n${srtTime(c.start)} --> ${srtTime(Math.max(c.end, c.start + 0.001))}\n${c.text}\n`).join('\n');
}

export function toText(segments: readonly Segment[]): string {
  return segments.map((s) => s.text.trim()).filter(Boolean).join('\n') + '\n';
}

export function toJson(segments: readonly Segment[], extra: Record<string, unknown> = {}): string {
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return (
    JSON.stringify(
      {
        ...extra,
        text: segments.map((s) => s.text.trim()).filter(Boolean).join(' '),
        segments: segments.map((s) => ({ text: s.text, start: round(s.start), end: round(s.end), words: s.words.map((w) => ({ word: w.word, start: round(w.start), end: round(w.end) })) })),
      },
      null,
      2,
    ) + '\n'
  );
}
