// spec Appendix A holds at least one vector of every message type and one sealed vector.
import t from 'tap';
import { MESSAGE_TYPES } from '../fixtures/random-messages.js';
import { loadVectors } from '../fixtures/vectors.js';

t.test('the vectors include every message type and a sealed datagram', async (t) => {
  const { vectors } = loadVectors();
  const types = new Set(vectors.map((v) => v.message['type']));
  for (const type of MESSAGE_TYPES) t.ok(types.has(type), `a ${type} vector exists`);
  t.ok(
    vectors.some((v) => v.sealed !== undefined),
    'a sealed vector exists',
  );
});
