import { describe, expect, it } from 'vitest';
import { buildChart, formatTick, formatValue, linePath, niceDomain, niceStep, scale, type ChartBox } from '../../media/trainChart.js';
import type { TrainPoint } from '../../src/protocol/trainMessages.js';

const box: ChartBox = { width: 100, height: 60, left: 10, right: 10, top: 10, bottom: 10 };

function point(step: number, loss: number | null, rewardMargin: number | null = null, entropy: number | null = null): TrainPoint {
  return { step, loss, rewardMargin, entropy, prefAccuracy: null };
}

/** Every coordinate pair of an SVG path made of M and L commands. */
function coordinates(path: string): [number, number][] {
  return [...path.matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

describe('niceStep and niceDomain', () => {
  it('rounds steps up to 1, 2 or 5 times a power of ten', () => {
    expect([0.27, 1, 1.2, 3, 7, 0.07, 420].map(niceStep)).toEqual([0.5, 1, 2, 5, 10, 0.1, 500]);
    expect(niceStep(0)).toBe(1);
    expect(niceStep(Number.NaN)).toBe(1);
  });

  it('widens a domain to round ticks that hold every value', () => {
    expect(niceDomain([0.12, 0.93])).toEqual({ min: 0, max: 1, step: 0.5, ticks: [0, 0.5, 1] });
    expect(niceDomain([-3.2, 41])).toEqual({ min: -20, max: 60, step: 20, ticks: [-20, 0, 20, 40, 60] });
  });

  it('labels ticks without floating-point noise', () => {
    const domain = niceDomain([0.69]);
    expect(domain.ticks).toEqual([0.6, 0.65, 0.7, 0.75, 0.8]);
    expect(domain.min).toBe(0.6);
    expect(domain.max).toBe(0.8);
  });

  it('puts a flat series inside a band and an empty one on 0..1', () => {
    expect(niceDomain([0, 0, 0])).toEqual({ min: -1, max: 1, step: 1, ticks: [-1, 0, 1] });
    expect(niceDomain([])).toEqual({ min: 0, max: 1, step: 0.5, ticks: [0, 0.5, 1] });
    expect(niceDomain([Number.NaN, Number.POSITIVE_INFINITY])).toEqual({ min: 0, max: 1, step: 0.5, ticks: [0, 0.5, 1] });
  });
});

describe('scale, formatTick and linePath', () => {
  it('maps values linearly, and a degenerate domain to the middle', () => {
    expect(scale(5, 0, 10, 100, 200)).toBe(150);
    expect(scale(0, 0, 10, 50, 10)).toBe(50);
    expect(scale(3, 3, 3, 0, 80)).toBe(40);
  });

  it('writes short tick labels, with the decimals the axis step needs', () => {
    expect([3, 0.5, 0.123456, 123.456, 25000.5, 0.0001234].map((v) => formatTick(v))).toEqual(['3', '0.5', '0.123', '123', '2.5e+4', '1.2e-4']);
    expect([0, 0.5, 1].map((v) => formatTick(v, 0.5))).toEqual(['0.0', '0.5', '1.0']);
    expect([-20, 40].map((v) => formatTick(v, 20))).toEqual(['-20', '40']);
    expect(formatTick(6.9252, 0.0002)).toBe('6.9252');
    expect([6.925146484375, 0.39, 123456, 0.0004].map(formatValue)).toEqual(['6.925', '0.39', '1.23e+5', '4.00e-4']);
  });

  it('gives a flat curve distinct tick labels', () => {
    const entropy = [6.92491, 6.92502, 6.92552, 6.92533].map((v, k) => ({ ...point(k + 1, null), entropy: v }));
    const labels = buildChart(entropy, 'entropy', 4, box).yTicks.map((t) => t.label);
    expect(labels).toEqual(['6.9245', '6.9250', '6.9255', '6.9260']);
    expect(new Set(labels).size).toBe(labels.length);
  });

  it('breaks the line where a value is missing instead of bridging the gap', () => {
    const path = linePath([{ x: 1, y: 1 }, { x: 2, y: null }, { x: 3, y: 2 }, { x: 4, y: Number.NaN }, { x: 5, y: 3 }, { x: 6, y: 4 }], (x, y) => [x * 10, y * 10]);
    expect(path).toBe('M10 10 M30 20 M50 30 L60 40');
    expect(linePath([], (x, y) => [x, y])).toBe('');
  });
});

describe('buildChart', () => {
  it('places the steps over the whole run and the values over their own ticks', () => {
    const chart = buildChart([point(1, 1), point(2, 0.5), point(3, 0)], 'loss', 5, box);
    expect(chart.path).toBe('M26 10 L42 30 L58 50');
    expect(chart.yTicks).toEqual([{ value: 0, label: '0.0', at: 50 }, { value: 0.5, label: '0.5', at: 30 }, { value: 1, label: '1.0', at: 10 }]);
    // 0..5 in steps of 2: the 6 the nice domain reaches is past the run and left out.
    expect(chart.xTicks.map((t) => [t.label, t.at])).toEqual([['0', 10], ['2', 42], ['4', 74]]);
    expect(chart.latest).toBe(0);
    expect(chart.latestAt).toEqual({ x: 58, y: 50 });
    expect(chart.defined).toBe(3);
  });

  it('marks the only point of a one-step run, inside the plot, where its line alone would draw nothing', () => {
    const chart = buildChart([point(1, 6.299)], 'loss', 1, box);
    expect(chart.path).toMatch(/^M[\d.]+ [\d.]+$/);
    const [x, y] = chart.path.slice(1).split(' ').map(Number);
    expect(chart.latestAt).toEqual({ x, y });
    expect(y).toBeGreaterThan(box.top);
    expect(y).toBeLessThan(box.height - box.bottom);
  });

  it('plots each metric from its own field and reports one without values as empty', () => {
    const points = [point(1, 0.7, 0.1, null), point(2, 0.6, 0.3, null)];
    const margin = buildChart(points, 'rewardMargin', 2, box);
    expect(margin.latest).toBe(0.3);
    expect(coordinates(margin.path)).toHaveLength(2);
    const entropy = buildChart(points, 'entropy', 2, box);
    expect(entropy).toMatchObject({ path: '', latest: null, defined: 0 });
  });

  it('stretches to the last step when the total is unknown or smaller', () => {
    const chart = buildChart([point(1, 2), point(8, 1)], 'loss', undefined, box);
    const xs = coordinates(chart.path).map(([x]) => x);
    expect(xs).toEqual([20, 90]);
    expect(chart.xTicks.map((t) => t.value)).toEqual([0, 2, 4, 6, 8]);
  });

  it('keeps every point of a long, noisy run inside the drawing area', () => {
    const points = Array.from({ length: 5000 }, (_, k) => point(k + 1, Math.exp(-k / 800) + Math.sin(k) * 0.05, k % 97 === 0 ? null : Math.log1p(k)));
    for (const metric of ['loss', 'rewardMargin'] as const) {
      const chart = buildChart(points, metric, 6000, box);
      const xy = coordinates(chart.path);
      expect(xy.length).toBe(chart.defined);
      expect(xy.every(([x, y]) => x >= box.left && x <= box.width - box.right && y >= box.top && y <= box.height - box.bottom)).toBe(true);
      // Steps only move right: the path never doubles back.
      expect(xy.every(([x], k) => k === 0 || x >= xy[k - 1][0])).toBe(true);
    }
    expect(buildChart(points, 'rewardMargin', 6000, box).defined).toBe(5000 - Math.ceil(5000 / 97));
  });

  it('draws nothing but the axes before the first step', () => {
    const chart = buildChart([], 'loss', 100, box);
    expect(chart.path).toBe('');
    expect(chart.yTicks.map((t) => t.value)).toEqual([0, 0.5, 1]);
    expect(chart.xTicks.map((t) => [t.value, t.at])).toEqual([[0, 10], [50, 50], [100, 90]]);
  });
});
