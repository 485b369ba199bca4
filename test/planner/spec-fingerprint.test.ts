// specFingerprint's text (what a saved plan's spec fingerprint hashes) is made without canonicalJson's
// copy of the 10,000 node rows: it must stay canonicalJson's text byte for byte, since saved plans
// and states compare the hash.
import { describe, expect, it } from 'vitest';
import { specFingerprint, specFingerprintText, type NodeFingerprint } from '../../src/planner/fingerprint.js';
import { canonicalJson, sha256 } from '../../src/util/canonical-json.js';

const rand = (seed: number) => () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const ALPHABET = ['a', 'b', 'Z', '.', '_', '"', '\\', '\n', 'é', '\u2028', '😀', '0'];

describe('specFingerprintText', () => {
  it("is canonicalJson's text of the pipeline, warehouse and sorted node rows", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = rand(seed);
      const word = () => Array.from({ length: 1 + Math.floor(r() * 8) }, () => ALPHABET[Math.floor(r() * ALPHABET.length)]).join('');
      const fps = new Map<string, NodeFingerprint>();
      for (let i = Math.floor(r() * 30); i > 0; i--) {
        const id = `${word()}.${word()}`;
        fps.set(id, { id, kind: 'model', fingerprint: word(), metaFingerprint: word(), definition: { data: {}, meta: {} } });
      }
      const ir = { name: r() < 0.1 ? (undefined as never) : word(), warehouse: r() < 0.2 ? (undefined as never) : word() };
      const nodes = [...fps.values()].map((f) => [f.id, f.fingerprint, f.metaFingerprint]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
      const canonical = canonicalJson({ pipeline: ir.name, warehouse: ir.warehouse, nodes });
      expect(specFingerprintText(ir, fps)).toBe(canonical);
      expect(specFingerprint(ir, fps)).toBe(sha256(canonical));
    }
  });
});
