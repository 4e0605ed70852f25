#!/usr/bin/env node
// Builds the native addon (binding.gyp → build/Release/circuitscope_native.node) with node-gyp.
//
//   node scripts/build-native.mjs           the package's `install` script: a failed build prints one
//                                           warning line and exits 0 (circuitscope then uses its
//                                           pure-TypeScript fallback)
//   node scripts/build-native.mjs --strict  `npm run build:native`: full compiler output, non-zero exit
//                                           on failure
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const strict = process.argv.includes('--strict');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** node-gyp as [command, ...args]: npm's own (npm sets npm_config_node_gyp), the one next to npm, or PATH. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath && path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  ];
  for (const c of candidates) if (c && existsSync(c)) return [process.execPath, c];
  return ['node-gyp'];
}

/** Local Node headers, so node-gyp never tries to download them (there may be no network). */
function findNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  for (const dir of [path.resolve(path.dirname(process.execPath), '..'), '/usr']) {
    if (existsSync(path.join(dir, 'include', 'node', 'node_api.h'))) return dir;
  }
  return undefined;
}

const [cmd, ...gypArgs] = findNodeGyp();
const nodedir = findNodeDir();
const args = [...gypArgs, 'rebuild', '--jobs=max', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];

if (strict) console.log(`circuitscope: ${[path.basename(cmd), ...args].join(' ')}`);
const res = spawnSync(cmd, args, {
  cwd: root,
  stdio: strict ? 'inherit' : ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
});

if (res.status === 0 && !res.error) {
  if (strict) console.log('circuitscope: native addon built: build/Release/circuitscope_native.node');
  process.exit(0);
}

/** The most telling line of a failed build: the first compiler/gyp error, else the last line. */
function reason() {
  if (res.error) return res.error.code === 'ENOENT' ? `${cmd} not found` : res.error.message;
  const lines = `${res.stdout ?? ''}\n${res.stderr ?? ''}`.split('\n').map((l) => l.trim()).filter(Boolean);
  const hit = lines.find((l) => /(fatal )?error[: ]/i.test(l) && !/^gyp ERR! (stack|System|command|cwd|node -v|node-gyp -v|not ok)/.test(l))
    ?? lines.at(-1) ?? `exit code ${res.status}`;
  return hit.length > 160 ? `${hit.slice(0, 157)}...` : hit;
}

if (strict) {
  console.error(`circuitscope: building the native addon failed (${reason()})`);
  process.exit(res.status || 1);
}
console.warn(`circuitscope: warning: building the native addon failed (${reason()}); the pure-TypeScript fallback ` +
  'will be used (slow). Run `npm run build:native` for the full log.');
process.exit(0);
