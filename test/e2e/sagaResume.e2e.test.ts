import { describe, expect, it } from 'vitest';
import { runMatchstream } from '../../chaos/command.js';
import { foldSaga, hasEnded, type SagaState } from '../../sagas/sagaState.js';
import type { EventEnvelope } from '../../stream/EventEnvelope.js';
import { EVENTS_TABLE } from '../../stream/eventStore/eventsTable.js';
import { openEventStore } from '../../stream/local/openEventStore.js';
import { CLI_MODULES, interruptedCli, runCli } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();

/**
 * The appends of an RPI saga whose `update_cache` fails at every attempt, up to its last
 * compensation: SagaStarted; collect_matches, calculate_rpi and publish_results started and
 * completed; update_cache started and failed three times; the four compensations started and
 * completed. SagaCompensated would be the next.
 */
const UP_TO_LAST_COMPENSATION = 1 + 3 * 2 + 3 * 2 + 4 * 2;

/** The sagas of a data folder no process holds that have not ended, read from its store. */
async function unfinishedSagas(dataDir: string): Promise<SagaState[]> {
  const opened = await openEventStore({ dataDir, readOnly: true });
  try {
    const streams = new Map<string, EventEnvelope[]>();
    for await (const page of opened.store.readAll())
      for (const e of page)
        if (e.aggregate_id.startsWith('saga:'))
          streams.set(e.aggregate_id, [...(streams.get(e.aggregate_id) ?? []), e]);
    return [...streams.values()]
      .map((events) => foldSaga(events.sort((a, b) => a.sequence - b.sequence)))
      .filter((s): s is SagaState => s !== undefined && !hasEnded(s));
  } finally {
    await opened.close();
  }
}

describe('matchstream saga resume', () => {
  it('carries on with the saga a saga start stopped by Ctrl-C left, and stops on Ctrl-C itself, each saying so', async () => {
    // Prepare: a season rated; a saga whose update_cache times out at every attempt.
    const data = tmp.path('interrupted');
    await runCli(['start', '--teams', '8', '--games-per-team', '3', '--data-dir', data, '--quiet']);
    const timeout = ['--inject-fault', 'saga:update_cache:timeout'];

    // Act: each stopped once the step failed once, then a resume run to the end.
    const start = await interruptedCli(
      ['saga', 'start', 'rpi', '--season', '2026', '--data-dir', data, ...timeout],
      /"msg":"saga step failed"/,
    );
    const sagaId = /^saga (\S+) started$/m.exec(start.stderr)?.[1];
    const resume = await interruptedCli(
      ['saga', 'resume', '--data-dir', data, ...timeout],
      /"msg":"saga step failed"/,
    );
    const resumed = await runCli(['saga', 'resume', '--data-dir', data, '--json']);

    // Assess
    expect(start.code, start.stderr).toBe(1);
    expect(start.stderr).toMatch(
      new RegExp(
        `^matchstream: saga start interrupted; saga ${sagaId} is left unfinished in \\S+: "matchstream saga resume --data-dir \\S+" carries it on$`,
        'm',
      ),
    );
    expect(resume.code, resume.stderr).toBe(1);
    expect(resume.stderr).toMatch(
      /^matchstream: saga resume interrupted; run it again to carry on with the sagas left unfinished in \S+$/m,
    );
    for (const run of [start, resume]) {
      expect(run.stderr).toContain('interrupted: stopping (Ctrl-C again to stop at once)\n');
      expect(run.seconds).toBeLessThan(15);
    }
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({
      sagas: [{ id: sagaId, status: 'completed' }],
    });
  });

  it('reports a saga a killed run left unfinished that the sweep ends before the command looks, and exits 1 as it was compensated', async () => {
    // Prepare: a season rated, then a saga made to compensate, its process killed with SIGKILL
    // as soon as its last compensation is stored. It is one move (SagaCompensated) from its
    // end, which the coordinator's sweep makes as soon as a pipeline starts on the folder:
    // before the read models have caught up, so before a command that waits for them looks.
    const data = tmp.path('data');
    const started = await runCli([
      'start',
      '--teams',
      '8',
      '--games-per-team',
      '3',
      '--data-dir',
      data,
      '--quiet',
    ]);
    const killed = await runMatchstream(
      CLI_MODULES,
      [
        'saga',
        'start',
        'rpi',
        '--season',
        '2026',
        '--data-dir',
        data,
        '--inject-fault',
        'saga:update_cache',
      ],
      undefined,
      { killAt: `PutItem:${EVENTS_TABLE}/saga:${UP_TO_LAST_COMPENSATION}` },
    );
    const left = await unfinishedSagas(data);

    // Act
    const resumed = await runCli(['saga', 'resume', '--data-dir', data, '--json']);
    const text = await runCli(['saga', 'resume', '--data-dir', data]);
    const listed = await runCli(['saga', 'list', '--data-dir', data, '--json']);

    // Assess: the saga as the kill left it.
    expect(started.code).toBe(0);
    expect(killed.killed, killed.stderr).toBe(true);
    expect(left).toHaveLength(1);
    const saga = left[0] as SagaState;
    expect(saga.status).toBe('compensating');
    expect(saga.steps.map((s) => s.compensation.status)).toEqual([
      'completed',
      'completed',
      'completed',
      'completed',
    ]);
    // The resume names it with its outcome and fails, as for any saga compensated.
    expect(resumed.code, resumed.stderr).toBe(1);
    expect(JSON.parse(resumed.stdout)).toMatchObject({
      sagas: [
        {
          id: saga.sagaId,
          status: 'compensated',
          failed_step: 'update_cache',
          compensations: [
            'rollback_cache',
            'rollback_publication',
            'rollback_calculation',
            'rollback_matches',
          ],
        },
      ],
    });
    expect(resumed.stderr).toContain(
      `matchstream: saga ${saga.sagaId} compensated after update_cache failed: injected failure of update_cache\n`,
    );
    // Nothing is left to resume afterwards.
    expect(text).toMatchObject({ code: 0, stdout: 'no saga to resume\n' });
    expect(JSON.parse(listed.stdout).sagas[0]).toMatchObject({
      saga_id: saga.sagaId,
      status: 'compensated',
    });
  });
});
