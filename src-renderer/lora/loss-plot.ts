// The live loss plot's geometry: loss per step → an SVG polyline in a width × height box, with a
// moving average drawn over the raw (noisy) curve. Pure, so it is tested without a browser.

export interface PlotPoint {
  step: number;
  loss: number;
}

export interface LossPlot {
  raw: string;
  smooth: string;
  min: number;
  max: number;
}

export function movingAverage(values: readonly number[], window: number): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i]!;
    if (i >= window) sum -= values[i - window]!;
    out.push(sum / Math.min(i + 1, window));
  }
  return out;
}

export function lossPlot(points: readonly PlotPoint[], totalSteps: number, width: number, height: number): LossPlot {
  if (points.length === 0) return { raw: '', smooth: '', min: 0, max: 0 };
  const losses = points.map((p) => p.loss);
  const min = Math.min(...losses);
  const max = Math.max(...losses);
  const span = max - min || 1;
  const x = (step: number) => ((step / Math.max(1, totalSteps)) * width).toFixed(1);
  const y = (loss: number) => (height - ((loss - min) / span) * height).toFixed(1);
  const smoothed = movingAverage(losses, Math.max(1, Math.round(points.length / 20)));
  return {
    raw: points.map((p) => `${x(p.step)},${y(p.loss)}`).join(' '),
    smooth: points.map((p, i) => `${x(p.step)},${y(smoothed[i]!)}`).join(' '),
    min,
    max,
  };
}

/** "1m 05s" style remaining time, or '' when the rate is unknown. */
export function eta(stepsLeft: number, stepsPerSecond: number | null): string {
  if (!stepsPerSecond || stepsPerSecond <= 0 || stepsLeft <= 0) return '';
  const s = Math.round(stepsLeft / stepsPerSecond);
  return s >= 60 ? `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
