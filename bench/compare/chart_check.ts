/**
 * The report's charts opened in a real browser (Debian's headless
 * Chromium, driven by `puppeteer-core`): each SVG is rendered, a
 * screenshot taken, and every label measured where it was drawn, so that
 * a label cut off at an edge or drawn over another is found before anyone
 * reads the report. `deno task compare` runs it whenever it writes a
 * report and lists what it found in the report.
 *
 * @module
 */

import puppeteer, { type Browser } from "puppeteer-core";
import { onPath } from "../../lib/on_path.ts";

/** Where Debian installs Chromium. */
const CHROMIUM = "/usr/bin/chromium";

/** Options for {@linkcode checkCharts}. */
export interface ChartCheckOptions {
  /**
   * The browser to run.
   *
   * @default {"/usr/bin/chromium"}
   */
  executablePath?: string;
  /**
   * Keep each chart's screenshot here as `<file>.png`.
   *
   * @default {undefined: screenshots are taken and dropped}
   */
  screenshotDir?: string;
  /**
   * Labels may overlap by this many square pixels (anti-aliased edges).
   *
   * @default {4}
   */
  overlapTolerance?: number;
}

/** One thing wrong with one chart. */
export interface ChartProblem {
  /** The chart's file name. */
  file: string;
  /** What is wrong, one line. */
  problem: string;
}

/** What the browser found. */
export interface ChartCheck {
  /** The browser's version, or null when it could not be run. */
  browser: string | null;
  /** Why nothing was checked (no browser), else null. */
  skipped: string | null;
  /** Charts rendered and measured. */
  checked: number;
  /** Everything wrong, chart by chart (empty: all fine). */
  problems: ChartProblem[];
}

/** A label as the browser laid it out. */
interface PlacedText {
  text: string;
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * Renders each chart in headless Chromium, screenshots it, and checks
 * that every text lies inside the chart's own area and that no two texts
 * overlap. Without a browser it checks nothing and says why.
 *
 * @example
 * ```ts ignore
 * import { checkCharts } from "./chart_check.ts";
 * const check = await checkCharts([{ file: "a.svg", svg }]);
 * for (const p of check.problems) console.error(`${p.file}: ${p.problem}`);
 * ```
 */
export async function checkCharts(
  charts: readonly { file: string; svg: string }[],
  options: ChartCheckOptions = {},
): Promise<ChartCheck> {
  const executablePath = options.executablePath ?? CHROMIUM;
  const found = executablePath.includes("/")
    ? exists(executablePath)
    : onPath(executablePath);
  if (!found) {
    return {
      browser: null,
      skipped: `${executablePath} is not installed (apt-get install chromium)`,
      checked: 0,
      problems: [],
    };
  }
  const profile = await Deno.makeTempDir({ prefix: "linechat-charts-" });
  let browser: Browser | undefined;
  try {
    browser = await puppeteer.launch({
      executablePath,
      headless: true,
      userDataDir: profile,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const page = await browser.newPage();
    const problems: ChartProblem[] = [];
    const tolerance = options.overlapTolerance ?? 4;
    for (const chart of charts) {
      await page.setContent(
        `<!doctype html><html><body style="margin:0">${chart.svg}</body></html>`,
      );
      const layout = await page.$eval("svg", (svg) => {
        const frame = svg.getBoundingClientRect();
        const texts = [...svg.querySelectorAll("text")].map((el) => {
          const box = el.getBoundingClientRect();
          // The label as drawn: its own text, not its <title>'s.
          const shown = [...el.childNodes]
            .filter((n) => n.nodeType === 3)
            .map((n) => n.textContent ?? "").join("");
          return {
            text: shown,
            left: box.left - frame.left,
            top: box.top - frame.top,
            right: box.right - frame.left,
            bottom: box.bottom - frame.top,
          };
        });
        return { width: frame.width, height: frame.height, texts };
      }).catch(() => null);
      const screenshot = await page.screenshot({
        clip: {
          x: 0,
          y: 0,
          width: Math.max(1, layout?.width ?? 1),
          height: Math.max(1, layout?.height ?? 1),
        },
      });
      if (options.screenshotDir) {
        await Deno.writeFile(
          `${options.screenshotDir}/${chart.file}.png`,
          screenshot,
        );
      }
      if (!layout) {
        problems.push({ file: chart.file, problem: "no <svg> element" });
        continue;
      }
      problems.push(
        ...layoutProblems(layout, tolerance).map((problem) => ({
          file: chart.file,
          problem,
        })),
      );
    }
    return {
      browser: await browser.version(),
      skipped: null,
      checked: charts.length,
      problems,
    };
  } finally {
    await browser?.close();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

/**
 * What is wrong with a chart's labels as laid out: outside the chart, or
 * over one another.
 *
 * @example
 * ```ts
 * import { layoutProblems } from "./chart_check.ts";
 * const texts = [
 *   { text: "4.29M", left: 700, top: 10, right: 731, bottom: 24 },
 *   { text: "a", left: 10, top: 10, right: 20, bottom: 24 },
 *   { text: "b", left: 15, top: 12, right: 25, bottom: 26 },
 * ];
 * console.log(layoutProblems({ width: 720, height: 100, texts }));
 * // ['"4.29M" leaves the chart (x 700–731 of 720, y 10–24 of 100)', '"a" and "b" overlap']
 * ```
 */
export function layoutProblems(
  layout: { width: number; height: number; texts: PlacedText[] },
  overlapTolerance = 4,
): string[] {
  const problems: string[] = [];
  const slack = 0.5;
  const round = (n: number) => Math.round(n);
  for (const t of layout.texts) {
    if (
      t.left < -slack || t.top < -slack || t.right > layout.width + slack ||
      t.bottom > layout.height + slack
    ) {
      problems.push(
        `"${t.text}" leaves the chart (x ${round(t.left)}–${
          round(t.right)
        } of ${round(layout.width)}, y ${round(t.top)}–${round(t.bottom)} of ${
          round(layout.height)
        })`,
      );
    }
  }
  const texts = layout.texts.filter((t) => t.text.trim() !== "");
  for (let i = 0; i < texts.length; i++) {
    for (let j = i + 1; j < texts.length; j++) {
      const a = texts[i];
      const b = texts[j];
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 0 && h > 0 && w * h > overlapTolerance) {
        problems.push(`"${a.text}" and "${b.text}" overlap`);
      }
    }
  }
  return problems;
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
