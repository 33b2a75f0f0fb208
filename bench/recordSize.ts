/**
 * The size of the records DynamoDB writes to Kinesis for this event store, measured on the
 * local change relay (the same record: DynamoDB JSON, the Avro payload in base64): a generated
 * season ingested into the embedded runtime, every record then read back from kinesalite. What
 * the README's shard sizing uses. `node dist/bench/recordSize.js [teams] [games per team]`.
 */
import { pathToFileURL } from 'node:url';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { generateSeason } from '../domain/season/generateSeason.js';
import type { GameRow } from '../feeds/readGames.js';
import { ingestGames } from '../ingest/ingestGames.js';
import { commitChange } from '../stream/changes/commitChange.js';
import { CommitCodec } from '../stream/eventStore/Commit.js';
import { CHANGES_STREAM, EmbeddedRuntime } from '../stream/local/EmbeddedRuntime.js';

interface Sizes {
  records: number;
  /** Data blob and partition key: what counts toward a shard's 1 MB/s and a record's 1 MB. */
  mean_bytes: number;
  p50_bytes: number;
  p95_bytes: number;
  max_bytes: number;
  /** DynamoDB's own size of the item (`SizeBytes`): change data capture is billed per 1 KB of it. */
  mean_item_bytes: number;
  /** The record's size over the item's: what DynamoDB JSON and base64 add. */
  expansion: number;
  /** Records over 1 KiB: on-demand Kinesis bills each record rounded up to a whole KiB. */
  over_1_kib_share: number;
  /** KiB billed per record by that rounding, on average. */
  billed_kib_per_record: number;
}

function summarize(sizes: { record: number; item: number }[]): Sizes {
  const records = sizes.map((s) => s.record).sort((a, b) => a - b);
  const at = (q: number) =>
    records[Math.min(records.length - 1, Math.floor(q * records.length))] ?? 0;
  const mean = records.reduce((a, b) => a + b, 0) / Math.max(1, records.length);
  const item = sizes.reduce((a, s) => a + s.item, 0) / Math.max(1, sizes.length);
  return {
    records: records.length,
    mean_bytes: Math.round(mean),
    p50_bytes: at(0.5),
    p95_bytes: at(0.95),
    max_bytes: records.at(-1) ?? 0,
    mean_item_bytes: Math.round(item),
    expansion: Number((mean / Math.max(1, item)).toFixed(2)),
    over_1_kib_share: Number(
      (records.filter((b) => b > 1024).length / Math.max(1, records.length)).toFixed(3),
    ),
    billed_kib_per_record: Number(
      (records.reduce((a, b) => a + Math.ceil(b / 1024), 0) / Math.max(1, records.length)).toFixed(
        2,
      ),
    ),
  };
}

/** Every record of the local change stream, with the event type of its commit's first event. */
async function readStream(runtime: EmbeddedRuntime) {
  const out: { type: string; record: number; item: number }[] = [];
  const { Shards = [] } = await runtime.kinesis.send(
    new ListShardsCommand({ StreamName: CHANGES_STREAM }),
  );
  for (const shard of Shards) {
    let { ShardIterator: iterator } = await runtime.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: CHANGES_STREAM,
        ShardId: shard.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    while (iterator) {
      const page = await runtime.kinesis.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }),
      );
      for (const r of page.Records ?? []) {
        const data = r.Data ?? new Uint8Array();
        const change = JSON.parse(Buffer.from(data).toString('utf8'));
        out.push({
          type: change.dynamodb?.NewImage?.events?.L?.[0]?.M?.event_type?.S ?? 'unknown',
          record: data.byteLength + Buffer.byteLength(r.PartitionKey ?? ''),
          item: Number(change.dynamodb?.SizeBytes ?? 0),
        });
      }
      if ((page.Records ?? []).length === 0 && page.MillisBehindLatest === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return out;
}

/** Ingests a generated season through the relay and measures what it wrote to the stream. */
export async function measureRecordSizes(teams = 330, gamesPerTeam = 18) {
  const season = generateSeason({ teams, gamesPerTeam, seed: 9 });
  const runtime = await EmbeddedRuntime.start({ memory: true });
  try {
    const rows: GameRow[] = season.games.map((game, i) => ({
      kind: 'game',
      line: i + 2,
      game,
      fields: {},
    }));
    async function* batches() {
      for (let i = 0; i < rows.length; i += 1000) yield rows.slice(i, i + 1000);
    }
    const summary = await ingestGames(batches(), { store: runtime.store, concurrency: 16 });
    // One season's calculation, as a saga appends it: the largest event of the catalog.
    const codec = new CommitCodec(runtime.registry);
    const rankings = season.teams.map((t, i) => ({
      rank: i + 1,
      team: t.team,
      games: gamesPerTeam,
      wins: 9,
      losses: 6,
      ties: 3,
      wp: 0.583333,
      owp: 0.512345,
      oowp: 0.498765,
      rpi: 0.526698,
      unadjusted_rank: i + 1,
      unadjusted_rpi: 0.526698,
      adjustment: null,
      bonus: null,
    }));
    const calculation = codec.build('rpi-calculation:bench', 0, [
      {
        event_type: 'RpiCalculated',
        data: {
          calculation_id: '00000000-0000-5000-8000-000000000000',
          season: season.season,
          as_of: null,
          profile: 'ncaa-soccer-2024',
          division: null,
          games_counted: season.games.length,
          first_game_on: season.games[0]?.date ?? null,
          last_game_on: season.games.at(-1)?.date ?? null,
          computed_at: new Date().toISOString(),
          variant: 'unadjusted',
          adjustments: null,
          rankings,
        },
      },
    ]);
    const { record } = commitChange(calculation, 'events', 'us-east-1');
    const rpiBytes =
      Buffer.byteLength(JSON.stringify(record)) + Buffer.byteLength(calculation.aggregate_id);
    await runtime.settle();
    const records = await readStream(runtime);
    const byType: Record<string, Sizes> = {};
    for (const type of [...new Set(records.map((r) => r.type))].sort())
      byType[type] = summarize(records.filter((r) => r.type === type));
    return {
      scenario: `record-size-${teams}-teams`,
      teams,
      games: season.games.length,
      commits_appended: summary.appended + summary.teams_registered,
      all: summarize(records),
      by_event_type: byType,
      rpi_calculated_bytes: rpiBytes,
      rpi_calculated_item_bytes: Number(record.dynamodb.SizeBytes),
    };
  } finally {
    await runtime.stop();
  }
}

const isMain =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const teams = Number(process.argv[2] ?? 330);
  const games = Number(process.argv[3] ?? 18);
  if (!Number.isInteger(teams) || !Number.isInteger(games) || teams < 2 || games < 1) {
    process.stderr.write(
      `usage: node dist/bench/recordSize.js [TEAMS] [GAMES_PER_TEAM]: whole numbers, at least 2 teams and 1 game (got ${process.argv.slice(2).join(' ')})\n`,
    );
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(await measureRecordSizes(teams, games), null, 2)}\n`);
}
