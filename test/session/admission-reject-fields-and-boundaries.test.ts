// spec §4.3 and §4.6: what each REJECT of admission carries (Expected = the master's value,
// Offered = the remote's), where each check's boundary lies, and the version-2 HELLO
// without a NONCE (§10.4), which is dropped rather than answered.
import t from 'tap';
import { admit, type AdmissionContext } from '../../src/session/admission.js';
import { versionRange } from '../../src/udp/join.js';
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

t.test('client-id: Src >= N is refused with Expected N and Offered Src; Src N-1 is the last id admitted', async (t) => {
  t.match(admit(hello({ src: 2 }), FROM, base), { kind: 'reject', reason: 'client-id', expected: 2, offered: 2 });
  t.match(admit(hello({ src: 1 }), FROM, base), { kind: 'welcome', replaces: 'nothing' });
  t.match(admit(hello({ src: 0 }), FROM, { ...base, remotes: 1 }), { kind: 'welcome' }, 'N = 1: only client id 0');
});

t.test('each size REJECT carries the master value as Expected and the HELLO value as Offered', async (t) => {
  t.match(admit(hello({ pageSize: 2048 }), FROM, base), { kind: 'reject', reason: 'page-size', expected: 1024, offered: 2048 });
  t.match(admit(hello({ wordSize: 4 }), FROM, base), { kind: 'reject', reason: 'word-size', expected: 8, offered: 4 });
  t.match(admit(hello({ segSize: 8192 }), FROM, base), { kind: 'reject', reason: 'seg-size', expected: 4096, offered: 8192 });
  t.match(admit(hello({ bcSize: 8192 }), FROM, { ...base, bcSize: 4096 }), { kind: 'reject', reason: 'bc-size', expected: 4096, offered: 8192 });
});

t.test('address, duplicate and unavailable carry 0 / 0', async (t) => {
  t.match(admit(hello(), FROM, { ...base, addressProblem: () => 'no' }), { kind: 'reject', reason: 'address', expected: 0, offered: 0 });
  t.match(admit(hello(), FROM, { ...base, closing: true }), { kind: 'reject', reason: 'unavailable', expected: 0, offered: 0 });
  const session = { peerKey: '127.0.0.1|40001', remoteEpoch: 1, live: true };
  t.match(admit(hello(), FROM, { ...base, session }), { kind: 'reject', reason: 'duplicate', expected: 0, offered: 0 });
});

t.test('the address check asks about the HELLO client id', async (t) => {
  const asked: number[] = [];
  const c = { ...base, remotes: 4, addressProblem: (id: number) => (asked.push(id), undefined) };
  t.match(admit(hello({ src: 3 }), FROM, c), { kind: 'welcome' });
  t.same(asked, [3]);
});

t.test('bc-size: a HELLO BC Size of 0 always passes; nonzero must equal the master BC_size, also when it has none', async (t) => {
  t.match(admit(hello({ bcSize: 0 }), FROM, { ...base, bcSize: 4096 }), { kind: 'welcome' }, 'a remote that takes no BC');
  t.match(admit(hello({ bcSize: 4096 }), FROM, { ...base, bcSize: 4096 }), { kind: 'welcome' });
  t.match(admit(hello({ bcSize: 4096 }), FROM, base), { kind: 'reject', reason: 'bc-size', expected: 0, offered: 4096 });
});

t.test('the welcome names the highest version both speak', async (t) => {
  const v12 = { ...base, versions: { min: 1, max: 2 } };
  t.match(admit(hello({ versionMin: 1, versionMax: 1 }), FROM, v12), { kind: 'welcome', version: 1 });
  t.match(admit(hello({ versionMin: 1, versionMax: 3, nonce: new Uint8Array(16) }), FROM, v12), { kind: 'welcome', version: 2 });
});

t.test('a HELLO that offers version 2 without a NONCE is dropped as decode-option, not answered (§10.4)', async (t) => {
  const v2 = { ...base, versions: { min: 2, max: 2 } };
  t.same(admit(hello({ versionMin: 2, versionMax: 2 }), FROM, v2), { kind: 'drop', reason: 'decode-option' });
  t.match(admit(hello({ versionMin: 2, versionMax: 2, nonce: new Uint8Array(16) }), FROM, v2), { kind: 'welcome', version: 2 });
});

t.test('the session version is the highest both speak; ranges apart are REJECT version with both ranges', async (t) => {
  const nonce = new Uint8Array(16);
  const at = (min: number, max: number) => ({ ...base, versions: { min, max } });
  t.match(admit(hello({ versionMin: 1, versionMax: 1 }), FROM, at(2, 3)), { kind: 'reject', reason: 'version', expected: 0x0203, offered: 0x0101 });
  t.match(admit(hello({ versionMin: 1, versionMax: 2, nonce }), FROM, at(2, 3)), { kind: 'welcome', version: 2 }, 'ranges that share one version');
  t.match(admit(hello({ versionMin: 3, versionMax: 3, nonce }), FROM, at(1, 3)), { kind: 'welcome', version: 3 });
  t.match(admit(hello({ versionMin: 2, versionMax: 5, nonce }), FROM, at(1, 3)), { kind: 'welcome', version: 3 }, 'the highest both speak');
});

t.test('REJECT version keeps one byte per bound', async (t) => {
  t.equal(versionRange(1, 1), 0x0101);
  t.equal(versionRange(0x1ff, 0x102), 0xff02);
});

t.test("each REJECT's text (sent in the datagram, logged by the remote) names both values", async (t) => {
  const text = (a: ReturnType<typeof admit>): string | undefined => (a.kind === 'reject' ? a.text : undefined);
  t.equal(text(admit(hello(), FROM, { ...base, closing: true })), 'the master is shutting down');
  t.equal(text(admit(hello({ src: 5 }), FROM, { ...base, remotes: 3 })), 'client id 5 is out of range 0..2');
  t.equal(text(admit(hello({ pageSize: 2048 }), FROM, base)), 'page size: master 1024, remote 2048');
  t.equal(text(admit(hello({ wordSize: 4 }), FROM, base)), 'word size: master 8, remote 4');
  t.equal(text(admit(hello({ segSize: 8192 }), FROM, base)), 'segment size: master 4096, remote 8192');
  t.equal(text(admit(hello({ bcSize: 1024 }), FROM, { ...base, bcSize: 2048 })), 'broadcast size: master 2048, remote 1024');
  const live = { ...base, session: { peerKey: '127.0.0.1|40001', remoteEpoch: 1, live: true } };
  t.equal(text(admit(hello({ src: 1 }), FROM, live)), 'client 1 is already joined from another address or port');
  t.match(text(admit(hello({ versionMin: 2, versionMax: 3 }), FROM, base)), /versions 1\.\.1, the remote 2\.\.3/);
});
