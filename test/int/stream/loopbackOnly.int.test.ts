import { describe, expect, it } from 'vitest';
import { startEmbeddedDynamo } from '../../../stream/local/embeddedDynamo.js';
import { startEmbeddedKinesis } from '../../../stream/local/embeddedKinesis.js';
import { reach } from '../../support/loopback.js';

describe('the local servers listen on 127.0.0.1 only', () => {
  it.each([
    ['dynalite', startEmbeddedDynamo],
    ['kinesalite', startEmbeddedKinesis],
  ] as const)(
    '%s: reachable on loopback, refused on the machine’s other address',
    async (_, start) => {
      const server = await start();
      try {
        const found = await reach(server.endpoint);

        expect(found.host).toBe('127.0.0.1');
        expect(found.loopback).toBe(true);
        if (found.other === undefined)
          console.warn('no non-loopback IPv4 address here: only the bound address was checked');
        else expect(found.elsewhere).toBe(false);
      } finally {
        await server.stop();
      }
    },
  );
});
