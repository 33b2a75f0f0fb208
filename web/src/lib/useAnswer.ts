import { useEffect, useState } from 'preact/hooks';
import { type Answer, getJson } from '../api/client.js';

/** An answer of the API while it loads: `undefined` until it comes. */
export type Loaded<T> = Answer<T> | undefined;

/**
 * GETs `url` (none while it is undefined) and again whenever it or `refresh` changes; an earlier
 * request still on its way is aborted.
 */
export function useAnswer<T>(url: URL | undefined, refresh: unknown = 0): Loaded<T> {
  const [answer, setAnswer] = useState<{ key: string; answer: Answer<T> }>();
  const key = url?.href;
  useEffect(() => {
    if (key === undefined) return undefined;
    const abort = new AbortController();
    getJson<T>(new URL(key), abort.signal).then(
      (got) => setAnswer({ key, answer: got }),
      () => undefined, // aborted: a newer request answers
    );
    return () => abort.abort();
  }, [key, refresh]);
  // A refresh keeps showing the previous answer of the same URL until the new one comes.
  return answer !== undefined && answer.key === key ? answer.answer : undefined;
}
