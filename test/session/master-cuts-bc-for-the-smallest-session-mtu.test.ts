// spec §8.1: the shared BC stream is cut for the smallest session MTU among the master's
// sessions, set before the WELCOME of a session that lowers it leaves and raised again when
// that session ends; a BC repair may carry what its destination takes.
import t from 'tap';
import { maxDataPayload } from '../../src/udp/codec.js';
import { REMOTE, goodbye, heartbeat, hello, masterHarness } from '../fixtures/session-harness.js';

const OTHER = { address: '127.0.0.2', port: 40001 };
const GROUP = { address: '239.1.2.3', port: 31416 };

t.test('BC follows the smallest session MTU as sessions open and end', async (t) => {
  const h = masterHarness({}, true);
  const bc = h.bc!.sender!;
  let sentAtCut = -1;
  const setMtu = bc.setMtu;
  bc.setMtu = (mtu) => {
    sentAtCut = h.io.sent.length;
    setMtu(mtu);
  };
  h.deliver(hello({ src: 0, mtu: 576, epoch: 11 }));
  t.same(bc.mtus, [576], 'a 576 session cuts BC for 576');
  t.equal(sentAtCut, 0, 'before its WELCOME left');
  t.equal(h.io.take('welcome')[0]?.msg.mtu, 576);
  h.deliver(hello({ src: 1, mtu: 900, epoch: 12 }), OTHER);
  t.equal(bc.mtus.at(-1), 576, 'a 900 session keeps the smallest');
  h.deliver(goodbye(0, 0xffff, 11));
  t.equal(bc.mtus.at(-1), 900, 'the 576 session ended: 900');
  h.deliver(goodbye(1, 0xffff, 12), OTHER);
  t.equal(bc.mtus.at(-1), 1200, "no session: the master's own --mtu");
});

t.test('a BC repair may carry what its destination takes: its session by unicast, the whole group by multicast', async (t) => {
  for (const group of [undefined, GROUP]) {
    const h = masterHarness(group ? { group } : {}, true);
    h.deliver(hello({ src: 0, mtu: 1200, epoch: 11 }));
    h.deliver(heartbeat(0, 0xffff, 11)); // version 1: no cookie to wait for
    h.deliver(hello({ src: 1, mtu: 576, epoch: 12 }), OTHER);
    h.deliver({ type: 'nack', src: 0, dst: 0xffff, epoch: 11, packetNumber: 3, flow: 'bc', ranges: [{ first: 1, count: 1 }] }, REMOTE);
    const want = maxDataPayload(group ? 576 : 1200, 8, false);
    t.same(h.bc!.sender!.nackLimits, [want], group ? 'multicast: what the smallest member takes' : 'fan-out: what the NACKer takes');
  }
});
