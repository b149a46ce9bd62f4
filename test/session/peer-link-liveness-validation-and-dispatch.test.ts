// The peer core both sides share (src/session/link.ts), driven directly: liveness and its
// stall credit and backlog rule (spec §7.10), address validation and its 3x budget (§4.6,
// §9.6), the hand-off of flow datagrams to their flow with the §10.2 drop reasons, and the
// small periodic helpers.
import t from 'tap';
import type { DataMessage, FlowName, Message } from '../../src/udp/codec.js';
import type { DropReason } from '../../src/session/drop-reasons.js';
import type { SessionIo } from '../../src/session/io.js';
import {
  AMPLIFICATION_FACTOR,
  PeerLink,
  Periodic,
  ScanTimes,
  dispatchFlow,
  flushScanOf,
  hashesPerDigest,
  heartbeatFlows,
  isFlowMessage,
  sessionKey,
  type FlowMessage,
  type SessionFlows,
} from '../../src/session/link.js';
import { heartbeat } from '../fixtures/session-harness.js';

const PEER = { address: '127.0.0.1', port: 40000 };

t.test('a session key is the plain address and the port (spec §7.1)', async (t) => {
  t.equal(sessionKey(PEER), '127.0.0.1|40000');
  t.equal(sessionKey({ address: '::ffff:127.0.0.1', port: 40000 }), '127.0.0.1|40000', 'an IPv4 peer on a dual-stack socket');
  t.not(sessionKey({ address: '127.0.0.1', port: 40001 }), sessionKey(PEER), 'another port is another session');
  t.equal(new PeerLink(PEER, 0, 1000, { validated: true }).key, '127.0.0.1|40000');
});

t.test('down only when silence exceeds Liveness Ms; twice that while this side has a backlog (§7.10)', async (t) => {
  const l = new PeerLink(PEER, 1000, 500, { validated: true });
  t.equal(l.silence(1200), 200);
  t.notOk(l.expired(1500, false), 'silence equal to Liveness Ms is not down');
  t.ok(l.expired(1501, false));
  t.notOk(l.expired(1501, true), 'a backlog doubles the allowance');
  t.notOk(l.expired(2000, true));
  t.ok(l.expired(2001, true));
  l.heard(1800, 10);
  t.equal(l.lastHeard, 1800);
  t.notOk(l.expired(2300, false), 'hearing the peer restarts the count');
  t.ok(l.expired(2301, false));
});

t.test('this side stalls are credited to the peer until it is heard again', async (t) => {
  const l = new PeerLink(PEER, 0, 500, { validated: true });
  l.stalled(300);
  l.stalled(100);
  t.equal(l.silence(1000), 600, 'both stalls count');
  t.notOk(l.expired(900, false), '900 ms of time, 400 of them our stall: 500 of silence');
  t.ok(l.expired(901, false));
  l.heard(1000, 1);
  t.equal(l.silence(1100), 100, 'the credit is reset when the peer is heard');
});

t.test('until validated, at most 3x the bytes received go to the address (§4.6)', async (t) => {
  t.equal(AMPLIFICATION_FACTOR, 3);
  const l = new PeerLink(PEER, 0, 1000, { validated: false, receivedBytes: 100 });
  t.ok(l.maySend(300), 'exactly 3x');
  t.notOk(l.maySend(301));
  l.sent(250);
  t.ok(l.maySend(50));
  t.notOk(l.maySend(51), 'what was sent counts against it');
  l.heard(1, 20);
  t.ok(l.maySend(110), 'a datagram received raises the budget by 3x its size');
  t.notOk(l.maySend(111));
  t.ok(l.validate(), 'version 1: any datagram of the session validates');
  t.ok(l.validated);
  t.ok(l.maySend(1_000_000), 'no budget once validated');
  t.notOk(l.validate(), 'validation happens once');
  const none = new PeerLink(PEER, 0, 1000, { validated: false });
  t.notOk(none.maySend(1), 'nothing received: nothing may be sent');
  t.ok(none.maySend(0));
});

t.test('with a cookie only its exact echo validates (§9.6)', async (t) => {
  const cookie = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const l = new PeerLink(PEER, 0, 1000, { validated: false, cookie });
  t.ok(l.needsCookie);
  t.notOk(new PeerLink(PEER, 0, 1000, { validated: false }).needsCookie);
  t.notOk(l.validate(), 'no echo');
  t.notOk(l.validate(null));
  t.notOk(l.validate(cookie.subarray(0, 7)), 'a shorter echo');
  t.notOk(l.validate(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9])), 'a longer echo');
  t.notOk(l.validate(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 9])), 'one byte differs');
  t.notOk(l.validated);
  t.ok(l.validate(Uint8Array.from(cookie)));
  t.ok(l.validated);
  t.notOk(l.validate(Uint8Array.from(cookie)), 'validated already: not a first validation');
  t.ok(new PeerLink(PEER, 0, 1000, { validated: true, cookie }).validated, 'a link may start validated');
});

