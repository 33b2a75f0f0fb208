import type { ComponentChildren } from 'preact';
import type { Loaded } from '../lib/useAnswer.js';

/**
 * Shows an answer of the API once it is there: `children` with its data, else a line saying it
 * loads, that this server does not offer it, or what the API answered.
 */
export function Pending<T>(props: {
  answer: Loaded<T>;
  /** What is asked for, for the messages: "the rankings". */
  what: string;
  children: (data: T) => ComponentChildren;
}) {
  const { answer, what } = props;
  if (answer === undefined)
    return (
      <p class="note" aria-busy="true">
        Loading {what}…
      </p>
    );
  switch (answer.kind) {
    case 'ok':
      return <>{props.children(answer.data)}</>;
    case 'unavailable':
      return (
        <p class="note unavailable" data-state="unavailable">
          {capitalize(what)}: not available on this server ({answer.status}).
        </p>
      );
    case 'error':
      return (
        <p class="note error" role="alert">
          Could not load {what}: {answer.message}
        </p>
      );
  }
}

function capitalize(text: string) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
