// Cluster quality against phone labels, as defined in the HuBERT paper (Hsu et al. 2021, section IV-F):
// over frames, the joint distribution p(y, z) of phone label y and cluster z gives
//   phone purity   = E_z[max_y p(y | z)] = sum_z max_y p(y, z)   (how pure each cluster is in phones)
//   cluster purity = E_y[max_z p(z | y)] = sum_y max_z p(y, z)   (how concentrated each phone is in one cluster)
//   PNMI           = I(y; z) / H(y)                               (the share of phone uncertainty a cluster removes)
// No GPU and no DOM here: the page draws from these numbers too.

/** Frame counts n(y, z) in a (phones, clusters) table, row-major by phone. */
export class Contingency {
  readonly counts: Float64Array;
  total = 0;

  constructor(
    readonly phones: number,
    readonly clusters: number,
  ) {
    this.counts = new Float64Array(phones * clusters);
  }

  /** Add frames: labels[t] (phone index) with cluster ids[t]; a negative label (no phone) is left out. */
  add(labels: ArrayLike<number>, ids: ArrayLike<number>): void {
    if (labels.length !== ids.length) throw new Error(`contingency: ${labels.length} labels for ${ids.length} cluster ids`);
    for (let t = 0; t < labels.length; t++) {
      const y = labels[t];
      if (y < 0) continue;
      const z = ids[t];
      if (y >= this.phones || z < 0 || z >= this.clusters) throw new Error(`contingency: (phone ${y}, cluster ${z}) is outside ${this.phones} x ${this.clusters}`);
      this.counts[y * this.clusters + z]++;
      this.total++;
    }
  }

  /** Non-zero cells as [phone, cluster, frames] (compact for JSON and storage). */
  sparse(): [number, number, number][] {
    const out: [number, number, number][] = [];
    for (let y = 0; y < this.phones; y++) {
      for (let z = 0; z < this.clusters; z++) {
        const n = this.counts[y * this.clusters + z];
        if (n) out.push([y, z, n]);
      }
    }
    return out;
  }
}

export interface Measures {
  phonePurity: number;
  clusterPurity: number;
  /** I(y; z) / H(y); null when H(y) = 0 (a single phone: nothing to explain). */
  pnmi: number | null;
  /** Mutual information and phone entropy, in nats. */
  mutualInformation: number;
  phoneEntropy: number;
  frames: number;
  /** Clusters and phones with at least one frame. */
  clustersUsed: number;
  phonesSeen: number;
}

/** The measures of a (phones, clusters) count table, row-major by phone. All zero (and PNMI null) when it is empty. */
export function measures(counts: ArrayLike<number>, phones: number, clusters: number): Measures {
  if (counts.length !== phones * clusters) throw new Error(`measures: ${counts.length} counts for a ${phones} x ${clusters} table`);
  const py = new Float64Array(phones);
  const pz = new Float64Array(clusters);
  const maxY = new Float64Array(clusters); // max over phones, per cluster
  const maxZ = new Float64Array(phones); // max over clusters, per phone
  let N = 0;
  for (let y = 0; y < phones; y++) {
    for (let z = 0; z < clusters; z++) {
      const n = counts[y * clusters + z];
      if (!(n >= 0)) throw new Error(`measures: count (${y}, ${z}) is ${n}`);
      py[y] += n;
      pz[z] += n;
      N += n;
      if (n > maxY[z]) maxY[z] = n;
      if (n > maxZ[y]) maxZ[y] = n;
    }
  }
  if (N === 0) return { phonePurity: 0, clusterPurity: 0, pnmi: null, mutualInformation: 0, phoneEntropy: 0, frames: 0, clustersUsed: 0, phonesSeen: 0 };
  let phonePurity = 0;
  for (let z = 0; z < clusters; z++) phonePurity += maxY[z];
  let clusterPurity = 0;
  for (let y = 0; y < phones; y++) clusterPurity += maxZ[y];
  let H = 0;
  for (let y = 0; y < phones; y++) if (py[y] > 0) H -= (py[y] / N) * Math.log(py[y] / N);
  // I = sum p(y,z) log(p(y,z) / (p(y) p(z))) = sum n/N log(n N / (n_y n_z)).
  let I = 0;
  for (let y = 0; y < phones; y++) {
    for (let z = 0; z < clusters; z++) {
      const n = counts[y * clusters + z];
      if (n > 0) I += (n / N) * Math.log((n * N) / (py[y] * pz[z]));
    }
  }
  I = Math.max(0, I); // rounding can leave -1e-17 for independent labels
  return {
    phonePurity: phonePurity / N,
    clusterPurity: clusterPurity / N,
    pnmi: H > 0 ? Math.min(1, I / H) : null,
    mutualInformation: I,
    phoneEntropy: H,
    frames: N,
    clustersUsed: pz.reduce((s, n) => s + (n > 0 ? 1 : 0), 0),
    phonesSeen: py.reduce((s, n) => s + (n > 0 ? 1 : 0), 0),
  };
}

/** A dense (phones, clusters) table from sparse [phone, cluster, frames] cells. */
export function denseTable(cells: readonly (readonly [number, number, number])[], phones: number, clusters: number): Float64Array {
  const t = new Float64Array(phones * clusters);
  for (const [y, z, n] of cells) t[y * clusters + z] += n;
  return t;
}
