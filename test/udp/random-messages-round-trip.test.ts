// spec §10.1: any valid message of any type encodes, decodes to itself and re-encodes
// to the same bytes.
import t from 'tap';
import { isDeepStrictEqual } from 'node:util';
import { decode, encode } from '../../src/udp/codec.js';
import { Prng, testSeed } from '../fixtures/prng.js';
import { MESSAGE_TYPES, randomMessage } from '../fixtures/random-messages.js';
import { messageToJson } from '../fixtures/vectors.js';

const seed = testSeed();

t.test('random valid datagrams of every type round-trip exactly', async (t) => {
  t.comment(`seed ${seed} (replay with PDSM_TEST_SEED=${seed})`);
  const p = new Prng(seed);
  for (const type of MESSAGE_TYPES) {
    let failures = 0;
    for (let i = 0; i < 500; i++) {
      const msg = randomMessage(p, type);
      const bytes = encode(msg);
      const r = decode(bytes);
      if (!r.ok || !isDeepStrictEqual(messageToJson(r.msg), messageToJson(msg)) || !encode(r.msg).equals(bytes)) {
        failures++;
        if (failures < 3) t.fail(`${type} #${i} did not round-trip: ${r.ok ? 'fields differ' : r.reason}`);
      }
    }
    t.equal(failures, 0, `500 ${type} messages round-trip`);
  }
});
