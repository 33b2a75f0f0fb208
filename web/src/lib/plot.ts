/**
 * The marks of Observable Plot the console draws with, as one module that `PlotFigure` loads
 * with the first chart (so that the pages without a chart do without it, and the bundler keeps
 * only these).
 */
export {
  barX,
  barY,
  dot,
  lineY,
  type PlotOptions,
  plot,
  ruleX,
  ruleY,
  type ScaleOptions,
  text,
  tickX,
} from '@observablehq/plot';
