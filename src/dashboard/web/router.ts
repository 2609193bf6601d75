/** The page's place in its hash (#/jobs/ID?x=y): no server round trip, and the back button works. */
import { useEffect, useState } from 'preact/hooks';

export interface Place {
  /** The path's segments: ['jobs', 'job-...']. */
  segments: string[];
  query: URLSearchParams;
}

function parse(hash: string): Place {
  const text = hash.replace(/^#/, '') || '/jobs';
  const [path = '', search = ''] = text.split('?', 2);
  return { segments: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(search) };
}

export function usePlace(): Place {
  const [place, setPlace] = useState(() => parse(window.location.hash));
  useEffect(() => {
    const changed = () => setPlace(parse(window.location.hash));
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return place;
}

/** #/path?query, the query's empty values left out. */
export function href(path: string, query: Record<string, string | undefined> = {}): string {
  const search = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')).toString();
  return `#${path}${search ? `?${search}` : ''}`;
}

export function go(path: string, query: Record<string, string | undefined> = {}): void {
  window.location.hash = href(path, query);
}
