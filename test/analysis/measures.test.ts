// Phone purity, cluster purity and PNMI against values computed by hand on small tables (HuBERT paper IV-F).
import { describe, expect, it } from 'vitest';
import { Contingency, denseTable, measures } from '../../src/analysis/measures.ts';

describe('cluster quality measures', () => {
  it('a 2 x 2 table: purities 0.75, PNMI = 0.75 log2(1.5) - 0.25', () => {
    // n(y, z): phone 0 -> [3, 1], phone 1 -> [1, 3]. p(y) = p(z) = 1/2, H(y) = 1 bit.
    const m = measures([3, 1, 1, 3], 2, 2);
    expect(m.phonePurity).toBeCloseTo(6 / 8, 12);
    expect(m.clusterPurity).toBeCloseTo(6 / 8, 12);
    expect(m.phoneEntropy).toBeCloseTo(Math.LN2, 12);
    // I = 2 (3/8) log2(1.5) + 2 (1/8) log2(0.5) bits.
    expect(m.pnmi!).toBeCloseTo(0.18872187554086717, 10);
    expect(m.frames).toBe(8);
    expect(m.clustersUsed).toBe(2);
  });

  it('a 3 x 2 table where phone and cluster purity differ', () => {
    // phone 0 -> [4, 0], phone 1 -> [2, 2], phone 2 -> [0, 2]; N = 10.
    // phone purity: (max 4 in cluster 0 + max 2 in cluster 1) / 10; cluster purity: (4 + 2 + 2) / 10.
    // H(y) = -(2 (0.4) log2 0.4 + 0.2 log2 0.2) = 1.5219281 bits; p(z) = (0.6, 0.4);
    // I = 0.4 log2(0.4/0.24) + 0.2 log2(0.2/0.24) + 0.2 log2(0.2/0.16) + 0.2 log2(0.2/0.08) = 0.5709506 bits.
    const m = measures([4, 0, 2, 2, 0, 2], 3, 2);
    expect(m.phonePurity).toBeCloseTo(0.6, 12);
    expect(m.clusterPurity).toBeCloseTo(0.8, 12);
    expect(m.phoneEntropy / Math.LN2).toBeCloseTo(1.5219280948873621, 10);
    expect(m.mutualInformation / Math.LN2).toBeCloseTo(0.5709505944546687, 10);
    expect(m.pnmi!).toBeCloseTo(0.3751495201203475, 10);
    expect(m.phonesSeen).toBe(3);
  });

  it('clusters equal to phones give purity 1 and PNMI 1', () => {
    const m = measures([5, 0, 0, 0, 7, 0, 0, 0, 2], 3, 3);
    expect(m.phonePurity).toBe(1);
    expect(m.clusterPurity).toBe(1);
    expect(m.pnmi!).toBeCloseTo(1, 12);
  });

  it('a cluster split into several pure clusters keeps phone purity and PNMI at 1, lowers cluster purity', () => {
    // phone 0 spread evenly over clusters 0 and 1, phone 1 alone in cluster 2.
    const m = measures([3, 3, 0, 0, 0, 6], 2, 3);
    expect(m.phonePurity).toBe(1);
    expect(m.clusterPurity).toBeCloseTo(9 / 12, 12);
    expect(m.pnmi!).toBeCloseTo(1, 12);
  });

  it('labels independent of clusters (a product table) give PNMI 0', () => {
    const py = [0.5, 0.3, 0.2];
    const pz = [0.1, 0.6, 0.3];
    const t = py.flatMap((a) => pz.map((b) => 1000 * a * b));
    const m = measures(t, 3, 3);
    expect(m.pnmi!).toBeCloseTo(0, 12);
    expect(m.phonePurity).toBeCloseTo(0.5, 12); // each cluster's majority is phone 0
    expect(m.clusterPurity).toBeCloseTo(0.6, 12); // each phone's majority is cluster 1
  });

  it('sampled independent labels give PNMI near 0', () => {
    let s = 12345;
    const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
    const c = new Contingency(5, 8);
    const labels = Int32Array.from({ length: 20000 }, () => Math.floor(rand() * 5));
    const ids = Int32Array.from({ length: 20000 }, () => Math.floor(rand() * 8));
    c.add(labels, ids);
    const m = measures(c.counts, 5, 8);
    // The bias of the plug-in estimate is about (5-1)(8-1)/(2 N ln 5) = 4e-4.
    expect(m.pnmi!).toBeLessThan(0.003);
    expect(m.pnmi!).toBeGreaterThanOrEqual(0);
  });

  it('edge cases: an empty table, a single phone, frames without a label', () => {
    expect(measures([0, 0, 0, 0], 2, 2)).toMatchObject({ phonePurity: 0, pnmi: null, frames: 0 });
    expect(measures([2, 5, 0, 0], 2, 2)).toMatchObject({ phonePurity: 1, pnmi: null, frames: 7 });
    const c = new Contingency(2, 2);
    c.add([0, -1, 1, 1], [1, 0, 0, 0]);
    expect(c.total).toBe(3);
    expect(c.sparse()).toEqual([[0, 1, 1], [1, 0, 2]]);
    expect([...denseTable(c.sparse(), 2, 2)]).toEqual([0, 1, 2, 0]);
    expect(() => c.add([2], [0])).toThrow(/outside 2 x 2/);
    expect(() => measures([1, 2, 3], 2, 2)).toThrow(/3 counts for a 2 x 2 table/);
  });
});
