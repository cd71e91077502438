import { BenchmarkPage } from './pages/BenchmarkPage.tsx';
import { DevicePage } from './pages/DevicePage.tsx';
import { pages, useRoute } from './routes.ts';

export function App() {
  const page = useRoute();
  return (
    <div className="app">
      <header>
        <h1>Mamba Speech Lab</h1>
        <nav>
          {pages.map((p) => (
            <a key={p.id} href={`#/${p.id}`} aria-current={p.id === page ? 'page' : undefined}>
              {p.title}
            </a>
          ))}
        </nav>
      </header>
      <main>
        {page === 'device' && <DevicePage />}
        {page === 'benchmark' && <BenchmarkPage />}
      </main>
      <footer>Audio and models stay on this machine: the lab makes no network requests beyond its own origin.</footer>
    </div>
  );
}
