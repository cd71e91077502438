import { useState } from 'react';
import type { ImportRequestFormat } from '../../../workers/train.worker.ts';
import { useTrain } from '../../stores/train.ts';
import { fromDrop, fromInput, type PickedFile } from './folder.ts';

const FORMATS: Record<ImportRequestFormat, string> = {
  auto: 'detect the layout',
  librispeech: 'LibriSpeech (*.flac + *.trans.txt)',
  timit: 'TIMIT (.wav + .txt + .phn)',
  folder: 'folder of audio + .tsv transcripts',
};

/** Which corpus to train on: the shipped eval set, a corpus kept in this browser, or a folder to import. */
export function CorpusPanel() {
  const s = useTrain();
  const [format, setFormat] = useState<ImportRequestFormat>('auto');
  const [over, setOver] = useState(false);
  const importing = (picked: { name: string; files: PickedFile[] }) => {
    if (picked.files.length === 0) return;
    void s.importFolder(picked.name, format, picked.files);
  };
  const chosen = s.corpora.find((c) => c.id === s.form.corpus);
  return (
    <section className="panel">
      <h2>Corpus</h2>
      <label>
        Train on{' '}
        <select aria-label="corpus" value={s.form.corpus} disabled={!!s.busy} onChange={(e) => s.setForm({ corpus: e.target.value })}>
          {s.corpora.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}: {c.utterances} utterances, {(c.seconds / 60).toFixed(1)} min
            </option>
          ))}
        </select>
      </label>{' '}
      {chosen && !chosen.readOnly && (
        <button disabled={!!s.busy} onClick={() => void s.removeCorpus(chosen.id)}>
          Remove from this browser
        </button>
      )}
      {chosen?.id === 'eval' && (
        <p className="hint">
          The shipped evaluation set (synthetic speech, every utterance in its test split) is for trying the page out: the
          run trains and scores on the same utterances.
        </p>
      )}
      <div
        className={`dropzone${over ? ' over' : ''}`}
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          if (!s.busy) void fromDrop(e.dataTransfer).then(importing);
        }}
      >
        Drop a corpus folder here, or{' '}
        <label className="button">
          pick a folder
          <input
            type="file"
            aria-label="corpus folder"
            hidden
            disabled={!!s.busy}
            // React does not know the attribute; Chromium, Edge and Firefox do.
            {...{ webkitdirectory: '' }}
            onChange={(e) => {
              if (e.target.files) importing(fromInput(e.target.files));
              e.target.value = '';
            }}
          />
        </label>{' '}
        as{' '}
        <select aria-label="import format" value={format} onChange={(e) => setFormat(e.target.value as ImportRequestFormat)}>
          {Object.entries(FORMATS).map(([k, v]) => (
            <option key={k} value={k}>
              {v}
            </option>
          ))}
        </select>
        . It is converted to 16 kHz WAV and kept in this browser (origin-private storage); nothing is uploaded.
      </div>
    </section>
  );
}
