import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { StreamConsumer } from './StreamConsumer.js';

export interface MonitoringProps {
  /** Names the dashboard, e.g. `matchstream-prod`. */
  readonly name: string;
  readonly key: kms.IKey;
  /** The stream consumers, by consumer name. */
  readonly consumers: Readonly<Record<string, StreamConsumer>>;
  /** The consumer that publishes onto the buses (its `PutEventsFailed` metric is watched). */
  readonly publisher: string;
  /** Iterator age that raises an alarm. @default 1 minute */
  readonly maxIteratorAge?: Duration;
  /** p99 invocation duration that raises an alarm. @default 30 seconds */
  readonly maxDuration?: Duration;
}

/**
 * A CloudWatch dashboard and alarms for what the original design watches: how far behind each
 * consumer reads (iterator age), records kept in its on-failure queue, handler errors, events
 * EventBridge refused (`PutEventsFailed`, from the bus router's metrics) and processing time.
 * Every alarm notifies an encrypted SNS topic that refuses plain HTTP; subscribe to it.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Alarms', {
      displayName: `${props.name} alarms`,
      masterKey: props.key,
      enforceSSL: true,
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
