import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * `schemas/avro` of the project, from the sources or from `dist/`; `MATCHSTREAM_SCHEMAS_DIR`
 * overrides. Apart from the registry, so that naming the folder (a CLI option's default)
 * loads no Avro.
 */
export function defaultSchemasDir(): string {
  const configured = process.env.MATCHSTREAM_SCHEMAS_DIR;
  if (configured) return configured;
  for (const up of ['./avro', '../../schemas/avro']) {
    const dir = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  return fileURLToPath(new URL('./avro', import.meta.url));
}
