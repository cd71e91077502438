// Hash routes: the lab is a static site, so every page must load from index.html.
import { useEffect, useState } from 'react';

export const pages = [
  { id: 'device', title: 'Device' },
  { id: 'benchmark', title: 'Benchmark' },
] as const;

export type PageId = (typeof pages)[number]['id'];

function current(): PageId {
  const id = window.location.hash.replace(/^#\/?/, '');
  return (pages.find((p) => p.id === id)?.id ?? 'device') as PageId;
}

export function useRoute(): PageId {
  const [page, setPage] = useState<PageId>(current);
  useEffect(() => {
    const on = () => setPage(current());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return page;
}
