import { checkHistory } from './compatibility.js';
import type { SchemaRegistry } from './SchemaRegistry.js';

/** One reason `schemas check` fails. */
export interface SchemaViolation {
  readonly eventType: string;
  readonly message: string;
}

/**
 * Everything wrong with a registry: pairs of versions that break their event type's
 * compatibility mode, and stored versions the latest cannot read at all (no Avro resolution
 * and no upcaster).
 */
export function checkSchemas(registry: SchemaRegistry): SchemaViolation[] {
  const violations: SchemaViolation[] = [];
  for (const eventType of registry.eventTypes()) {
    const versions = registry
      .versions(eventType)
      .map((s) => ({ version: s.version, schema: s.schema }));
    const broken = checkHistory(
      eventType,
      registry.mode(eventType),
      versions,
      registry.upcastVersions(eventType),
    );
    for (const v of broken) violations.push({ eventType, message: v.message });
    // Under a mode that does not require it, old versions may still be unreadable.
    if (broken.length > 0) continue;
    for (const u of registry.unreadableVersions(eventType)) {
      violations.push({
        eventType,
        message: `${eventType} v${u.version} cannot be read at the latest version: add an upcaster (${u.message})`,
      });
    }
  }
  return violations;
}
