import { useEffect, useRef, useState } from 'preact/hooks';
import { apiUrl } from './api/client.js';
import type { Seasons } from './api/types.js';
import { instant } from './lib/format.js';
import { useLive } from './lib/live.js';
import { href, type Route, useRoute } from './lib/route.js';
import { type Loaded, useAnswer } from './lib/useAnswer.js';
import { ConferencesView } from './views/ConferencesView.js';
import { ConsumersView } from './views/ConsumersView.js';
import { DeadLettersView } from './views/DeadLettersView.js';
import { RankingsView } from './views/RankingsView.js';
import { SagasView } from './views/SagasView.js';
import { SagaView } from './views/SagaView.js';
import { StoreView } from './views/StoreView.js';
import { TeamView } from './views/TeamView.js';

const PAGES = [
  { path: '', label: 'Rankings' },
  { path: 'conferences', label: 'Conferences' },
  { path: 'store', label: 'Store' },
  { path: 'consumers', label: 'Consumers' },
  { path: 'sagas', label: 'Sagas' },
  { path: 'dead-letters', label: 'Dead letters' },
] as const;

/** The console: a header with the pages and the live state, and the page the hash names. */
export function App() {
  const route = useRoute();
  const [seasonsKey, setSeasonsKey] = useState(0);
  // Bumped by "Try again" after the seasons could not be loaded.
  const [seasonsTry, setSeasonsTry] = useState(0);
  const seasons = useAnswer<Seasons>(apiUrl('seasons'), `${seasonsKey}/${seasonsTry}`);
  // No season: the server's seasons are loading, could not be loaded, or it has rated none yet.
  const season = route.query.get('season') ?? newestSeason(seasons);
  const live = useLive(season);
  useEffect(() => setSeasonsKey(live.version), [live.version]);

  // A new page moves the focus to its heading, as a page load would for a screen reader.
  const main = useRef<HTMLElement>(null);
  const pageKey = route.path.join('/');
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.querySelector<HTMLElement>('h2')?.focus();
  }, [pageKey]);

  const current = route.path[0] ?? '';
  return (
    <>
      <button type="button" class="skip" onClick={() => main.current?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <p class="brand">
          <a href={href('', { season })}>matchstream</a>
        </p>
        <nav aria-label="Console pages">
          <ul>
            {PAGES.map((page) => (
              <li key={page.path}>
                <a
                  href={href(page.path, { season })}
                  aria-current={
                    current === page.path || (page.path === 'sagas' && current === 'saga')
                      ? 'page'
                      : undefined
                  }
                >
                  {page.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <p class="live-state" data-mode={live.mode}>
          <span class="dot" aria-hidden="true" />
          {live.mode === 'live'
            ? 'Live'
            : live.mode === 'polling'
              ? 'Checking every 10 s'
              : 'Connecting…'}
        </p>
      </header>
      <div class="notice" aria-live="polite" aria-atomic="true" id="live-notice">
        {live.change && (
          <p>
            {live.change.change === 'retracted'
              ? `Rankings of season ${live.change.season} changed: calculation ${live.change.calculation_id} was retracted`
              : `New rankings for season ${live.change.season}: calculation ${live.change.calculation_id} is current`}{' '}
            since {instant(live.change.at)}.
          </p>
        )}
      </div>
      <main id="main" ref={main} tabIndex={-1}>
        {season === undefined && seasons === undefined ? (
          <p class="note" aria-busy="true">
            Loading the seasons…
          </p>
        ) : (
          <Page
            route={route}
            season={season}
            seasons={seasons}
            version={live.version}
            retrySeasons={() => setSeasonsTry((n) => n + 1)}
          />
        )}
      </main>
    </>
  );

  /**
   * The newest season listed; none while the list loads, where it could not be loaded (never a
   * season guessed), or where nothing is rated yet.
   */
  function newestSeason(answer: Loaded<Seasons>): string | undefined {
    return answer?.kind === 'ok' ? answer.data.seasons[0]?.season : undefined;
  }
}

function Page(props: {
  route: Route;
  /** None where the server has rated no season yet (and the address names none). */
  season: string | undefined;
  seasons: Loaded<Seasons>;
  version: number;
  /** Asks for the seasons again. */
  retrySeasons: () => void;
}) {
  const { route, season, seasons, version } = props;
  const [page, id] = route.path;
  /** A page of a season where there is none: why, the seasons' error or nothing rated. */
  const noSeason = (heading: string) =>
    seasons !== undefined && seasons.kind !== 'ok' ? (
      <SeasonsFailed heading={heading} answer={seasons} retry={props.retrySeasons} />
    ) : (
      <NothingRated heading={heading} />
    );
  switch (page ?? '') {
    case '':
      return season === undefined ? (
        noSeason('Rankings')
      ) : (
        <RankingsView season={season} seasons={seasons} query={route.query} version={version} />
      );
    case 'team':
      return !id ? (
        <NotFound />
      ) : season === undefined ? (
        noSeason(id)
      ) : (
        <TeamView id={id} season={season} query={route.query} version={version} />
      );
    case 'conferences':
      return season === undefined ? (
        noSeason('Conferences')
      ) : (
        <ConferencesView season={season} query={route.query} version={version} />
      );
    case 'store':
      return <StoreView />;
    case 'consumers':
      return <ConsumersView />;
    case 'sagas':
      return <SagasView season={season} version={version} />;
    case 'saga':
      return id ? <SagaView id={id} season={season} /> : <NotFound />;
    case 'dead-letters':
      return <DeadLettersView />;
    default:
      return <NotFound />;
  }
}

/**
 * A page of the rankings where the server has rated no season yet (an empty data folder): what
 * to run, instead of a season guessed and its rankings' 404. The page shows the rankings once a
 * saga has published some (`GET /live` says so and the seasons are asked for again).
 */
function NothingRated(props: { heading: string }) {
  return (
    <>
      <h2 tabIndex={-1}>{props.heading}</h2>
      <p class="note" data-state="nothing-rated">
        Nothing is rated yet: this server has published no season's rankings. Give it a season's
        results, e.g. <code>matchstream ingest FILE --data-dir DIR</code> into the folder it serves
        (or <code>matchstream start --games FILE --data-dir DIR --serve</code>); the rankings show
        here once a saga has rated them.
      </p>
    </>
  );
}

/**
 * A page of the rankings where the server's seasons could not be loaded (it did not answer, or
 * answered an error): what went wrong and a way to ask again, instead of a season guessed.
 */
function SeasonsFailed(props: {
  heading: string;
  answer: Exclude<Loaded<Seasons>, undefined | { kind: 'ok' }>;
  retry: () => void;
}) {
  return (
    <>
      <h2 tabIndex={-1}>{props.heading}</h2>
      <div class="note error" role="alert" data-state="seasons-failed">
        <p>
          Could not load the seasons: {props.answer.message}. A season named in the address (e.g.{' '}
          <code>#/?season=2026</code>) is shown without them.
        </p>
        <button type="button" onClick={props.retry}>
          Try again
        </button>
      </div>
    </>
  );
}

function NotFound() {
  return (
    <>
      <h2 tabIndex={-1}>Page not found</h2>
      <p>
        This console has no such page: <a href="#/">back to the rankings</a>.
      </p>
    </>
  );
}
