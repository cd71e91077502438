import { denseTable } from '../../../analysis/measures.ts';
import type { LayerScore } from '../../../analysis/report.ts';

/**
 * p(phone | cluster) for one layer: a row per phone seen, a column per cluster used, clusters ordered by their most
 * frequent phone (so that a good layer shows a diagonal), as in the HuBERT paper's figure.
 */
export function HeatMap({ layer, phones, K }: { layer: LayerScore; phones: readonly string[]; K: number }) {
  if (!layer.table) return <p className="hint">This result holds no phone-by-cluster table.</p>;
  const P = phones.length;
  const t = denseTable(layer.table, P, K);
  const colTotal = new Float64Array(K);
  const rowTotal = new Float64Array(P);
  for (let y = 0; y < P; y++) for (let z = 0; z < K; z++) {
    colTotal[z] += t[y * K + z];
    rowTotal[y] += t[y * K + z];
  }
  const rows = [...Array(P).keys()].filter((y) => rowTotal[y] > 0);
  const argmax = (z: number) => rows.reduce((b, y) => (t[y * K + z] > t[b * K + z] ? y : b), rows[0]);
  const rank = new Map(rows.map((y, i) => [y, i]));
  const cols = [...Array(K).keys()]
    .filter((z) => colTotal[z] > 0)
    .sort((a, b) => rank.get(argmax(a))! - rank.get(argmax(b))! || t[argmax(b) * K + b] / colTotal[b] - t[argmax(a) * K + a] / colTotal[a]);
  const cell = 10;
  const left = 36;
  const top = 4;
  const width = left + cols.length * cell + 4;
  const height = top + rows.length * cell + 4;
  return (
    <svg data-testid="heatmap" width={width} height={height} role="img" aria-label={`p(phone | cluster) of ${layer.label}`} style={{ maxWidth: '100%', fontSize: 8 }}>
      {rows.map((y, i) => (
        <text key={y} x={left - 3} y={top + i * cell + cell - 1} textAnchor="end" fill="#5a6575">
          {phones[y]}
        </text>
      ))}
      {cols.map((z, j) =>
        rows.map((y, i) => {
          const p = t[y * K + z] / colTotal[z];
          if (p === 0) return null;
          return (
            <rect key={`${y}-${z}`} x={left + j * cell} y={top + i * cell} width={cell} height={cell} fill="#1f4e79" fillOpacity={Math.max(0.04, p)}>
              <title>{`${phones[y]} in cluster ${z}: ${t[y * K + z]} of its ${colTotal[z]} frames (${(100 * p).toFixed(0)}%)`}</title>
            </rect>
          );
        }),
      )}
    </svg>
  );
}
