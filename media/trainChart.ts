// Pure geometry of the training chart: scales, ticks and SVG paths, with no DOM so that it can be unit-tested.
import type { TrainPoint } from '../src/protocol/trainMessages';

/** The drawing area: the SVG's size and the margins kept free for the axis labels. */
export interface ChartBox {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** A closed interval of data values and the round values to label on it. */
export interface Domain {
  min: number;
  max: number;
  /** The distance between ticks, which sets how many decimals their labels need. */
  step: number;
  ticks: number[];
}

/** A labelled position on an axis, in SVG pixels. */
export interface Tick {
  value: number;
  label: string;
  at: number;
}

/** What the webview draws for one metric. */
export interface ChartModel {
  /** SVG path data; a step without a value breaks the line instead of bridging it. */
  path: string;
  xTicks: Tick[];
  yTicks: Tick[];
  /** The last defined value, shown next to the metric's name. */
  latest: number | null;
  /** Where the last defined value is drawn, marked so that a run of one step is visible too. */
  latestAt: { x: number; y: number } | null;
  /** Steps that had a value. */
  defined: number;
}

/** The metrics the chart plots, each in its own panel since their scales differ by orders of magnitude. */
export type ChartMetric = 'loss' | 'rewardMargin' | 'entropy';

/** The smallest of 1, 2, 5 x 10^k that is at least `x`: axis steps people read at a glance. */
export function niceStep(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return 1;
  const power = 10 ** Math.floor(Math.log10(x));
  const fraction = x / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

/**
 * A domain holding every value, widened to round ticks (about `count` of them). A flat series gets a band
 * around its value so that its line sits in the middle rather than on an edge.
 */
export function niceDomain(values: readonly number[], count = 4): Domain {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { min: 0, max: 1, step: 0.5, ticks: [0, 0.5, 1] };
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep((hi - lo) / Math.max(1, count - 1));
  const min = Math.floor(lo / step) * step;
  const max = Math.ceil(hi / step) * step;
  // Rounded to the step's precision so that 0.1 + 0.2 is labelled 0.3.
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const ticks: number[] = [];
  for (let k = 0; min + k * step <= max + step / 2; k += 1) ticks.push(Number((min + k * step).toFixed(decimals)));
  return { min: ticks[0], max: ticks[ticks.length - 1], step, ticks };
}

/**
 * A tick label. With the axis step, every label gets the decimals the step needs, so that ticks 0.0002 apart
 * on a flat entropy curve read 6.9250, 6.9252 rather than 6.93 five times; without it, three significant digits.
 */
export function formatTick(value: number, step?: number): string {
  if (step !== undefined && step >= 1e-6 && Math.abs(value) < 1e6) return value.toFixed(Math.max(0, -Math.floor(Math.log10(step))));
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1e4 || abs < 1e-3) return value.toExponential(1);
  return String(Number(value.toPrecision(3)));
}

/** The latest value of a metric, with four significant digits. */
export function formatValue(value: number): string {
  const abs = Math.abs(value);
  if (value !== 0 && (abs >= 1e5 || abs < 1e-3)) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

/** Maps a value of [min, max] to pixels of [from, to]; a degenerate domain maps to the middle. */
export function scale(value: number, min: number, max: number, from: number, to: number): number {
  if (max === min) return (from + to) / 2;
  return from + ((value - min) / (max - min)) * (to - from);
}

/** SVG path data through the defined points; an undefined or non-finite value starts a new segment. */
export function linePath(points: readonly { x: number; y: number | null }[], toPx: (x: number, y: number) => [number, number]): string {
  const parts: string[] = [];
  let pen = false;
  for (const p of points) {
    if (p.y === null || !Number.isFinite(p.y)) {
      pen = false;
      continue;
    }
    const [x, y] = toPx(p.x, p.y);
    parts.push(`${pen ? 'L' : 'M'}${round(x)} ${round(y)}`);
    pen = true;
  }
  return parts.join(' ');
}

/**
 * The chart of one metric: x runs over the whole run (to `totalSteps` when known, so the line grows
 * towards the right edge as training progresses), y over the metric's own values.
 */
export function buildChart(points: readonly TrainPoint[], metric: ChartMetric, totalSteps: number | undefined, box: ChartBox): ChartModel {
  const values = points.map((p) => ({ x: p.step, y: p[metric] }));
  const defined = values.filter((v): v is { x: number; y: number } => v.y !== null && Number.isFinite(v.y));
  const y = niceDomain(defined.map((v) => v.y));
  // Step 0 is the untrained model, so the axis starts there and the first step sits just inside it.
  const xMin = 0;
  const xMax = Math.max(totalSteps ?? 0, points.length > 0 ? points[points.length - 1].step : 0, 1);
  const x = niceDomain([xMin, xMax], 5);
  const [x0, x1] = [box.left, box.width - box.right];
  const [y0, y1] = [box.height - box.bottom, box.top];
  const px = (vx: number) => scale(vx, xMin, xMax, x0, x1);
  const py = (vy: number) => scale(vy, y.min, y.max, y0, y1);
  const last = defined.at(-1);
  return {
    path: linePath(values, (vx, vy) => [px(vx), py(vy)]),
    // Only whole steps inside the run are labelled; the nice domain may reach past its ends.
    xTicks: x.ticks.filter((t) => Number.isInteger(t) && t >= xMin && t <= xMax).map((t) => ({ value: t, label: formatTick(t, x.step), at: round(px(t)) })),
    yTicks: y.ticks.map((t) => ({ value: t, label: formatTick(t, y.step), at: round(py(t)) })),
    latest: last ? last.y : null,
    latestAt: last ? { x: round(px(last.x)), y: round(py(last.y)) } : null,
    defined: defined.length,
  };
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
