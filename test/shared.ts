/** Paths shared by the tests: the repository root and ../shared beside it (models, references, tasks). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED = path.resolve(REPO, '../shared');