t.test('the heartbeat echo and RTT go through the link', async (t) => {
  const l = new PeerLink(PEER, 0, 1000, { validated: true });
  t.equal(l.echo(0), null, 'no heartbeat heard: nothing to echo');
  t.equal(l.onHeartbeat(heartbeat(0, 0xffff, 1, { timestamp: 777, echo: null }), 1000), undefined);
  t.same(l.echo(1002), { timestamp: 777, delay: 2000 }, 'its timestamp and how long it was held (us)');
  t.equal(l.onHeartbeat(heartbeat(0, 0xffff, 1, { timestamp: 1, echo: { timestamp: 1_000_000, delay: 0 } }), 1010), 10);
  t.equal(l.rttMs, 10);
});

class Io implements Partial<SessionIo> {
  drops: [DropReason, string | undefined][] = [];
  logs: [string, string, Record<string, unknown>][] = [];
  drop(reason: DropReason, _from?: unknown, level?: 'warn' | 'debug'): void {
    this.drops.push([reason, level]);
  }
  log(level: string, text: string, fields: Record<string, unknown> = {}): void {
    this.logs.push([level, text, fields]);
  }
}

const data = (flow: FlowName = 'mo'): DataMessage => ({
  type: 'data',
  flow,
  src: 0xffff,
  dst: 0,
  epoch: 1,
  packetNumber: 0,
  seq: 1,
  batchId: 1,
  page: 0,
  offset: 0,
  payload: new Uint8Array(8),
});

function flowsWith(answer: 'ok' | 'duplicate' | 'invalid' | 'window', resyncOk = true, differ: number[] = []) {
  const calls: string[] = [];
  const repair = (): void => {};
  const flows: SessionFlows = {
    in: {
      mo: {
        receiver: { onDatagram: () => (calls.push('datagram'), answer), onHighestSeq: (s) => void calls.push(`highest ${s}`), expected: 0 },
        start: () => undefined,
        stop: () => undefined,
        onDigest: () => (calls.push('digest'), differ),
      },
    },
    out: {
      ro: {
        sender: {
          highestSeq: 0,
          onNack: (ranges, r) => void calls.push(`nack ${ranges.length} ${r === repair}`),
          onResync: (f, c, full) => (calls.push(`resync ${f} ${c} ${full}`), resyncOk),
          setRtt: () => undefined,
        },
        start: () => undefined,
        stop: () => undefined,
        tick: () => undefined,
        owesFull: () => undefined,
        digest: () => [],
      },
    },
    repair: { ro: repair },
  };
  return { flows, calls };
}

const run = (msg: FlowMessage, flows: SessionFlows): Io => {
  const io = new Io();
  dispatchFlow(msg, flows, io as unknown as SessionIo, PEER, { peer: 1 });
  return io;
};

t.test('DATA and COMMIT go to the receiver of their flow; what it refuses is dropped by reason (§10.2)', async (t) => {
  for (const [answer, drop] of [
    ['ok', undefined],
    ['duplicate', ['duplicate', 'debug']],
    ['invalid', ['invalid-data', 'warn']],
    ['window', ['beyond-window', 'debug']],
  ] as const) {
    const { flows, calls } = flowsWith(answer);
    const io = run(data(), flows);
    t.same(calls, ['datagram'], answer);
    t.same(io.drops, drop ? [drop] : [], `${answer}: ${drop?.[0] ?? 'no drop'}`);
  }
  const { flows, calls } = flowsWith('ok');
  t.same(run(data('bc'), flows).drops, [['wrong-flow', undefined]], 'a flow this session does not receive');
  t.same(
    run(
      {
        type: 'commit',
        flow: 'ro',
        src: 0,
        dst: 0xffff,
        epoch: 1,
        packetNumber: 0,
        seq: 2,
        batchId: 1,
        dataCount: 1,
        full: false,
        replaces: false,
      } as FlowMessage,
      flows,
    ).drops,
    [['wrong-flow', undefined]],
  );
  t.same(calls, []);
});

