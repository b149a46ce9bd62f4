// The hex printed in Appendix A of spec/protocol.md and spec/vectors/vectors.json never drift.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { appendixHex, loadVectors, PROTOCOL_MD } from '../fixtures/vectors.js';

t.test('every vector in vectors.json is printed in the appendix with the same bytes, and no other', async (t) => {
  const { vectors } = loadVectors();
  const printed = appendixHex(readFileSync(PROTOCOL_MD, 'utf8'));
  t.same([...printed.keys()].sort(), vectors.map((v) => v.name).sort(), 'same vector names');
  for (const v of vectors) t.equal(printed.get(v.name), v.hex, `${v.name}: same hex`);
});
