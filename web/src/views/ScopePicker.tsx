import { useEffect, useState } from 'preact/hooks';
import type { Seasons } from '../api/types.js';
import { href } from '../lib/route.js';
import type { Scope } from '../lib/scope.js';
import type { Loaded } from '../lib/useAnswer.js';

/**
 * Picks the calculation to show: the season, and optionally the day, division, profile and RPI
 * variant of a scoped calculation. With `GET /seasons` it offers the published calculations' values; without
 * it, free fields. Submitting goes to `page` with the scope in its query.
 */
export function ScopePicker(props: {
  page: string;
  scope: Scope;
  seasons: Loaded<Seasons>;
  /** The profile of the season's current rankings, "The season's" of the profile field. */
  seasonProfile?: string | undefined;
}) {
  const { scope, seasons } = props;
  const [season, setSeason] = useState(scope.season);
  const [asOf, setAsOf] = useState(scope.as_of ?? '');
  const [division, setDivision] = useState(scope.division ?? '');
  const [profile, setProfile] = useState(scope.profile ?? '');
  const [variant, setVariant] = useState(scope.variant ?? '');
  // The fields show the scope of the page's address whenever that changes (Show, Back, a
  // link): the form itself stays, and with it the focus of whoever pressed Show.
  const shown = JSON.stringify(scope);
  useEffect(() => {
    setSeason(scope.season);
    setAsOf(scope.as_of ?? '');
    setDivision(scope.division ?? '');
    setProfile(scope.profile ?? '');
    setVariant(scope.variant ?? '');
  }, [shown]);
  const listed = seasons?.kind === 'ok' ? seasons.data.seasons : undefined;
  const calculations = (listed?.find((s) => s.season === season)?.calculations ?? []).filter(
    (c) => c.status === 'published',
  );
  const distinct = (values: readonly (string | null)[]) =>
    [...new Set(values.filter((v): v is string => v !== null))].sort();
  const profiles = distinct(calculations.map((c) => c.profile));
  const variants = distinct(calculations.map((c) => c.variant)).filter((v) => v !== 'unadjusted');
  const divisions = distinct(calculations.map((c) => c.division));
  // The days of the calculations of the division, profile and variant chosen; "The season's"
  // profile is that of the season shown, where known (of another season, any profile).
  const chosenProfile = profile || (season === scope.season ? props.seasonProfile : undefined);
  const days = distinct(
    calculations
      .filter(
        (c) =>
          (c.division ?? '') === division &&
          (chosenProfile === undefined || c.profile === chosenProfile) &&
          c.variant === (variant || 'unadjusted'),
      )
      .map((c) => c.as_of),
  ).reverse();

  return (
    <form
      class="scope"
      aria-label="Calculation shown"
      onSubmit={(event) => {
        event.preventDefault();
        location.hash = href(props.page, { season, as_of: asOf, division, profile, variant });
      }}
    >
      <div class="field">
        <label for="scope-season">Season</label>
        {listed ? (
          <select
            id="scope-season"
            value={season}
            onChange={(e) => setSeason(e.currentTarget.value)}
          >
            {listed.map((s) => (
              <option key={s.season} value={s.season}>
                {s.season}
              </option>
            ))}
            <Unpublished value={season} published={listed.map((s) => s.season)} label={season} />
          </select>
        ) : (
          <input
            id="scope-season"
            value={season}
            size={6}
            onInput={(e) => setSeason(e.currentTarget.value)}
          />
        )}
      </div>
      <div class="field">
        <label for="scope-as-of">As of</label>
        {listed ? (
          <select id="scope-as-of" value={asOf} onChange={(e) => setAsOf(e.currentTarget.value)}>
            <option value="">Latest (whole season)</option>
            {days.map((day) => (
              <option key={day} value={day}>
                {day}
              </option>
            ))}
            <Unpublished value={asOf} published={days} label={asOf} />
          </select>
        ) : (
          <input
            id="scope-as-of"
            type="date"
            value={asOf}
            onInput={(e) => setAsOf(e.currentTarget.value)}
          />
        )}
      </div>
      <div class="field">
        <label for="scope-division">Division</label>
        {listed ? (
          <select
            id="scope-division"
            value={division}
            onChange={(e) => setDivision(e.currentTarget.value)}
          >
            <option value="">All divisions</option>
            {divisions.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
            <Unpublished value={division} published={divisions} label={division} />
          </select>
        ) : (
          <input
            id="scope-division"
            value={division}
            size={6}
            onInput={(e) => setDivision(e.currentTarget.value)}
          />
        )}
      </div>
      <div class="field">
        <label for="scope-profile">Profile</label>
        {listed ? (
          <select
            id="scope-profile"
            value={profile}
            onChange={(e) => setProfile(e.currentTarget.value)}
          >
            <option value="">The season's</option>
            {profiles.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
            <Unpublished value={profile} published={profiles} label={profile} />
          </select>
        ) : (
          <input
            id="scope-profile"
            value={profile}
            size={16}
            onInput={(e) => setProfile(e.currentTarget.value)}
          />
        )}
      </div>
      <div class="field">
        <label for="scope-variant">RPI</label>
        {listed ? (
          <select
            id="scope-variant"
            value={variant}
            onChange={(e) => setVariant(e.currentTarget.value)}
          >
            <option value="">Unadjusted</option>
            {variants.map((v) => (
              <option key={v} value={v}>
                {variantLabel(v)}
              </option>
            ))}
            <Unpublished value={variant} published={variants} label={variantLabel(variant)} />
          </select>
        ) : (
          <input
            id="scope-variant"
            value={variant}
            size={14}
            onInput={(e) => setVariant(e.currentTarget.value)}
          />
        )}
      </div>
      <button type="submit">Show</button>
    </form>
  );
}

/** An RPI variant's name in the picker. */
function variantLabel(variant: string) {
  return variant === 'adjusted'
    ? 'Adjusted'
    : variant === 'non-conference'
      ? 'Non-conference'
      : variant;
}

/**
 * The value a field holds that no published calculation offers (the page's address names it: a
 * link made by hand, or kept from a calculation since retracted), as an option of its own, so
 * that the field shows the scope the page shows rather than nothing.
 */
function Unpublished(props: { value: string; published: readonly string[]; label: string }) {
  if (props.value === '' || props.published.includes(props.value)) return null;
  return <option value={props.value}>{props.label} (none published)</option>;
}
