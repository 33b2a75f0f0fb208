import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { alarmTopic } from './alarmTopic.js';
import type { StreamConsumer } from './StreamConsumer.js';

/** A function invoked asynchronously (a rule's target) with the queue of what it failed. */
export interface WatchedHandler {
  readonly function: lambda.IFunction;
  readonly deadLetters: sqs.IQueue;
}

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
  /** The query API's 5xx responses. */
  readonly api?: {
    readonly serverErrors: cloudwatch.IMetric;
    readonly latency: cloudwatch.IMetric;
  };
  /** Iterator age that raises an alarm. @default 1 minute */
  readonly maxIteratorAge?: Duration;
  /** p99 invocation duration that raises an alarm. @default 30 seconds */
  readonly maxDuration?: Duration;
}

/**
 * A CloudWatch dashboard and alarms for what the original design watches: how far behind each
 * consumer reads (iterator age), records kept in its on-failure queue, handler errors, events
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
      const kept = consumer.onFailure.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      });
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
        `${name}OnFailure`,
        kept,
        0,
        1,
        `${name}: records kept in the on-failure queue, read them with matchstream inspect`,
      );
      this.alarm(
        `${name}Duration`,
        duration,
        maxDuration.toMilliseconds(),
        3,
        `${name}: p99 processing time over ${maxDuration.toHumanString()}`,
      );
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({ title: `${name}: iterator age (ms)`, left: [age], width: 8 }),
        new cloudwatch.GraphWidget({
          title: `${name}: events applied, errors`,
          left: [this.custom('EventsApplied', name)],
          right: [errors],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: `${name}: duration p99 (ms), on-failure queue`,
          left: [duration],
          right: [kept],
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
  }

  private watchHandlers(props: MonitoringProps): void {
    for (const [name, handler] of Object.entries(props.handlers ?? {})) {
      const errors = handler.function.metricErrors({ period: Duration.minutes(5) });
      const kept = handler.deadLetters.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      });
      this.alarm(`${name}Errors`, errors, 0, 1, `${name}: the handler failed (Lambda retries it)`);
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

  /** A metric the handlers emit in EMF (namespace `matchstream`). */
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
