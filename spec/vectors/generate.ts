/**
 * Regenerates the protocol's test vectors: spec/vectors/vectors.json and the appendix of
 * spec/protocol.md (between the GENERATED VECTORS markers), from the messages below.
 * Run from the repository root after a deliberate change to the wire format:
 *
 *   node --import @isaacs/ts-node-temp-fork-for-pr-2009/import spec/vectors/generate.ts
 *
 * test/udp/vectors-*.test.ts then check that both files agree and that every vector
 * decodes to its fields and re-encodes to its bytes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { encode } from '../../src/udp/codec.js';
import type { Message } from '../../src/udp/codec.js';
import { deriveGroupKey, deriveHandshakeKey, deriveSessionKey, seal, sealHandshake } from '../../src/udp/seal.js';
import type { SessionSecrets } from '../../src/udp/seal.js';
import { native } from '../../src/segments/native.js';
import { toWire } from '../../src/segments/word-codec.js';
import { hexDump, messageToJson, PROTOCOL_MD, VECTORS_JSON } from '../../test/fixtures/vectors.js';
import type { Vector, VectorFile } from '../../test/fixtures/vectors.js';

const MASTER = 0xffff;
const ALL = 0xfffe;
const MASTER_EPOCH = 0x6553f100; // 1700000000, Unix seconds
const REMOTE_EPOCH = 0x6553f17b; // 1700000123

/** n native u64 words valued first, first+1, ... in the network-neutral form (big-endian). */
function words(first: number, n: number): Uint8Array {
  const native64 = new BigUint64Array(n).map((_, i) => BigInt(first + i));
  const out = new Uint8Array(n * 8);
  toWire(new Uint8Array(native64.buffer), out, 8);
  return out;
}

/** XXH64, seed 0, of page 1 of the DIGEST example: 128 u64 words 0..127, network-neutral. */
const zeroPage = new Uint8Array(1024);
const countingPage = words(0, 128);

/** 16 bytes counting up from `first`: the nonces, salt and cookie of the vectors. */
const run = (first: number): Uint8Array => Uint8Array.from({ length: 16 }, (_, i) => first + i);
const PSK = Uint8Array.from({ length: 32 }, (_, i) => i);
const HELLO_NONCE = run(0xa0);
const WELCOME_NONCE = run(0xc0);
const COOKIE = run(0xd0);
const GROUP_NONCE = run(0xe0);
const SALT = run(0x10);
const SESSION: SessionSecrets = {
  clientId: 3,
  helloNonce: HELLO_NONCE,
  welcomeNonce: WELCOME_NONCE,
  remoteEpoch: REMOTE_EPOCH,
  masterEpoch: MASTER_EPOCH,
};

type Sealing = { kind: 'handshake'; salt: Uint8Array } | { kind: 'session'; session: SessionSecrets } | { kind: 'group'; groupNonce: Uint8Array };

interface Def {
  name: string;
  section: string;
  description: string;
  message: Message;
  sealing?: Sealing;
}

