import { buildApp } from './buildApp.js';

/**
 * The CDK app: `npx cdk synth` (offline, no credentials, no Docker) and `npx cdk deploy`.
 * Settings come from context: `-c stage=prod -c shards=4 -c retentionHours=168`, or `cdk.json`.
 */
buildApp().app.synth();
