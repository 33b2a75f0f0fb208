import { readFileSync } from 'node:fs';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultStack } from '../../support/synth.js';

let template: Template;

beforeAll(() => {
  ({ template } = defaultStack());
}, 120_000);

/** The resource types the README says `cdk destroy` leaves behind, from its one sentence. */
function readmeRetained(): string[] {
  const readme = readFileSync('README.md', 'utf8');
  const sentence = readme.split('\n').find((l) => l.startsWith('`cdk destroy` leaves'));
  if (!sentence) throw new Error('README.md: no line starting "`cdk destroy` leaves"');
  return [...sentence.matchAll(/`(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)`/g)].map((m) => m[1] ?? '');
}

describe('what cdk destroy leaves', () => {
  it('retains exactly what the README lists (the events table, its key, the on-failure bucket, the archive); everything else goes', () => {
    const resources = template.toJSON().Resources as Record<
      string,
      { Type: string; DeletionPolicy?: string; UpdateReplacePolicy?: string }
    >;
    // CloudFormation deletes a resource on stack deletion unless its DeletionPolicy says
    // otherwise (Retain, RetainExceptOnCreate, Snapshot).
    const retained = Object.values(resources)
      .filter((r) => r.DeletionPolicy !== undefined && r.DeletionPolicy !== 'Delete')
      .map((r) => r.Type)
      .sort();
    expect(retained).toEqual(readmeRetained().sort());
    expect(retained).toEqual([
      'AWS::DynamoDB::Table',
      'AWS::KMS::Key',
      'AWS::S3::Bucket',
      'AWS::S3::Bucket',
    ]);
  });

  it('lets DynamoDB expire dead letters, saga snapshots, notifications and breaker states by expires_at', () => {
    const ttl = Object.values(
      template.findResources('AWS::DynamoDB::Table', {
        Properties: { TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true } },
      }),
    );
    // The dead letters, the saga work table (snapshots; request slots carry no expiry), the
    // notifications and the circuit breakers' shared state.
    expect(ttl).toHaveLength(4);
  });
});
