// spec §10.1: 100,000+ random and mutated datagrams (fixed seed): decode() never throws,
// and accepts only well-formed datagrams, i.e. ones whose decoded message re-encodes to
// exactly the input bytes.
import t from 'tap';
import { decode, encode, type DecodeResult } from '../../src/udp/codec.js';
import { MAGIC, VERSION } from '../../src/udp/constants.js';
import { Prng } from '../fixtures/prng.js';
import { randomMessage } from '../fixtures/random-messages.js';
import { loadVectors } from '../fixtures/vectors.js';

const SEED = 0x5eed_f022;
const ROUNDS = 120_000;

function mutate(p: Prng, src: Uint8Array): Uint8Array {
  let b = Uint8Array.from(src);
  const edits = 1 + p.int(4);
  for (let e = 0; e < edits; e++) {
    switch (p.int(7)) {
      case 0: {
        // flip one bit
        if (b.length > 0) {
          const i = p.int(b.length);
          b[i] = (b[i] ?? 0) ^ (1 << p.int(8));
        }
        break;
      }
      case 1: {
        // replace one byte, biased to the header and fixed fields
        if (b.length > 0) b[p.int(Math.min(b.length, p.int(2) === 0 ? 48 : b.length))] = p.int(256);
        break;
      }
      case 2:
        b = b.subarray(0, p.int(b.length + 1));
        break; // truncate
      case 3: {
        // append junk
        const tail = p.bytes(1 + p.int(16));
        const out = new Uint8Array(b.length + tail.length);
        out.set(b);
        out.set(tail, b.length);
        b = out;
        break;
      }
      case 4: {
        // set a count/length-like field to an extreme
        if (b.length > 26) {
          const i = 24 + p.int(b.length - 25);
          b[i] = p.int(2) === 0 ? 0 : 0xff;
        }
        break;
      }
      case 5: {
        // change the type to another known or unknown one
        if (b.length > 5) b[5] = [1, 2, 3, 4, 5, 0x10, 0x11, 0x12, 0x13, 0x14, p.int(256)][p.int(11)] ?? 0;
        break;
      }
      default: {
        // change flow/flags
        if (b.length > 7) b[6 + p.int(2)] = p.int(256);
      }
    }
  }
  return b;
}

function randomDatagram(p: Prng): Uint8Array {
  const b = p.bytes(p.int(120));
  if (p.int(2) === 0 && b.length >= 6) {
    // a valid prefix, to get past the magic check
    new DataView(b.buffer).setUint32(0, MAGIC, false);
    b[4] = VERSION;
    b[5] = [1, 2, 3, 4, 5, 0x10, 0x11, 0x12, 0x13, 0x14][p.int(10)] ?? 0;
  }
  return b;
}

t.test(`${ROUNDS} random and mutated datagrams: none throws, none accepted unless well-formed`, async (t) => {
  const p = new Prng(SEED);
  const pool: Uint8Array[] = loadVectors()
    .vectors.filter((v) => v.sealed === undefined)
    .map((v) => Buffer.from(v.hex, 'hex'));
  for (let i = 0; i < 400; i++) pool.push(encode(randomMessage(p)));
  let accepted = 0;
  const reasons = new Map<string, number>();
  for (let i = 0; i < ROUNDS; i++) {
    const input = p.int(5) === 0 ? randomDatagram(p) : mutate(p, pool[p.int(pool.length)] ?? new Uint8Array(0));
    const copy = Uint8Array.from(input);
    let r: DecodeResult;
    try {
      r = decode(input);
    } catch (err) {
      t.fail(`decode threw on round ${i} (${Buffer.from(copy).toString('hex')}): ${String(err)}`);
      return;
    }
    if (!r.ok) {
      reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
      continue;
    }
    accepted++;
    let again: Buffer;
    try {
      again = encode(r.msg);
    } catch (err) {
      t.fail(`accepted datagram does not re-encode on round ${i}: ${String(err)}`);
      return;
    }
    if (!again.equals(copy)) {
      t.fail(`accepted datagram is not canonical on round ${i}: ${Buffer.from(copy).toString('hex')}`);
      return;
    }
  }
  t.comment(`accepted ${accepted}; rejected by reason ${JSON.stringify(Object.fromEntries(reasons))}`);
  t.ok(accepted > 100, 'some mutations stay valid (the check is exercised)');
  t.ok(reasons.size >= 10, 'mutations reach most reject reasons');
});
