import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';

/** An IPv4 address of this machine that is not loopback, if it has one. */
export function otherAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

/** Whether a TCP connection to host:port is accepted (within a second). */
export function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Where a local server can be reached from: `loopback` must be true; `elsewhere` is false
 * when it listens on 127.0.0.1 only (undefined on a machine with no other address to try).
 */
export async function reach(endpoint: string) {
  const url = new URL(endpoint);
  const port = Number(url.port);
  const other = otherAddress();
  return {
    host: url.hostname,
    loopback: await accepts('127.0.0.1', port),
    elsewhere: other === undefined ? undefined : await accepts(other, port),
    other,
  };
}
