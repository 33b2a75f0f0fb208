import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { CreateFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { zipSync } from 'fflate';
import { clientConfig } from '../../stream/aws/clientConfig.js';

/**
 * A Lambda function on moto_server that stands for a deployed one whose aliases and event
 * source mappings a test manages (moto runs no function): its role first, made through
 * CloudFormation as the stack makes it (Lambda checks the role exists), then the function,
 * with `environment` as its configuration's variables (what GetFunctionConfiguration returns).
 */
export async function createMotoFunction(
  endpoint: string,
  lambda: LambdaClient,
  name: string,
  environment?: Readonly<Record<string, string>>,
): Promise<void> {
  const cloudFormation = new CloudFormationClient(clientConfig({ endpoint }));
  try {
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: `${name}-role`,
        TemplateBody: JSON.stringify({
          Resources: {
            Role: {
              Type: 'AWS::IAM::Role',
              Properties: {
                RoleName: name,
                AssumeRolePolicyDocument: {
                  Version: '2012-10-17',
                  Statement: [
                    {
                      Effect: 'Allow',
                      Principal: { Service: 'lambda.amazonaws.com' },
                      Action: 'sts:AssumeRole',
                    },
                  ],
                },
              },
            },
          },
        }),
        Capabilities: ['CAPABILITY_NAMED_IAM'],
      }),
    );
  } finally {
    cloudFormation.destroy();
  }
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Role: `arn:aws:iam::123456789012:role/${name}`,
      Handler: 'index.handler',
      ...(environment ? { Environment: { Variables: { ...environment } } } : {}),
      Code: {
        ZipFile: zipSync({
          'index.mjs': new TextEncoder().encode('export const handler = () => {};'),
        }),
      },
    }),
  );
}
