import t from 'tap';
import { admit, type AdmissionContext } from '../../src/session/admission.js';
import { hello } from '../fixtures/session-harness.js';

const base: AdmissionContext = {
  closing: false,
  versions: { min: 1, max: 1 },
  remotes: 2,
  addressProblem: () => undefined,
  pageSize: 1024,
  wordSize: 8,
  segSize: 4096,
  bcSize: 0,
  session: undefined,
};
const FROM = '127.0.0.1|40000';

t.test('a version REJECT carries both ranges as min << 8 | max (spec §4.3)', async (t) => {
  const a = admit(hello({ versionMin: 2, versionMax: 3 }), FROM, base);
  t.match(a, { kind: 'reject', reason: 'version', expected: 0x0101, offered: 0x0203 });
});

t.test('the version is checked before the client id', async (t) => {
  t.match(admit(hello({ versionMin: 2, versionMax: 2, src: 7 }), FROM, base), { kind: 'reject', reason: 'version' });
  t.match(admit(hello({ src: 7 }), FROM, base), { kind: 'reject', reason: 'client-id', expected: 2, offered: 7 });
});

t.test('then address, page size, word size, segment size and BC size, in that order', async (t) => {
  const all = hello({ pageSize: 2048, wordSize: 4, segSize: 8192, bcSize: 4096 });
  t.match(admit(all, FROM, { ...base, addressProblem: () => 'not its Clientname' }), { reason: 'address', text: 'not its Clientname' });
  t.match(admit(all, FROM, base), { reason: 'page-size' });
  t.match(admit({ ...all, pageSize: 1024 }, FROM, base), { reason: 'word-size' });
  t.match(admit({ ...all, pageSize: 1024, wordSize: 8 }, FROM, base), { reason: 'seg-size', expected: 4096, offered: 8192 });
  t.match(admit({ ...all, pageSize: 1024, wordSize: 8, segSize: 4096 }, FROM, base), { reason: 'bc-size', expected: 0, offered: 4096 });
  t.match(admit(hello(), FROM, base), { kind: 'welcome', version: 1, replaces: 'nothing' });
});

t.test('a closing master answers every HELLO with unavailable, before any other check', async (t) => {
  t.match(admit(hello({ versionMin: 9, versionMax: 9 }), FROM, { ...base, closing: true }), { kind: 'reject', reason: 'unavailable' });
});

t.test('a session is address and port: another port of a live session is a duplicate, whatever its epoch', async (t) => {
  const session = { peerKey: FROM, remoteEpoch: 5, live: true };
  t.match(admit(hello({ epoch: 6 }), '127.0.0.1|40001', { ...base, session }), { kind: 'reject', reason: 'duplicate' });
  t.match(admit(hello({ epoch: 5 }), '127.0.0.1|40001', { ...base, session }), { kind: 'reject', reason: 'duplicate' }, 'same epoch too');
  t.match(admit(hello({ epoch: 5 }), FROM, { ...base, session }), { kind: 'resend' }, 'same address, port and epoch: a retransmission');
  t.match(admit(hello({ epoch: 6 }), FROM, { ...base, session }), { kind: 'welcome', replaces: 'restarted' }, 'same address and port, new epoch');
  t.match(
    admit(hello({ epoch: 6 }), '127.0.0.1|40001', { ...base, session: { ...session, live: false } }),
    { kind: 'welcome', replaces: 'silent' },
    'a silent session is replaced',
  );
});
