import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { MatchstreamStack } from './MatchstreamStack.js';
import { settingsFromContext } from './settings.js';

/**
 * The CDK app with its one stack, every resource tagged with the application and the stage,
 * checked by cdk-nag's AwsSolutions and Serverless rules at synthesis (a rule broken without a
 * written acknowledgement fails the synth). `context` adds to `cdk.json`'s.
 */
export function buildApp(context: Record<string, unknown> = {}, outdir?: string) {
  const app = new App({
    context: {
      // The rebuild's Distributed Map writes its results to the archive bucket (ResultWriter):
      // the CDK leaves the writer out of the state machine without this flag.
      '@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2': true,
      ...context,
    },
    ...(outdir ? { outdir } : {}),
  });
  const settings = settingsFromContext((key) => app.node.tryGetContext(key));
  const stack = new MatchstreamStack(app, `matchstream-${settings.stage}`, {
    settings,
    description: `matchstream (${settings.stage}): event store, change stream, read models and buses`,
    // The account and region of the credentials in use, when there are any (cdk deploy).
    ...(process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
      ? {
          env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
        }
      : {}),
  });
  // Dashboards take Tags in CloudFormation's newest reference
  // (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-dashboard.html)
  // but not in cfn-lint's schema yet, which then fails the template; the dashboard is named
  // after the stage instead.
  const untaggable = { excludeResourceTypes: ['AWS::CloudWatch::Dashboard'] };
  Tags.of(app).add('application', 'matchstream', untaggable);
  Tags.of(app).add('stage', settings.stage, untaggable);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { app, stack, settings };
}
