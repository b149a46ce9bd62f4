// spec §10.2 is the one list of drop-reason names (status, metrics, logs): the daemons' typed
// list (src/session/drop-reasons.ts) and the spec's tables name the same reasons, in order.
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { DROP_REASONS } from '../../src/session/drop-reasons.js';
import { PROTOCOL_MD } from '../fixtures/vectors.js';

async function specReasons(): Promise<string[]> {
  const md = await readFile(PROTOCOL_MD, 'utf8');
  const start = md.indexOf('### 10.2 ');
  const end = md.indexOf('### 10.3 ', start);
  if (start < 0 || end < 0) throw new Error('spec/protocol.md has no §10.2');
  const names: string[] = [];
  for (const line of md.slice(start, end).split('\n')) {
    const m = /^\| ([a-z][a-z-]*) \|/.exec(line);
    if (m && m[1] !== 'Reason') names.push(m[1]!);
  }
  return names;
}

t.test('the drop reasons of spec §10.2 are those the daemons count, in the same order', async (t) => {
  const names = await specReasons();
  t.ok(names.length > 0, 'the spec lists reasons');
  t.same(names, [...DROP_REASONS]);
});
