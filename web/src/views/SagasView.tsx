import { useEffect, useState } from 'preact/hooks';
import { apiUrl } from '../api/client.js';
import type { Health, SagaList, SagaStatus as SagaStatusName } from '../api/types.js';
import { numeric, ScrollingTable } from '../components/DataTable.js';
import { Pending } from '../components/Pending.js';
import { duration, instant } from '../lib/format.js';
import { href } from '../lib/route.js';
import { useAnswer } from '../lib/useAnswer.js';
import { useBackoffTick } from '../lib/useTick.js';

/** How often the list asks for the sagas again while one of them runs or compensates. */
export const SAGAS_POLL_MS = 2_000;

/** How long at most between two asks while nothing the list shows moves (a saga stuck). */
export const SAGAS_POLL_MAX_MS = 60_000;

/** Whether a saga is still under way: running its steps or compensating. */
export const unfinished = (status: SagaStatusName) =>
  status === 'in_progress' || status === 'compensating';

/**
 * The latest sagas with their status, fetched again when the rankings change and, while one of
 * them (or one the metrics count) is unfinished, every 2 s until they have all ended; less and
 * less often (up to a minute apart) while nothing they show moves, as when a saga is stuck. A
 * saga's page shows its timeline.
 */
export function SagasView(props: { season: string | undefined; version: number }) {
  const [running, setRunning] = useState(false);
  const [shown, setShown] = useState<string>();
  const tick = useBackoffTick(SAGAS_POLL_MS, SAGAS_POLL_MAX_MS, running, shown);
  const refresh = `${props.version}/${tick}`;
  const sagas = useAnswer<SagaList>(apiUrl('sagas', { limit: '50' }), refresh);
  const health = useAnswer<Health>(apiUrl('health'), refresh);
  const now =
    (sagas?.kind === 'ok' && sagas.data.sagas.some((s) => unfinished(s.status))) ||
    (health?.kind === 'ok' && health.data.sagas.running > 0);
  useEffect(() => setRunning(now), [now]);
  // What the page shows of the sagas: while it stays the same, the list is asked for less often.
  const state = JSON.stringify([
    sagas?.kind === 'ok' ? sagas.data.sagas.map((s) => [s.saga_id, s.status, s.version]) : null,
    health?.kind === 'ok' ? health.data.sagas : null,
  ]);
  useEffect(() => setShown(state), [state]);
  return (
    <>
      <h2 tabIndex={-1}>Sagas</h2>
      <Pending answer={health} what="the saga metrics">
        {(h) => (
          <dl class="facts" aria-label="Saga metrics">
            <div>
              <dt>Total</dt>
              <dd>{h.sagas.total}</dd>
            </div>
            <div>
              <dt>Running</dt>
              <dd>{h.sagas.running}</dd>
            </div>
            <div>
              <dt>Completed</dt>
              <dd>{h.sagas.completed}</dd>
            </div>
            <div>
              <dt>Compensated</dt>
              <dd>{h.sagas.compensated}</dd>
            </div>
            <div>
              <dt>Failed</dt>
              <dd>{h.sagas.failed}</dd>
            </div>
            <div>
              <dt>Mean duration</dt>
              <dd>{duration(h.sagas.mean_duration_ms)}</dd>
            </div>
          </dl>
        )}
      </Pending>
      <SagaLookup season={props.season} />
      <Pending answer={sagas} what="the list of sagas">
        {(list) =>
          list.sagas.length === 0 ? (
            <p class="note">No saga has run.</p>
          ) : (
            <ScrollingTable
              label="Sagas"
              id="sagas"
              caption="The latest sagas, newest first"
              headings={['Saga', 'Type', 'Status', 'Failed step', 'Started', ...numeric('Took')]}
            >
              {list.sagas.map((s) => (
                <tr key={s.saga_id} data-status={s.status}>
                  <th scope="row">
                    <a class="id" href={href('saga', s.saga_id, { season: props.season })}>
                      {s.saga_id.slice(0, 8)}
                    </a>
                  </th>
                  <td>{s.saga_type}</td>
                  <td>
                    <SagaStatus status={s.status} />
                  </td>
                  <td>
                    {s.failed_step ?? '–'}
                    {s.error && <span class="error-text"> {s.error}</span>}
                  </td>
                  <td>{instant(s.started_at)}</td>
                  <td class="num">
                    {s.finished_at
                      ? duration(Date.parse(s.finished_at) - Date.parse(s.started_at))
                      : 'running'}
                  </td>
                </tr>
              ))}
            </ScrollingTable>
          )
        }
      </Pending>
    </>
  );
}

/** A saga's status as a badge: good, bad or under way. */
export function SagaStatus(props: { status: string }) {
  const tone =
    props.status === 'completed'
      ? 'good'
      : props.status === 'compensated' || props.status === 'failed'
        ? 'bad'
        : 'warn';
  return <span class={`badge ${tone}`}>{props.status.replace('_', ' ')}</span>;
}

function SagaLookup(props: { season: string | undefined }) {
  const [id, setId] = useState('');
  return (
    <form
      class="inline-form"
      onSubmit={(event) => {
        event.preventDefault();
        if (id.trim()) location.hash = href('saga', id.trim(), { season: props.season });
      }}
    >
      <div class="field">
        <label for="saga-id">Saga id</label>
        <input id="saga-id" value={id} size={38} onInput={(e) => setId(e.currentTarget.value)} />
      </div>
      <button type="submit">Show saga</button>
    </form>
  );
}
