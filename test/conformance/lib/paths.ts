import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is test/conformance/lib/paths.ts). */
export const repoRoot = (): string => resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
