import { routes, useRoute } from './routes.ts';

export function App() {
  const route = useRoute();
  const Page = route.component;
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
        <Page />
      </main>
      <footer>Audio and models stay on this machine: the lab makes no network requests beyond its own origin.</footer>
    </div>
  );
}
