// spec §6: NACK, HEARTBEAT, DIGEST and RESYNC decode to their fields, and each malformed field
// is rejected with its own reason, at the boundaries the spec gives.
import t from 'tap';
import { encodeUnchecked, type Message } from '../../src/udp/codec.js';
import {
  DIGEST_FIRST_PAGE,
  DIGEST_HASH_COUNT,
  HDR_DST,
  HDR_FLAGS,
  HDR_FLOW,
  HDR_SRC,
  HEARTBEAT_ECHO_DELAY,
  HEARTBEAT_ECHO_TIMESTAMP,
  HEARTBEAT_FLOW_COUNT,
  HEARTBEAT_FLOWS,
  NACK_RANGE_COUNT,
  NACK_RANGES,
  RESYNC_FIRST_PAGE,
  RESYNC_PAGE_COUNT,
} from '../../src/udp/constants.js';
import { decoded, edited, verdict } from '../fixtures/edit-datagram.js';

const toMaster = { src: 4, dst: 0xffff, epoch: 3, packetNumber: 1 };
const toRemote = { src: 0xffff, dst: 4, epoch: 3, packetNumber: 1 };
const nack: Message = {
  type: 'nack',
  ...toMaster,
  flow: 'mo',
  ranges: [
    { first: 0xfffffff0, count: 3 },
    { first: 7, count: 1 },
  ],
};
const heartbeat = (flows: { flow: 'mo' | 'ro' | 'bc'; highestSeq: number }[], fromMaster = false): Message => ({
  type: 'heartbeat',
  ...(fromMaster ? toRemote : toMaster),
  timestamp: 0x01020304,
  echo: null,
  wantBcUnicast: false,
  flows,
});
const digest: Message = { type: 'digest', ...toRemote, flow: 'mo', batchId: 12, firstPage: 2, hashes: BigUint64Array.of(1n, 0xffff_ffff_ffff_ffffn) };
const resync: Message = { type: 'resync', ...toMaster, flow: 'mo', full: false, firstPage: 5, pageCount: 2 };

t.test('NACK decodes its ranges; each malformed field has its reason', async (t) => {
  t.same(decoded(encodeUnchecked(nack), 'nack').ranges, [
    { first: 0xfffffff0, count: 3 },
    { first: 7, count: 1 },
  ]);
  t.equal(
    verdict(
      edited(nack, (b) => {
        b[HDR_FLAGS] = 0x01;
      }),
    ),
    'flags',
  );
  t.equal(
    verdict(
      edited(nack, (b) => {
        b[HDR_FLOW] = 0;
      }),
    ),
    'flow',
  );
  t.equal(
    verdict(
      edited(nack, (b) => {
        b.writeUInt16BE(0xffff, HDR_SRC);
        b.writeUInt16BE(4, HDR_DST);
      }),
    ),
    'role',
    'an MO NACK from the master',
  );
  t.equal(verdict(edited(nack, (b) => b.subarray(0, NACK_RANGES - 1))), 'short');
  t.equal(verdict(edited(nack, (b) => b.subarray(0, b.length - 1))), 'length');
  const count = (n: number): string =>
    verdict(
      edited(nack, (b) => {
        const out = Buffer.alloc(NACK_RANGES + 8 * n);
        b.copy(out, 0, 0, NACK_RANGES);
        out.writeUInt16BE(n, NACK_RANGE_COUNT);
        for (let i = 0; i < n; i++) out.writeUInt32BE(1, NACK_RANGES + 8 * i + 4);
        return out;
      }),
    );
  t.equal(count(0), 'count');
  t.equal(count(1), 'accepted');
  t.equal(count(64), 'accepted', 'MAX_NACK_RANGES ranges');
  t.equal(count(65), 'count');
  const span = (c: number): string =>
    verdict(
      edited(nack, (b) => {
        b.writeUInt32BE(c, NACK_RANGES + 12);
      }),
    );
  t.equal(span(0), 'range', 'an empty range');
  t.equal(span(0x7fffffff), 'accepted', 'the widest range the serial window allows');
  t.equal(span(0x80000000), 'range');
});

