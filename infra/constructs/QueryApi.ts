import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { HandlerFunction, type NodeVersion } from './HandlerFunction.js';

export interface QueryApiProps {
  /** The API's name. */
  readonly name: string;
  readonly environment: Readonly<Record<string, string>>;
  /** Steady requests per second across the API. @default 100 */
  readonly rateLimit?: number;
  /** Burst of requests. @default 200 */
  readonly burstLimit?: number;
  /** @default 22 */
  readonly node?: NodeVersion;
}

/**
 * The query API: an API Gateway HTTP API in front of one Lambda function running the same Hono
 * app as `matchstream serve`. Reads (`GET`) are open and throttled; `POST /sagas` (starting a
 * calculation) needs a SigV4-signed request from an IAM principal allowed `execute-api:Invoke`
 * on it. Every request is written to an access log.
 */
export class QueryApi extends Construct {
  readonly api: HttpApi;
  readonly function: nodejs.NodejsFunction;
  readonly stage: HttpStage;

  constructor(scope: Construct, id: string, props: QueryApiProps) {
    super(scope, id);
    this.function = new HandlerFunction(this, 'Handler', {
      description: 'the query API',
      entry: 'apiFunction.ts',
      node: props.node ?? 22,
      memorySize: 1024,
      timeout: Duration.seconds(29),
      environment: props.environment,
      // The web console, served by the same function at `/`.
      folders: [{ from: 'dist/web', to: 'web' }],
    }).function;
    this.api = new HttpApi(this, 'Api', {
      apiName: props.name,
      description: 'matchstream rankings, standings, teams, matches and sagas',
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new HttpStage(this, 'Stage', {
      httpApi: this.api,
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit ?? 100, burstLimit: props.burstLimit ?? 200 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        // One JSON object per request, queryable by field in CloudWatch Logs Insights.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            httpMethod: '$context.httpMethod',
            routeKey: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    const integration = new HttpLambdaIntegration('Queries', this.function);
    // `/{proxy+}` does not match the root, where the console's page is.
    const reads = ['/{proxy+}', '/'].flatMap((path) =>
      this.api.addRoutes({ path, methods: [HttpMethod.GET], integration }),
    );
    this.api.addRoutes({
      path: '/sagas',
      methods: [HttpMethod.POST],
      integration,
      authorizer: new HttpIamAuthorizer(),
    });
    for (const route of reads)
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Published rankings, standings, teams and matches, and the web console that shows them, are public and read-only; the stage throttles them. The one write route, POST /sagas, requires IAM authorization.',
      });
  }

  /** The API's address. */
  get url(): string {
    return this.stage.url;
  }
}
