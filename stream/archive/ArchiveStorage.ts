import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { REGION_SOURCES } from '../aws/clientConfig.js';
import { StoreError } from '../StoreError.js';

/** An object of the archive: its key (with `/` between folders), size and time. */
export interface ArchiveObject {
  readonly key: string;
  readonly size: number;
  readonly modified: Date;
}

/**
 * Where the archive's exports are kept: an S3 bucket on AWS, a folder of the data directory
 * locally. Keys are S3 keys; a folder keeps each under the same relative path.
 */
export interface ArchiveStorage {
  /** For people: "s3://bucket", "folder .matchstream/archive". */
  readonly description: string;
  /** The bucket name DynamoDB writes into (a folder's path locally), for manifests. */
  readonly bucket: string;
  /** The object's bytes; a missing object is a `CORRUPT_ARCHIVE` error naming the key. */
  read(key: string): Promise<Buffer>;
  /** The object as a stream (data files can be large). */
  open(key: string): Promise<Readable>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): AsyncIterable<ArchiveObject>;
  /** Writes an object whole: a reader sees the old object or the new one, never a part. */
  write(key: string, body: string | Uint8Array): Promise<void>;
}

/** A folder that is an archive: the local exports' storage, written and read alike. */
export class FolderStorage implements ArchiveStorage {
  readonly description: string;
  readonly bucket: string;

  constructor(readonly root: string) {
    this.description = `folder ${root}`;
    this.bucket = root;
  }

  path(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  async read(key: string): Promise<Buffer> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      throw missing(this.description, key, error);
    }
  }

  async open(key: string): Promise<Readable> {
    // Checked first, so a missing file is refused here rather than when the stream is read.
    try {
      await stat(this.path(key));
    } catch (error) {
      throw missing(this.description, key, error);
    }
    return createReadStream(this.path(key));
  }

  /**
   * Writes an object whole: to a temporary name first, then renamed, so a reader never sees
   * half of it (a manifest is written last and marks the export complete).
   */
  async write(key: string, body: string | Uint8Array): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(`${path}.partial`, body);
    await rename(`${path}.partial`, path);
  }

  async *list(prefix: string): AsyncIterable<ArchiveObject> {
    const found: ArchiveObject[] = [];
    const walk = async (folder: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(folder, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const path = join(folder, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile() && !entry.name.endsWith('.partial')) {
          const key = relative(this.root, path).split(sep).join('/');
          if (!key.startsWith(prefix)) continue;
          const info = await stat(path);
          found.push({ key, size: info.size, modified: info.mtime });
        }
      }
    };
    await walk(this.root);
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* found;
  }
}

/** An S3 bucket that is an archive: where DynamoDB's exports land on AWS. */
export class S3Storage implements ArchiveStorage {
  readonly description: string;

  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
  ) {
    this.description = `s3://${bucket}`;
  }

  /**
   * Checks that the bucket is there (HeadBucket, which asks for `s3:ListBucket`, as a listing
   * of the archive does), and says which one is missing where, and which stack output and flag
   * name it, where S3 answers a HEAD with a bare 404 and no message.
   */
  async requireBucket({ output, flag }: { readonly output: string; readonly flag: string }) {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata
        ?.httpStatusCode;
      if (status === 404)
        throw new Error(
          `no bucket "${this.bucket}" in ${await this.client.config.region()}: give the ${output} output of the deployed stack with ${flag} (and its region with ${REGION_SOURCES})`,
          { cause: error },
        );
      if (status === 403)
        throw new Error(
          `${this.description}: access denied (s3:ListBucket on the bucket is needed to read it)`,
          { cause: error },
        );
      throw error;
    }
  }

  async read(key: string): Promise<Buffer> {
    const body = await this.open(key);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async open(key: string): Promise<Readable> {
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key }),
      );
      return object.Body as Readable;
    } catch (error) {
      if (error instanceof NoSuchKey) throw missing(this.description, key, error);
      throw error;
    }
  }

  /** One PutObject: S3 stores an object whole or not at all. */
  async write(key: string, body: string | Uint8Array): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body }));
  }

  async *list(prefix: string): AsyncIterable<ArchiveObject> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? [])
        if (object.Key)
          yield {
            key: object.Key,
            size: object.Size ?? 0,
            modified: object.LastModified ?? new Date(0),
          };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}

function missing(where: string, key: string, cause: unknown): StoreError {
  return new StoreError('CORRUPT_ARCHIVE', `${where}: ${key} is missing`, {}, { cause });
}
