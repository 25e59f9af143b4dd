import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

// Guards the ioredis 6 project (vitest.ioredis6.config.ts): if its alias ever stopped applying,
// that project would quietly re-run ioredis 5 and prove nothing about 6.
describe('the ioredis under test', () => {
  it('is the major this project runs (6 defaults to RESP3, 5 has no protocol option)', () => {
    const client = new Redis({ lazyConnect: true });
    const protocol = (client.options as { protocol?: number }).protocol;
    client.disconnect();
    expect(protocol).toBe(process.env.DC_IOREDIS === undefined ? undefined : 3);
  });
});
