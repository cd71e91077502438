import { useEffect } from 'react';
import { bestLayer, ENCODER_KINDS, purityRows, SIZES, type EncoderKind, type ModelScores, type Size } from '../../../analysis/report.ts';
import type { Split } from '../../../speech/manifest.ts';
import { FileButton } from '../../components/FileButton.tsx';
import { ProgressBar } from '../../components/ProgressBar.tsx';
import { download, toCsv } from '../../export.ts';
import { refLabel, useAnalyse } from '../../stores/analyse.ts';
import { colorOf, MeasureChart, MEASURES } from './Charts.tsx';
import { HeatMap } from './HeatMap.tsx';

const SPLITS: Split[] = ['train', 'dev', 'test'];
const f3 = (v: number | null) => (v === null ? '' : v.toFixed(3));

/** Set, models, K and the rest; Run and Cancel. */
function SetupPanel() {
  const s = useAnalyse();
  const f = s.form;
  const chosenSet = s.sets.find((x) => x.id === f.set);
  const labelled = chosenSet ? chosenSet.labelled.train + chosenSet.labelled.dev + chosenSet.labelled.test : 0;
  const chosen = new Set(f.models.map(refLabel));
  const number = (key: 'K' | 'seed' | 'iterations' | 'utterances', label: string, min: number) => (
    <label>
      {label}
      <input aria-label={label} type="number" min={min} value={f[key]} onChange={(e) => s.setForm({ [key]: Math.max(min, Math.round(Number(e.target.value) || 0)) })} />
    </label>
  );
  let invalid: string | undefined;
  if (!chosenSet) invalid = 'Choose a set.';
  else if (labelled === 0) invalid = `${chosenSet.label} has no phone alignments: phone purity needs a "phones" list of [phone, start, end] intervals on each manifest line (a corpus built by the lab, or a TIMIT import).`;
  else if (f.models.length === 0) invalid = 'Choose at least one model.';
  return (
    <section className="panel">
      <h2>Layer-wise phone purity</h2>
      <p className="hint">
        Each layer's frames are clustered by k-means (fitted on one split, scored on another) and the clusters compared with the phone at each frame's
        centre: phone purity, cluster purity and PNMI as in the HuBERT paper. Random initial values are the baseline; the dashed line is the 39-d MFCC.
      </p>
      <fieldset className="settings" disabled={s.running}>
        <label>
          set
          <select aria-label="set" value={f.set} onChange={(e) => s.setForm({ set: e.target.value })}>
            {s.sets.map((x) => (
              <option key={x.id} value={x.id}>
                {x.label} ({x.labelled.train + x.labelled.dev + x.labelled.test} of {x.utterances} aligned)
              </option>
            ))}
          </select>
        </label>
        {number('K', 'clusters (K)', 2)}
        <label>
          fit on
          <select aria-label="fit split" value={f.fitSplit} onChange={(e) => s.setForm({ fitSplit: e.target.value as Split })}>
            {SPLITS.map((x) => (
              <option key={x}>{x}</option>
            ))}
          </select>
        </label>
        <label>
          score on
          <select aria-label="evaluation split" value={f.evalSplit} onChange={(e) => s.setForm({ evalSplit: e.target.value as Split })}>
            {SPLITS.map((x) => (
              <option key={x}>{x}</option>
            ))}
          </select>
        </label>
        {number('iterations', 'k-means iterations', 1)}
        {number('utterances', 'utterances per split (0: all)', 0)}
        {number('seed', 'seed', 0)}
        <label>
          MFCC row
          <input aria-label="MFCC row" type="checkbox" checked={f.mfcc} onChange={(e) => s.setForm({ mfcc: e.target.checked })} />
        </label>
      </fieldset>
      <h3>Models</h3>
      <ul data-testid="chosen-models">
        {f.models.map((m) => (
          <li key={refLabel(m)}>
            {refLabel(m)}{' '}
            <button className="link" disabled={s.running} onClick={() => s.removeModel(refLabel(m))}>
              remove
            </button>
          </li>
        ))}
      </ul>
      <fieldset className="families" disabled={s.running}>
        <label>
          Random initial values:{' '}
          <select aria-label="random kind" value={f.kind} onChange={(e) => s.setForm({ kind: e.target.value as EncoderKind })}>
            {ENCODER_KINDS.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>{' '}
          <select aria-label="random size" value={f.size} onChange={(e) => s.setForm({ size: e.target.value as Size })}>
            {SIZES.map((z) => (
              <option key={z}>{z}</option>
            ))}
          </select>
        </label>
        <button className="quiet" onClick={() => s.addModel({ random: `${f.kind}-${f.size}` })} disabled={chosen.has(`random:${f.kind}-${f.size}`)}>
          Add random model
        </button>
        <label>
          Checkpoint:{' '}
          <select
            aria-label="checkpoint"
            value=""
            onChange={(e) => {
              const c = s.checkpoints.find((x) => x.label === e.target.value);
              if (c) s.addModel(c.ref);
            }}
          >
            <option value="">{s.checkpoints.length ? 'add a checkpoint…' : 'none trained or uploaded yet'}</option>
            {s.checkpoints.map((c) => (
              <option key={c.label} value={c.label} disabled={chosen.has(c.label)}>
                {c.label}
              </option>
            ))}
          </select>
        </label>
        <FileButton text="Upload a checkpoint" label="upload checkpoint" accept=".safetensors" onFile={(f) => void s.upload(f)} />
      </fieldset>
      {invalid && <p className="hint">{invalid}</p>}
      <button disabled={s.running || !!invalid} onClick={() => void s.run()}>
        Analyse
      </button>{' '}
      {s.running && (
        <button className="quiet" onClick={s.cancel}>
          Cancel
        </button>
      )}
      {s.running && <ProgressBar label="Analysing" progress={s.progress} />}
    </section>
  );
}

function Results({ models }: { models: ModelScores[] }) {
  const s = useAnalyse();
  const r = s.report;
  const heatModel = models.find((m) => m.id === s.heat?.model) ?? models[0];
  const heatLayer = heatModel?.layers.find((l) => l.key === s.heat?.layer) ?? heatModel?.layers[heatModel.layers.length - 1];
  const K = r?.K ?? s.form.K;
  const phones = r?.phones ?? [];
  const lineIndex = new Map(models.filter((m) => m.source !== 'mfcc').map((m, i) => [m.id, i]));
  return (
    <section className="panel" data-testid="results">
      {r && !s.running && (
        <p className="hint">
          {r.set.label}: fitted on {r.set.fit.split}
          {r.set.fit.part === 'all' ? '' : ` (${r.set.fit.part})`}, {r.set.fit.utterances} utterances; scored on {r.set.eval.split}
          {r.set.eval.part === 'all' ? '' : ` (${r.set.eval.part})`}, {r.set.eval.utterances} utterances; K = {r.K}, seed {r.seed}.
          {r.notes.map((n) => ` ${n[0].toUpperCase()}${n.slice(1)}.`)}
          {r.set.skipped.noPhones + r.set.skipped.badPhones > 0 && ` Skipped ${r.set.skipped.noPhones + r.set.skipped.badPhones} utterances without usable phone intervals.`}
        </p>
      )}
      <div className="curves">
        {MEASURES.map((m) => (
          <MeasureChart key={m.key} models={models} measure={m.key} title={m.title} testId={m.testId} />
        ))}
        {heatModel && heatLayer && phones.length > 0 && (
          <div className="chart">
            <h3>Phones by cluster</h3>
            <fieldset className="families">
              <select aria-label="heat map model" value={heatModel.id} onChange={(e) => s.setHeat({ model: e.target.value, layer: models.find((m) => m.id === e.target.value)!.layers.at(-1)!.key })}>
                {models.map((m) => (
                  <option key={m.id}>{m.id}</option>
                ))}
              </select>
              <select aria-label="heat map layer" value={heatLayer.key} onChange={(e) => s.setHeat({ model: heatModel.id, layer: e.target.value })}>
                {heatModel.layers.map((l) => (
                  <option key={l.key} value={l.key}>
                    {l.label}
                  </option>
                ))}
              </select>
            </fieldset>
            <HeatMap layer={heatLayer} phones={phones} K={K} />
            <p className="hint">p(phone | cluster); clusters ordered by their most frequent phone.</p>
          </div>
        )}
      </div>
      {!s.running && r && (
        <>
          <button onClick={() => download('purity.csv', toCsv(purityRows(r.models)), 'text/csv')}>Export CSV</button>{' '}
          <button onClick={() => download('purity.json', JSON.stringify(r, null, 2), 'application/json')}>Export JSON</button>{' '}
          <button className="quiet" onClick={s.clear}>
            Clear
          </button>
        </>
      )}
      <table data-testid="purity-table">
        <thead>
          <tr>
            <th>Model</th>
            <th>Layer</th>
            <th>Phone purity</th>
            <th>Cluster purity</th>
            <th>PNMI</th>
            <th>Frames</th>
            <th>Clusters used</th>
          </tr>
        </thead>
        <tbody>
          {models.flatMap((m) => {
            const best = bestLayer(m);
            const i = lineIndex.get(m.id);
            return m.layers.map((l) => (
              <tr key={`${m.id}/${l.key}`} className={m.id === heatModel?.id && l.key === heatLayer?.key ? 'selected' : undefined} onClick={() => s.setHeat({ model: m.id, layer: l.key })}>
                <td style={{ color: i === undefined ? '#5a6575' : colorOf(i) }}>
                  {m.id}
                  {m.cached && l.index === 0 ? ' (cached)' : ''}
                </td>
                <td>{l.label}</td>
                <td className="num">{f3(l.phonePurity)}</td>
                <td className="num">{f3(l.clusterPurity)}</td>
                <td className={`num${l === best && m.layers.length > 1 ? ' good' : ''}`}>{f3(l.pnmi)}</td>
                <td className="num">{l.frames}</td>
                <td className="num">{l.clustersUsed}</td>
              </tr>
            ));
          })}
        </tbody>
      </table>
    </section>
  );
}

export function AnalysePage() {
  const s = useAnalyse();
  useEffect(() => {
    if (!useAnalyse.getState().loaded) void useAnalyse.getState().load();
  }, []);
  const models = s.running ? s.partial : (s.report?.models ?? []);
  return (
    <div className="page">
      {s.error && (
        <p className="error" role="alert" data-testid="error">
          {s.error.message}
        </p>
      )}
      {s.notice && (
        <p className="notice" role="status" data-testid="notice">
          {s.notice}
        </p>
      )}
      <SetupPanel />
      {models.length > 0 && <Results models={models} />}
    </div>
  );
}
