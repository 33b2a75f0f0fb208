import type { ComponentChildren } from 'preact';

/**
 * A named region that scrolls sideways when its table is wider than the screen (375 px phones).
 * It takes the focus so that a keyboard can scroll it too.
 */
export function ScrollArea(props: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a region that scrolls must be reachable by keyboard (WCAG 2.1.1), or its hidden columns are out of a keyboard's reach
    <section class="table-scroll" aria-label={props.label} tabIndex={0}>
      {props.children}
    </section>
  );
}
