import { createHash } from 'node:crypto';

/** The namespace of matchstream's name-based UUIDs (itself a fixed random UUID). */
const NAMESPACE = Buffer.from('5b0c6ed2a3f14a5e9c2b1f6d7e8a9b0c', 'hex');

/**
 * A name-based UUID (version 5, SHA-1): the same name always gives the same id, so an event
 * derived from the same input gets the same idempotency key on every retry.
 *
 * @example uuidFromName('match:2026-00017#1#MatchRecorded#...') // '8f1c...-5...'
 */
export function uuidFromName(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
