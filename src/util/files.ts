/** Writing files atomically (a temporary file in the same folder + rename, so a killed run never leaves half a file) and reading JSON with one clear error. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CircuitscopeError } from './errors.js';

/** Writes `data` to `file` (creating its folder) through a uniquely named temporary file and a rename. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** `value` as indented JSON with a final newline, written atomically. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Reads and parses a JSON file with one clear error for a missing file or bad JSON. */
export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new CircuitscopeError(`${what}: cannot read ${file}`, 'check the path');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CircuitscopeError(`${what}: ${file} is not valid JSON (${(e as Error).message})`);
  }
}
