/**
 * Issue 19 finding 6: what one forged sealed datagram costs the receiving daemon, in µs,
 * through the transport's receive path (checks, open, decode), in process, no socket.
 *
 * Baseline (1.00x, measured in the same run): the version-1 open() as it shipped, a frozen
 * copy kept below: the AEAD attempted for every datagram whose route looked right, with the
 * tag failure thrown (stack trace captured) and two Buffer.concat copies. Version 1 and its
 * static keys are gone from the daemons (spec §10.4); the copy needs no derivation, since a
 * forgery fails the tag under any key, so it runs under a random one. The other rows are
 * what the version-2 transport does with the datagrams an attacker can make without the
 * key: wrong epoch, replayed packet number, no session, an impossible length (all dropped
 * before any cryptography), and the worst case, a forged tag with the right epoch and a
 * fresh packet number (the AEAD runs, without a stack trace).
 *
 *   node --import @isaacs/ts-node-temp-fork-for-pr-2009/import bench/forged.ts
 * or `npm run bench -- forged`.
 */
import { createDecipheriv, randomBytes } from 'node:crypto';
import { Logger } from '../src/log.js';
import { Transport } from '../src/daemon/transport.js';
import { encode } from '../src/udp/codec.js';
import { AEAD_ALGORITHM, HEADER_SIZE, NODE_MASTER, TAG_SIZE } from '../src/udp/constants.js';
import { PskKeys, seal } from '../src/udp/seal.js';
import type { Peer, UdpEndpoint } from '../src/udp/socket.js';
import { num, ratio, type BenchResult, type Table } from './lib/report.js';

/** The version-1 open() of commit e1bd248, the baseline. */
function openV1(key: Uint8Array, sealed: Uint8Array): boolean {
  if (sealed.byteLength < HEADER_SIZE + TAG_SIZE) return false;
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const header = bytes.subarray(0, HEADER_SIZE);
  const ct = bytes.subarray(HEADER_SIZE, bytes.byteLength - TAG_SIZE);
  const tag = bytes.subarray(bytes.byteLength - TAG_SIZE);
  try {
    const decipher = createDecipheriv(AEAD_ALGORITHM, key, header.subarray(12, 24), { authTagLength: TAG_SIZE });
    decipher.setAAD(header, { plaintextLength: ct.byteLength });
    decipher.setAuthTag(tag);
    const pt = Buffer.concat([decipher.update(ct), decipher.final()]);
    const out = Buffer.alloc(HEADER_SIZE + pt.byteLength);
    out.set(header, 0);
    out.set(pt, HEADER_SIZE);
    return true;
  } catch {
    return false;
  }
}

const stubEndpoint = { onMessage: () => undefined, send: () => undefined, sendNow: () => undefined, queued: 0 } as unknown as UdpEndpoint;
const from: Peer = { address: '127.0.0.1', port: 40000 };

/** Median µs per call of `f` over `rounds` rounds of `n` calls. */
function perCall(f: (i: number) => void, n = 20_000, rounds = 7): number {
  for (let i = 0; i < 2000; i++) f(i); // warm up
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) f(i);
    samples.push(((performance.now() - t0) * 1000) / n);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

export async function benchForged(): Promise<BenchResult> {
  const t0 = performance.now();
  const psk = new PskKeys(randomBytes(32));
  const log = new Logger('bench', 'error');
  const EPOCH = 0x6553f100;
  const data = (pn: number, epoch = EPOCH): Buffer => {
    const plain = encode({
      type: 'data',
      src: 0,
      dst: NODE_MASTER,
      epoch,
      packetNumber: pn,
      flow: 'ro',
      seq: 1,
      batchId: 1,
      page: 0,
      offset: 0,
      payload: Buffer.alloc(1024, 7),
    });
    const sealed = seal(randomBytes(32), plain); // a key the receiver does not have: a forgery
    return sealed;
  };
  const forged = data(5);
  const v1Key = randomBytes(32); // the receiver's static key; the forgery was sealed under another

  const strict = new Transport(stubEndpoint, log, 1, { self: NODE_MASTER, acceptSrc: (s) => s < 4, psk });
  strict.installSession(0, { keys: { send: randomBytes(32), receive: randomBytes(32) }, peerEpoch: EPOCH, peer: from });
  // Move the window up so that low packet numbers are "replayed".
  const fresh = Array.from({ length: 64 }, (_, i) => data(1_000_000 + i));
  const wrongEpoch = data(5, EPOCH - 1);
  const noSession = Buffer.from(forged);
  noSession.writeUInt16BE(2, 8); // src 2: no session installed
  const badLength = forged.subarray(0, HEADER_SIZE + TAG_SIZE + 3);

  const baseline = perCall(() => openV1(v1Key, forged));
  const rows: [string, number][] = [
    ['v1 open() as shipped (baseline)', baseline],
    ['v2: forged tag, right epoch, fresh packet number (AEAD runs)', perCall((i) => strict.receive(fresh[i & 63]!, from))],
    ['v2: wrong epoch (no AEAD)', perCall(() => strict.receive(wrongEpoch, from))],
    ['v2: no session for Src (no AEAD)', perCall(() => strict.receive(noSession, from))],
    ['v2: impossible length for the type (no AEAD)', perCall(() => strict.receive(badLength, from))],
    ['v2: from another address than the session (no AEAD)', perCall(() => strict.receive(forged, { address: '127.0.0.2', port: 1 }))],
  ];
  const table: Table = {
    title: 'Forged sealed datagram: µs to drop one (in process, 1 KiB DATA; baseline: v1 open() = 1.00x)',
    columns: ['path', 'µs per datagram', 'vs baseline'],
    rows: rows.map(([name, us]) => [name, num(us, 2), ratio(us, baseline)]),
    notes: [
      'medians of 7 rounds of 20,000 calls; the socket receive (about 5-10 µs a datagram in Node) comes on top of every row',
      'an attacker without the key learns the epoch from any captured datagram, so the AEAD row is the worst case',
    ],
  };
  return {
    name: 'forged',
    tables: [table],
    targets: [],
    data: Object.fromEntries(rows),
    seconds: (performance.now() - t0) / 1000,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { renderTable } = await import('./lib/report.js');
  const r = await benchForged();
  for (const t of r.tables) process.stdout.write(`${renderTable(t)}\n`);
}