const plainDefs: Def[] = [
  {
    name: 'hello',
    section: '4.1',
    description:
      'Remote 3 asks to join: version 2 only, MTU 1200, page 1024, Seg_size 4096, any BC size, ' +
      'RO starts at sequence 0xfffffff0 (wraps soon), word size 8, HOSTNAME "node-3.example", NONCE a0 a1 .. af.',
    message: {
      type: 'hello',
      src: 3,
      dst: MASTER,
      epoch: REMOTE_EPOCH,
      packetNumber: 0,
      versionMin: 2,
      versionMax: 2,
      mtu: 1200,
      pageSize: 1024,
      segSize: 4096,
      bcSize: 0,
      roNextSeq: 0xfffffff0,
      wordSize: 8,
      hostname: 'node-3.example',
      nonce: HELLO_NONCE,
      options: [],
    },
  },
  {
    name: 'hello-version-1',
    section: '10.4',
    description: 'A HELLO from a version-1 remote (versions 1..1, no NONCE). A version-2 master answers it with ' + 'REJECT version (vector reject-version).',
    message: {
      type: 'hello',
      src: 3,
      dst: MASTER,
      epoch: REMOTE_EPOCH,
      packetNumber: 0,
      versionMin: 1,
      versionMax: 1,
      mtu: 1200,
      pageSize: 1024,
      segSize: 4096,
      bcSize: 0,
      roNextSeq: 0,
      wordSize: 8,
      hostname: null,
      nonce: null,
      options: [],
    },
  },
  {
    name: 'hello-unknown-option',
    section: '4.5',
    description:
      'A HELLO from a newer remote (versions 2..3) with an option of type 0xc8 that version 2 does not ' +
      'know: a version-2 master skips it (and keeps it when re-encoding) and picks version 2.',
    message: {
      type: 'hello',
      src: 0,
      dst: MASTER,
      epoch: REMOTE_EPOCH,
      packetNumber: 1,
      versionMin: 2,
      versionMax: 3,
      mtu: 1400,
      pageSize: 4096,
      segSize: 65536,
      bcSize: 8192,
      roNextSeq: 0,
      wordSize: 4,
      hostname: null,
      nonce: run(0xb0),
      options: [{ type: 0xc8, value: Uint8Array.of(0xde, 0xad, 0xbe, 0xef) }],
    },
  },
  {
    name: 'welcome-unicast',
    section: '4.2',
    description:
      'The master accepts remote 3 of 4: BC of 8192 bytes by unicast fan-out, MO and BC sequences ' +
      'start at 0x10 and 0x7fffffff, scan every 2000 ms, heartbeat 1000 ms, liveness 5000 ms; NONCE c0 .. cf, ' +
      'COOKIE d0 .. df.',
    message: {
      type: 'welcome',
      src: MASTER,
      dst: 3,
      epoch: MASTER_EPOCH,
      packetNumber: 0,
      remoteEpoch: REMOTE_EPOCH,
      pageSize: 1024,
      segSize: 4096,
      bcSize: 8192,
      moNextSeq: 0x10,
      bcNextSeq: 0x7fffffff,
      intervalMs: 2000,
      heartbeatMs: 1000,
      livenessMs: 5000,
      clientCount: 4,
      mtu: 1200,
      version: 2,
      wordSize: 8,
      bcMode: 'unicast',
      multicast: null,
      nonce: WELCOME_NONCE,
      cookie: COOKIE,
      groupNonce: null,
      options: [],
    },
  },
  {
    name: 'welcome-multicast',
    section: '4.2',
    description: 'As welcome-unicast, but BC goes to the multicast group 239.255.49.15 port 31416, keyed by ' + 'GROUP_NONCE e0 .. ef.',
    message: {
      type: 'welcome',
      src: MASTER,
      dst: 3,
      epoch: MASTER_EPOCH,
      packetNumber: 1,
      remoteEpoch: REMOTE_EPOCH,
      pageSize: 1024,
      segSize: 4096,
      bcSize: 8192,
      moNextSeq: 0x10,
      bcNextSeq: 0x7fffffff,
      intervalMs: 2000,
      heartbeatMs: 1000,
      livenessMs: 5000,
      clientCount: 4,
      mtu: 1200,
      version: 2,
      wordSize: 8,
      bcMode: 'multicast',
      multicast: { port: 31416, address: Uint8Array.of(239, 255, 49, 15) },
      nonce: WELCOME_NONCE,
      cookie: COOKIE,
      groupNonce: GROUP_NONCE,
      options: [],
    },
  },
  {
    name: 'reject-seg-size',
    section: '4.3',
    description: 'The master rejects remote 3: its Seg_size is 8192, the remote offered 4096; TEXT explains.',
    message: {
      type: 'reject',
      src: MASTER,
      dst: 3,
      epoch: MASTER_EPOCH,
      packetNumber: 2,
      remoteEpoch: REMOTE_EPOCH,
      expected: 8192,
      offered: 4096,
      reason: 'seg-size',
      text: 'Seg_size mismatch',
      options: [],
    },
  },
  {
    name: 'reject-version',
    section: '4.3',
    description:
      'A version-2 master (versions 2..2) answers the version-1 HELLO of hello-version-1: Expected ' + '0x0202, Offered 0x0101 ((min << 8) | max each).',
    message: {
      type: 'reject',
      src: MASTER,
      dst: 3,
      epoch: MASTER_EPOCH,
      packetNumber: 0,
      remoteEpoch: REMOTE_EPOCH,
      expected: 0x0202,
      offered: 0x0101,
      reason: 'version',
      text: null,
      options: [],
    },
  },
  {
    name: 'goodbye',
    section: '4.4',
    description: 'Remote 3 shuts down.',
    message: { type: 'goodbye', src: 3, dst: MASTER, epoch: REMOTE_EPOCH, packetNumber: 41, reason: 'shutdown' },
  },
  {
    name: 'heartbeat-master',
    section: '6.2',
    description: 'Master to remote 3 with an RTT echo; highest MO sequence sent 0x0000001f, highest BC 0x80000003. ' + 'The packet number uses all 48 bits.',
    message: {
      type: 'heartbeat',
      src: MASTER,
      dst: 3,
      epoch: MASTER_EPOCH,
      packetNumber: 0x010203040506,
      timestamp: 0x00989680,
      echo: { timestamp: 0x0001e240, delay: 250 },
      wantBcUnicast: false,
      flows: [
        { flow: 'mo', highestSeq: 0x1f },
        { flow: 'bc', highestSeq: 0x80000003 },
      ],
      cookie: null,
    },
  },
  {
    name: 'heartbeat-remote',
    section: '6.2',
    description:
      'Remote 3 to the master, no echo yet, asking for BC by unicast; highest RO sequence 0xffffffff; ' +
      'it echoes the COOKIE d0 .. df of welcome-unicast (flag 0x04).',
    message: {
      type: 'heartbeat',
      src: 3,
      dst: MASTER,
      epoch: REMOTE_EPOCH,
      packetNumber: 7,
      timestamp: 12345678,
      echo: null,
      wantBcUnicast: true,
      flows: [{ flow: 'ro', highestSeq: 0xffffffff }],
      cookie: COOKIE,
    },
  },
  {
    name: 'data',
    section: '5.1',
    description:
      'MO DATA to remote 3, a layout example of a range inside a page: sequence 0x10, batch 1, page 1, ' +
      'the 32 bytes at offset 64 - the native u64 words 8, 9, 10, 11 in network-neutral form (W = 8). ' +
      'It decodes, and passes the checks of §5.1 against a 1024-byte page, but a sender following §5.3 ' +
      'never sends it: a batch carries whole pages, cut from offset 0 into consecutive ranges of at most P bytes (with ' +
      'MTU 1200 and page 1024, one DATA of 1024 bytes per page). It is not one of the DATA that ' +
      'vector commit closes, and a batch holding it would not cover page 1 and be refused (§7.3).',
    message: {
      type: 'data',
      src: MASTER,
      dst: 3,
      epoch: MASTER_EPOCH,
      packetNumber: 3,
      flow: 'mo',
      seq: 0x10,
      batchId: 1,
      page: 1,
      offset: 64,
      payload: words(8, 4),
    },
  },
  {
    name: 'data-bc-multicast',
    section: '5.1',
    description: 'BC DATA to the multicast group (dst 0xfffe): sequence 0x7fffffff, batch 9, page 7, 8 bytes at 0.',
    message: {
      type: 'data',
      src: MASTER,
      dst: ALL,
      epoch: MASTER_EPOCH,
      packetNumber: 0,
      flow: 'bc',
      seq: 0x7fffffff,
      batchId: 9,
      page: 7,
      offset: 0,
      payload: words(0x0102030405060700, 1),
    },
  },
  {
    name: 'commit',
    section: '5.2',
    description:
      'MO COMMIT at sequence 0x14 closing batch 1: 4 DATA (0x10..0x13), each one whole 1024-byte page ' +
      '(offset 0, length 1024: not vector data, which is a partial range), over 4 pages; the first ' +
      'batch of a session, so FULL and REPLACES are set.',
    message: {
      type: 'commit',
      src: MASTER,
      dst: 3,
      epoch: MASTER_EPOCH,
      packetNumber: 8,
      flow: 'mo',
      seq: 0x14,
      batchId: 1,
      dataCount: 4,
      pageCount: 4,
      replaces: true,
      full: true,
    },
  },
  {
    name: 'nack',
    section: '6.1',
    description: 'Remote 3 NACKs MO sequences 0x11 and 0xfffffffe..0x00000001 (a range across the wrap).',
    message: {
      type: 'nack',
      src: 3,
      dst: MASTER,
      epoch: REMOTE_EPOCH,
      packetNumber: 8,
      flow: 'mo',
      ranges: [
        { first: 0x11, count: 1 },
        { first: 0xfffffffe, count: 4 },
      ],
    },
  },
  {
    name: 'digest',
    section: '6.3',
    description:
      'MO DIGEST after batch 1, pages 0 and 1: XXH64 (seed 0) of a page of 1024 zero bytes, and of a ' +
      'page holding the native u64 words 0..127, hashed in network-neutral form.',
    message: {
      type: 'digest',
      src: MASTER,
      dst: 3,
      epoch: MASTER_EPOCH,
      packetNumber: 9,
      flow: 'mo',
      batchId: 1,
      firstPage: 0,
      hashes: BigUint64Array.of(native.xxh64(zeroPage, 0n), native.xxh64(countingPage, 0n)),
    },
  },
  {
    name: 'resync',
    section: '6.4',
    description: 'Remote 3 asks for pages 2 and 3 of MO again.',
    message: {
      type: 'resync',
      src: 3,
      dst: MASTER,
      epoch: REMOTE_EPOCH,
      packetNumber: 9,
      flow: 'mo',
      full: false,
      firstPage: 2,
      pageCount: 2,
    },
  },
  {
    name: 'resync-full',
    section: '6.4',
    description: 'The master asks remote 3 for all of its RO again.',
    message: {
      type: 'resync',
      src: MASTER,
      dst: 3,
      epoch: MASTER_EPOCH,
      packetNumber: 10,
      flow: 'ro',
      full: true,
      firstPage: 0,
      pageCount: 0,
    },
  },
];

