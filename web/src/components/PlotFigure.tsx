import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type * as P from '../lib/plot.js';

/**
 * Observable Plot, loaded with the first chart: the pages without one do without its 250 kB. A
 * load that failed (the server away, or a page opened before a rebuild asking for a chunk the
 * build no longer has) is tried again by the next chart, where the browser does not keep the
 * failure (Chromium does: a reload loads it).
 */
let library: Promise<typeof P> | undefined;
const loadPlot = () => {
  library ??= import('../lib/plot.js').catch((cause: unknown) => {
    library = undefined;
    throw cause;
  });
  return library;
};

/**
 * A chart drawn by Observable Plot as SVG, as wide as its container (redrawn when that changes),
 * in a figure with a caption. Plot marks can carry an `ariaLabel` channel: one label per point.
 */
export function PlotFigure(props: {
  /** The chart, for a width; its `ariaLabel` names the SVG. */
  plot: (Plot: typeof P, width: number) => P.PlotOptions;
  caption: ComponentChildren;
  id?: string;
}) {
  const holder = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  const [Plot, setPlot] = useState<typeof P>();
  const [failed, setFailed] = useState<string>();
  useEffect(() => {
    let gone = false;
    loadPlot().then(
      (loaded) => gone || setPlot(() => loaded),
      (cause: unknown) => gone || setFailed(cause instanceof Error ? cause.message : String(cause)),
    );
    return () => {
      gone = true;
    };
  }, []);
  useEffect(() => {
    const element = holder.current;
    if (!element) return undefined;
    const observer = new ResizeObserver(() => setWidth(Math.floor(element.clientWidth)));
    observer.observe(element);
    setWidth(Math.floor(element.clientWidth));
    return () => observer.disconnect();
  }, []);
  useEffect(() => {
    const element = holder.current;
    if (!element || width === 0 || !Plot) return undefined;
    const chart = Plot.plot({ ...props.plot(Plot, width), width });
    giveRoles(chart);
    element.replaceChildren(chart);
    return () => chart.remove();
  }, [props.plot, width, Plot]);
  return (
    <figure class="chart" id={props.id}>
      <div ref={holder} class="chart-area" />
      {failed !== undefined && (
        <p class="note error" data-state="chart-failed">
          The chart could not be drawn: its code did not load ({failed}). Reload the page to try
          again (a console open since the server was updated needs that).
        </p>
      )}
      <figcaption>{props.caption}</figcaption>
    </figure>
  );
}

/**
 * Plot labels marks and their points with `aria-label` but gives them no role, and a name is
 * not allowed on an element without one: a labelled group of points is a group, a labelled
 * point an image.
 */
function giveRoles(chart: Element) {
  for (const node of chart.querySelectorAll('[aria-label]')) {
    if (node === chart || node.hasAttribute('role')) continue;
    node.setAttribute('role', node.tagName.toLowerCase() === 'g' ? 'group' : 'img');
  }
}
