import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { awsCredentialsLine } from '../../../cli/output/awsCredentials.js';

const serviceError = <T>(
  Exception: new (options: {
    name: string;
    message: string;
    $fault: 'client';
    $metadata: object;
  }) => T,
  name: string,
  message: string,
) => new Exception({ name, message, $fault: 'client', $metadata: { httpStatusCode: 403 } });

describe('awsCredentialsLine', () => {
  // DynamoDB answers an unknown access key id with UnrecognizedClientException, S3 with
  // InvalidAccessKeyId, and an expired session token with ExpiredTokenException / ExpiredToken
  // (https://docs.aws.amazon.com/awsconsolehelpdocs/latest/gsg/common-errors.html).
  it.each([
    [
      serviceError(
        DynamoDBServiceException,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      ),
      'UnrecognizedClientException: The security token included in the request is invalid.',
    ],
    [
      serviceError(
        S3ServiceException,
        'InvalidAccessKeyId',
        'The AWS Access Key Id you provided does not exist in our records.',
      ),
      'InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records.',
    ],
    [
      serviceError(
        DynamoDBServiceException,
        'ExpiredTokenException',
        'The security token included in the request is expired',
      ),
      'ExpiredTokenException: The security token included in the request is expired',
    ],
  ])('says the credentials were refused, and what to check: %s', (error, said) => {
    expect(awsCredentialsLine(error)).toBe(
      `AWS refused the credentials (${said}): check AWS_PROFILE, or AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, and renew credentials that expired`,
    );
  });

  it('finds them under the error that names the place', () => {
    const refused = serviceError(DynamoDBServiceException, 'UnrecognizedClientException', 'no');
    const wrapped = new Error('the table dl cannot be read: no', { cause: refused });
    expect(awsCredentialsLine(new Error('outer', { cause: wrapped }))).toContain(
      'AWS refused the credentials (UnrecognizedClientException: no)',
    );
  });

  it('leaves any other error alone', () => {
    expect(
      awsCredentialsLine(
        serviceError(DynamoDBServiceException, 'ResourceNotFoundException', 'not found'),
      ),
    ).toBeUndefined();
    expect(awsCredentialsLine(new Error('Could not load'))).toBeUndefined();
    expect(awsCredentialsLine('text')).toBeUndefined();
  });
});
