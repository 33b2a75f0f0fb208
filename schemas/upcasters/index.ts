import { matchRecordedV1ToV2 } from './matchRecordedV1ToV2.js';
import type { Upcaster } from './Upcaster.js';

export type { UpcastContext, Upcaster } from './Upcaster.js';

/** Every upcaster of the project. Adding a version whose meaning changed adds one here. */
export const UPCASTERS: readonly Upcaster[] = [matchRecordedV1ToV2];
