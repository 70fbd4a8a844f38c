import { existsSync } from 'node:fs';
import { join } from 'node:path';
import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { bindTasks, rawDefinitionOf, SUBSTITUTION, substitute } from '../../../local/sfn-binder.js';
import { loadTemplate, REPO_ROOT } from '../../../local/template.js';

const template = loadTemplate();
const stateMachines = Object.entries(template.Resources)
  .filter(([, resource]) => resource.Type === 'AWS::Serverless::StateMachine')
  .map(([logicalId, resource]) => ({
    logicalId,
    uri: String(resource.Properties?.DefinitionUri),
    substitutions: Object.keys(
      (resource.Properties?.DefinitionSubstitutions as Record<string, unknown>) ?? {},
    ),
  }));

/** Values shaped like what CloudFormation substitutes, so ARN checks see real-looking ARNs. */
const plausible = (name: string): string =>
  name.endsWith('Arn') ? `arn:aws:sns:us-east-1:123456789012:${name}` : `local-${name}`;

describe('state machines in template.yaml', () => {
  it('declares the lifecycle and revocation fan-out workflows', () => {
    expect(stateMachines.map((s) => s.logicalId).sort()).toEqual([
      'RevocationFanoutStateMachine',
      'SessionLifecycleStateMachine',
    ]);
  });

  describe.each(stateMachines)('$logicalId', ({ logicalId, uri, substitutions }) => {
    const raw = rawDefinitionOf(logicalId, template);
    const used = [...new Set([...raw.matchAll(SUBSTITUTION)].map((m) => m[1]))].sort();

    it('loads its definition from statemachines/*.asl.json', () => {
      expect(uri).toMatch(/^statemachines\/[a-z-]+\.asl\.json$/);
      expect(existsSync(join(REPO_ROOT, uri))).toBe(true);
    });

    it('uses every DefinitionSubstitution, and only those', () => {
      expect(used).toEqual([...substitutions].sort());
    });

    it('is valid Amazon States Language in JSONPath (the local interpreter ignores JSONata)', () => {
      const definition = substitute(raw, Object.fromEntries(used.map((n) => [n, plausible(String(n))])));
      const { isValid, errorsText } = aslValidator(definition);
      expect(errorsText(), errorsText()).toBe('');
      expect(isValid).toBe(true);
      expect(raw).not.toMatch(/"QueryLanguage"\s*:\s*"JSONata"/);
    });

    it('has a local binding for every Task, so the local stack can run it', () => {
      const definition = substitute(raw, Object.fromEntries(used.map((n) => [n, plausible(String(n))])));
      const services = {
        dynamodb: {} as never,
        putEvents: async () => ({ FailedEntryCount: 0, Entries: [] }),
        snsPublish: async () => ({ MessageId: 'm' }),
      };
      expect(Object.keys(bindTasks(definition, services)).length).toBeGreaterThan(0);
    });
  });

  it('refuses a definition whose placeholder has no value', () => {
    expect(() => substitute('{"a":"${Missing}"}', {})).toThrow(/Missing/);
  });
});
