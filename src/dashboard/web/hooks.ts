/** Data that keeps itself fresh: a call repeated every few seconds while the page is shown, without overlapping. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Polled<T> {
  data?: T;
  error?: Error;
  loading: boolean;
  /** Ask again now. */
  refresh: () => void;
}

/** `load` runs at once, whenever `key` changes, and every `everyMs` (0: once) while the tab is visible. */
export function usePoll<T>(load: () => Promise<T>, key: string, everyMs: number): Polled<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean; key: string }>({ loading: true, key });
  const loadRef = useRef(load);
  loadRef.current = load;
  const running = useRef(false);
  const generation = useRef(0);

  const run = useCallback(() => {
    if (running.current) return;
    running.current = true;
    const mine = generation.current;
    loadRef.current().then(
      (data) => {
        running.current = false;
        if (mine === generation.current) setState({ data, loading: false, key });
      },
      (error: unknown) => {
        running.current = false;
        if (mine === generation.current) setState((s) => ({ ...s, error: error as Error, loading: false, key }));
      },
    );
  }, [key]);

  useEffect(() => {
    generation.current++;
    running.current = false;
    setState((s) => (s.key === key ? s : { loading: true, key }));
    run();
    if (!everyMs) return undefined;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') run();
    }, everyMs);
    return () => clearInterval(timer);
  }, [key, everyMs, run]);

  // A new key's first answer has not come yet: the old key's data is not shown for it.
  if (state.key !== key) return { loading: true, refresh: run };
  return { ...(state.data !== undefined ? { data: state.data } : {}), ...(state.error ? { error: state.error } : {}), loading: state.loading, refresh: run };
}

/** The time now, moving every second: for ages and durations of what is still running. */
export function useNow(everyMs = 1000): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