/** The message of plain vector `name`: a sealed vector seals exactly that message. */
function messageOf(name: string): Message {
  const d = plainDefs.find((x) => x.name === name);
  if (d === undefined) throw new Error(`no plain vector ${name}`);
  return d.message;
}

const defs: Def[] = [
  ...plainDefs,
  {
    name: 'sealed-hello',
    section: '9.3',
    description:
      'The HELLO of vector hello with a handshake seal: PSK 00 01 .. 1f, salt 10 11 .. 1f in clear after ' +
      'the header; key = HKDF-SHA256(PSK, salt, "pdsm v2 handshake key" || 0003 || ffff).',
    message: messageOf('hello'),
    sealing: { kind: 'handshake', salt: SALT },
  },
  {
    name: 'sealed-data',
    section: '9.3',
    description:
      'A DATA (MO to remote 3, sequence 5, batch 2, page 0, 16 bytes: words 1 and 2) sealed under the ' +
      'session key of the session that hello and welcome-unicast open: PSK 00 01 .. 1f, HELLO nonce a0 .. af, ' +
      'WELCOME nonce c0 .. cf, remote epoch 0x6553f17b, master epoch 0x6553f100, src 0xffff, dst 0x0003.',
    message: {
      type: 'data',
      src: MASTER,
      dst: 3,
      epoch: MASTER_EPOCH,
      packetNumber: 42,
      flow: 'mo',
      seq: 5,
      batchId: 2,
      page: 0,
      offset: 0,
      payload: words(1, 2),
    },
    sealing: { kind: 'session', session: SESSION },
  },
  {
    name: 'sealed-heartbeat-remote',
    section: '9.3',
    description: "The HEARTBEAT of heartbeat-remote sealed under the same session's key for src 0x0003, dst 0xffff.",
    message: messageOf('heartbeat-remote'),
    sealing: { kind: 'session', session: SESSION },
  },
  {
    name: 'sealed-data-bc-multicast',
    section: '9.3',
    description: 'The BC DATA of data-bc-multicast sealed under the group key of GROUP_NONCE e0 .. ef and master ' + 'epoch 0x6553f100.',
    message: messageOf('data-bc-multicast'),
    sealing: { kind: 'group', groupNonce: GROUP_NONCE },
  },
];

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

