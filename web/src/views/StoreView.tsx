import { apiUrl } from '../api/client.js';
import type { Health, Store } from '../api/types.js';
import { ScrollingTable } from '../components/DataTable.js';
import { EventsByDay } from '../components/EventsByDay.js';
import { Pending } from '../components/Pending.js';
import { bytes, count } from '../lib/format.js';
import { useAnswer } from '../lib/useAnswer.js';

/** The event store: its events by type and day, its size, its schemas and their versions. */
export function StoreView() {
  const store = useAnswer<Store>(apiUrl('store'));
  // Without `GET /store`, the events by type and day are in `GET /health` too.
  const health = useAnswer<Health>(store?.kind === 'unavailable' ? apiUrl('health') : undefined);
  return (
    <>
      <h2 tabIndex={-1}>Event store</h2>
      {store?.kind === 'unavailable' ? (
        <>
          <p class="note unavailable" data-state="unavailable">
            The store's size and schemas: not available on this server ({store.status}).
          </p>
          <Pending answer={health} what="the events applied">
            {(h) => <EventsByDay events={h.events} />}
          </Pending>
        </>
      ) : (
        <Pending answer={store} what="the store">
          {(s) => (
            <>
              <EventsByDay events={s.events} />
              <h3>Size</h3>
              <dl class="facts">
                <div>
                  <dt>Items</dt>
                  <dd data-field="items">{count(s.size.items)}</dd>
                </div>
                <div>
                  <dt>Bytes</dt>
                  <dd data-field="bytes">{bytes(s.size.bytes)}</dd>
                </div>
              </dl>
              <h3>Schemas</h3>
              <ScrollingTable
                label="Schemas"
                id="schemas"
                caption="Event schemas, their versions and compatibility mode"
                headings={['Event type', 'Compatibility', 'Versions (fingerprint)']}
              >
                {s.schemas.map((schema) => (
                  <tr key={schema.event_type}>
                    <th scope="row">{schema.event_type}</th>
                    <td>{schema.compatibility}</td>
                    <td>
                      <ul class="versions">
                        {schema.versions.map((v) => (
                          <li key={v.version}>
                            v{v.version} <code>{v.fingerprint.slice(0, 16)}</code>
                            {v.latest && <span class="badge good">latest</span>}
                          </li>
                        ))}
                      </ul>
                    </td>
                  </tr>
                ))}
              </ScrollingTable>
            </>
          )}
        </Pending>
      )}
    </>
  );
}
