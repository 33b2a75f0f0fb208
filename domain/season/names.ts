import type { Random } from './Random.js';

const PLACE_STARTS = (
  'Ash Bay Bell Birch Black Blue Brook Cedar Clear Cliff Cold Corn Crest Deer Eagle East ' +
  'Elm Fair Falcon Fern Fox Glen Gold Granite Green Hawk Hazel High Holly Iron Lake ' +
  'Laurel Lind Maple Marble Meadow Mill Moss New North Oak Pine Pleasant Red River Rock ' +
  'Rose Sand Silver Spring Stone Summer Sun Timber West White Willow Wind Winter Wolf'
).split(' ');
const PLACE_ENDS = (
  'bridge brook burg bury dale field ford gate haven hill hurst land ley mont moor port ' +
  'ridge shire side stead ton vale view ville water wick wood worth'
).split(' ');
const DIRECTIONS = 'North South East West Central Northern Southern'.split(' ');
const SUFFIXES = 'State University College Tech A&M Christian Baptist'.split(' ');
const SAINTS = "Mary's|Joseph's|Francis|Peter's|Anselm|Rose|Thomas|Michael's".split('|');
const REGIONS = (
  'Atlantic|Pacific|Great Lakes|Mountain|Gulf|Prairie|Coastal|Northern|Southern|Valley|' +
  'Midland|Frontier|Summit|Heartland|Bayou|Piedmont|Canyon|Northeast|Sun Belt|Big Sky|' +
  'Colonial|Horizon|Patriot|Ivy'
).split('|');
const KINDS = 'Conference|Athletic Conference|Collegiate Conference|League'.split('|');

function place(random: Random): string {
  return random.pick(PLACE_STARTS) + random.pick(PLACE_ENDS);
}

/** A plausible college name; a few contain commas or apostrophes, as real ones do. */
function collegeName(random: Random): string {
  const roll = random.next();
  if (roll < 0.45) return `${place(random)} ${random.pick(SUFFIXES)}`;
  if (roll < 0.7) return `${random.pick(DIRECTIONS)} ${place(random)} ${random.pick(SUFFIXES)}`;
  if (roll < 0.85) return `University of ${place(random)}`;
  if (roll < 0.93) return `Saint ${random.pick(SAINTS)} (${place(random)})`;
  return `University of ${place(random)}, ${place(random)}`;
}

/** `count` distinct college names. */
export function collegeNames(random: Random, count: number): string[] {
  const taken = new Set<string>();
  const names: string[] = [];
  while (names.length < count) {
    let name = collegeName(random);
    for (let attempt = 0; taken.has(name) && attempt < 20; attempt++) name = collegeName(random);
    if (taken.has(name)) name = `${name} ${names.length}`;
    taken.add(name);
    names.push(name);
  }
  return names;
}

/** `count` distinct conference names. */
export function conferenceNames(random: Random, count: number): string[] {
  const names: string[] = [];
  const taken = new Set<string>();
  while (names.length < count) {
    let name = `${random.pick(REGIONS)} ${random.pick(KINDS)}`;
    if (taken.has(name)) name = `${name} ${Math.floor(names.length / REGIONS.length) + 2}`;
    if (taken.has(name)) name = `${name}-${names.length}`;
    taken.add(name);
    names.push(name);
  }
  return names;
}
