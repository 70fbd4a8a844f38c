import { describe, expect, it } from 'vitest';
import { loadTemplate, parseTemplate, tableDefinition } from '../../../local/template.js';

describe('template.yaml', () => {
  it('keeps its sections in the fixed order', () => {
    // Prepare
    const template = loadTemplate();
    // Act
    const sections = Object.keys(template).filter((k) =>
      ['Parameters', 'Globals', 'Resources', 'Outputs'].includes(k),
    );
    // Assess
    expect(sections).toEqual(['Parameters', 'Globals', 'Resources', 'Outputs']);
  });

  it('reads CloudFormation short-form tags as their long forms', () => {
    const template = parseTemplate(
      [
        'Resources:',
        '  A:',
        '    Type: X',
        '    Properties:',
        '      Name: !Sub "x-${Stage}"',
        '      Arn: !GetAtt B.Arn',
        '      Ref: !Ref C',
        '      Joined: !Join [",", [a, !Ref D]]',
      ].join('\n'),
    );
    expect(template.Resources.A?.Properties).toEqual({
      Name: { 'Fn::Sub': 'x-${Stage}' },
      Arn: { 'Fn::GetAtt': ['B', 'Arn'] },
      Ref: { Ref: 'C' },
      Joined: { 'Fn::Join': [',', ['a', { Ref: 'D' }]] },
    });
  });

  it('defines the Sessions table as docs/design.md "Data model" describes: key, GSIs, stream, TTL', () => {
    const { create, ttlAttribute } = tableDefinition(loadTemplate(), 'SessionsTable', 'x');
    expect(create.KeySchema).toEqual([{ AttributeName: 'sessionId', KeyType: 'HASH' }]);
    expect(create.BillingMode).toBe('PAY_PER_REQUEST');
    expect(create.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual([
      'byActiveShard',
      'byEnforcement',
      'byUser',
    ]);
    expect(create.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(ttlAttribute).toBe('ttl');
  });

  it('refuses a table definition for a resource of another type', () => {
    expect(() => tableDefinition(loadTemplate(), 'SessionsBus', 'x')).toThrow(/AWS::Events::EventBus/);
  });
});
