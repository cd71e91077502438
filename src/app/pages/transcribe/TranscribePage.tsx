import { useEffect, useRef, useState } from 'react';
import { ringLevel } from '../../../audio/ring.ts';
import type { AsrModelChoice } from '../../../workers/asr.worker.ts';
import { FileButton } from '../../components/FileButton.tsx';
import { ProgressBar } from '../../components/ProgressBar.tsx';
import { download } from '../../export.ts';
import { LM_BEAM } from '../../../asr/ctc-decode.ts';
import { CHUNK_MS, currentRing, decodingLabel, useTranscribe, type ChunkMs } from '../../stores/transcribe.ts';
import { cuesFromWords, cuesOf, toJson, toSrt, toText, type Segment } from './formats.ts';
import { LongStreamPanel, StreamChart } from './LongStreamPanel.tsx';
import './transcribe.css';

const GROUPS: { group: AsrModelChoice['group']; title: string }[] = [
  { group: 'shipped', title: 'Shipped checkpoints' },
  { group: 'run', title: 'Trained in this browser' },
  { group: 'upload', title: 'Uploaded' },
  { group: 'random', title: 'Random initial values (no words: for the mechanics and costs)' },
];

/** The shipped sets a model's scores name. */
const SET_NAMES: Record<string, string> = { eval: 'voices it never heard (public/eval)', heldout: 'an engine it never heard (public/heldout)' };

