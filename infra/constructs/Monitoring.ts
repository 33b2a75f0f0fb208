import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { alarmTopic } from './alarmTopic.js';
import type { StreamConsumer } from './StreamConsumer.js';

/** A function invoked asynchronously (a rule's target) with the queue of what it failed. */
export interface WatchedHandler {
  readonly function: lambda.IFunction;
  readonly deadLetters: sqs.IQueue;
  /**
   * The rule that invokes it: EventBridge publishes a custom bus's rule metrics with the
   * dimensions EventBusName and RuleName, the default bus's with RuleName alone
   * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html).
   */
  readonly rule?: { readonly ruleName: string; readonly eventBusName?: string };
  /**
   * Whether it guards its dependencies with circuit breakers and counts the work they hold
   * (`BatchesHeld`, under its name): an alarm then says when that lasts. @default false
   */
  readonly breakers?: boolean;
  /**
   * The queue it reads its events from (a bus handler): events waiting in it too long raise an
   * alarm, and it is not invoked asynchronously. Absent: invoked by its rule directly.
   */
  readonly inbox?: sqs.IQueue;
}

/** How long an event may wait in a bus handler's queue before an alarm says so. */
export const MAX_INBOX_AGE = Duration.hours(1);

export interface MonitoringProps {
  /** Names the dashboard, e.g. `matchstream-prod`. */
  readonly name: string;
  readonly key: kms.IKey;
  /** The stream consumers, by consumer name. */
  readonly consumers: Readonly<Record<string, StreamConsumer>>;
  /** The consumer that publishes onto the buses (its `PutEventsFailed` metric is watched). */
  readonly publisher: string;
  /** The bus handlers and the saga sweep, by name. */
  readonly handlers?: Readonly<Record<string, WatchedHandler>>;
  /** The name the saga functions count saga events under (`SagasCompensated`, ...). */
  readonly sagas?: string;
  /** The query API's 5xx responses, and its function (whose concurrency the dashboard shows). */
  readonly api?: {
    readonly serverErrors: cloudwatch.IMetric;
    readonly latency: cloudwatch.IMetric;
    readonly function?: lambda.IFunction;
  };
  /** The consumers' on-failure bucket, whose writes raise an alarm. */
  readonly failures?: s3.Bucket;
  /** The event store, whose replication to Kinesis is watched. */
  readonly eventsTable?: { readonly tableName: string };
  /** Tables whose throttled reads and writes raise an alarm, by name. */
  readonly tables?: Readonly<Record<string, { readonly tableName: string }>>;
  /**
   * The rebuild state machine: a run that fails, times out or is aborted raises an alarm, and
   * each generation feeder's errors (every rebuilt generation's mapping invokes it).
   */
  readonly rebuild?: {
    readonly stateMachine: sfn.IStateMachine;
    readonly feeder: lambda.IFunction;
  };
  /** Iterator age that raises an alarm. @default 1 minute */
  readonly maxIteratorAge?: Duration;
  /** p99 invocation duration that raises an alarm. @default 30 seconds */
  readonly maxDuration?: Duration;
}

