import { matchRecordedV1ToV2 } from './matchRecordedV1ToV2.js';
import type { SchemaUpcaster } from './Upcaster.js';

export type { SchemaUpcaster, UpcastableVersion, UpcastContext, Upcaster } from './Upcaster.js';

/** Every upcaster of the project. Adding a version whose meaning changed adds one here. */
export const UPCASTERS: readonly SchemaUpcaster[] = [matchRecordedV1ToV2];
