import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// Cross-origin isolation (COOP/COEP) lets the app use SharedArrayBuffer audio rings and precise timers.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

// The built app's Content-Security-Policy: its own origin only. WASM needs 'wasm-unsafe-eval', downloads and
// workers blob: URLs; React sets inline styles. Sent as a header by `vite preview` (`npm start`), which covers the
// workers and the AudioWorklet too (a <meta> policy binds the page alone), and as a <meta> in the built index.html
// for hosts that send no header. The dev server gets neither: React's fast refresh runs an inline script.
const policy: Record<string, string> = {
  'default-src': "'self'",
  'script-src': "'self' 'wasm-unsafe-eval'",
  'worker-src': "'self' blob:",
  'style-src': "'self' 'unsafe-inline'",
  'img-src': "'self' data: blob:",
  'media-src': "'self' blob:",
  'connect-src': "'self'",
  'object-src': "'none'",
  'base-uri': "'self'",
};
const HEADER_ONLY = { 'frame-ancestors': "'none'" };
const csp = (p: Record<string, string>) => Object.entries(p).map(([k, v]) => `${k} ${v}`).join('; ');

const cspMeta: Plugin = {
  name: 'csp-meta',
  apply: 'build',
  transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: csp(policy) }, injectTo: 'head-prepend' }],
};

export default defineConfig({
  plugins: [react(), cspMeta],
  server: { headers: isolation },
  preview: { headers: { ...isolation, 'Content-Security-Policy': csp({ ...policy, ...HEADER_ONLY }) }, port: 4173, strictPort: true },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 2000 },
});
