import { useState } from 'preact/hooks';
import { apiUrl, postJson } from '../api/client.js';
import type { DeadLetters, Health, RedriveSummary } from '../api/types.js';
import { Pending } from '../components/Pending.js';
import { ScrollArea } from '../components/ScrollArea.js';
import { instant } from '../lib/format.js';
import { useAnswer } from '../lib/useAnswer.js';

const TOKEN_KEY = 'matchstream.api-token';

/** The dead letters with their reasons, and a redrive of those selected (with the API token). */
export function DeadLettersView() {
  const [refresh, setRefresh] = useState(0);
  const letters = useAnswer<DeadLetters>(apiUrl('dead-letters'), refresh);
  const health = useAnswer<Health>(
    letters?.kind === 'unavailable' ? apiUrl('health') : undefined,
    refresh,
  );
  return (
    <>
      <h2 tabIndex={-1}>Dead letters</h2>
      {letters?.kind === 'unavailable' ? (
        <>
          <p class="note unavailable" data-state="unavailable">
            The list of dead letters: not available on this server ({letters.status}).
          </p>
          <Pending answer={health} what="the dead-letter count">
            {(h) => <p>{h.dead_letters} dead letters wait.</p>}
          </Pending>
        </>
      ) : (
        <Pending answer={letters} what="the dead letters">
          {(data) => <Letters letters={data} onRedriven={() => setRefresh((n) => n + 1)} />}
        </Pending>
      )}
    </>
  );
}

function Letters(props: { letters: DeadLetters; onRedriven: () => void }) {
  const { letters, queues, notes, redrive: how } = props.letters;
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [token, setToken] = useState(() => sessionStorage.getItem(TOKEN_KEY) ?? '');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<string>();
  const toggle = (id: string, on: boolean) =>
    setSelected((now) => {
      const next = new Set(now);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const redrive = async () => {
    setBusy(true);
    setOutcome(undefined);
    sessionStorage.setItem(TOKEN_KEY, token);
    const answer = await postJson<RedriveSummary>(
      apiUrl('dead-letters/redrive'),
      // The letters selected; the button is off while none is.
      { ids: [...selected] },
      token.trim(),
    );
    setBusy(false);
    if (answer.kind !== 'ok') {
      setOutcome(`Not redriven: ${answer.message}`);
      return;
    }
    setOutcome(describe(answer.data));
    setSelected(new Set());
    props.onRedriven();
  };
  const form = (
    <form
      class="inline-form"
      onSubmit={(event) => {
        event.preventDefault();
        void redrive();
      }}
    >
      <div class="field">
        <label for="api-token">API token</label>
        <input
          id="api-token"
          type="password"
          autocomplete="off"
          value={token}
          aria-describedby="api-token-hint"
          onInput={(e) => setToken(e.currentTarget.value)}
        />
        <span id="api-token-hint" class="hint">
          The server's data folder holds it, in the file <code>api-token</code>. Kept for this
          browser tab only.
        </span>
      </div>
      <button type="submit" disabled={busy || selected.size === 0 || token.trim() === ''}>
        Redrive {selected.size} selected
      </button>
    </form>
  );
  const list = (
    <>
      <ScrollArea label="Dead letters">
        <table id="dead-letters">
          <caption>Dead letters, with why they failed</caption>
          <thead>
            <tr>
              {how.api && <th scope="col">Select</th>}
              <th scope="col">Consumer</th>
              <th scope="col">Kind</th>
              <th scope="col">Error</th>
              <th scope="col" class="num">
                Attempts
              </th>
              <th scope="col">Failed at</th>
              <th scope="col">Events</th>
            </tr>
          </thead>
          <tbody>
            {letters.map((letter) => (
              <tr key={letter.id}>
                {how.api && (
                  <td>
                    <input
                      type="checkbox"
                      id={`letter-${letter.id}`}
                      aria-label={`Select letter ${letter.id}`}
                      checked={selected.has(letter.id)}
                      onChange={(e) => toggle(letter.id, e.currentTarget.checked)}
                    />
                  </td>
                )}
                <td>{letter.consumer}</td>
                <td>{letter.kind}</td>
                <td class="error-text">{letter.error}</td>
                <td class="num">{letter.attempts}</td>
                <td>{instant(letter.failed_at)}</td>
                <td>
                  {letter.events
                    .map(
                      (e) =>
                        `${e.aggregate_id} #${e.sequence}${e.last_sequence !== e.sequence ? `–${e.last_sequence}` : ''}`,
                    )
                    .join(', ')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollArea>
      {how.api ? form : <RedriveCommand command={how.command} />}
    </>
  );
  // The status line stays whatever the list holds, so that what it says next is announced.
  return (
    <>
      {notes.map((note) => (
        <p class="note" key={note}>
          {note}
        </p>
      ))}
      {letters.length === 0 ? (
        <>
          <p class="note" id="no-letters">
            {queues.length === 0
              ? 'No dead letter: every event was handled.'
              : 'No dead letter in the table or the failure bucket.'}
          </p>
          {!how.api && <RedriveCommand command={how.command} />}
        </>
      ) : (
        list
      )}
      {queues.length > 0 && <Queues queues={queues} />}
      <p role="status" id="redrive-outcome">
        {outcome}
      </p>
    </>
  );
}

/** Where the API does not redrive: the command that does. */
function RedriveCommand(props: { command: string | null }) {
  return (
    <p class="note" id="redrive-command">
      This server does not redrive.
      {props.command ? (
        <>
          {' '}
          The command lists every letter, the queues' messages included, and redrives them:{' '}
          <code>{props.command}</code>
        </>
      ) : null}
    </p>
  );
}

/** The queues, counted from their attributes: their messages are not read here. */
function Queues(props: { queues: DeadLetters['queues'] }) {
  return (
    <ScrollArea label="Dead-letter queues">
      <table id="dead-letter-queues">
        <caption>Dead-letter queues, counted without reading their messages</caption>
        <thead>
          <tr>
            <th scope="col">Queue</th>
            <th scope="col">Consumer</th>
            <th scope="col" class="num">
              Messages
            </th>
            <th scope="col" class="num">
              Held by a reader
            </th>
            <th scope="col">Redrive</th>
          </tr>
        </thead>
        <tbody>
          {props.queues.map((q) => (
            <tr key={q.queue}>
              <td>{q.queue}</td>
              <td>{q.consumer}</td>
              <td class="num">{q.messages}</td>
              <td class="num">{q.in_flight}</td>
              <td>
                {q.redriven ? 'redriven' : 'listed only (its next scheduled run does the work)'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollArea>
  );
}

/** What a redrive did, in a sentence. */
function describe(summary: RedriveSummary): string {
  const parts = [`${summary.redriven.length} redriven`];
  if (summary.still_failing.length)
    parts.push(
      `${summary.still_failing.length} still failing (${summary.still_failing.map((f) => f.error).join('; ')})`,
    );
  if (summary.skipped.length)
    parts.push(
      `${summary.skipped.length} skipped (${summary.skipped.map((s) => s.why).join('; ')})`,
    );
  return `${parts.join(', ')}.`;
}
