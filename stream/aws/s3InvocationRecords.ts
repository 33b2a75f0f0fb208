import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { type ClientOptions, clientConfig } from './clientConfig.js';

/**
 * An S3 client. Against a local endpoint (moto) or one set by `AWS_ENDPOINT_URL_S3`, bucket
 * names go in the path: a virtual host `<bucket>.127.0.0.1` resolves nowhere.
 */
export function s3Client(options: ClientOptions = {}): S3Client {
  return new S3Client({
    ...clientConfig(options),
    ...(options.endpoint !== undefined || process.env.AWS_ENDPOINT_URL_S3
      ? { forcePathStyle: true }
      : {}),
  });
}

/** Where Lambda writes a Kinesis mapping's invocation records in its S3 on-failure destination. */
export const INVOCATION_RECORDS_PREFIX = 'aws/lambda/';

/** An invocation record's object, as a listing gives it: its key and when it was written. */
export interface InvocationRecordKey {
  readonly key: string;
  /** Milliseconds since the epoch; 0 when the listing gives no date. */
  readonly modified: number;
}

/** Every object under `prefix` (the invocation records), oldest key first, without reading any. */
export async function listInvocationRecordKeys(
  client: S3Client,
  bucket: string,
  prefix = INVOCATION_RECORDS_PREFIX,
): Promise<InvocationRecordKey[]> {
  const keys: InvocationRecordKey[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? [])
      if (object.Key) keys.push({ key: object.Key, modified: object.LastModified?.getTime() ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** These objects' text, in the order given. */
export async function readInvocationRecords(
  client: S3Client,
  bucket: string,
  keys: readonly string[],
): Promise<{ key: string; body: string }[]> {
  const objects: { key: string; body: string }[] = [];
  for (const key of keys) {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    objects.push({ key, body: (await object.Body?.transformToString('utf8')) ?? '' });
  }
  return objects;
}

/**
 * The invocation records a Kinesis mapping's S3 on-failure destination holds (every object
 * under `aws/lambda/`, where Lambda writes them), oldest key first, each as its key and text.
 */
export async function listInvocationRecords(
  client: S3Client,
  bucket: string,
  prefix = INVOCATION_RECORDS_PREFIX,
): Promise<{ key: string; body: string }[]> {
  const keys = await listInvocationRecordKeys(client, bucket, prefix);
  return readInvocationRecords(
    client,
    bucket,
    keys.map((k) => k.key),
  );
}

/** Rewrites an invocation record in place (a redrive that failed adds its note). */
export async function putInvocationRecord(
  client: S3Client,
  bucket: string,
  key: string,
  record: unknown,
): Promise<void> {
  await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: JSON.stringify(record),
      ContentType: 'application/json',
    }),
  );
}

/** Removes an invocation record (its batch was redriven); one that is gone already is fine. */
export async function removeInvocationRecord(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<void> {
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}