const vectors: Vector[] = defs.map((d) => {
  const plain = encode(d.message);
  const v: Vector = { name: d.name, section: d.section, description: d.description, message: messageToJson(d.message), hex: hex(plain) };
  if (d.sealing !== undefined) {
    const m = d.message;
    const sl = d.sealing;
    if (sl.kind === 'handshake') {
      v.sealed = { kind: 'handshake', psk: hex(PSK), salt: hex(sl.salt), key: hex(deriveHandshakeKey(PSK, sl.salt, m.src, m.dst)), plain: hex(plain) };
      v.hex = hex(sealHandshake(PSK, plain, sl.salt));
    } else {
      const key = sl.kind === 'session' ? deriveSessionKey(PSK, sl.session, m.src, m.dst) : deriveGroupKey(PSK, sl.groupNonce, m.epoch);
      v.sealed =
        sl.kind === 'session'
          ? {
              kind: 'session',
              psk: hex(PSK),
              key: hex(key),
              plain: hex(plain),
              session: {
                clientId: sl.session.clientId,
                helloNonce: hex(sl.session.helloNonce),
                welcomeNonce: hex(sl.session.welcomeNonce),
                remoteEpoch: sl.session.remoteEpoch,
                masterEpoch: sl.session.masterEpoch,
              },
            }
          : { kind: 'group', psk: hex(PSK), groupNonce: hex(sl.groupNonce), key: hex(key), plain: hex(plain) };
      v.hex = hex(seal(key, plain));
    }
  }
  return v;
});

