// Present/absent per bucket as grouped bars (uPlot). The x axis is the bucket's index, labelled
// with its start, so days, weeks and months all read the same way. Resizes with its box.
// The legend shows the latest period's figures until the pointer picks another. Days the
// school is closed are shaded grey behind the bars, so a closed day never reads as an empty one.
// On paper the chart is drawn again at the width of an A4 page: shrinking the screen's canvas
// shrank its axis labels to a few points and left an empty band below it (issue #29 §6).
import uPlot from 'uplot';
import { bucketLabel } from './format.js';
import { m } from './i18n.js';
import type { Bucket, Period } from './types.js';

export interface BarChart {
  /** `closed[i]`: bucket i is a day the school is closed. */
  update(buckets: Bucket[], period: Period, closed?: boolean[]): void;
  destroy(): void;
}

/** A4 less Chromium's default print margins (0.4 in each side) and the chart box's padding, in CSS px. */
const PRINT_WIDTH = 680;
const PRINT_HEIGHT = 240;

let measure: CanvasRenderingContext2D | null = null;
/** The widest label in uPlot's axis font, plus a gap: the least room between two ticks. */
function labelSpace(labels: string[]): number {
  measure ??= document.createElement('canvas').getContext('2d');
  if (!measure) return 24 + 7 * Math.max(0, ...labels.map((l) => l.length));
  measure.font = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  return 24 + Math.max(40, ...labels.map((l) => measure!.measureText(l).width));
}

export function barChart(box: HTMLElement, title: string): BarChart {
  let plot: uPlot | null = null;
  let labels: string[] = [];
  let closedDays: boolean[] = [];
  const width = () => Math.max(280, box.clientWidth || 600);
  const height = () => (width() < 500 ? 220 : 300);
  const bars = (align: -1 | 1) => uPlot.paths.bars!({ size: [0.4, 60], align, gap: 1 });

  // Before any hover, after the pointer leaves, and on paper, the legend reads the latest period's values, not dashes.
  const latest = (u: uPlot) => { if (u.data[0].length) u.setLegend({ idx: u.data[0].length - 1 }); };

  const shadeClosed = (u: uPlot) => {
    const { ctx, bbox } = u;
    ctx.save();
    ctx.fillStyle = '#e6e8ec';
    closedDays.forEach((closed, i) => {
      if (!closed) return;
      const x0 = u.valToPos(i - 0.5, 'x', true);
      const x1 = u.valToPos(i + 0.5, 'x', true);
      ctx.fillRect(x0, bbox.top, x1 - x0, bbox.height);
    });
    ctx.restore();
  };

  const printing = window.matchMedia('print');
  const size = () => (printing.matches ? { width: PRINT_WIDTH, height: PRINT_HEIGHT } : { width: width(), height: height() });
  const resize = () => plot?.setSize(size());
  const observer = new ResizeObserver(() => { if (!printing.matches) resize(); });
  observer.observe(box);
  // `change` for print emulation and most browsers; before/afterprint for the print dialog.
  printing.addEventListener('change', resize);
  window.addEventListener('beforeprint', resize);
  window.addEventListener('afterprint', resize);

  return {
    update(buckets, period, closed = []) {
      labels = buckets.map((b) => bucketLabel(b.start, period));
      closedDays = closed;
      const data: uPlot.AlignedData = [buckets.map((_, i) => i), buckets.map((b) => b.present), buckets.map((b) => b.absent)];
      if (plot && plot.data[0].length === buckets.length) {
        plot.setData(data);
        latest(plot);
        return;
      }
      plot?.destroy();
      plot = new uPlot({
        title,
        ...size(),
        scales: { x: { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [
          // Ticks at least a label's width apart: "semaine du 30 nov." ran into its neighbour at 1280 px.
          { values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? labels[t] ?? '' : '')), space: () => labelSpace(labels), gap: 4 },
          { label: m.chartUnit, size: 50 },
        ],
        series: [
          { label: m.period, value: (_u, v) => (v === null || v === undefined ? '—' : labels[v] ?? '—') },
          { label: m.present, stroke: '#1b7f3b', fill: 'rgba(27,127,59,0.75)', paths: bars(-1), points: { show: false } },
          { label: m.absent, stroke: '#b3261e', fill: 'rgba(179,38,30,0.55)', paths: bars(1), points: { show: false } },
        ],
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
        hooks: { ready: [latest], drawClear: [shadeClosed], setCursor: [(u) => { if (u.cursor.idx === null || u.cursor.idx === undefined) latest(u); }] },
      }, data, box);
    },
    destroy() {
      observer.disconnect();
      printing.removeEventListener('change', resize);
      window.removeEventListener('beforeprint', resize);
      window.removeEventListener('afterprint', resize);
      plot?.destroy();
      plot = null;
    },
  };
}
