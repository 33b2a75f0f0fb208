import { type Command, Option } from 'commander';
import type { ServeFlags } from '../actions/serve.js';
import { wholeNumber } from '../options.js';
import { dataDirOption } from '../storeOptions.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the query API (and keep the read models current) until interrupted')
    .option('--port <n>', 'port on 127.0.0.1 (0 picks a free one)', wholeNumber(0, 65535), 8080)
    .addOption(dataDirOption('the pipeline state to serve'))
    .addOption(new Option('--memory', 'serve an empty in-memory pipeline').conflicts('dataDir'))
    .addHelpText(
      'after',
      `
The web console is at / (built by npm run build). Routes: GET /rankings?season=&as_of=,
/seasons, /standings?season=&as_of=, /teams, /teams/{id}[?season=], /teams/{id}/matches[?season=],
/teams/{id}/weekly?season=, /sagas, /sagas/{id}, /sagas/{id}/timeline, /notifications?season=,
/live (server-sent events), /store, /consumers, /dead-letters, /health, /openapi.json;
POST /sagas {"season": "2026"} starts an RPI calculation saga, POST /dead-letters/redrive
{"ids": [...]} redrives dead letters (both with the token of the folder's api-token file). The
local-only POST /admin/ingest, /admin/teams, /admin/rebuild and /admin/folder/... are what
"matchstream ingest", "teams import", "teams update", "rebuild", "status", "projections list",
"saga list", "saga show" and "inspect --dead-letters" on the same data folder use while this
server runs. Errors are JSON
{"error": {"status", "message"}}: 400 for a bad parameter, 404 for something unknown, 405 for a
method the path does not take.
Exit codes: 0 stopped by Ctrl-C or SIGTERM; 1 the port is in use or the pipeline failed.

Examples:
  matchstream ingest season.csv && matchstream serve
  curl 'http://127.0.0.1:8080/rankings?season=2026'`,
    )
    .action(async (flags: ServeFlags) => {
      const { runServe } = await import('../actions/serve.js');
      await runServe(flags);
    });
}