const ms = (v: number | undefined) => (v === undefined ? '–' : `${v.toFixed(0)} ms`);
const bytes = (n: number | undefined) => (n === undefined ? '–' : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(2)} MiB` : `${(n / 1024).toFixed(1)} KiB`);

function stem(name: string): string {
  return name.replace(/\.[^.]+$/, '') || 'transcript';
}

/** Download a transcript as text, SRT or JSON. */
function Downloads({ name, segments, extra, testId }: { name: string; segments: Segment[]; extra: Record<string, unknown>; testId: string }) {
  const empty = segments.every((s) => !s.text.trim());
  return (
    <div className="actions" data-testid={testId}>
      <button className="quiet" disabled={empty} onClick={() => void navigator.clipboard?.writeText(toText(segments).trim())}>
        Copy
      </button>
      <button className="quiet" disabled={empty} onClick={() => download(`${name}.txt`, toText(segments), 'text/plain')}>
        Download text
      </button>
      <button className="quiet" disabled={empty} onClick={() => download(`${name}.srt`, toSrt(cuesOf(segments)), 'application/x-subrip')}>
        Download SRT
      </button>
      <button className="quiet" disabled={empty} onClick={() => download(`${name}.json`, toJson(segments, extra), 'application/json')}>
        Download JSON
      </button>
    </div>
  );
}

function ModelPanel() {
  const s = useTranscribe();
  const busy = s.status !== 'idle' || !!s.file || s.long.running;
  const choice = s.models.find((m) => m.label === s.model);
  return (
    <section className="panel">
      <h2>Model</h2>
      <div className="live-row">
        <label>
          model{' '}
          <select aria-label="model" value={s.model ?? ''} disabled={busy} onChange={(e) => void s.choose(e.target.value)}>
            {GROUPS.map(({ group, title }) => {
              const list = s.models.filter((m) => m.group === group);
              return list.length ? (
                <optgroup key={group} label={title}>
                  {list.map((m) => (
                    <option key={m.label} value={m.label}>
                      {m.label}
                      {m.model && !m.label.includes(m.model) ? ` (${m.model})` : ''}
                      {m.ctcHead === false ? ' — pre-trained, no CTC head' : ''}
                    </option>
                  ))}
                </optgroup>
              ) : null;
            })}
          </select>
        </label>
        <FileButton text="Upload a checkpoint" label="upload checkpoint" accept=".safetensors" disabled={busy} onFile={(f) => void s.upload(f)} />
      </div>
      {s.loaded && s.shippedCount === 0 && (
        <p className="hint" data-testid="no-shipped">
          No checkpoints that transcribe ship with the lab yet (public/models/ holds a pre-trained one only, for fine-tuning and the Analyse
          page). To get one: fine-tune with CTC on the Train page (it appears here), upload a fine-tuned .safetensors, or build one with{' '}
          <code>npm run lab -- train</code> and list it in public/models/index.json with its heads.
        </p>
      )}
      {choice?.group === 'random' && <p className="hint">Random initial values spell nothing: they show the pipeline's timing and state, not words.</p>}
      {choice?.scores && (
        <p className="hint" data-testid="model-scores">
          How well it does (greedy, no LM; its card in public/models/ says how it was trained):{' '}
          {Object.entries(choice.scores)
            .map(([set, r]) => `WER ${(100 * r.wer).toFixed(1)}%, CER ${(100 * r.cer).toFixed(1)}% on ${SET_NAMES[set] ?? set}`)
            .join('; ')}
          .
        </p>
      )}
      {s.info && (
        <p className="hint" data-testid="model-info">
          {s.info.model}, {(s.info.parameters / 1e6).toFixed(2)} M parameters; {s.info.streams ? 'streams (live and files).' : 'files only (not causal).'}
        </p>
      )}
    </section>
  );
}

/** Greedy or the beam search, and a language model (shipped, or built here from the user's text), for live and files. */
function DecodingPanel() {
  const s = useTranscribe();
  const busy = s.status !== 'idle' || !!s.file;
  const lm = s.lms.find((l) => l.label === s.lm);
  return (
    <section className="panel" data-testid="decoding">
      <h2>Decoding</h2>
      <div className="live-row">
        <label>
          beam{' '}
          <select aria-label="beam" value={s.beam} disabled={busy} onChange={(e) => s.setSettings({ beam: Number(e.target.value) })}>
            <option value={0}>{lm ? `greedy (${LM_BEAM} with an LM)` : 'greedy'}</option>
            {[4, 8, 16].map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </label>
        <label>
          LM{' '}
          <select aria-label="LM" title="language model" value={s.lm} disabled={busy} onChange={(e) => s.setSettings({ lm: e.target.value })}>
            <option value="">none</option>
            {s.lms.map((l) => (
              <option key={l.label} value={l.label}>
                {l.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          LM weight{' '}
          <input
            aria-label="LM weight"
            type="number"
            min={0}
            max={5}
            step={0.1}
            value={s.lmWeight}
            disabled={busy || !lm}
            onChange={(e) => {
              const w = Number(e.target.value);
              if (e.target.value !== '' && Number.isFinite(w) && w >= 0) s.setSettings({ lmWeight: w });
            }}
          />
        </label>
        <label title="spell only the words the language model knows">
          <input type="checkbox" aria-label="known words only" checked={s.lexicon} disabled={busy || !lm} onChange={(e) => s.setSettings({ lexicon: e.target.checked })} /> known words only
        </label>
        <FileButton text="Add an LM from text" label="upload LM" accept=".txt,.json,text/plain,application/json" disabled={busy} onFile={(f) => void s.uploadLm(f)} />
      </div>
      <p className="hint" data-testid="decoding-hint">
        {lm
          ? `${decodingLabel(s)}${lm.about ? `: ${lm.about}` : ''}. ${s.lexicon ? 'Only the words it knows are written.' : 'Words it does not know are spelled letter by letter.'}`
          : 'A language model turns spellings into words: choose the shipped one, or add one built here from your own text (one sentence per line) or an lm.json of `lab lm build`.'}
      </p>
    </section>
  );
}

/** The microphone's peak level, read from the ring's header every frame (the samples never come to this thread). */
function LevelMeter({ live }: { live: boolean }) {
  const bar = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!live) return;
    let id = 0;
    const draw = () => {
      const ring = currentRing();
      const level = ring ? ringLevel(ring) : 0;
      if (bar.current) {
        // dB scale from -60 dB to 0.
        const db = 20 * Math.log10(Math.max(level, 1e-6));
        bar.current.style.width = `${Math.max(0, Math.min(100, ((db + 60) / 60) * 100)).toFixed(1)}%`;
        bar.current.dataset.level = level.toFixed(4);
      }
      id = requestAnimationFrame(draw);
    };
    id = requestAnimationFrame(draw);
    return () => {
      cancelAnimationFrame(id);
      if (bar.current) bar.current.style.width = '0';
    };
  }, [live]);
  return (
    <span className="meter" title="input level" data-testid="level">
      <div ref={bar} />
    </span>
  );
}

function Stat({ k, v, testId }: { k: string; v: string; testId: string }) {
  return (
    <div>
      <span className="k">{k}</span>
      <span className="v" data-testid={testId}>
        {v}
      </span>
    </div>
  );
}

function LivePanel() {
  const s = useTranscribe();
  const box = useRef<HTMLDivElement>(null);
  const live = s.status === 'live';
  const busyElse = !!s.file || s.long.running;
  useEffect(() => {
    box.current?.scrollTo({ top: box.current.scrollHeight });
  }, [s.finals.length, s.partial]);
  const c = s.chunk;
  const segments: Segment[] = s.partial.trim() ? [...s.finals, { text: s.partial, words: s.partialWords, start: s.partialWords[0]?.start ?? 0, end: s.partialWords[s.partialWords.length - 1]?.end ?? 0 }] : s.finals;
  return (
    <section className="panel" data-testid="live">
      <h2>Live</h2>
      <div className="live-row">
        {s.inputs.length > 1 && (
          <label>
            microphone{' '}
            <select aria-label="microphone" value={s.deviceId} disabled={s.status !== 'idle'} onChange={(e) => s.setSettings({ deviceId: e.target.value })}>
              <option value="">default</option>
              {s.inputs.map((i) => (
                <option key={i.deviceId} value={i.deviceId}>
                  {i.label}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          chunk{' '}
          <select aria-label="chunk" value={s.chunkMs} disabled={s.status !== 'idle'} onChange={(e) => s.setSettings({ chunkMs: Number(e.target.value) as ChunkMs })}>
            {CHUNK_MS.map((x) => (
              <option key={x} value={x}>
                {x} ms
              </option>
            ))}
          </select>
        </label>
        {s.status === 'idle' || s.status === 'starting' ? (
          <button disabled={s.status === 'starting' || busyElse || !s.model} onClick={() => void s.start()}>
            {s.status === 'starting' ? 'Starting…' : 'Start'}
          </button>
        ) : (
          <button disabled={s.status === 'stopping'} onClick={() => void s.stop()}>
            {s.status === 'stopping' ? 'Stopping…' : 'Stop'}
          </button>
        )}
        <LevelMeter live={live} />
        {live && s.micLabel && <span className="hint">{s.micLabel}</span>}
      </div>
      <div className="live-stats" data-testid="live-stats">
        <Stat k="latency" v={ms(c?.latencyMs)} testId="latency" />
        <Stat k="real-time factor" v={c ? c.rtf.toFixed(3) : '–'} testId="rtf" />
        <Stat k="compute per chunk" v={ms(c?.computeMs)} testId="compute" />
        <Stat k="carried state" v={bytes(c?.stateBytes)} testId="state-size" />
        <Stat k="stream time" v={c ? `${c.streamSeconds.toFixed(1)} s` : '–'} testId="stream-time" />
        <Stat k="chunks" v={String(s.chunks)} testId="chunks" />
        <Stat k="last push" v={c ? `${(c.audioSeconds * 1000).toFixed(0)} ms of audio` : '–'} testId="push" />
        <Stat k="waiting" v={live ? ms(s.backlogMs) : '–'} testId="backlog" />
        {s.dropped > 0 && <Stat k="dropped (fell behind)" v={`${(s.dropped / s.micRate).toFixed(2)} s`} testId="dropped" />}
      </div>
      {s.livePoints.length > 1 && (
        <details data-testid="live-charts">
          <summary>Compute and state per push, this run</summary>
          <div className="curves">
            <StreamChart series={[{ preset: s.info?.model ?? 'live', points: s.livePoints }]} metric="computeMs" title="Compute time per push" testId="live-compute-chart" />
            <StreamChart series={[{ preset: s.info?.model ?? 'live', points: s.livePoints }]} metric="stateMiB" title="Carried state" testId="live-state-chart" />
          </div>
        </details>
      )}
      <div className="transcript" ref={box} data-testid="transcript" aria-live="polite">
        {s.finals.length === 0 && !s.partial && <span className="empty">{live ? 'Listening…' : 'Press Start and speak.'}</span>}
        {s.finals.map((f, i) => (
          <span key={i} className="final" data-testid="final">
            {f.text}{' '}
          </span>
        ))}
        {s.partial && (
          <span className="partial" data-testid="partial">
            {s.partial}
          </span>
        )}
      </div>
      <div className="actions">
        <Downloads name="live-transcript" segments={segments} extra={{ source: 'microphone', model: s.model }} testId="live-downloads" />
        <button className="quiet" disabled={s.status !== 'idle' || (s.finals.length === 0 && !s.partial)} onClick={s.clearTranscript}>
          Clear
        </button>
      </div>
    </section>
  );
}

function FilePanel() {
  const s = useTranscribe();
  const pick = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const r = s.fileResult;
  const disabled = !!s.file || s.status !== 'idle' || s.long.running || !s.model;
  const take = (f: File | undefined) => {
    if (f && !disabled) void s.transcribeFile(f);
  };
  const segments: Segment[] = r ? (r.words.length ? cuesFromWords(r.words).map((c) => ({ ...c, words: r.words.filter((w) => w.start >= c.start && w.end <= c.end) })) : [{ text: r.text, words: [], start: 0, end: r.seconds }]) : [];
  return (
    <section className="panel" data-testid="file">
      <h2>File</h2>
      <div
        className={`dropzone${over ? ' over' : ''}`}
        data-testid="file-dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          take(e.dataTransfer.files[0]);
        }}
      >
        Drop a WAV or FLAC file here, or{' '}
        <button className="quiet" disabled={disabled} onClick={() => pick.current?.click()}>
          choose a file
        </button>
        <input
          ref={pick}
          type="file"
          accept=".wav,.flac,.sph,audio/wav,audio/flac"
          aria-label="audio file"
          hidden
          onChange={(e) => {
            take(e.target.files?.[0]);
            e.target.value = '';
          }}
        />
        <p className="hint">Any model works for files: causal ones stream through them, the others take the file whole or in overlapping windows.</p>
      </div>
      {s.file && (
        <div className="busy">
          <ProgressBar label={`Transcribing ${s.file.name}`} progress={s.file.progress && { ...s.file.progress, label: `${s.file.progress.label}, ms of audio` }} />
          <button className="quiet" onClick={s.cancelFile}>
            Cancel
          </button>
        </div>
      )}
      {r && (
        <div data-testid="file-result">
          <h3>
            {r.name} ({r.seconds.toFixed(1)} s, {r.model}, real-time factor {(r.computeSeconds / Math.max(r.seconds, 1e-9)).toFixed(3)})
          </h3>
          <div className="transcript" data-testid="file-transcript">
            {r.text || <span className="empty">(no words)</span>}
          </div>
          <Downloads name={stem(r.name)} segments={segments} extra={{ file: r.name, model: r.model, seconds: r.seconds, method: r.method }} testId="file-downloads" />
        </div>
      )}
    </section>
  );
}

export function TranscribePage() {
  const s = useTranscribe();
  useEffect(() => {
    if (!useTranscribe.getState().loaded) void useTranscribe.getState().load();
    const onDevices = () => void useTranscribe.getState().refreshInputs();
    navigator.mediaDevices?.addEventListener?.('devicechange', onDevices);
    return () => navigator.mediaDevices?.removeEventListener?.('devicechange', onDevices);
  }, []);
  return (
    <div className="page">
      {s.noWebGPU && (
        <p className="error" role="alert" data-testid="webgpu-error">
          This browser has no WebGPU: open the lab in Chrome or Edge 113+ (on Linux with --enable-unsafe-webgpu) to transcribe.
        </p>
      )}
      {s.error && (
        <p className="error" role="alert" data-testid="error">
          {s.error.message}{' '}
          {s.error.restart && (
            <button disabled={s.status !== 'idle'} onClick={() => void s.start()}>
              Restart
            </button>
          )}{' '}
          <button className="link" onClick={s.dismiss}>
            dismiss
          </button>
        </p>
      )}
      {s.notice && (
        <p className="notice" role="status" data-testid="notice">
          {s.notice}
        </p>
      )}
      <ModelPanel />
      <DecodingPanel />
      <LivePanel />
      <FilePanel />
      <LongStreamPanel />
    </div>
  );
}
