import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { FolderStorage } from '../../stream/archive/ArchiveStorage.js';
import type { ManifestSummary } from '../../stream/archive/exportFormat.js';
import { exportTableLocally, type LocalExportOptions } from '../../stream/archive/exportTable.js';

/**
 * Uploads every file of a local archive to a bucket under the same keys, as DynamoDB's export
 * would have written them there; with `rename`, each occurrence of one text in the keys and
 * in the manifests (an export id, an ARN) is replaced by another on the way, the data files'
 * bytes left as they are.
 */
export async function uploadArchive(
  folder: FolderStorage,
  s3: S3Client,
  bucket: string,
  rename: readonly (readonly [string, string])[] = [],
): Promise<string[]> {
  const renamed = (text: string) =>
    rename.reduce((out, [from, to]) => out.replaceAll(from, to), text);
  const keys: string[] = [];
  for await (const object of folder.list('')) {
    const body = await folder.read(object.key);
    const key = renamed(object.key);
    const manifest = key.endsWith('.json') && !key.includes('/data/');
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: manifest ? renamed(body.toString('utf8')) : body,
      }),
    );
    keys.push(key);
  }
  return keys;
}

/**
 * A full export of `options.table` in DynamoDB's export format, made in a local folder and
 * uploaded to `bucket`: what a completed export to S3 leaves there (moto's own export writes no
 * manifests). Resolves to the export's summary.
 */
export async function exportIntoBucket(
  options: Omit<LocalExportOptions, 'storage' | 'prefix'> & { readonly folder: string },
  s3: S3Client,
  bucket: string,
): Promise<ManifestSummary> {
  const { folder, ...exported } = options;
  const local = new FolderStorage(folder);
  const summary = await exportTableLocally({ ...exported, storage: local, prefix: 'events' });
  await uploadArchive(local, s3, bucket);
  return summary;
}