t.test('HEARTBEAT decodes its timestamp, echo, BC request and flows', async (t) => {
  const m = decoded(
    encodeUnchecked({ ...heartbeat([{ flow: 'ro', highestSeq: 0xabcdef01 }]), echo: { timestamp: 5, delay: 6 }, wantBcUnicast: true } as Message),
    'heartbeat',
  );
  t.match(m, { timestamp: 0x01020304, echo: { timestamp: 5, delay: 6 }, wantBcUnicast: true, flows: [{ flow: 'ro', highestSeq: 0xabcdef01 }] });
  const plain = decoded(encodeUnchecked(heartbeat([])), 'heartbeat');
  t.equal(plain.echo, null, 'no ECHO flag, no echo');
  t.equal(plain.wantBcUnicast, false);
  t.same(
    decoded(
      encodeUnchecked(
        heartbeat(
          [
            { flow: 'mo', highestSeq: 1 },
            { flow: 'bc', highestSeq: 2 },
          ],
          true,
        ),
      ),
      'heartbeat',
    ).flows,
    [
      { flow: 'mo', highestSeq: 1 },
      { flow: 'bc', highestSeq: 2 },
    ],
    'the master reports MO and BC',
  );
});

t.test('malformed HEARTBEATs are rejected with their reasons', async (t) => {
  const hb = heartbeat([{ flow: 'ro', highestSeq: 9 }]);
  t.equal(
    verdict(
      edited(hb, (b) => {
        b[HDR_FLAGS] = 0x08;
      }),
    ),
    'flags',
    'no flag above COOKIE (0x04)',
  );
  t.equal(
    verdict(
      edited(hb, (b) => {
        b[HDR_FLAGS] = 0x04;
      }),
    ),
    'length',
    'COOKIE set without the 16 cookie bytes',
  );
  t.equal(
    verdict(
      edited(hb, (b) => {
        b[HDR_FLOW] = 2;
      }),
    ),
    'flow',
    'a heartbeat belongs to no flow',
  );
  t.equal(
    verdict(
      edited(hb, (b) => {
        b.writeUInt16BE(5, HDR_DST);
      }),
    ),
    'role',
    'remote to remote',
  );
  t.equal(
    verdict(
      edited(heartbeat([], true), (b) => {
        b[HDR_FLAGS] = 0x02;
      }),
    ),
    'flags',
    'the master never asks for BC by unicast',
  );
  t.equal(
    verdict(
      edited(heartbeat([]), (b) => {
        b[HDR_FLAGS] = 0x02;
      }),
    ),
    'accepted',
    'a remote may',
  );
  t.equal(verdict(edited(hb, (b) => b.subarray(0, HEARTBEAT_FLOWS - 1))), 'short');
  t.equal(verdict(edited(hb, (b) => b.subarray(0, b.length - 1))), 'length');
  t.equal(
    verdict(
      edited(hb, (b) => {
        b[HEARTBEAT_FLOW_COUNT] = 3;
      }),
    ),
    'count',
    'more than two flows',
  );
  t.equal(
    verdict(
      edited(hb, (b) => {
        b.writeUInt32BE(1, HEARTBEAT_ECHO_TIMESTAMP);
      }),
    ),
    'range',
    'an echo timestamp without the ECHO flag',
  );
  t.equal(
    verdict(
      edited(hb, (b) => {
        b.writeUInt32BE(1, HEARTBEAT_ECHO_DELAY);
      }),
    ),
    'range',
    'an echo delay without the ECHO flag',
  );
  t.equal(
    verdict(
      edited(hb, (b) => {
        b[HDR_FLAGS] = 0x01;
        b.writeUInt32BE(1, HEARTBEAT_ECHO_DELAY);
      }),
    ),
    'accepted',
    'with the flag they are the echo',
  );
  t.equal(
    verdict(
      edited(hb, (b) => {
        b[HEARTBEAT_FLOWS] = 0;
      }),
    ),
    'enum',
    'flow code 0',
  );
  t.equal(
    verdict(
      edited(hb, (b) => {
        b[HEARTBEAT_FLOWS] = 4;
      }),
    ),
    'enum',
    'flow code 4',
  );
  t.equal(
    verdict(
      edited(hb, (b) => {
        b[HEARTBEAT_FLOWS] = 1;
      }),
    ),
    'flow',
    'a remote reports MO',
  );
  t.equal(verdict(encodeUnchecked(heartbeat([{ flow: 'ro', highestSeq: 1 }], true))), 'flow', 'the master reports RO');
  t.equal(
    verdict(
      encodeUnchecked(
        heartbeat(
          [
            { flow: 'bc', highestSeq: 1 },
            { flow: 'mo', highestSeq: 2 },
          ],
          true,
        ),
      ),
    ),
    'flow',
    'flows out of order',
  );
  t.equal(
    verdict(
      encodeUnchecked(
        heartbeat(
          [
            { flow: 'mo', highestSeq: 1 },
            { flow: 'mo', highestSeq: 2 },
          ],
          true,
        ),
      ),
    ),
    'flow',
    'a flow twice',
  );
  t.equal(
    verdict(
      encodeUnchecked(
        heartbeat([
          { flow: 'ro', highestSeq: 1 },
          { flow: 'ro', highestSeq: 2 },
        ]),
      ),
    ),
    'flow',
    'RO twice from a remote',
  );
});

