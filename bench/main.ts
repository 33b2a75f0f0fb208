/**
 * `npm run bench [-- --quick]`: every benchmark scenario, each in its own process, printed
 * as one JSON document on standard output (and a short table on standard error when it is
 * a terminal). `--quick` skips the largest scenarios.
 */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CLIENT_SCENARIOS, type ClientResult } from './clients.js';
import { CONSUMER_SCENARIOS } from './consumer.js';
import { INGEST_SCENARIOS } from './ingest.js';
import { MARSHAL_SCENARIOS, type MarshalResult } from './marshal.js';
import { PEER_SCENARIOS, type PeerResult } from './peers.js';
import { QUICK_REBUILD_SCENARIOS, REBUILD_SCENARIOS } from './rebuild.js';
import { RECOVERY_SCENARIOS } from './recovery.js';
import { RPI_SCENARIOS } from './rpi.js';
import { VOLUME_SCENARIOS } from './volume.js';
import { WRITES_SCENARIOS, type WritesResult } from './writes.js';

/** The run's options; anything else is refused before any scenario starts. */
const options = (() => {
  try {
    return parseArgs({
      strict: true,
      allowPositionals: false,
      options: { help: { type: 'boolean', short: 'h' }, quick: { type: 'boolean' } },
    }).values;
  } catch (error) {
    process.stderr.write(
      `bench: ${(error as Error).message.split('\n')[0]} (npm run bench -- --help)\n`,
    );
    process.exit(2);
  }
})();
if (options.help) {
  process.stdout.write(
    'usage: npm run bench [-- --quick]\n\n' +
      'Runs every benchmark scenario (RPI, ingest, consumer and latency, rebuild by scan and\n' +
      'through the archive, peers, marshalling, clients, the whole pipeline at volume,\n' +
      "writes per event, the relay's scan after a crash), each in its own process,\n" +
      'and prints one JSON document: each figure with its unit, the baseline measured in the\n' +
      'same run, the ratio and peak RSS. --quick skips the largest scenarios (about four\n' +
      'minutes). What each figure means: bench/README.md.\n',
  );
  process.exit(0);
}
const quick = options.quick === true;
const here = dirname(fileURLToPath(import.meta.url));

interface Figure {
  scenario: string;
  games: number;
  value: number;
  ns_per_game: number;
  ratio?: number;
  baseline?: number;
  [key: string]: unknown;
}

