// Every addon function checks its arguments before any system call, the way Node's own
// validators do: TypeError (ERR_INVALID_ARG_TYPE) for a wrong type, RangeError
// (ERR_OUT_OF_RANGE) for a value out of range.
import t from 'tap';
import { native } from '../../src/segments/native.js';

/** Calls `fn` with arguments the types forbid, as plain JavaScript callers can. */
const loose = <F extends (...args: never[]) => unknown>(fn: F) => fn as unknown as (...args: unknown[]) => unknown;

const typeError = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' };
const rangeError = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' };

t.test('get refuses arguments of the wrong type with a TypeError', async (t) => {
  const get = loose(native.get);
  t.throws(() => get(), typeError, 'no arguments');
  t.throws(() => get('0x314158', 4096, 0o666, false, false), typeError, 'key as a string');
  t.throws(() => get(1n, 4096, 0o666, false, false), typeError, 'key as a bigint');
  t.throws(() => get(1, '4096', 0o666, false, false), typeError, 'size as a string');
  t.throws(() => get(1, 4096, null, false, false), typeError, 'mode null');
  t.throws(() => get(1, 4096, 0o666, 1, false), typeError, 'create as a number');
  t.throws(() => get(1, 4096, 0o666, false), typeError, 'exclusive missing');
  const err = t.throws(() => get('x', 1, 0, false, false));
  t.match(err, { message: 'The "key" argument must be of type number. Received type string' });
});

t.test('get refuses negative, fractional and oversized numbers with a RangeError', async (t) => {
  const get = loose(native.get);
  t.throws(() => get(-1, 4096, 0o666, false, false), rangeError, 'negative key');
  t.throws(() => get(2 ** 32, 4096, 0o666, false, false), rangeError, 'key over 32 bits');
  t.throws(() => get(1.5, 4096, 0o666, false, false), rangeError, 'fractional key');
  t.throws(() => get(Number.NaN, 4096, 0o666, false, false), rangeError, 'NaN key');
  t.throws(() => get(1, -4096, 0o666, false, false), rangeError, 'negative size');
  t.throws(() => get(1, Infinity, 0o666, false, false), rangeError, 'infinite size');
  t.throws(() => get(1, 4096, -1, false, false), rangeError, 'negative mode');
  t.throws(() => get(1, 4096, 0o1000, false, false), rangeError, 'mode beyond permission bits');
});

t.test('attach, stat and remove refuse a bad id or flag before any system call', async (t) => {
  const attach = loose(native.attach);
  const stat = loose(native.stat);
  const remove = loose(native.remove);
  t.throws(() => attach('1', false), typeError);
  t.throws(() => attach(1, 'yes'), typeError);
  t.throws(() => attach(-1, false), rangeError);
  t.throws(() => stat(undefined), typeError);
  t.throws(() => stat(-1), rangeError);
  t.throws(() => stat(2 ** 31), rangeError);
  t.throws(() => remove({}), typeError);
  t.throws(() => remove(0.5), rangeError);
});

for (const [pagesName, oneName] of [
  ['hashPages', 'xxh64'],
  ['hashPagesXxh3', 'xxh3'],
] as const)
  t.test(`${pagesName} and ${oneName} refuse data that is not a Uint8Array and seeds that are not bigints`, async (t) => {
    const hashPages = loose(native[pagesName]);
    const xxh64 = loose(native[oneName]);
    const out = new BigUint64Array(4);
    t.throws(() => hashPages(new Uint16Array(2048), 1024, 0n, out), typeError, 'Uint16Array data');
    t.throws(() => hashPages(new ArrayBuffer(4096), 1024, 0n, out), typeError, 'ArrayBuffer data');
    t.throws(() => hashPages(new Uint8Array(4096), 1024, 0, out), typeError, 'number seed');
    t.throws(() => hashPages(new Uint8Array(4096), 1024n, 0n, out), typeError, 'bigint page size');
    t.throws(() => hashPages(new Uint8Array(4096), 1024, 0n, new BigInt64Array(4)), typeError, 'signed out');
    t.throws(() => hashPages(new Uint8Array(4096), 1024, 0n, [0n, 0n, 0n, 0n]), typeError, 'array out');
    t.throws(() => xxh64('abc', 0n), typeError, 'string data');
    t.throws(() => xxh64(new Uint8Array(3)), typeError, 'seed missing');
    t.doesNotThrow(() => xxh64(Buffer.from('abc'), 0n), 'a Buffer is a Uint8Array');
  });

t.test('an attachment object cannot be made with new, only by attach()', async (t) => {
  // Reach the class the only way JavaScript can: through an attachment's prototype.
  const id = native.get(0, 4096, 0o600, true, false); // IPC_PRIVATE: a new segment, no key
  t.teardown(() => native.remove(id));
  const att = native.attach(id, false);
  t.teardown(() => att.detach());
  const Ctor = Object.getPrototypeOf(att).constructor as new () => unknown;
  t.throws(() => new Ctor(), { name: 'TypeError', message: /Illegal constructor/ });
});
