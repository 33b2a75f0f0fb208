// kinesalite ships no types: the part of its API this project uses.
declare module 'kinesalite' {
  import type { Server } from 'node:http';

  interface KinesaliteOptions {
    /** LevelDB folder; in memory when absent. */
    path?: string;
    /** How long a stream stays CREATING (default 500 ms). */
    createStreamMs?: number;
    /** How long a stream stays DELETING (default 500 ms). */
    deleteStreamMs?: number;
    /** How long a stream stays UPDATING (default 500 ms). */
    updateStreamMs?: number;
    /** Shards allowed across all streams before LimitExceededException (default 10). */
    shardLimit?: number;
  }

  export default function kinesalite(options?: KinesaliteOptions): Server;
}