/**
 * A CloudWatch dashboard and alarms for what the original design watches: how far behind each
 * consumer reads (iterator age), batches given up on (written to the on-failure bucket), handler errors, events
 * EventBridge refused (`PutEventsFailed`, from the bus router's metrics) and processing time;
 * for the bus handlers and the saga sweep, errors and dead-letter queue depth; sagas that
 * compensated or whose compensation failed; the query API's server errors.
 * Every alarm notifies an encrypted SNS topic that refuses plain HTTP; subscribe to it.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = alarmTopic(this, 'Alarms', {
      displayName: `${props.name} alarms`,
      key: props.key,
    });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.name,
      defaultInterval: Duration.hours(3),
    });
    const maxAge = props.maxIteratorAge ?? Duration.minutes(1);
    const maxDuration = props.maxDuration ?? Duration.seconds(30);

    for (const [name, consumer] of Object.entries(props.consumers)) {
      const fn = consumer.function;
      const age = fn.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) });
      const errors = fn.metricErrors({ period: Duration.minutes(5) });
      const duration = fn.metricDuration({ statistic: 'p99', period: Duration.minutes(5) });
      this.alarm(
        `${name}IteratorAge`,
        age,
        maxAge.toMilliseconds(),
        5,
        `${name}: reads more than ${maxAge.toHumanString()} behind the stream`,
      );
      this.alarm(
        `${name}Errors`,
        errors,
        0,
        1,
        `${name}: the handler failed (the mapping retries and bisects)`,
      );
      this.alarm(
        `${name}Duration`,
        duration,
        maxDuration.toMilliseconds(),
        3,
        `${name}: p99 processing time over ${maxDuration.toHumanString()}`,
      );
      this.heldAlarm(name);
      this.watchInvocations(name, fn);
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({ title: `${name}: iterator age (ms)`, left: [age], width: 8 }),
        new cloudwatch.GraphWidget({
          title: `${name}: events applied, errors`,
          left: [this.custom('EventsApplied', name)],
          right: [errors],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: `${name}: duration p99 (ms)`,
          left: [duration],
          width: 8,
        }),
      );
    }
    const refused = this.custom('PutEventsFailed', props.publisher);
    this.alarm(
      'PutEventsFailed',
      refused,
      0,
      1,
      'EventBridge refused entries after retries; they are in the dead-letter table',
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'events published, refused by EventBridge',
        left: [this.custom('EventsPublished', props.publisher)],
        right: [refused],
        width: 24,
      }),
    );
    this.watchHandlers(props);
    this.watchFailures(props);
    this.watchCapture(props);
    this.watchTables(props);
    this.showConcurrency(props);
  }

  /**
   * Objects the mappings wrote to the on-failure bucket: S3 request metrics of a filter on
   * `aws/lambda/`, where Lambda writes. One for all consumers: a filter per mapping's prefix
   * would make the bucket depend on the mappings, which depend on it through their roles; the
   * objects name their function (`inspect --failures` shows it).
   */
  private watchFailures(props: MonitoringProps): void {
    const bucket = props.failures;
    if (!bucket) return;
    bucket.addMetric({ id: 'on-failure', prefix: 'aws/lambda/' });
    const written = new cloudwatch.Metric({
      namespace: 'AWS/S3',
      metricName: 'PutRequests',
      dimensionsMap: { BucketName: bucket.bucketName, FilterId: 'on-failure' },
      statistic: 'Sum',
      period: Duration.minutes(5),
    });
    this.alarm(
      'OnFailureWritten',
      written,
      0,
      1,
      'a consumer gave up on a batch: Lambda wrote it to the on-failure bucket, read it with matchstream inspect --failures',
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'batches given up on (written to the on-failure bucket)',
        left: [written],
        width: 24,
      }),
    );
  }

  /**
   * Invocations Lambda refused for want of concurrency, and records or events it could not
   * hand to the function's on-failure destination (for stream mappings and asynchronous
   * invocations alike; https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
   */
  private watchInvocations(name: string, fn: lambda.IFunction): void {
    this.alarm(
      `${name}Throttles`,
      fn.metricThrottles({ period: Duration.minutes(5) }),
      0,
      3,
      `${name}: Lambda throttled invocations for 15 minutes (concurrency quota or reservation)`,
    );
    this.alarm(
      `${name}DestinationDeliveryFailures`,
      this.lambdaMetric(fn, 'DestinationDeliveryFailures'),
      0,
      1,
      `${name}: Lambda could not deliver a failure to the on-failure destination`,
    );
  }

  /** What Lambda sends metrics of under the function's name (namespace `AWS/Lambda`). */
  private lambdaMetric(fn: lambda.IFunction, metricName: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/Lambda',
      metricName,
      dimensionsMap: { FunctionName: fn.functionName },
      statistic: 'Sum',
      period: Duration.minutes(5),
    });
  }

  /**
   * The events table's replication to Kinesis: if it stalls, the consumers' iterator age stays
   * flat and nothing else fires. These metrics carry the dimensions TableName and
   * DelegatedOperation (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html);
   * a Metrics Insights query selects the table whatever the operation's value, one series per
   * alarm (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Metrics_Insights_Alarm.html).
   */
  private watchCapture(props: MonitoringProps): void {
    const table = props.eventsTable;
    if (!table) return;
    const query = (fn: string, metricName: string, period: Duration) =>
      new cloudwatch.MathExpression({
        expression: `SELECT ${fn}(${metricName}) FROM SCHEMA("AWS/DynamoDB", DelegatedOperation, TableName) WHERE TableName = '${table.tableName}'`,
        usingMetrics: {},
        label: metricName,
        period,
      });
    const maxAge = props.maxIteratorAge ?? Duration.minutes(1);
    const age = query('MAX', 'AgeOfOldestUnreplicatedRecord', Duration.minutes(1));
    this.alarm(
      'CaptureAge',
      age,
      maxAge.toMilliseconds(),
      5,
      `events table: changes wait more than ${maxAge.toHumanString()} to reach the change stream`,
    );
    const failed = query('SUM', 'FailedToReplicateRecordCount', Duration.minutes(1));
    this.alarm(
      'CaptureFailed',
      failed,
      0,
      1,
      'events table: DynamoDB could not write changes to the change stream and skipped them',
    );
    const throttled = query('MAX', 'ThrottledPutRecordCount', Duration.minutes(1));
    this.alarm(
      'CaptureThrottled',
      throttled,
      0,
      10,
      'events table: the change stream throttled its replication for 10 minutes (add shards)',
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'change capture: oldest unreplicated change (ms); failed, throttled records',
        left: [age],
        right: [failed, throttled],
        width: 24,
      }),
    );
  }

  /** Sustained throttling of any table (read and write throttle events, per table). */
  private watchTables(props: MonitoringProps): void {
    for (const [name, table] of Object.entries(props.tables ?? {})) {
      const events = (metricName: string) =>
        new cloudwatch.Metric({
          namespace: 'AWS/DynamoDB',
          metricName,
          dimensionsMap: { TableName: table.tableName },
          statistic: 'Sum',
          period: Duration.minutes(5),
        });
      this.alarm(
        `${name}TableThrottled`,
        new cloudwatch.MathExpression({
          expression: 'reads + writes',
          usingMetrics: {
            reads: events('ReadThrottleEvents'),
            writes: events('WriteThrottleEvents'),
          },
          label: `${name}: throttle events`,
          period: Duration.minutes(5),
        }),
        0,
        3,
        `table ${name}: requests throttled for 15 minutes`,
      );
    }
  }

  /** Concurrent executions per function, the design's "handler concurrency". */
  private showConcurrency(props: MonitoringProps): void {
    const functions: [string, lambda.IFunction][] = [
      ...Object.entries(props.consumers).map(([n, c]): [string, lambda.IFunction] => [
        n,
        c.function,
      ]),
      ...Object.entries(props.handlers ?? {}).map(([n, h]): [string, lambda.IFunction] => [
        n,
        h.function,
      ]),
      ...(props.api?.function ? [['api', props.api.function] as [string, lambda.IFunction]] : []),
    ];
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'handler concurrency (concurrent executions, maximum)',
        left: functions.map(
          ([n, fn]) =>
            new cloudwatch.Metric({
              namespace: 'AWS/Lambda',
              metricName: 'ConcurrentExecutions',
              dimensionsMap: { FunctionName: fn.functionName },
              statistic: 'Maximum',
              period: Duration.minutes(1),
              label: n,
            }),
        ),
        width: 24,
      }),
    );
  }

  private watchHandlers(props: MonitoringProps): void {
    for (const [name, handler] of Object.entries(props.handlers ?? {})) {
      const errors = handler.function.metricErrors({ period: Duration.minutes(5) });
      const kept = handler.deadLetters.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      });
      this.alarm(
        `${name}Errors`,
        errors,
        0,
        1,
        handler.inbox
          ? `${name}: the handler failed on a batch (SQS delivers its events again)`
          : `${name}: the handler failed (Lambda retries it)`,
      );
      if (handler.breakers) this.heldAlarm(name);
      this.watchInvocations(name, handler.function);
      if (handler.inbox)
        this.alarm(
          `${name}InboxAge`,
          handler.inbox.metricApproximateAgeOfOldestMessage({
            period: Duration.minutes(5),
            statistic: 'Maximum',
          }),
          MAX_INBOX_AGE.toSeconds(),
          1,
          `${name}: an event has waited over ${MAX_INBOX_AGE.toHumanString()} in its queue (a breaker is open, or the handler is behind)`,
        );
      else
        this.alarm(
          `${name}AsyncEventsDropped`,
          this.lambdaMetric(handler.function, 'AsyncEventsDropped'),
          0,
          1,
          `${name}: Lambda dropped events invoked asynchronously (too old, or retries spent)`,
        );
      if (handler.rule) this.watchRule(name, handler.rule);
      this.alarm(
        `${name}DeadLetters`,
        kept,
        0,
        1,
        `${name}: events kept in its dead-letter queue after every retry`,
      );
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: `${name}: errors, dead letters`,
          left: [errors],
          right: [kept],
          width: 8,
        }),
      );
    }
    if (props.sagas) {
      const compensated = this.custom('SagasCompensated', props.sagas);
      const failed = this.custom('SagaCompensationsFailed', props.sagas);
      this.alarm(
        'SagasCompensated',
        compensated,
        0,
        1,
        'an RPI saga failed and compensated: its results were withdrawn',
      );
      this.alarm(
        'SagaCompensationsFailed',
        failed,
        0,
        1,
        'a saga compensation failed for good: the saga is failed and needs an operator',
      );
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'sagas: completed; compensated, steps failed, compensations failed',
          left: [this.custom('SagasCompleted', props.sagas)],
          right: [compensated, this.custom('SagaStepsFailed', props.sagas), failed],
          width: 12,
        }),
      );
    }
    if (props.rebuild) {
      const { stateMachine, feeder } = props.rebuild;
      const period = { period: Duration.minutes(5), statistic: 'Sum' };
      const failed = stateMachine.metricFailed(period);
      const timedOut = stateMachine.metricTimedOut(period);
      const aborted = stateMachine.metricAborted(period);
      this.alarm(
        'RebuildFailed',
        failed,
        0,
        1,
        'a rebuild run failed: nothing was switched; redrive it or start it again',
      );
      this.alarm(
        'RebuildTimedOut',
        timedOut,
        0,
        1,
        'a rebuild run timed out: nothing was switched',
      );
      this.alarm(
        'RebuildAborted',
        aborted,
        0,
        1,
        'a rebuild run was stopped: nothing was switched',
      );
      const feederErrors = feeder.metricErrors(period);
      this.alarm(
        'GenerationFeederErrors',
        feederErrors,
        0,
        1,
        'the generation feeder failed a batch (its mapping retries it)',
      );
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'rebuilds: runs failed, timed out, aborted; generation feeder errors',
          left: [failed, timedOut, aborted],
          right: [feederErrors],
          width: 12,
        }),
      );
    }
    if (props.api) {
      this.alarm('ApiServerErrors', props.api.serverErrors, 0, 1, 'the query API answered 5xx');
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'query API: 5xx, latency p99 (ms)',
          left: [props.api.serverErrors],
          right: [props.api.latency],
          width: 12,
        }),
      );
    }
  }

  /**
   * A rule's deliveries: what failed for good, what went to the rule's dead-letter queue, and
   * what could not even go there (AWS/Events; names from the EventBridge monitoring page).
   */
  private watchRule(name: string, rule: NonNullable<WatchedHandler['rule']>): void {
    const dimensionsMap = {
      ...(rule.eventBusName ? { EventBusName: rule.eventBusName } : {}),
      RuleName: rule.ruleName,
    };
    const metric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/Events',
        metricName,
        dimensionsMap,
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
    this.alarm(
      `${name}FailedInvocations`,
      metric('FailedInvocations'),
      0,
      1,
      `${name}: its rule failed to deliver events for good`,
    );
    this.alarm(
      `${name}InvocationsSentToDlq`,
      metric('InvocationsSentToDlq'),
      0,
      1,
      `${name}: its rule sent events to the dead-letter queue`,
    );
    this.alarm(
      `${name}InvocationsFailedToBeSentToDlq`,
      metric('InvocationsFailedToBeSentToDlq'),
      0,
      1,
      `${name}: its rule could not put undeliverable events in the dead-letter queue: they are lost`,
    );
  }

  /** A metric the handlers emit in EMF (namespace `matchstream`). */
  /**
   * A circuit breaker that stays open: the function held work (`BatchesHeld`) in each of three
   * 5-minute periods in a row. A breaker open for a moment is the breaker doing its job; one
   * open for a quarter of an hour is a dependency down that somebody must look at.
   */
  private heldAlarm(name: string): void {
    this.alarm(
      `${name}HeldByBreaker`,
      this.custom('BatchesHeld', name),
      0,
      3,
      `${name}: a circuit breaker stayed open for 15 minutes, holding its work (see the BreakerOpened metric's breaker dimension, and matchstream status)`,
    );
  }

  private custom(metricName: string, consumer: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'matchstream',
      metricName,
      dimensionsMap: { service: 'matchstream', consumer },
      statistic: 'Sum',
      period: Duration.minutes(5),
    });
  }

  private alarm(
    id: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    periods: number,
    description: string,
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: periods,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
