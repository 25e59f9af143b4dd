// The quick-start demo. It runs against the built packages (dist/), exactly as an application
// that installed them from npm would, and needs no Redis and no database server.
import { createEntry, defineStore, isDcError, jsonSerializer, parseDuration, systemClock } from '@dc/core';

const map = new Map();
const store = defineStore({
  name: 'demo',
  get: async (key) => {
    const entry = map.get(key);
    return entry && systemClock.now() < entry.expiresAt ? entry : undefined;
  },
  set: async (key, entry) => void map.set(key, entry),
  delete: async (key) => map.delete(key),
  clear: async () => map.clear(),
});

await store.set(
  'user:1',
  createEntry({ name: 'Ada' }, { now: systemClock.now(), ttlMs: parseDuration('5m') }),
);
console.log('hit:', (await store.get('user:1'))?.value);

try {
  await store.get('');
} catch (error) {
  console.log('empty key rejected before any I/O:', isDcError(error, 'E_INVALID_KEY'));
}
try {
  jsonSerializer.decode('{"__proto__":{"polluted":true}}');
} catch (error) {
  console.log(
    'poisoned JSON rejected:',
    isDcError(error, 'E_SERIALIZATION'),
    '| prototype clean:',
    {}.polluted === undefined,
  );
}
await store.close();