const file: VectorFile = {
  comment: 'Generated by spec/vectors/generate.ts; the same hex is printed in Appendix A of spec/protocol.md.',
  vectors,
};
writeFileSync(VECTORS_JSON, `${JSON.stringify(file, null, 2)}\n`);

const BEGIN = '<!-- BEGIN GENERATED VECTORS (spec/vectors/generate.ts) -->';
const END = '<!-- END GENERATED VECTORS -->';
const parts: string[] = [BEGIN, ''];
vectors.forEach((v, i) => {
  parts.push(`### A.${i + 1} ${v.name} (§${v.section})`, '', v.description, '');
  parts.push('```json', JSON.stringify(v.message, null, 2), '```', '');
  if (v.sealed !== undefined) {
    parts.push(`PSK: \`${v.sealed.psk}\``, '');
    if (v.sealed.salt !== undefined) parts.push(`Salt: \`${v.sealed.salt}\``, '');
    if (v.sealed.groupNonce !== undefined) parts.push(`Group nonce: \`${v.sealed.groupNonce}\``, '');
    if (v.sealed.session !== undefined) {
      const ss = v.sealed.session;
      parts.push(
        `Session: client id ${ss.clientId}, HELLO nonce \`${ss.helloNonce}\`, WELCOME nonce \`${ss.welcomeNonce}\`, ` +
          `remote epoch 0x${ss.remoteEpoch.toString(16)}, master epoch 0x${ss.masterEpoch.toString(16)}`,
        '',
      );
    }
    parts.push(`Key (${v.sealed.kind}): \`${v.sealed.key}\``, '', 'Plain datagram (before sealing):', '');
    parts.push('```text', hexDump(v.sealed.plain), '```', '', 'Sealed datagram:', '');
  }
  parts.push(`<!-- vector: ${v.name} -->`, '```text', hexDump(v.hex), '```', '');
});
parts.push(END);
const md = readFileSync(PROTOCOL_MD, 'utf8');
const start = md.indexOf(BEGIN);
const stop = md.indexOf(END);
if (start < 0 || stop < start) throw new Error(`${PROTOCOL_MD} lacks the generated-vectors markers`);
writeFileSync(PROTOCOL_MD, md.slice(0, start) + parts.join('\n') + md.slice(stop + END.length));
console.log(`wrote ${vectors.length} vectors`);
