// Node module hook: `import text from './x.wgsl?raw'` yields the file's text, as Vite does,
// so the CLI runs the same kernel modules as the browser build.
import { register } from 'node:module';

register('./raw-hooks.mjs', import.meta.url);
