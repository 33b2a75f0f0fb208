import type { RuleSource } from './profileTypes.js';

// Published statements the built-in profiles' rules are taken from. Each profile names, per
// field, the ones that give or confirm its value (see `RpiProfile.sources`).

export const HOCKEY_MEMO_2013: RuleSource = {
  title:
    'USCHO, "Road wins, quality wins get boosts in changes to NCAA tournament selection criteria" (2013-09-20), reprinting the NCAA memo "Division I Men\'s Ice Hockey — 2013-14 Selection Criteria Changes"',
  url: 'https://wwwproxy.uscho.com/2013/09/20/road-wins-quality-wins-get-boosts-in-changes-to-ncaa-tournament-selection-criteria',
  says: "weights 25/21/54; road wins and home losses weigh 1.2, home wins and road losses 0.8, neutral games 1.0, a tie is half a win and half a loss; a win that adversely impacts a team's RPI is removed and its RPI recalculated; a quality-wins bonus over the RPI top 20, 5.00 points for #1, 4.75 for #2, 4.50 for #3 …",
};

export const CHN_2013: RuleSource = {
  title: 'College Hockey News, "Home-Road Balance Will be Factored Into Selections" (2013-09-18)',
  url: 'https://www.collegehockeynews.com/news/2013/09/18_home-road_balance_will_be.php',
  says: 'road wins and home losses count by a factor of 1.2, home wins and road losses by 0.8; a bonus for wins against highly ranked teams',
};

export const USCHO_RPI_PAGE: RuleSource = {
  title: 'USCHO, "Men\'s Division I Ratings Percentage Index" (updated 2014-07-28)',
  url: 'http://www.uscho.com/rankings/rpi/d-i-men/?SPID=4728&DB_OEM_ID=11600',
  says: '25%, 21%, 54%; each game weighted 1.2 for a road win or home loss and 0.8 for a home win or road loss; a quality wins bonus for wins against the top 20; RPIs adjusted to remove the negative effect of defeating a weak opponent',
};

export const MEMO_DIVISOR_QUOTE: RuleSource = {
  title: 'USCHO fan forum, "John T. Whelan ranking simulator", page 9 (quoting the NCAA memo)',
  url: 'https://fanforum.uscho.com/forum/college-hockey/men-s-division-i/21721-john-t-whelan-ranking-simulator/page9?view=stream',
  says: 'total bonus points are divided by the total weighting of all games played (road wins/home losses 1.2, home wins/road losses 0.8); the resulting QWB is added to the original RPI',
};

export const BANGOR_2013: RuleSource = {
  title:
    'Bangor Daily News, "New NCAA Division I hockey tourney criteria should help UMaine scheduling" (2013-09-27)',
  url: 'https://bangordailynews.com/2013/09/27/sports/new-ncaa-division-i-hockey-tourney-criteria-should-help-umaine-scheduling/',
  says: 'bonus points for wins against teams in the RPI top 20 and even more bonus points for road wins over them',
};

export const RIVALS_PAIRWISE: RuleSource = {
  title: 'Rivals (Penn State), "The PairWise Rankings explained"',
  url: 'https://pennstate.rivals.com/news/the-pairwise-rankings-explained',
  says: 'a win over the top RPI team earns a .050 bonus, decreasing to .0025 for the 20th: one memo point is 0.01 of RPI',
};

export const ELYNAH_2015: RuleSource = {
  title: 'elynah.com, "Ratings Percentage Index for D1 College Hockey (2014-2015)"',
  url: 'http://www.elynah.com/tbrw/2015/rpi.shtml',
  says: 'published WP, OWP, OOWP and QWB per team; its QWB column is reproduced to ±0.00005 only with ties earning half the bonus and the divisor counting removed wins',
};

export const ELYNAH_2018: RuleSource = {
  title: 'elynah.com, "Ratings Percentage Index for D1 College Hockey (2017-2018)"',
  url: 'http://www.elynah.com/tbrw/2018/rpi.shtml',
  says: "published WP, OWP, OOWP and QWB per team: OWP and OOWP average each game with its WP weight, OOWP over the opponents' classic (per-game) OWP; QWB as for 2014-15",
};

export const SOCCER_RPI_FORMULA: RuleSource = {
  title: 'RPI for Division I Women\'s Soccer, "RPI: Formula" (updated September 2025)',
  url: 'https://sites.google.com/site/rpifordivisioniwomenssoccer/rpi-formula',
  says: 'the RPI has three elements plus bonus and penalty adjustments; since 2024 a tie is 1/3 of a win in Element 1',
};

export const SOCCER_2024_CHANGES: RuleSource = {
  title: 'RPI for Division I Women\'s Soccer blog, September 2024 ("The 2024 RPI Formula Changes")',
  url: 'https://rpiford1wsoccer.blogspot.com/2024/09',
  says: 'the bonus and penalty regime changed in 2024; the old regime: bonuses for wins and ties against unadjusted-RPI ranks #1–40 (high) and #41–80 (lower), penalties for losses and ties against the second-to-bottom 40 (low) and bottom 40 (high)',
};

export const SOCCER_LOCATION: RuleSource = {
  title: 'RPI for Division I Women\'s Soccer, "Home, Away, Neutral Issues" (updated June 2025)',
  url: 'https://sites.google.com/site/rpifordivisioniwomenssoccer/home-away-neutral-issues',
  says: 'the RPI ignores game location except for the bonus and penalty adjustments the NCAA makes to the unadjusted RPI and NCRPI',
};

export const SOCCER_NCRPI: RuleSource = {
  title: 'RPI for Division I Women\'s Soccer, "RPI: Non-Conference RPI" (updated April 2024)',
  url: 'https://sites.google.com/site/rpifordivisioniwomenssoccer/non-conference-rpi',
  says: "Element 1: the team's winning percentage in non-conference games; Element 2: the average of its non-conference opponents' winning percentages against teams other than it, over all their games; Element 3: the average of those opponents' opponents' winning percentages, over all games",
};

export const CTD_NONCONFERENCE: RuleSource = {
  title:
    'crashingthedance/rpi-calculator, lib/crashing_the_dance/rpi_calculator/rpi.rb (basketball)',
  url: 'https://github.com/crashingthedance/rpi-calculator',
  says: "non-conference RPI: WP over non-conference games; OWP and OOWP averaged over non-conference games of each opponent's full-season figures",
};
