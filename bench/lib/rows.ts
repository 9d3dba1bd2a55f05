import { median } from './stats.ts';

/** msg/s: higher is better; ns, us, ms, B: lower is better; %: a share. */
export type Unit = 'msg/s' | 'ns' | 'us' | 'ms' | 'B' | '%';

/** A goal on the troupe/baseline ratio, or on Troupe's own figure. */
export interface Target {
  on: 'ratio' | 'troupe';
  op: '>=' | '<=' | '<';
  value: number;
}

/** One line of the report. Figures are medians of the measured runs (warmup runs are not kept). */
export interface Row {
  figure: string;
  unit: Unit;
  troupe: number;
  baseline: number;
  baselineName: string;
  /** troupe / baseline, whatever the unit (paired rows: the median of the per-round ratios, see makePairedRow). */
  ratio: number;
  /** Set when ratio is the median of per-round troupe[i] / baseline[i] rather than the ratio of the medians. */
  paired?: boolean;
  target?: Target;
  met?: boolean;
  runs: { troupe: number[]; baseline: number[] };
}

export function makeRow(r: { figure: string; unit: Unit; baselineName: string; target?: Target; runs: Row['runs'] }): Row {
  const troupe = median(r.runs.troupe);
  const baseline = median(r.runs.baseline);
  const ratio = troupe / baseline;
  const row: Row = { figure: r.figure, unit: r.unit, troupe, baseline, baselineName: r.baselineName, ratio, runs: r.runs };
  if (r.target !== undefined) {
    row.target = r.target;
    row.met = meets(r.target.on === 'ratio' ? ratio : troupe, r.target);
  }
  return row;
}

/**
 * For A/B figures where the two sides ran interleaved in the same process (round i of one next to round i of the
 * other): ratio = median over rounds of troupe[i] / baseline[i]. On a shared host, load comes in bursts longer
 * than one round, so adjacent runs see the same load and their ratio is steadier than the ratio of the medians.
 */
export function makePairedRow(r: { figure: string; unit: Unit; baselineName: string; target?: Target; runs: Row['runs'] }): Row {
  const { troupe, baseline } = r.runs;
  if (troupe.length !== baseline.length) throw new Error(`${r.figure}: paired runs of unequal length`);
  const row = makeRow(r);
  row.ratio = median(troupe.map((t, i) => t / baseline[i]));
  row.paired = true;
  if (row.target !== undefined) row.met = meets(row.target.on === 'ratio' ? row.ratio : row.troupe, row.target);
  return row;
}

function meets(x: number, t: Target): boolean {
  if (t.op === '>=') return x >= t.value;
  if (t.op === '<=') return x <= t.value;
  return x < t.value;
}

export function formatValue(unit: Unit, v: number): string {
  if (!Number.isFinite(v)) return String(v);
  switch (unit) {
    case 'msg/s':
      if (v >= 1e6) return `${(v / 1e6).toFixed(2)} M msg/s`;
      return v >= 1e4 ? `${(v / 1e3).toFixed(0)} k msg/s` : `${v.toFixed(0)} msg/s`;
    case 'ns':
      return `${v.toFixed(0)} ns`;
    case 'us':
      return `${v.toFixed(1)} us`;
    case 'ms':
      return `${v.toFixed(0)} ms`;
    case 'B':
      return `${v.toFixed(0)} B`;
    case '%':
      return `${(v * 100).toFixed(2)} %`;
  }
}

export function formatTarget(row: Row): string {
  const t = row.target;
  if (t === undefined) return '-';
  return t.on === 'ratio' ? `ratio ${t.op} ${t.value}x` : `${t.op} ${formatValue(row.unit, t.value)}`;
}

export function tableCells(row: Row): string[] {
  return [
    row.figure,
    formatValue(row.unit, row.troupe),
    `${formatValue(row.unit, row.baseline)} (${row.baselineName})`,
    `${row.ratio.toFixed(2)}x${row.paired ? ' (paired)' : ''}`,
    formatTarget(row),
    row.met === undefined ? '-' : row.met ? 'yes' : 'NO',
  ];
}
