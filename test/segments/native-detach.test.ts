// detach(): every view on the attachment's buffer becomes empty before shmdt, so stale
// views read as empty instead of touching unmapped memory; a second detach does nothing.
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { native } from '../../src/segments/native.js';
import { nodeCommand } from '../fixtures/node-command.js';

const node = nodeCommand();
import { createSegment } from '../fixtures/shm.js';

t.test('after detach the buffer and every view made before it have length 0', async (t) => {
  const id = createSegment(t, 4096);
  const att = native.attach(id, false);
  const bytes = new Uint8Array(att.buffer);
  const middle = new Uint8Array(att.buffer, 1024, 16);
  const words = new BigUint64Array(att.buffer);
  bytes[0] = 42;

  att.detach();

  t.equal(att.attached, false);
  t.equal(att.buffer.byteLength, 0, 'buffer is detached');
  t.equal(bytes.length, 0);
  t.equal(middle.length, 0);
  t.equal(words.length, 0);
  t.equal(bytes[0], undefined, 'reads give undefined, not memory');
  bytes[0] = 1; // a write to a detached view is silently dropped
  t.equal(bytes[0], undefined);
  t.throws(() => new DataView(att.buffer), TypeError, 'a DataView over a detached buffer is refused');
  t.equal(native.stat(id).attached, 0, 'shmdt happened');
});

t.test('a second detach is a no-op', async (t) => {
  const id = createSegment(t, 4096);
  const att = native.attach(id, false);
  const other = native.attach(id, false); // must not be detached by the first one's detach
  t.teardown(() => other.detach());
  att.detach();
  t.doesNotThrow(() => att.detach());
  t.doesNotThrow(() => att.detach());
  t.equal(att.attached, false);
  t.equal(native.stat(id).attached, 1, 'the other attachment is still there');
  t.equal(other.attached, true);
  t.equal(other.buffer.byteLength, 4096);
});

t.test('hashing a view after detach hashes nothing instead of crashing', async (t) => {
  const id = createSegment(t, 4096);
  const att = native.attach(id, false);
  const view = new Uint8Array(att.buffer);
  att.detach();
  t.equal(native.hashPages(view, 1024, 0n, new BigUint64Array(4)), 0);
  t.equal(native.xxh64(view, 0n), native.xxh64(new Uint8Array(0), 0n));
  t.equal(native.hashPagesXxh3(view, 1024, 0n, new BigUint64Array(4)), 0);
  t.equal(native.xxh3(view, 0n), native.xxh3(new Uint8Array(0), 0n));
});

t.test('a process that touches its views after detach exits normally, without a signal', async (t) => {
  // The same sequence in a child, so that if it ever crashed it would not take tap with it.
  // The child loads the addon through native.ts with this process's TypeScript loader.
  const nativeUrl = new URL('../../src/segments/native.js', import.meta.url).href;
  const id = createSegment(t, 4096);
  const script = `
    const { native } = await import(${JSON.stringify(nativeUrl)});
    const att = native.attach(${id}, false);
    const views = [new Uint8Array(att.buffer), new Float64Array(att.buffer), new Uint32Array(att.buffer, 4, 8)];
    att.detach();
    let sum = 0;
    for (const v of views) { for (let i = 0; i < 4096; i++) { v[i] = 1; sum += Number(v[i] ?? 0); } }
    console.log('sum', sum, views.map((v) => v.length).join(','));
  `;
  const child = spawnSync(node.command, [...node.args, ...process.execArgv, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.equal(child.signal, null, `no signal (stderr: ${child.stderr})`);
  t.equal(child.status, 0);
  t.match(child.stdout, /sum 0 0,0,0/);
});
