// §3: a node MUST NOT repeat (Src, Dst, Epoch, Packet Number) within one session, and a
// session's count may start again at 0. A remote that takes a master's second WELCOME for the
// same HELLO (§4.6) keeps its epoch and numbers the new session from 0: `conformance remote`'s
// packet-numbers-unique must compare numbers within each WELCOME's session, not across the run.
import t from 'tap';
import { REMOTE_WIRE_CASES } from '../../src/conformance/cases-remote-wire.js';
import type { RemoteContext } from '../../src/conformance/case.js';
import type { Arrival } from '../../src/conformance/probe.js';
import type { Message } from '../../src/udp/codec.js';

const unique = REMOTE_WIRE_CASES.find((c) => c.id === 'packet-numbers-unique')!;

function heartbeat(packetNumber: number, session: number): Arrival {
  const msg = { type: 'heartbeat', src: 0, dst: 0xffff, epoch: 77, packetNumber, timestamp: 0, flows: [] } as unknown as Message;
  return { msg, bytes: 37, session };
}

const verdict = (arrivals: Arrival[]) => unique.run({ probe: { arrivals }, psk: null } as unknown as RemoteContext);

t.test('numbers that start again after a second WELCOME pass', async (t) => {
  t.match(await verdict([heartbeat(0, 1), heartbeat(1, 1), heartbeat(0, 2), heartbeat(1, 2)]), { verdict: 'pass' });
});

t.test('a number repeated inside one session fails, naming it', async (t) => {
  t.match(await verdict([heartbeat(0, 1), heartbeat(1, 1), heartbeat(1, 1)]), {
    verdict: 'fail',
    seen: /HEARTBEAT and HEARTBEAT both with \(Src, Dst, Epoch, Packet Number\) = \(0, 65535, 77, 1\) in one session/,
  });
});

t.test('nothing decoded: skipped with the reason', async (t) => {
  t.match(await verdict([]), { verdict: 'skip', why: 'nothing decoded arrived' });
});
