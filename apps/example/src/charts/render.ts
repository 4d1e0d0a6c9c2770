import { Resvg } from '@resvg/resvg-js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { View, parse } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { CHART_FONT } from './specs.js';

/**
 * The DejaVu Sans files shipped by the `dejavu-fonts-ttf` npm package. The PNG renderer
 * loads these and no system font, so the pictures look the same on every machine,
 * whatever fonts it has installed.
 */
function fontFiles(): string[] {
  const root = dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json'));
  return ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf'].map((file) => join(root, 'ttf', file));
}

/** A Vega-Lite spec rendered to SVG markup, headless (Vega's SVG renderer needs no canvas). */
export async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** SVG markup rasterised to PNG at `scale`× its size, on white, with the bundled fonts. */
export function svgToPng(svg: string, scale = 2): Buffer {
  const resvg = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: false, fontFiles: fontFiles(), defaultFontFamily: CHART_FONT, sansSerifFamily: CHART_FONT },
  });
  return resvg.render().asPng();
}

/** The files one chart was written to. */
export interface WrittenChart {
  readonly svg: string;
  readonly png: string;
}

/** Renders `spec` and writes `<dir>/<name>.svg` and `<dir>/<name>.png`. */
export async function writeChart(spec: TopLevelSpec, dir: string, name: string): Promise<WrittenChart> {
  mkdirSync(dir, { recursive: true });
  const svg = await toSvg(spec);
  const files = { svg: join(dir, `${name}.svg`), png: join(dir, `${name}.png`) };
  writeFileSync(files.svg, svg);
  writeFileSync(files.png, svgToPng(svg));
  return files;
}
