import { describe, expect, it } from 'vitest';
import {
  jsonItem,
  lineItem,
  parseFiles,
  parseSummary,
} from '../../../stream/archive/exportFormat.js';
import { underPrefixOf } from '../../../stream/archive/readExport.js';

describe('the DynamoDB export format', () => {
  it('reads the item of a full export line and of an incremental one, and no item of a deletion', () => {
    const item = { aggregate_id: { S: 'match:1' }, sequence: { N: '1' } };
    const keys = { aggregate_id: { S: 'match:1' }, sequence: { N: '1' } };

    expect(lineItem(JSON.stringify({ Item: item }), 'f line 1')).toEqual(item);
    expect(
      lineItem(JSON.stringify({ Metadata: { WriteTime: 1 }, Keys: keys, NewImage: item }), 'f'),
    ).toEqual(item);
    expect(lineItem(JSON.stringify({ Metadata: { WriteTime: 1 }, Keys: keys }), 'f')).toBeNull();
    expect(() => lineItem('{"Other":{}}', 'data/x.json.gz line 7')).toThrow(
      'data/x.json.gz line 7: neither an "Item" nor a change with "Keys"',
    );
    expect(() => lineItem('{', 'data/x.json.gz line 8')).toThrow('data/x.json.gz line 8: not JSON');
  });

  it('writes binary values as base64 text, at any depth', () => {
    const bytes = new Uint8Array([0, 1, 255]);

    expect(
      jsonItem({ b: { B: bytes }, l: { L: [{ M: { inner: { B: bytes } } }] }, s: { S: 'x' } }),
    ).toEqual({ b: { B: 'AAH/' }, l: { L: [{ M: { inner: { B: 'AAH/' } } }] }, s: { S: 'x' } });
  });

  it('refuses a summary of another output format, and a files manifest line without a key, saying where', () => {
    const summary = {
      exportArn: 'arn:aws:dynamodb:r:1:table/t/export/1-a',
      manifestFilesS3Key: 'k',
      startTime: 't',
      itemCount: 1,
      outputFormat: 'ION',
    };

    expect(() => parseSummary(JSON.stringify(summary), 's3://b/s.json')).toThrow(
      's3://b/s.json: output format ION; the archive reads DYNAMODB_JSON',
    );
    expect(() => parseFiles('{"itemCount":1}\n', 's3://b/f.json')).toThrow(
      's3://b/f.json line 1: needs "dataFileS3Key" and "itemCount"',
    );
  });

  it('puts a manifest key named from AWSDynamoDB/ on under the prefix the summary is under', () => {
    const summaryKey = 'events/AWSDynamoDB/1-a/manifest-summary.json';

    expect(underPrefixOf(summaryKey, 'AWSDynamoDB/1-a/data/x.json.gz')).toBe(
      'events/AWSDynamoDB/1-a/data/x.json.gz',
    );
    expect(underPrefixOf(summaryKey, 'events/AWSDynamoDB/1-a/data/x.json.gz')).toBe(
      'events/AWSDynamoDB/1-a/data/x.json.gz',
    );
    expect(underPrefixOf('AWSDynamoDB/1-a/manifest-summary.json', 'AWSDynamoDB/1-a/f')).toBe(
      'AWSDynamoDB/1-a/f',
    );
  });
});
