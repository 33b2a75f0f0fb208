import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * A number that grows every `ms` while `running`: a refresh key for pages that follow a changing
 * state (a page whose state has settled passes `running` false and asks no more).
 */
export function useTick(ms: number, running = true): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!running) return undefined;
    const timer = setInterval(() => setTick((n) => n + 1), ms);
    return () => clearInterval(timer);
  }, [ms, running]);
  return tick;
}

/**
 * Like `useTick`, for following something that may stall: after each tick whose answers left
 * `state` as it was, the next comes twice as late, up to `maxMs`; as soon as `state` changes
 * they come every `ms` again. A saga stuck unfinished (or running where its progress does not
 * show) is then asked for about once a minute, not every second or two for as long as the page
 * is open, and its end still shows within a minute.
 */
export function useBackoffTick(
  ms: number,
  maxMs: number,
  running: boolean,
  state: string | undefined,
): number {
  const [tick, setTick] = useState(0);
  const [wait, setWait] = useState(ms);
  const last = useRef(state);
  useEffect(() => {
    if (state === last.current) return;
    last.current = state;
    setWait(ms);
  }, [state, ms]);
  useEffect(() => {
    if (!running) return undefined;
    const timer = setTimeout(() => {
      setWait((now) => Math.min(now * 2, maxMs));
      setTick((n) => n + 1);
    }, wait);
    return () => clearTimeout(timer);
  }, [wait, running, tick, maxMs]);
  return tick;
}
