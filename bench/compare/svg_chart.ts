/**
 * Small hand-written SVG charts for the comparison report: lines with
 * min–max whiskers against a (log) x axis, and horizontal bars. No
 * dependencies, deterministic output, readable in a browser or on GitHub.
 * Margins are sized from the labels they hold (estimated with
 * {@linkcode textWidth}), text that could still not fit is shortened with
 * its whole in a `<title>`, and `chart_check.ts` checks the result in a
 * real browser.
 *
 * @module
 */

import { escapeMarkup } from "../../lib/markup.ts";

/** One measured point: the median `y` and its range over rounds. */
export interface ChartPoint {
  x: number;
  y: number;
  min?: number;
  max?: number;
}

/** A named line of points. */
export interface ChartSeries {
  name: string;
  points: ChartPoint[];
  /** Shown under the name in the legend, e.g. "failed at 5000 clients". */
  note?: string;
  /**
   * Whether the note says it failed (drawn in red) or only that it was
   * not measured (grey).
   *
   * @default {true}
   */
  noteIsFailure?: boolean;
}

/** Options for {@linkcode lineChart}. */
export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  /**
   * Logarithmic x axis.
   *
   * @default {true}
   */
  xLog?: boolean;
  /**
   * Logarithmic y axis.
   *
   * @default {false}
   */
  yLog?: boolean;
  /**
   * Formats a y tick value.
   *
   * @default {formatTick}
   */
  formatY?: (value: number) => string;
  /** @default {720} */
  width?: number;
  /** @default {420} */
  height?: number;
}

/**
 * Colours for series, in order (colour-blind-safe Okabe–Ito palette).
 *
 * @example
 * ```ts
 * import { PALETTE } from "./svg_chart.ts";
 * console.log(PALETTE[0]); // "#0072B2"
 * ```
 */
export const PALETTE: readonly string[] = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#000000",
];

/**
 * Formats a tick value compactly: `950`, `1.5k`, `2M`, `0.25`.
 *
 * @example
 * ```ts
 * import { formatTick } from "./svg_chart.ts";
 * console.log(formatTick(1500), formatTick(2_000_000), formatTick(0.25)); // "1.5k" "2M" "0.25"
 * ```
 */
export function formatTick(value: number): string {
  const abs = Math.abs(value);
  const trim = (n: number) => String(Number(n.toPrecision(3)));
  if (abs >= 1e9) return `${trim(value / 1e9)}G`;
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e3) return `${trim(value / 1e3)}k`;
  return trim(value);
}

/**
 * Roughly how wide `text` is in pixels at `fontSize` in a sans-serif
 * font: an over-estimate for most text (0.6 em per character, wide
 * letters and digits more), so that what is laid out with it fits.
 *
 * @example
 * ```ts
 * import { textWidth } from "./svg_chart.ts";
 * console.log(textWidth("4.29M", 12) > 25); // true
 * ```
 */
