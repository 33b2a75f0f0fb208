import { Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { CfnElement } from 'aws-cdk-lib/core';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MatchstreamStack } from '../../../infra/MatchstreamStack.js';
import { BUS_HANDLER_NAMES, BUS_HANDLERS } from '../../../sagas/handlers/busHandlers.js';
import { defaultStack } from '../../support/synth.js';

let stack: MatchstreamStack;
let template: Template;

beforeAll(() => {
  ({ stack, template } = defaultStack());
}, 120_000);

/** The logical id of a construct's CloudFormation resource. */
function ref(construct: IConstruct): { Ref: string } {
  const child = construct.node.defaultChild as CfnElement;
  return { Ref: Stack.of(construct).getLogicalId(child) };
}

interface AlarmProps {
  readonly MetricName?: string;
  readonly Namespace?: string;
  readonly Dimensions?: { Name: string; Value: unknown }[];
  readonly Metrics?: {
    Expression?: unknown;
    MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: unknown[] } };
  }[];
  readonly AlarmActions?: unknown[];
}

function alarms(): AlarmProps[] {
  return Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
    (r) => r.Properties as AlarmProps,
  );
}

/** The alarms on one metric of one namespace whose dimensions are exactly these. */
function alarmsOn(namespace: string, metricName: string, dimensions: Record<string, unknown>) {
  const wanted = Object.entries(dimensions)
    .map(([Name, Value]) => ({ Name, Value }))
    .sort((a, b) => a.Name.localeCompare(b.Name));
  return alarms().filter(
    (a) =>
      a.Namespace === namespace &&
      a.MetricName === metricName &&
      JSON.stringify([...(a.Dimensions ?? [])].sort((x, y) => x.Name.localeCompare(y.Name))) ===
        JSON.stringify(wanted),
  );
}

/** Asserts one alarm on the metric, notifying the alarm topic. */
function expectAlarm(namespace: string, metricName: string, dimensions: Record<string, unknown>) {
  const found = alarmsOn(namespace, metricName, dimensions);
  expect(found, `${namespace} ${metricName} ${JSON.stringify(dimensions)}`).toHaveLength(1);
  expect(found[0]?.AlarmActions).toEqual([ref(stack.monitoring.topic)]);
}

describe('the alarms that catch a stalled or failing pipeline', () => {
  it("watches the events table's replication to Kinesis: age of the oldest change, failed and throttled records", () => {
    // These carry TableName and DelegatedOperation; the query selects the table whatever the
    // operation's value.
    const table = ref(stack.eventStore.table);
    for (const metric of [
      'AgeOfOldestUnreplicatedRecord',
      'FailedToReplicateRecordCount',
      'ThrottledPutRecordCount',
    ]) {
      const found = alarms().filter((a) =>
        JSON.stringify(a.Metrics ?? []).includes(`(${metric}) FROM SCHEMA`),
      );
      expect(found, metric).toHaveLength(1);
      const expression = found[0]?.Metrics?.[0]?.Expression;
      expect(expression).toEqual({
        'Fn::Join': [
          '',
          [
            expect.stringMatching(
              new RegExp(
                `^SELECT (MAX|SUM)\\(${metric}\\) FROM SCHEMA\\("AWS/DynamoDB", DelegatedOperation, TableName\\) WHERE TableName = '$`,
              ),
            ),
            table,
            "'",
          ],
        ],
      });
      expect(found[0]?.AlarmActions).toEqual([ref(stack.monitoring.topic)]);
    }
  });

  it('watches Lambda throttles and failed deliveries to on-failure destinations of every function', () => {
    const functions = [
      ...Object.values(stack.consumers).map((c) => c.function),
      ...Object.values(stack.handlers).map((h) => h.function),
      stack.sweep.function,
      stack.supervisor.function,
    ];
    for (const fn of functions) {
      expectAlarm('AWS/Lambda', 'Throttles', { FunctionName: ref(fn) });
      expectAlarm('AWS/Lambda', 'DestinationDeliveryFailures', { FunctionName: ref(fn) });
    }
  });

  it("watches the bus handlers' queues for events waiting too long, the scheduled functions for dropped events, and the rules for failed deliveries", () => {
    for (const name of BUS_HANDLER_NAMES) {
      const handler = stack.handlers[name];
      expectAlarm('AWS/SQS', 'ApproximateAgeOfOldestMessage', {
        QueueName: {
          'Fn::GetAtt': [
            stack.getLogicalId(handler.inbox.node.defaultChild as CfnElement),
            'QueueName',
          ],
        },
      });
      // A rule on a custom bus: EventBusName and RuleName.
      const bus = stack.buses.buses[BUS_HANDLERS[name].bus];
      for (const metric of [
        'FailedInvocations',
        'InvocationsSentToDlq',
        'InvocationsFailedToBeSentToDlq',
      ])
        expectAlarm('AWS/Events', metric, {
          EventBusName: ref(bus),
          RuleName: ref(handler.rule),
        });
    }
    // The sweep's schedule is on the default bus: RuleName alone.
    for (const scheduled of [stack.sweep, stack.supervisor]) {
      expectAlarm('AWS/Lambda', 'AsyncEventsDropped', { FunctionName: ref(scheduled.function) });
      for (const metric of [
        'FailedInvocations',
        'InvocationsSentToDlq',
        'InvocationsFailedToBeSentToDlq',
      ])
        expectAlarm('AWS/Events', metric, { RuleName: ref(scheduled.rule) });
    }
  });

  it('watches every table for throttled reads and writes', () => {
    const tables = [
      stack.eventStore.table,
      ...Object.values(stack.readModels.tables),
      ...Object.values(stack.runtimeTables.tables),
      ...Object.values(stack.sagaTables.tables),
    ];
    for (const table of tables) {
      const found = alarms().filter((a) => {
        const stats = (a.Metrics ?? []).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
        return (
          stats.length === 2 &&
          stats.every(
            (m) =>
              m.Namespace === 'AWS/DynamoDB' &&
              JSON.stringify(m.Dimensions) ===
                JSON.stringify([{ Name: 'TableName', Value: ref(table) }]),
          ) &&
          stats
            .map((m) => m.MetricName)
            .sort()
            .join() === 'ReadThrottleEvents,WriteThrottleEvents'
        );
      });
      expect(found, table.node.path).toHaveLength(1);
      expect(found[0]?.AlarmActions).toEqual([ref(stack.monitoring.topic)]);
    }
  });

  it("shows every function's concurrent executions on the dashboard", () => {
    const body = JSON.stringify(
      Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties
        ?.DashboardBody,
    );
    const functions = [
      ...Object.values(stack.consumers).map((c) => c.function),
      ...Object.values(stack.handlers).map((h) => h.function),
      stack.sweep.function,
      stack.api.function,
    ];
    for (const fn of functions)
      expect(body).toContain(
        JSON.stringify(`["AWS/Lambda","ConcurrentExecutions","FunctionName","`).slice(1, -1) +
          `",${JSON.stringify(ref(fn))},"`,
      );
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardBody: Match.anyValue(),
    });
  });
});
