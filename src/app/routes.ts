// Hash routes: the lab is a static site, so every page must load from index.html. Each page is one entry here:
// its path, its title in the navigation, its component.
import { useEffect, useState, type ComponentType } from 'react';
import { AnalysePage } from './pages/analyse/AnalysePage.tsx';
import { BenchmarkPage } from './pages/benchmark/BenchmarkPage.tsx';
import { DevicePage } from './pages/device/DevicePage.tsx';
import { TrainPage } from './pages/train/TrainPage.tsx';
import { TranscribePage } from './pages/transcribe/TranscribePage.tsx';

export interface Route {
  /** The hash path: `#/device`. */
  path: string;
  title: string;
  component: ComponentType;
}

/** The first is the page an unknown or empty path shows. */
export const routes: readonly Route[] = [
  { path: '/device', title: 'Device', component: DevicePage },
  { path: '/benchmark', title: 'Benchmark', component: BenchmarkPage },
  { path: '/train', title: 'Train', component: TrainPage },
  { path: '/analyse', title: 'Analyse', component: AnalysePage },
  { path: '/transcribe', title: 'Transcribe', component: TranscribePage },
];

function current(): Route {
  const path = `/${window.location.hash.replace(/^#\/?/, '')}`;
  return routes.find((r) => r.path === path) ?? routes[0];
}

export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(current);
  useEffect(() => {
    const on = () => setRoute(current());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