export function textWidth(text: string, fontSize = 12): number {
  let em = 0;
  for (const char of text) {
    em += /[MWmw@%]/.test(char)
      ? 0.9
      : /[A-Z0-9–—]/.test(char)
      ? 0.68
      : /[il.,:;'|!()\[\] ]/.test(char)
      ? 0.32
      : 0.58;
  }
  return em * fontSize;
}

/**
 * `text` cut (with `…`) to fit `maxWidth` pixels at `fontSize`.
 *
 * @example
 * ```ts
 * import { fitText } from "./svg_chart.ts";
 * console.log(fitText("a very long failure reason indeed", 80).endsWith("…")); // true
 * console.log(fitText("short", 80)); // "short"
 * ```
 */
export function fitText(text: string, maxWidth: number, fontSize = 12): string {
  if (textWidth(text, fontSize) <= maxWidth) return text;
  let cut = text;
  while (cut.length > 1 && textWidth(`${cut}…`, fontSize) > maxWidth) {
    cut = cut.slice(0, -1);
  }
  return `${cut.trimEnd()}…`;
}

/** A `<text>` element; a shortened one keeps its whole text in a title. */
function textElement(
  attributes: string,
  text: string,
  maxWidth = Infinity,
  fontSize = 12,
): string {
  const shown = fitText(text, maxWidth, fontSize);
  const title = shown === text ? "" : `<title>${escapeMarkup(text)}</title>`;
  return `<text ${attributes}>${title}${escapeMarkup(shown)}</text>`;
}

/**
 * "Nice" linear ticks covering [min, max], in steps of 1, 2, 2.5 or 5
 * times a power of ten, of `unit` (1024 for bytes, so that ticks fall on
 * whole KiB); the last tick is at least `max`.
 */
function linearTicks(
  min: number,
  max: number,
  count = 5,
  unit = 1,
): number[] {
  if (max <= min) max = min + unit;
  const raw = (max - min) / unit / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].map((m) => m * magnitude)
    .find((s) => s >= raw) ?? raw) * unit;
  const ticks: number[] = [];
  let t = Math.floor(min / step) * step;
  ticks.push(Number(t.toPrecision(12)));
  while (t < max - step * 1e-9) {
    t += step;
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

/** Powers of ten covering [min, max] (1 to 10 when there is no range). */
function logTicks(min: number, max: number): number[] {
  if (!(min > 0) || !Number.isFinite(min)) min = 1;
  if (!(max >= min) || !Number.isFinite(max)) max = min * 10;
  const ticks: number[] = [];
  for (
    let e = Math.floor(Math.log10(min));
    e <= Math.ceil(Math.log10(max));
    e++
  ) {
    ticks.push(10 ** e);
  }
  return ticks;
}

/**
 * A line chart with one line per series, whiskers for min–max, a legend
 * and axis labels, as a standalone SVG document.
 *
 * @example
 * ```ts
 * import { lineChart } from "./svg_chart.ts";
 * const svg = lineChart({
 *   title: "p99 latency",
 *   xLabel: "clients",
 *   yLabel: "ms",
 *   series: [{ name: "ours", points: [{ x: 10, y: 1 }, { x: 100, y: 2, min: 1.5, max: 3 }] }],
 * });
 * console.log(svg.startsWith("<svg"));
 * ```
 */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  const xLog = options.xLog ?? true;
  const yLog = options.yLog ?? false;
  const formatY = options.formatY ?? formatTick;
  // The legend's column is as wide as its longest name (notes are cut to
  // fit it), within bounds.
  const legendWidth = Math.min(
    260,
    Math.max(
      150,
      ...options.series.map((series) => 24 + textWidth(series.name) + 12),
    ),
  );
  const margin = { left: 70, right: legendWidth + 14, top: 40, bottom: 50 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const all = options.series.flatMap((s) => s.points);
  const xs = all.map((p) => p.x).filter((x) => !xLog || x > 0);
  const ys = all.flatMap((p) => [p.y, p.min ?? p.y, p.max ?? p.y])
    .filter((y) => Number.isFinite(y) && (!yLog || y > 0));
  const xMin = xs.length ? Math.min(...xs) : 1;
  const xMax = xs.length ? Math.max(...xs) : 10;
  const yMinData = ys.length ? Math.min(...ys) : 0;
  const yMaxData = ys.length ? Math.max(...ys) : 1;
  const xTicks = xLog
    ? logTicks(xMin, xMax)
    : linearTicks(Math.min(0, xMin), xMax);
  const yTicks = yLog
    ? logTicks(yMinData, yMaxData)
    : linearTicks(0, yMaxData * 1.05);
  const [x0, x1] = [xTicks[0], xTicks[xTicks.length - 1]];
  const [y0, y1] = [yTicks[0], yTicks[yTicks.length - 1]];
  const sx = (x: number) =>
    margin.left + plotW * (xLog
        ? (Math.log10(x) - Math.log10(x0)) /
          (Math.log10(x1) - Math.log10(x0) || 1)
        : (x - x0) / (x1 - x0 || 1));
  const sy = (y: number) =>
    margin.top +
    plotH * (1 - (yLog
        ? (Math.log10(Math.max(y, y0)) - Math.log10(y0)) /
          (Math.log10(y1) - Math.log10(y0) || 1)
        : (y - y0) / (y1 - y0 || 1)));
  const f = (n: number) => n.toFixed(1);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    textElement(
      `x="${margin.left}" y="22" font-size="15" font-weight="bold"`,
      options.title,
      width - margin.left - 8,
      15,
    ),
  );
  for (const t of yTicks) {
    out.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${
        f(sy(t))
      }" y2="${f(sy(t))}" stroke="#e0e0e0"/>`,
      `<text x="${margin.left - 8}" y="${f(sy(t) + 4)}" text-anchor="end">${
        escapeMarkup(formatY(t))
      }</text>`,
    );
  }
  for (const t of xTicks) {
    out.push(
      `<line x1="${f(sx(t))}" x2="${f(sx(t))}" y1="${margin.top}" y2="${
        margin.top + plotH
      }" stroke="#f0f0f0"/>`,
      `<text x="${f(sx(t))}" y="${
        margin.top + plotH + 19
      }" text-anchor="middle">${escapeMarkup(formatTick(t))}</text>`,
    );
  }
  out.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
    `<text x="${margin.left + plotW / 2}" y="${
      height - 10
    }" text-anchor="middle">${escapeMarkup(options.xLabel)}</text>`,
    `<text transform="translate(16 ${
      margin.top + plotH / 2
    }) rotate(-90)" text-anchor="middle">${
      escapeMarkup(options.yLabel)
    }</text>`,
  );
  options.series.forEach((series, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const points = series.points
      .filter((p) =>
        Number.isFinite(p.y) && (!xLog || p.x > 0) && (!yLog || p.y > 0)
      )
      .sort((a, b) => a.x - b.x);
    if (points.length > 1) {
      out.push(
        `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${
          points.map((p) => `${f(sx(p.x))},${f(sy(p.y))}`).join(" ")
        }"/>`,
      );
    }
    for (const p of points) {
      if (p.min !== undefined && p.max !== undefined && p.max > p.min) {
        out.push(
          `<line x1="${f(sx(p.x))}" x2="${f(sx(p.x))}" y1="${
            f(sy(p.min))
          }" y2="${f(sy(p.max))}" stroke="${colour}" stroke-width="1.5"/>`,
        );
      }
      out.push(
        `<circle cx="${f(sx(p.x))}" cy="${
          f(sy(p.y))
        }" r="3.5" fill="${colour}"><title>${
          escapeMarkup(`${series.name}: ${formatTick(p.x)} → ${formatY(p.y)}`)
        }</title></circle>`,
      );
    }
    const ly = margin.top + 10 + i * 34;
    const lx = margin.left + plotW + 14;
    const room = width - (lx + 24) - 6;
    out.push(
      `<line x1="${lx}" x2="${
        lx + 18
      }" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="3"/>`,
      textElement(`x="${lx + 24}" y="${ly + 4}"`, series.name, room),
    );
    if (series.note) {
      const fill = series.noteIsFailure === false ? "#666" : "#a00";
      out.push(
        textElement(
          `x="${lx + 24}" y="${ly + 18}" fill="${fill}" font-size="11"`,
          series.note,
          room,
          11,
        ),
      );
    }
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** One bar: a median with its range, a failure, or a note. */
export interface Bar {
  label: string;
  value?: number;
  min?: number;
  max?: number;
  /** Drawn instead of a bar, in red with a ✗. */
  failed?: string;
  /** Drawn instead of a bar, in grey: e.g. "not measured". */
  note?: string;
}

/** Options for {@linkcode barChart}. */
export interface BarChartOptions {
  title: string;
  /** Unit or quantity under the axis. */
  xLabel: string;
  bars: Bar[];
  /**
   * Formats values.
   *
   * @default {formatTick}
   */
  format?: (value: number) => string;
  /**
   * Ticks fall on multiples of 1, 2, 2.5 or 5 × a power of ten of this
   * (1024 for bytes: whole KiB).
   *
   * @default {1}
   */
  tickUnit?: number;
  /** @default {720} */
  width?: number;
}

/**
 * Horizontal bars with min–max whiskers; a failed entry is drawn as text,
 * so a server that could not do the workload stays on the chart.
 *
 * @example
 * ```ts
 * import { barChart } from "./svg_chart.ts";
 * const svg = barChart({
 *   title: "Delivered lines/s",
 *   xLabel: "lines/s",
 *   bars: [{ label: "ours", value: 2e6 }, { label: "other", failed: "crashed" }],
 * });
 * console.log(svg.includes("crashed"));
 * ```
 */
export function barChart(options: BarChartOptions): string {
  const width = options.width ?? 720;
  const format = options.format ?? formatTick;
  const rowH = 30;
  const top = Math.max(
    1e-9,
    ...options.bars.map((b) => b.max ?? b.value ?? 0),
  );
  const ticks = linearTicks(0, top, 5, options.tickUnit ?? 1);
  const scaleMax = ticks[ticks.length - 1];
  // Room on the left for the longest label, on the right for the value
  // written after the longest bar (and half of the last tick's label).
  const left = Math.min(
    260,
    Math.max(120, ...options.bars.map((b) => textWidth(b.label) + 16)),
  );
  // A value is written 6 px after its bar (or whisker) ends, at
  // left + plotW × end / scaleMax; it must end 4 px inside the chart.
  const right = Math.max(
    textWidth(format(scaleMax)) / 2 + 8,
    ...options.bars.map((b) => {
      if (b.value === undefined || b.failed !== undefined) return 0;
      const share = (b.max ?? b.value) / scaleMax;
      const label = textWidth(format(b.value));
      return share > 0 ? width - left - (width - left - 10 - label) / share : 0;
    }),
    24,
  );
  const margin = { left, right, top: 40, bottom: 44 };
  const height = margin.top + margin.bottom + rowH * options.bars.length;
  const plotW = width - margin.left - margin.right;
  const sx = (v: number) => margin.left + (plotW * v) / scaleMax;
  const f = (n: number) => n.toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    textElement(
      `x="${8}" y="22" font-size="15" font-weight="bold"`,
      options.title,
      width - 16,
      15,
    ),
  ];
  const plotBottom = margin.top + rowH * options.bars.length;
  for (const t of ticks) {
    out.push(
      `<line x1="${f(sx(t))}" x2="${
        f(sx(t))
      }" y1="${margin.top}" y2="${plotBottom}" stroke="#e8e8e8"/>`,
      `<text x="${f(sx(t))}" y="${plotBottom + 16}" text-anchor="middle">${
        escapeMarkup(format(t))
      }</text>`,
    );
  }
  out.push(
    `<text x="${margin.left + plotW / 2}" y="${
      height - 8
    }" text-anchor="middle">${escapeMarkup(options.xLabel)}</text>`,
  );
  options.bars.forEach((bar, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const y = margin.top + i * rowH;
    out.push(
      textElement(
        `x="${margin.left - 8}" y="${y + rowH / 2 + 4}" text-anchor="end"`,
        bar.label,
        margin.left - 12,
      ),
    );
    if (bar.failed !== undefined || bar.value === undefined) {
      const failed = bar.failed !== undefined || bar.note === undefined;
      out.push(
        textElement(
          `x="${margin.left + 6}" y="${y + rowH / 2 + 4}" fill="${
            failed ? "#a00" : "#666"
          }"`,
          failed ? `✗ ${bar.failed ?? "no result"}` : bar.note!,
          width - margin.left - 14,
        ),
      );
      return;
    }
    out.push(
      `<rect x="${margin.left}" y="${y + 6}" width="${
        f(Math.max(1, sx(bar.value) - margin.left))
      }" height="${rowH - 12}" fill="${colour}"/>`,
    );
    if (bar.min !== undefined && bar.max !== undefined && bar.max > bar.min) {
      const cy = y + rowH / 2;
      out.push(
        `<line x1="${f(sx(bar.min))}" x2="${
          f(sx(bar.max))
        }" y1="${cy}" y2="${cy}" stroke="#222" stroke-width="1.5"/>`,
        `<line x1="${f(sx(bar.min))}" x2="${f(sx(bar.min))}" y1="${
          cy - 5
        }" y2="${cy + 5}" stroke="#222"/>`,
        `<line x1="${f(sx(bar.max))}" x2="${f(sx(bar.max))}" y1="${
          cy - 5
        }" y2="${cy + 5}" stroke="#222"/>`,
      );
    }
    out.push(
      `<text x="${f(sx(bar.max ?? bar.value) + 6)}" y="${y + rowH / 2 + 4}">${
        escapeMarkup(format(bar.value))
      }</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
