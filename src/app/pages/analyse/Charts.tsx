import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ModelScores } from '../../../analysis/report.ts';

export type Measure = 'phonePurity' | 'clusterPurity' | 'pnmi';

export const MEASURES: { key: Measure; title: string; testId: string }[] = [
  { key: 'phonePurity', title: 'Phone purity', testId: 'phone-purity-chart' },
  { key: 'clusterPurity', title: 'Cluster purity', testId: 'cluster-purity-chart' },
  { key: 'pnmi', title: 'PNMI (phone-normalised mutual information)', testId: 'pnmi-chart' },
];

const COLORS = ['#3b6ea5', '#c0392b', '#2e7d32', '#6a1b9a', '#ef6c00', '#00838f', '#9e9d24', '#5d4037'];
export const colorOf = (i: number) => COLORS[i % COLORS.length];

/** The x axis: every layer label of the models, in order (CNN, proj, pos conv, layer 1, ...). */
function layerAxis(models: readonly ModelScores[]): string[] {
  const deepest = models.reduce<ModelScores | undefined>((a, m) => (!a || m.layers.length > a.layers.length ? m : a), undefined);
  const labels = deepest ? deepest.layers.map((l) => l.label) : [];
  for (const m of models) for (const l of m.layers) if (!labels.includes(l.label)) labels.push(l.label);
  return labels;
}

/** One measure against the layer, a line per model; the MFCC row as a dashed reference line. */
export function MeasureChart({ models, measure, title, testId }: { models: readonly ModelScores[]; measure: Measure; title: string; testId: string }) {
  const lines = models.filter((m) => m.source !== 'mfcc');
  const mfcc = models.find((m) => m.source === 'mfcc')?.layers[0]?.[measure];
  // Keys m0, m1, ...: a model's id may hold dots, which recharts would read as a path.
  const data = layerAxis(lines).map((label) => {
    const row: Record<string, string | number | null> = { layer: label };
    lines.forEach((m, i) => {
      const l = m.layers.find((x) => x.label === label);
      if (l) row[`m${i}`] = l[measure];
    });
    return row;
  });
  return (
    <div className="chart" data-testid={testId}>
      <h3>{title}</h3>
      <ResponsiveContainer width="100%" height={240}>
        <LineChart data={data} margin={{ left: 10, right: 30, top: 5, bottom: 15 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="layer" type="category" label={{ value: 'layer', position: 'insideBottom', offset: -8 }} />
          <YAxis type="number" domain={[0, 'auto']} tickFormatter={(v: number) => v.toFixed(2)} width={50} />
          <Tooltip formatter={(v) => Number(v).toFixed(3)} />
          <Legend verticalAlign="top" />
          {lines.map((m, i) => (
            <Line key={m.id} dataKey={`m${i}`} name={m.id} stroke={colorOf(i)} dot isAnimationActive={false} connectNulls />
          ))}
          {mfcc != null && <ReferenceLine y={mfcc} ifOverflow="extendDomain" stroke="#5a6575" strokeDasharray="6 4" label={{ value: `MFCC ${mfcc.toFixed(3)}`, position: 'insideTopRight', fill: '#5a6575', fontSize: 12 }} />}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
