import { useEffect, useState } from 'preact/hooks';

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
