import type { Upcaster } from './Upcaster.js';

const SCORE = /^\s*(\d{1,3})\s*[-–:]\s*(\d{1,3})\s*$/;

/**
 * `MatchRecorded` v1 carried the score as text (`"2-1"`) and nothing else; v2 has the goals as
 * numbers, the day, the season, the site and how the match was decided. The day is taken from
 * when the event was recorded, the season from that day's year; v1 knew of no neutral sites
 * and no overtime or penalties.
 */
export const matchRecordedV1ToV2: Upcaster<'MatchRecorded', 1> = {
  eventType: 'MatchRecorded',
  fromVersion: 1,
  upcast(data, context) {
    const score = SCORE.exec(data.score);
    if (!score) {
      throw new Error('score is not two whole numbers separated by a hyphen (e.g. "2-1")');
    }
    const playedOn = context.timestamp.slice(0, 10);
    return {
      match_id: data.match_id,
      season: playedOn.slice(0, 4),
      played_on: playedOn,
      home_team: data.home_team,
      away_team: data.away_team,
      home_goals: Number(score[1]),
      away_goals: Number(score[2]),
      neutral: false,
      decided_by: 'regulation',
    };
  },
};
