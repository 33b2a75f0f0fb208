import type { CfnResource } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import { Construct } from 'constructs';
import type { SchemaRegistry } from '../../schemas/SchemaRegistry.js';

export interface GlueSchemasProps {
  /** The registry's name, e.g. `matchstream-prod`. */
  readonly name: string;
  /** The project's schemas (`schemas/avro`, read at synthesis). */
  readonly schemas: SchemaRegistry;
}

/**
 * The Avro schemas in an AWS Glue Schema Registry, generated from `schemas/`: one schema per
 * event type with every version in order, and the compatibility mode declared for the type
 * (`BACKWARD_ALL` unless `schemas/avro/compatibility.json` says otherwise). Glue checks each
 * new version against that mode on deployment. A type one of whose versions is reached by an
 * upcaster (its meaning changed, which Avro resolution alone cannot bridge, e.g. `MatchRecorded`
 * v1 → v2) is registered with `NONE`: Glue cannot know the upcaster, and `matchstream schemas
 * check` enforces the declared mode within each run of versions between upcasters.
 */
export class GlueSchemas extends Construct {
  readonly registry: glue.CfnRegistry;
  readonly schemas: Readonly<Record<string, glue.CfnSchema>>;

  constructor(scope: Construct, id: string, props: GlueSchemasProps) {
    super(scope, id);
    this.registry = new glue.CfnRegistry(this, 'Registry', {
      name: props.name,
      description: 'matchstream event schemas (Avro), one per event type',
    });
    const schemas: Record<string, glue.CfnSchema> = {};
    for (const eventType of props.schemas.eventTypes()) {
      const [first, ...later] = props.schemas.versions(eventType);
      if (!first) continue;
      const upcast = props.schemas.upcastVersions(eventType).size > 0;
      const schema = new glue.CfnSchema(this, eventType, {
        name: eventType,
        registry: { arn: this.registry.attrArn },
        dataFormat: 'AVRO',
        compatibility: upcast ? 'NONE' : props.schemas.mode(eventType),
        description: `${eventType}: versions 1 to ${first.version + later.length}${upcast ? ' (an upcaster bridges a change of meaning, so Glue checks nothing; matchstream schemas check does)' : ''}`,
        schemaDefinition: JSON.stringify(first.schema),
      });
      let previous: CfnResource = schema;
      for (const next of later) {
        const version = new glue.CfnSchemaVersion(this, `${eventType}V${next.version}`, {
          schema: { schemaArn: schema.attrArn },
          schemaDefinition: JSON.stringify(next.schema),
        });
        // Versions register in order: Glue numbers them as they come.
        version.addResourceDependency(previous);
        previous = version;
      }
      schemas[eventType] = schema;
    }
    this.schemas = schemas;
  }
}
