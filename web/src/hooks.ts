/** Small hooks the screens share: loading data, and running a form's request. */
import { useEffect, useReducer, useState } from 'preact/hooks';
import { errorMessage } from './api.ts';

export interface Fetched<T> {
  data: T | null;
  error: string | null;
  /** A load is under way (the data, if any, is the previous key's). */
  loading: boolean;
}

/** Loads data whenever `key` changes to a non-null value; keeps the last data while reloading. */
export function useFetched<T>(key: string | null, load: () => Promise<T>): Fetched<T> {
  const [result, setResult] = useState<Fetched<T>>({ data: null, error: null, loading: key !== null });
  useEffect(() => {
    if (key === null) return;
    let current = true;
    setResult((previous) => (previous.loading ? previous : { ...previous, loading: true }));
    load().then(
      (data) => {
        if (current) setResult({ data, error: null, loading: false });
      },
      (error: unknown) => {
        if (current) setResult((previous) => ({ data: previous.data, error: errorMessage(error), loading: false }));
      },
    );
    return () => {
      current = false;
    };
  }, [key]);
  return result;
}

/**
 * A request started by a person: `busy` while it runs, its failure as `error` (null after
 * success). `run` resolves to whether the task succeeded.
 */
export function useAction(): {
  busy: boolean;
  error: string | null;
  setError: (error: string | null) => void;
  run: (task: () => Promise<void>) => Promise<boolean>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function run(task: () => Promise<void>): Promise<boolean> {
    setBusy(true);
    setError(null);
    try {
      await task();
      return true;
    } catch (failure) {
      setError(errorMessage(failure));
      return false;
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, setError, run };
}

/** A number to put in a `useFetched` key, and the function that changes it (a reload). */
export function useVersion(): [number, () => void] {
  const [version, bump] = useReducer((count: number) => count + 1, 0);
  return [version, () => bump(undefined)];
}
