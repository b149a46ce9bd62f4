// Attachments that JavaScript drops: the collector unmaps them, but never while their
// buffer (or a view on it) is still reachable.
import { setImmediate as tick } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import t from 'tap';
import { native } from '../../src/segments/native.js';
import { createSegment } from '../fixtures/shm.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/**
 * Collects garbage, giving Node a turn after each pass to run the addon's finalizers (it
 * runs them after the GC, not inside it), until `done` holds or `rounds` passes are spent.
 * Unmapping takes two passes: the wrapper first, then the buffer it held.
 */
async function collect(done: () => boolean = () => false, rounds = 6): Promise<void> {
  for (let i = 0; i < rounds && !done(); i++) {
    gc();
    await tick();
    await tick();
  }
}

/** Attaches and drops the attachment object, keeping only its buffer. */
function bufferOnly(id: number): ArrayBuffer {
  return native.attach(id, false).buffer;
}

/** Attaches and drops everything. */
function attachAndForget(id: number): void {
  new Uint8Array(native.attach(id, false).buffer)[0] = 1;
}

t.test('an attachment dropped by JavaScript is detached by the garbage collector', async (t) => {
  const id = createSegment(t, 4096);
  for (let i = 0; i < 3; i++) attachAndForget(id);
  t.equal(native.stat(id).attached, 3, 'three attachments before collection');
  await collect(() => native.stat(id).attached === 0, 50);
  t.equal(native.stat(id).attached, 0, 'none left: nothing leaked');
});

t.test('a buffer kept after its attachment object is collected still maps the segment', async (t) => {
  const id = createSegment(t, 4096);
  let kept: Uint8Array | undefined = new Uint8Array(bufferOnly(id));
  kept[10] = 99;
  await collect();
  t.equal(native.stat(id).attached, 1, 'the buffer keeps the mapping');
  t.equal(kept.length, 4096);
  t.equal(kept[10], 99, 'reads the segment');
  kept[11] = 100;
  const check = native.attach(id, true);
  t.equal(new Uint8Array(check.buffer)[11], 100, 'writes reach the segment');
  check.detach();

  // eslint-disable-next-line no-useless-assignment -- dropping the last reference is what lets the collector unmap
  kept = undefined;
  await collect(() => native.stat(id).attached === 0, 50);
  t.equal(native.stat(id).attached, 0, 'unmapped once the buffer is gone too');
});