t.test('DIGEST decodes its hashes; its page run stays below 2**32', async (t) => {
  const m = decoded(encodeUnchecked(digest), 'digest');
  t.match(m, { batchId: 12, firstPage: 2 });
  t.same([...m.hashes], [1n, 0xffff_ffff_ffff_ffffn]);
  t.equal(
    verdict(
      edited(digest, (b) => {
        b[HDR_FLAGS] = 0x01;
      }),
    ),
    'flags',
  );
  t.equal(
    verdict(
      edited(digest, (b) => {
        b[HDR_FLOW] = 0;
      }),
    ),
    'flow',
  );
  t.equal(
    verdict(
      edited(digest, (b) => {
        b.writeUInt16BE(4, HDR_SRC);
        b.writeUInt16BE(0xffff, HDR_DST);
      }),
    ),
    'role',
    'an MO digest from a remote',
  );
  t.equal(verdict(edited(digest, (b) => b.subarray(0, DIGEST_HASH_COUNT + 1))), 'short');
  t.equal(
    verdict(
      edited(digest, (b) => {
        b.writeUInt16BE(0, DIGEST_HASH_COUNT);
        return b.subarray(0, DIGEST_HASH_COUNT + 2);
      }),
    ),
    'count',
    'no hash',
  );
  t.equal(verdict(edited(digest, (b) => b.subarray(0, b.length - 1))), 'length');
  t.equal(
    verdict(
      edited(digest, (b) => {
        b.writeUInt32BE(0xfffffffe, DIGEST_FIRST_PAGE);
      }),
    ),
    'accepted',
    'two pages ending at 2**32',
  );
  t.equal(
    verdict(
      edited(digest, (b) => {
        b.writeUInt32BE(0xffffffff, DIGEST_FIRST_PAGE);
      }),
    ),
    'range',
    'two pages past it',
  );
});

t.test('RESYNC names a run of pages or, with FULL, none', async (t) => {
  t.match(decoded(encodeUnchecked(resync), 'resync'), { full: false, firstPage: 5, pageCount: 2 });
  const full: Message = { ...resync, full: true, firstPage: 0, pageCount: 0 } as Message;
  t.match(decoded(encodeUnchecked(full), 'resync'), { full: true, firstPage: 0, pageCount: 0 });
  t.equal(
    verdict(
      edited(resync, (b) => {
        b[HDR_FLAGS] = 0x02;
      }),
    ),
    'flags',
  );
  t.equal(
    verdict(
      edited(resync, (b) => {
        b[HDR_FLOW] = 0;
      }),
    ),
    'flow',
  );
  t.equal(
    verdict(
      edited(resync, (b) => {
        b.writeUInt16BE(0xffff, HDR_SRC);
        b.writeUInt16BE(4, HDR_DST);
      }),
    ),
    'role',
    'an MO resync from the master',
  );
  t.equal(verdict(edited(resync, (b) => b.subarray(0, b.length - 1))), 'short');
  t.equal(verdict(edited(resync, (b) => Buffer.concat([b, Buffer.alloc(1)]))), 'length');
  t.equal(
    verdict(
      edited(full, (b) => {
        b.writeUInt32BE(1, RESYNC_FIRST_PAGE);
      }),
    ),
    'range',
    'FULL with a first page',
  );
  t.equal(
    verdict(
      edited(full, (b) => {
        b.writeUInt32BE(1, RESYNC_PAGE_COUNT);
      }),
    ),
    'range',
    'FULL with a count',
  );
  t.equal(
    verdict(
      edited(resync, (b) => {
        b.writeUInt32BE(0, RESYNC_PAGE_COUNT);
      }),
    ),
    'range',
    'a run of no pages',
  );
  t.equal(
    verdict(
      edited(resync, (b) => {
        b.writeUInt32BE(0xfffffffe, RESYNC_FIRST_PAGE);
      }),
    ),
    'accepted',
    'two pages ending at 2**32',
  );
  t.equal(
    verdict(
      edited(resync, (b) => {
        b.writeUInt32BE(0xffffffff, RESYNC_FIRST_PAGE);
      }),
    ),
    'range',
    'two pages past it',
  );
});
