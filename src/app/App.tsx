import { routes, useRoute } from './routes.ts';
import { useNotKept } from './stores/kept.ts';

export function App() {
  const route = useRoute();
  const Page = route.component;
  const failures = useNotKept((s) => s.failures);
  const stores = Object.keys(failures);
  return (
    <div className="app">
      <header>
        <h1>Mamba Speech Lab</h1>
        <nav>
          {routes.map((r) => (
            <a key={r.path} href={`#${r.path}`} aria-current={r === route ? 'page' : undefined}>
              {r.title}
            </a>
          ))}
        </nav>
      </header>
      <main>
        {stores.length > 0 && (
          <p className="error" role="status" data-testid="not-kept">
            Not kept across reloads ({stores.map((n) => n.replace(/^lab\./, '')).join(', ')}): {[...new Set(Object.values(failures))].join('; ')}. What the
            pages show is intact; download or export what you want to keep.
          </p>
        )}
        <Page />
      </main>
      <footer>Audio and models stay on this machine: the lab makes no network requests beyond its own origin.</footer>
    </div>
  );
}
