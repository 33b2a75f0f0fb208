import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { LOGICAL_TYPE_VALUES, LOGICAL_TYPES } from '../../../schemas/logicalTypes.js';
import { GENERATED_DIR, generateEventTypes } from '../../../tools/schemaTypes.js';

/** Every file under a folder, by path relative to it. */
function filesUnder(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(dir, path), readFileSync(path, 'utf8'));
  }
  return files;
}

describe('the event types generated from the schemas', () => {
  it('are checked in as npm run schemas:types makes them from schemas/avro now', () => {
    // Act
    const fresh = generateEventTypes();
    const checkedIn = filesUnder(GENERATED_DIR);

    // Assess: same files, same text (run `npm run schemas:types` after changing a schema)
    expect([...checkedIn.keys()].sort()).toEqual([...fresh.keys()].sort());
    for (const [path, text] of fresh) {
      expect(
        checkedIn.get(path),
        `schemas/generated/${path} is stale: run npm run schemas:types`,
      ).toBe(text);
    }
  }, 30_000);

  it('say of each logical type what the registry decodes it to', () => {
    // The underlying type and a value of it, per logical type: a new logical type needs one.
    const written: Record<keyof typeof LOGICAL_TYPES, { type: avro.Schema; value: unknown }> = {
      'timestamp-millis': { type: 'long', value: 1_788_289_200_000 },
      date: { type: 'int', value: 20_697 },
      uuid: { type: 'string', value: '6f9619ff-8b86-4011-b42d-00c04fc964ff' },
    };
    for (const [name, { type, value }] of Object.entries(written)) {
      const plain = avro.Type.forSchema(type);
      const logical = avro.Type.forSchema({ type, logicalType: name } as avro.Schema, {
        logicalTypes: LOGICAL_TYPES,
        assertLogicalTypes: true,
      });

      const decoded: unknown = logical.fromBuffer(plain.toBuffer(value));

      expect(typeof decoded, name).toBe(LOGICAL_TYPE_VALUES[name as keyof typeof LOGICAL_TYPES]);
    }
  });

  it('type the data of every version, and list the latest version of each type', () => {
    const index = generateEventTypes().get('events.ts') ?? '';

    expect(index).toContain(
      'readonly MatchRecorded: { readonly 1: MatchRecordedV1; readonly 2: MatchRecordedV2; readonly 3: MatchRecordedV3; };',
    );
    expect(index).toMatch(/readonly MatchRecorded: 3;/);
    const v3 = generateEventTypes().get('MatchRecorded/v3.ts') ?? '';
    // Dates, timestamps and uuids are strings as decoded; a union with null stays nullable.
    expect(v3).toMatch(/played_on: string;/);
    expect(v3).toMatch(/venue: null \| string;/);
    expect(v3).toMatch(/decided_by: MatchstreamEvents\.DecidedBy;/);
  }, 30_000);
});
