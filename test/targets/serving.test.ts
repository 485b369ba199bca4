// The serving Deployment under a kubernetes profile (#14 Build 2): replicas and resources are the
// profile's, probes on /health, the model from the registry on S3 (no volume shared between
// replicas). The serving target alone, on churn with `serve = { … }` in its kubernetes profile.
// `state_claim` (the PersistentVolumeClaim of asgard state serving and training once mounted) is
// refused: nothing reads it since state and registry live on S3.

import { readFileSync } from 'node:fs';
import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { profileDiagnostics } from '../../src/cli/profiles.js';
import { loadPipelineText } from '../../src/dsl/load.js';
import { servingTarget } from '../../src/targets/serving/serving.js';
import { CHURN, CHURN_PATH } from './churn.js';
import { errorsOf, validators } from './schemas.js';

describe('the serving Deployment', () => {
  it('takes its replicas and resources from the profile; readiness and liveness on /health; no persistent volume', () => {
    const text = readFileSync(CHURN, 'utf8').replace(/(\n\s*profile kubernetes \{)/, '$1\n    serve = { replicas = 3  cpu = "1500m"  memory = "3Gi" }');
    const { ir, diagnostics } = loadPipelineText(text, CHURN);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const r = servingTarget.generate(ir!, {
      profile: ir!.profiles.kubernetes,
      schemas: new Map(),
      specPath: CHURN_PATH,
      specSource: text,
      renderSql: () => {
        throw new Error('the serving target renders no SQL');
      },
    });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const deployment = (loadAll(r.value!.get('churn_api.yaml')!) as any[]).find((d) => d.kind === 'Deployment');
    const check = validators().k8s('io.k8s.api.apps.v1.Deployment');
    expect(check(deployment), errorsOf(check)).toBe(true);
    expect(deployment.spec.replicas).toBe(3);
    const [container] = deployment.spec.template.spec.containers;
    expect(container.resources).toEqual({ requests: { cpu: '1500m', memory: '3Gi' }, limits: { memory: '3Gi' } });
    expect([container.readinessProbe.httpGet.path, container.livenessProbe.httpGet.path]).toEqual(['/health', '/health']);
    expect(JSON.stringify(deployment.spec.template.spec.volumes)).not.toContain('persistentVolumeClaim');
  });

  it('refuses `state_claim`: no volume of state to mount (ASG4008 at its line)', () => {
    const text = readFileSync(CHURN, 'utf8').replace(/(\n\s*profile kubernetes \{)/, '$1\n    state_claim = "asgard-state"');
    const { ir } = loadPipelineText(text, CHURN);
    const line = text.split('\n').findIndex((l) => l.includes('state_claim')) + 1;
    expect(profileDiagnostics(ir!, 'kubernetes').map((d) => [d.code, d.span?.line, d.message])).toEqual([
      ['ASG4008', line, expect.stringContaining('state_claim')],
    ]);
  });
});
