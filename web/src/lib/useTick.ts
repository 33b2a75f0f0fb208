import { useEffect, useState } from 'preact/hooks';

/** A number that grows every `ms`: a refresh key for pages that follow a changing state. */
export function useTick(ms: number): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return tick;
}
