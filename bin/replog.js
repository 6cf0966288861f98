#!/usr/bin/env node
// The `replog` command: a thin launcher for the compiled CLI.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(cli)) {
  console.error('replog: not built yet: run `npm run build` (or `npm start` or `npm test`, which build) first');
  process.exit(1);
}
await import(cli);
