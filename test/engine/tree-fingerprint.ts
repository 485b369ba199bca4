// What "nothing changed" means for a state folder: every file below the named subfolders with its
// size, mtime and content hash.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function treeFingerprint(root: string, subfolders: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else out[p.slice(root.length)] = `${s.size}:${s.mtimeMs}:${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  for (const sub of subfolders) if (existsSync(join(root, sub))) walk(join(root, sub));
  return out;
}