function run(script: string, scenario: string, ...extra: string[]): Figure {
  const out = execFileSync(
    process.execPath,
    ['--max-old-space-size=8192', '--expose-gc', join(here, script), scenario, ...extra],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return JSON.parse(out) as Figure;
}

const rpi = RPI_SCENARIOS.filter((s) => !quick || s.games <= 500_000).map((s) => {
  if (process.stderr.isTTY) process.stderr.write(`running ${s.name}...\n`);
  return run('rpi.js', s.name);
});

// Growth: the exponent k of time ∝ games^k between the smallest and largest of the
// 20,000-team runs (1 is linear).
const big = rpi.filter((f) => f.scenario.startsWith('rpi-20k'));
const first = big[0];
const last = big.at(-1);
const growth =
  first && last && last !== first
    ? Number((Math.log(last.value / first.value) / Math.log(last.games / first.games)).toFixed(3))
    : null;

const ingest = INGEST_SCENARIOS.filter((s) => !quick || s.teams <= 330).map((s) => {
  if (process.stderr.isTTY) process.stderr.write(`running ${s.name}...\n`);
  return run('ingest.js', s.name);
});

const consumer = CONSUMER_SCENARIOS.flatMap((name) => {
  if (process.stderr.isTTY) process.stderr.write(`running ${name}...\n`);
  // Quick: a quarter of the events, half the steady-load seconds.
  const size = quick ? ['--events', '5000', '--seconds', '4'] : [];
  return run('consumer.js', name, ...size) as unknown as Figure[];
});

const rebuild = (quick ? QUICK_REBUILD_SCENARIOS : REBUILD_SCENARIOS).map((s) => {
  if (process.stderr.isTTY) process.stderr.write(`running ${s.name}...\n`);
  return run('rebuild.js', s.name) as unknown as {
    scenario: string;
    baseline: number;
    figures: {
      read_model: string;
      value: number;
      ratio: number;
      flushes: number | null;
      peak_heap_mb: number;
    }[];
    archive: {
      figures: {
        figure: string;
        value: number;
        ratio: number;
        value_excluding_export: number;
        ratio_excluding_export: number;
        baseline: number;
        export_seconds: number;
        files: number;
      }[];
    };
  };
});

// Peers on the same work: Castore on dynalite, Emmett in process (bench/peers.ts).
const peers = PEER_SCENARIOS.filter((s) => !quick || s.quick).map((s) => {
  if (process.stderr.isTTY) process.stderr.write(`running ${s.name}...\n`);
  return run('peers.js', s.name) as unknown as PeerResult;
});

// Marshalling by hand against util-dynamodb: small and quick, so --quick runs it whole.
const marshal = MARSHAL_SCENARIOS.map((name) => {
  if (process.stderr.isTTY) process.stderr.write(`running ${name}...\n`);
  return run('marshal.js', name) as unknown as MarshalResult;
});

// A request's cost to the thread that sends it, by client: small and quick, run whole.
const clients = CLIENT_SCENARIOS.map((name) => {
  if (process.stderr.isTTY) process.stderr.write(`running ${name}...\n`);
  return run('clients.js', name) as unknown as ClientResult;
});

// The whole pipeline against ingest alone; each of its runs is a process of its own.
// Quick: the smaller season only.
const volume = VOLUME_SCENARIOS.map((s) => {
  if (process.stderr.isTTY) process.stderr.write(`running ${s.name}...\n`);
  return run('volume.js', s.name, ...(quick ? ['--teams', String(s.teams[0])] : [])) as unknown as {
    scenario: string;
    figures: (Figure & {
      teams: number;
      events: number;
      peak_rss_mb: number;
      served: { value: number; ratio: number; sagas: number; peak_rss_mb: number };
    })[];
    rss_growth_mb_per_1000_events: number | null;
  };
});

// Items written per event stored, per table, through the whole pipeline and each rebuild.
const writes = WRITES_SCENARIOS.filter((s) => !quick || s.quick).map((s) => {
  if (process.stderr.isTTY) process.stderr.write(`running ${s.name}...\n`);
  return run('writes.js', s.name) as unknown as WritesResult;
});

// The local relay's scan after an unclean stop, on the rebuild benchmark's stores.
const recovery = RECOVERY_SCENARIOS.filter((s) => !quick || s.teams <= 2000).map((s) => {
  if (process.stderr.isTTY) process.stderr.write(`running ${s.name}...\n`);
  return run('recovery.js', s.name) as unknown as Figure & {
    commits: number;
    found: number;
    open_seconds: number;
  };
});

const doc = {
  benchmark: 'matchstream',
  quick,
  machine: {
    cpus: cpus().length,
    memory_gb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  rpi: {
    figures: rpi,
    growth_exponent: growth,
    growth_note: 'time ∝ games^k across the 20,000-team runs; k = 1 is linear',
  },
  ingest: { figures: ingest },
  consumer: { figures: consumer },
  rebuild: { scenarios: rebuild },
  marshal: { scenarios: marshal },
  clients: { scenarios: clients },
  volume: {
    scenarios: volume,
    target:
      'events/s end to end >= 0.5 of ingest alone (ratio); RSS flat per event; a feed sent to serve rated by few sagas',
  },
  writes: { scenarios: writes },
  recovery: { figures: recovery },
  peers: {
    scenarios: peers,
    targets:
      'Castore: ingest ratio >= 1, replay ratio >= 10; Emmett: in-process replay ratio > 1 (ratio = ours / peer)',
  },
};
process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
if (process.stderr.isTTY) {
  for (const f of rpi) {
    process.stderr.write(
      `${f.scenario.padEnd(28)} ${String(f.value).padStart(10)} ms  ${String(f.ns_per_game).padStart(7)} ns/game\n`,
    );
  }
  process.stderr.write(`growth exponent ${growth}\n`);
  for (const f of consumer) {
    process.stderr.write(
      `${f.scenario.padEnd(36)} ${String(f.value).padStart(10)} ${String(f.unit)}\n`,
    );
  }
  for (const r of rebuild) {
    for (const f of r.figures)
      process.stderr.write(
        `${`${r.scenario} ${f.read_model}`.padEnd(36)} ${String(f.value).padStart(10)} events/s  ${String(f.ratio).padStart(6)} of raw scan (${r.baseline}/s), ${f.flushes} flushes, peak heap ${f.peak_heap_mb} MB\n`,
      );
    for (const f of r.archive.figures)
      process.stderr.write(
        `${`${r.scenario} ${f.figure}`.padEnd(36)} ${String(f.value).padStart(10)} events/s  ${String(f.ratio).padStart(6)} of the scan rebuild (${f.baseline}/s), export ${f.export_seconds} s included; without it ${f.value_excluding_export}/s (${f.ratio_excluding_export}), ${f.files} files\n`,
      );
  }
  for (const f of ingest) {
    process.stderr.write(
      `${f.scenario.padEnd(28)} ${String(f.value).padStart(10)} matches/s  ${String(f.ratio).padStart(6)} of raw PutItem (${f.baseline}/s)\n`,
    );
  }
  for (const r of marshal) {
    for (const f of r.figures)
      process.stderr.write(
        `${`marshal ${f.shape}`.padEnd(36)} ${String(f.library_ns).padStart(10)} ns/item  ${String(f.ratio).padStart(6)} of by hand (${f.hand_ns} ns/item)\n`,
      );
    process.stderr.write(
      `${'marshal relay'.padEnd(36)} ${String(r.relay.value).padStart(10)} commits/s  marshall ${r.relay.marshall_share} of it\n`,
    );
  }
  for (const r of clients) {
    process.stderr.write(
      `${'client of the server thread'.padEnd(36)} ${String(r.direct.us_per_request).padStart(10)} µs/request  ${String(r.ratio_direct).padStart(6)} of the SDK's messages (${r.messages.us_per_request})\n`,
    );
    process.stderr.write(
      `${'client for own servers'.padEnd(36)} ${String(r.lean.us_per_request).padStart(10)} µs/request  ${String(r.ratio_full_stack).padStart(6)} of the full stack (${r.full_stack.us_per_request}), ${r.ratio_signed} of signed (${r.signed.us_per_request})\n`,
    );
  }
  for (const r of volume) {
    for (const f of r.figures) {
      process.stderr.write(
        `${`${r.scenario} ${f.teams} teams`.padEnd(36)} ${String(f.value).padStart(10)} events/s  ${String(f.ratio).padStart(6)} of ingest alone (${f.baseline}/s), peak RSS ${f.peak_rss_mb} MB\n`,
      );
      process.stderr.write(
        `${`${r.scenario} ${f.teams} teams, serve`.padEnd(36)} ${String(f.served.value).padStart(10)} events/s  ${String(f.served.ratio).padStart(6)} of ingest alone, rated by ${f.served.sagas} saga(s), peak RSS ${f.served.peak_rss_mb} MB\n`,
      );
    }
  }
  for (const f of recovery)
    process.stderr.write(
      `${f.scenario.padEnd(36)} ${String(f.open_seconds).padStart(10)} s to open  ${String(f.ratio).padStart(6)} of raw scan (${f.baseline}/s), ${f.found} of ${f.commits} commits found\n`,
    );
  for (const r of writes)
    process.stderr.write(
      `${r.scenario.padEnd(36)} ${String(r.pipeline.value).padStart(10)} items written per event (${r.events} events)\n`,
    );
  for (const r of peers) {
    for (const f of r.figures)
      process.stderr.write(
        `${`${r.scenario} ${f.figure}`.padEnd(36)} ${String(f.value).padStart(10)} ${f.unit.split(' ')[0]}  ${String(f.ratio).padStart(6)} of ${r.peer} (${f.baseline}/s)\n`,
      );
  }
}
