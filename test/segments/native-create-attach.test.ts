// Creating a segment, attaching it twice, and what IPC_STAT reports about it.
import t from 'tap';
import { native } from '../../src/segments/native.js';
import { emulation } from '../fixtures/node-command.js';
import { createSegment, uniqueKey } from '../fixtures/shm.js';

t.test('a segment created with get() is found again by its key with create and exclusive off', async (t) => {
  const key = uniqueKey();
  const id = native.get(key, 4096, 0o600, true, true);
  t.teardown(() => native.remove(id));
  t.type(id, 'number');
  t.ok(Number.isInteger(id) && id >= 0, 'shmid is a non-negative integer');
  t.equal(native.get(key, 4096, 0o600, false, false), id, 'same key, same shmid');
  t.equal(native.get(key, 0, 0, false, false), id, 'size 0 opens whatever size it has');
  t.equal(native.get(key, 100, 0o600, true, false), id, 'create without exclusive opens the existing one');
});

t.test('bytes written through one attachment are read through a second attachment of the same id', async (t) => {
  const id = createSegment(t, 8192);
  const writer = native.attach(id, false);
  const reader = native.attach(id, true);
  t.teardown(() => {
    writer.detach();
    reader.detach();
  });

  t.equal(writer.id, id);
  t.equal(writer.attached, true);
  t.ok(writer.buffer instanceof ArrayBuffer, 'buffer is an ArrayBuffer');
  t.equal(writer.buffer.byteLength, 8192, 'the buffer spans the segment');
  const firstRead = writer.buffer;
  t.equal(writer.buffer, firstRead, 'buffer is the same object on every read');

  const out = new Uint8Array(writer.buffer);
  const seen = new Uint8Array(reader.buffer);
  t.ok(
    seen.every((b) => b === 0),
    'a new segment reads as zeros',
  );
  out.set([1, 2, 3], 0);
  out[8191] = 0xff;
  new DataView(writer.buffer).setBigUint64(64, 0x0102030405060708n, true);
  t.same([...seen.subarray(0, 3)], [1, 2, 3]);
  t.equal(seen[8191], 0xff);
  t.equal(new DataView(reader.buffer).getBigUint64(64, true), 0x0102030405060708n);
});

t.test('stat reports the requested size, the attach count, the creator pid and the mode', async (t) => {
  const id = createSegment(t, 5000, { mode: 0o640 }); // not a page multiple: SysV keeps the size asked for
  let st = native.stat(id);
  const want = { size: 5000, attached: 0, creatorPid: process.pid, lastPid: 0, mode: 0o640, uid: process.getuid?.() ?? st.uid };
  if (emulation === 'qemu') {
    // qemu-user translates shmctl(IPC_STAT) but reports the mode as 0 (a qemu bug).
    t.same({ ...st, mode: want.mode }, want, 'everything but the mode');
    t.comment(`mode not checked: ${emulation} reports 0 for every segment`);
  } else {
    t.same(st, want);
  }

  const a = native.attach(id, false);
  const b = native.attach(id, true);
  t.teardown(() => {
    a.detach();
    b.detach();
  });
  st = native.stat(id);
  t.equal(st.attached, 2, 'two attachments');
  t.equal(st.lastPid, process.pid, 'shmat records the last pid');
  t.equal(a.buffer.byteLength, 5000, 'the buffer spans exactly the reported size');

  a.detach();
  t.equal(native.stat(id).attached, 1, 'detach drops the count');
});

t.test('a removed segment stays usable by its attachments until the last one detaches', async (t) => {
  const id = native.get(uniqueKey(), 4096, 0o600, true, true);
  const a = native.attach(id, false);
  t.teardown(() => a.detach()); // the kernel frees the removed segment here
  native.remove(id);
  new Uint8Array(a.buffer)[0] = 7;
  t.equal(new Uint8Array(a.buffer)[0], 7, 'memory still mapped');
  a.detach();
  t.throws(() => native.stat(id), { code: 'EINVAL', syscall: 'shmctl' }, 'gone after the last detach');
});
