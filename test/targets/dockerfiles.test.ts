// The images the compiled tree runs in are built from docker/ (no `pip install` at run time): the
// training image's pinned requirements are the ones the training target compiles against, and every
// file the Dockerfiles copy exists in the repository.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TRAINING_REQUIREMENTS, trainingImage } from '../../src/targets/training/training.js';
import { repoRoot } from './schemas.js';

const read = (p: string) => readFileSync(join(repoRoot, p), 'utf8');

describe('docker/', () => {
  it('the training image installs exactly the pinned training requirements, at build time', () => {
    const lines = read('docker/training-requirements.txt')
      .split('\n')
      .filter((l) => l.trim() !== '');
    expect(lines).toEqual([...TRAINING_REQUIREMENTS]);
    expect(read('docker/training.Dockerfile')).toMatch(/RUN pip install --no-cache-dir -r \/opt\/asgard\/requirements\.txt/);
  });

  it('every COPY source of both Dockerfiles exists (built from the repository root)', () => {
    for (const f of ['docker/asgard.Dockerfile', 'docker/training.Dockerfile']) {
      const sources = [...read(f).matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/));
      expect(sources.length, f).toBeGreaterThan(0);
      for (const s of sources) expect(existsSync(join(repoRoot, s)), `${f}: COPY ${s}`).toBe(true);
    }
  });

  it('the default training image is asgard image repository with a -training suffix', () => {
    expect(trainingImage('ghcr.io/asgard-data/asgard:0.1.0')).toBe('ghcr.io/asgard-data/asgard-training:0.1.0');
    expect(trainingImage('localhost:5000/asgard')).toBe('localhost:5000/asgard-training');
  });
});
