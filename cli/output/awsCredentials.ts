/**
 * The AWS errors that are about the credentials rather than the command: none found by the
 * SDK's default chain (`CredentialsProviderError`), or found and refused by the service. The
 * codes are the AWS services' common errors (an access key id unknown, a signature that does
 * not match, a security token that expired); S3 names its own (`InvalidAccessKeyId`,
 * `ExpiredToken`, `InvalidToken`). See https://docs.aws.amazon.com/awsconsolehelpdocs/latest/gsg/common-errors.html
 */
const REFUSED = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidToken',
]);

/**
 * One line saying what is wrong with the AWS credentials or region and what to do, when
 * `error` (or an error it was caused by) is about them; undefined otherwise.
 */
export function awsCredentialsLine(error: unknown): string | undefined {
  for (let at = error, depth = 0; at instanceof Error && depth < 10; depth++) {
    // The SDK's words when neither AWS_REGION nor the shared config names a region.
    if (at.message === 'Region is missing')
      return 'no AWS region: set AWS_REGION, or the region of your profile in the shared config file (~/.aws/config, AWS_PROFILE), then run the command again';
    if (at.name === 'CredentialsProviderError')
      return 'no AWS credentials found (the environment, the shared config and credentials files, SSO, a container or instance role): set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, then run the command again';
    if (REFUSED.has(at.name))
      return `AWS refused the credentials (${at.name}: ${at.message}): check AWS_PROFILE, or AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, and renew credentials that expired`;
    at = at.cause;
  }
  return undefined;
}
