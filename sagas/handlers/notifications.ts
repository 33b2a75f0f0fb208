import type { DocumentStore } from '../../projections/DocumentStore.js';

/** A change of a team's place in the top 25, for downstream consumers. */
export interface RankNotification {
  readonly season: string;
  readonly kind: 'rank-changed' | 'entered' | 'left' | 'retracted';
  readonly team: string | null;
  readonly rank: number | null;
  readonly previous_rank: number | null;
  readonly rpi: number | null;
  readonly calculation_id: string;
  readonly at: string;
}

/** The notifications table's default name. */
export const NOTIFICATIONS_TABLE = 'matchstream-notifications';

/** Where a season's notifications are kept, in time order. */
export const notificationsPk = (season: string): string => `notifications#${season}`;

/** The notifications of a season, oldest first. */
export async function notificationsOf(
  store: DocumentStore,
  season: string,
): Promise<RankNotification[]> {
  return (await store.query(notificationsPk(season))).map((d) => d.doc as RankNotification);
}
