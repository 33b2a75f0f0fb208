import type { Rankings } from '../api/types.js';
import { count, instant } from '../lib/format.js';

/** Which calculation a page's numbers come from. */
export function Calculation(props: { rankings: Rankings }) {
  const r = props.rankings;
  return (
    <dl class="facts" aria-label="Calculation" id="calculation">
      <div>
        <dt>As of</dt>
        <dd data-field="as_of">{r.as_of ?? 'whole season'}</dd>
      </div>
      <div>
        <dt>Games counted</dt>
        <dd data-field="games_counted">{count(r.games_counted)}</dd>
      </div>
      <div>
        <dt>Profile</dt>
        <dd data-field="profile">{r.profile}</dd>
      </div>
      <div>
        <dt>RPI</dt>
        <dd data-field="variant">{r.variant}</dd>
      </div>
      <div>
        <dt>Division</dt>
        <dd data-field="division">{r.division ?? 'all'}</dd>
      </div>
      <div>
        <dt>Published</dt>
        <dd data-field="published_at">{instant(r.published_at)}</dd>
      </div>
      <div>
        <dt>Calculation</dt>
        <dd data-field="calculation_id" class="id">
          {r.calculation_id}
        </dd>
      </div>
    </dl>
  );
}
