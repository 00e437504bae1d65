// Where the built dashboard lives (web/build.ts writes it, api/dashboard.ts serves it): the one
// thing of web/ the api needs, kept apart so that the api never loads the builder (esbuild).
import path from 'node:path';
import { PROJECT_ROOT } from '../shared/compiled.js';

// From the project root, not from this file: the api runs compiled, from dist/.
export const DIST_DIR = path.join(PROJECT_ROOT, 'web', 'dist');
