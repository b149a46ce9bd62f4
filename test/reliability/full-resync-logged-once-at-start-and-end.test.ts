import t from 'tap';
import { InFlow, OutFlow } from '../../src/daemon/flows.js';
import { logResyncs } from '../../src/daemon/service.js';
import { StatusRecords } from '../../src/segments/status.js';
import { ST_RECORD_SIZE } from '../../src/segments/layout.js';
import type { CommitMessage, DataMessage } from '../../src/udp/codec.js';
import { FakeClock } from '../fixtures/fake-clock.js';

// issue 12 "Progress you can see": a full resync is logged once when it starts and once when
// it ends, with size, duration and rate, on both ends of the flow; never once per datagram.

const PAGE = 1024;
const PAGES = 256;

t.test('a full batch of hundreds of datagrams logs one start and one end on each side', async (t) => {
  const clock = new FakeClock();
  const st = new StatusRecords(new Uint8Array(new ArrayBuffer(4 * ST_RECORD_SIZE)), 3);
  const source = Buffer.alloc(PAGE * PAGES, 0x5a);
  const target = Buffer.alloc(PAGE * PAGES);
  const logs: { text: string; fields: Record<string, unknown> }[] = [];
  const log = { info: (text: string, fields: Record<string, unknown> = {}) => void logs.push({ text, fields }) };

  const out = new OutFlow('mo', source, PAGE, st, 0);
  const into = new InFlow('mo', target, { pageSize: PAGE, wordSize: 8, mtu: 1200 }, st, 1);
  logResyncs(log, out, { client: 3 });
  logResyncs(log, into, { client: 3 });

  let datagrams = 0;
  const receiver = into.start({ firstSeq: 500, clock, sendNack: () => undefined, requestResync: () => undefined });
  out.start({
    src: 0xffff,
    dst: 3,
    epoch: 1,
    firstSeq: 500,
    geometry: { pageSize: PAGE, wordSize: 8, mtu: 1200 },
    sealed: false,
    clock,
    emit: (m: DataMessage | CommitMessage) => {
      datagrams++;
      receiver.onDatagram(m);
    },
  });
  t.equal(out.tick(), PAGES, 'the first batch of a session is every page');
  for (let i = 0; i < 10_000 && out.sender!.sending; i++) clock.advance(1);
  t.notOk(out.sender!.sending, 'the paced sender finished the batch');
  for (let i = 0; i < 1000 && into.applying; i++) await new Promise((r) => setImmediate(r));
  t.notOk(into.applying, 'the batch was applied');
  t.ok(target.equals(source), 'byte-identical');
  t.equal(datagrams, PAGES + 1, `one DATA per page and the COMMIT (${datagrams})`);

  const lines = logs.map((l) => `${l.text} ${String(l.fields.direction)}`);
  t.same(lines.filter((l) => l.startsWith('full resync started')).sort(), ['full resync started in', 'full resync started out']);
  t.same(lines.filter((l) => l.startsWith('full resync done')).sort(), ['full resync done in', 'full resync done out']);
  t.equal(logs.length, 4, 'nothing else, and nothing per datagram');
  for (const l of logs) t.match(l.fields, { client: 3, flow: 'mo', bytes: PAGE * PAGES }, `${l.text} names the flow and its size`);
  const doneOut = logs.find((l) => l.text === 'full resync done' && l.fields.direction === 'out')!;
  t.ok(typeof doneOut.fields.duration_ms === 'number' && (doneOut.fields.duration_ms as number) > 0, 'the end says how long (fake clock ms)');
  t.ok(typeof doneOut.fields.rate_bytes_s === 'number' && (doneOut.fields.rate_bytes_s as number) > 0, 'and at what rate');

  // The next batch of the session is not a full resync: no new lines.
  source.fill(1, 0, PAGE);
  t.equal(out.tick(), 1, 'one dirty page');
  for (let i = 0; i < 1000 && out.sender!.sending; i++) clock.advance(1);
  t.equal(logs.length, 4, 'an ordinary batch logs nothing');
  out.stop();
  into.stop();
});