t.test('NACK and RESYNC go to the sender of their flow; an invalid RESYNC is dropped whole (§6.4)', async (t) => {
  const nack = { type: 'nack', flow: 'ro', src: 0xffff, dst: 0, epoch: 1, packetNumber: 0, ranges: [{ first: 1, count: 2 }] } as FlowMessage;
  const resync = { type: 'resync', flow: 'ro', src: 0xffff, dst: 0, epoch: 1, packetNumber: 0, full: false, firstPage: 2, pageCount: 3 } as FlowMessage;
  const ok = flowsWith('ok');
  t.same(run(nack, ok.flows).drops, []);
  t.same(run(resync, ok.flows).drops, []);
  t.same(ok.calls, ['nack 1 true', 'resync 2 3 false'], 'the NACK gets the flow repair function');
  const bad = flowsWith('ok', false);
  t.same(run(resync, bad.flows).drops, [['invalid-resync', 'warn']]);
  t.same(run({ ...nack, flow: 'mo' } as FlowMessage, ok.flows).drops, [['wrong-flow', undefined]], 'no sender on mo');
  t.same(run({ ...resync, flow: 'bc' } as FlowMessage, ok.flows).drops, [['wrong-flow', undefined]]);
});

t.test('a DIGEST goes to its incoming flow; divergent pages are logged with their count', async (t) => {
  const digest = {
    type: 'digest',
    flow: 'mo',
    src: 0xffff,
    dst: 0,
    epoch: 1,
    packetNumber: 0,
    batchId: 1,
    firstPage: 0,
    hashes: new BigUint64Array(2),
  } as FlowMessage;
  const same = flowsWith('ok');
  const io1 = run(digest, same.flows);
  t.same(same.calls, ['digest']);
  t.same(io1.logs, [], 'nothing differs: nothing logged');
  const differ = flowsWith('ok', true, [3, 4, 9]);
  const io2 = run(digest, differ.flows);
  t.equal(io2.logs.length, 1);
  t.equal(io2.logs[0]?.[0], 'warn');
  t.match(io2.logs[0]?.[2], { peer: 1, flow: 'mo', pages: 3 });
  t.same(run({ ...digest, flow: 'ro' } as FlowMessage, same.flows).drops, [['wrong-flow', undefined]]);
  const stopped = flowsWith('ok');
  stopped.flows.in.mo = { ...stopped.flows.in.mo!, receiver: undefined };
  t.same(run(digest, stopped.flows).drops, [['wrong-flow', undefined]], 'a flow not started takes no DIGEST');
  t.same(stopped.calls, []);
});

t.test('a HEARTBEAT hands each flow its highest sequence; flows this side does not receive are skipped', async (t) => {
  const { flows, calls } = flowsWith('ok');
  heartbeatFlows(
    heartbeat(0xffff, 0, 1, {
      flows: [
        { flow: 'mo', highestSeq: 42 },
        { flow: 'bc', highestSeq: 7 },
      ],
    }),
    flows,
  );
  t.same(calls, ['highest 42']);
});

t.test('isFlowMessage: DATA, COMMIT, NACK, RESYNC and DIGEST only', async (t) => {
  const types: Message['type'][] = ['hello', 'welcome', 'reject', 'goodbye', 'heartbeat', 'data', 'commit', 'nack', 'resync', 'digest'];
  t.same(
    types.filter((type) => isFlowMessage({ type } as Message)),
    ['data', 'commit', 'nack', 'resync', 'digest'],
  );
});

t.test('a periodic duty is due at its time, and a late one skips the periods it missed', async (t) => {
  const p = new Periodic(100, 1000);
  t.equal(p.next, 1100);
  t.notOk(p.due(1099));
  t.ok(p.due(1100));
  p.done(1100);
  t.equal(p.next, 1200, 'on time: one period later');
  p.done(1250);
  t.equal(p.next, 1300, 'a little late: still on the grid');
  p.done(1300);
  t.equal(p.next, 1400, 'done exactly at the next due time: the one after it');
  p.done(1750);
  t.equal(p.next, 1850, 'missed several: a period after now');
  t.equal(new Periodic(100, 1000, 0).next, 1000, 'a first run at once');
});

t.test('flushScanOf keeps a count, busy and scanning; anything else is 0', async (t) => {
  t.equal(flushScanOf(5), 5);
  t.equal(flushScanOf('busy'), 'busy');
  t.equal(flushScanOf('scanning'), 'scanning');
  t.equal(flushScanOf(undefined), 0);
});

t.test('ScanTimes keeps the last 64 durations and counts all', async (t) => {
  const s = new ScanTimes();
  for (let i = 1; i <= 64; i++) s.add(i);
  t.equal(s.list().length, 64);
  t.equal(s.list()[0], 1);
  s.add(65);
  t.equal(s.count, 65);
  t.same(s.list().slice(0, 2), [2, 3], 'the oldest goes first');
  t.equal(s.list().at(-1), 65);
  s.list().length = 0;
  t.equal(s.list().length, 64, 'list() is a copy');
});

t.test('hashes per DIGEST: 145 at MTU 1200 unsealed (spec §6.3), less the tag when sealed', async (t) => {
  t.equal(hashesPerDigest(1200, false), 145);
  t.equal(hashesPerDigest(1200, true), 143);
  t.equal(hashesPerDigest(34 + 8 * 10 + 7, false), 10, 'rounded down');
});
