// spec §5.3: the network-neutral form holds each W-byte native word big-endian, on hosts
// of either byte order.
import t from 'tap';
import { convert, HOST_LITTLE_ENDIAN, toWire } from '../../src/segments/word-codec.js';

t.test('native words travel big-endian whatever the host byte order', async (t) => {
  const page = new DataView(new ArrayBuffer(16));
  page.setBigUint64(0, 0x0102030405060708n, HOST_LITTLE_ENDIAN); // stored as this host stores a u64
  page.setBigUint64(8, 0x1112131415161718n, HOST_LITTLE_ENDIAN);
  const wire = new Uint8Array(16);
  toWire(new Uint8Array(page.buffer), wire, 8);
  t.same([...wire], [1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18]);

  const u32 = new DataView(new ArrayBuffer(8));
  u32.setUint32(0, 0xa1a2a3a4, HOST_LITTLE_ENDIAN);
  u32.setUint32(4, 0xb1b2b3b4, HOST_LITTLE_ENDIAN);
  toWire(new Uint8Array(u32.buffer), wire.subarray(0, 8), 4);
  t.same([...wire.subarray(0, 8)], [0xa1, 0xa2, 0xa3, 0xa4, 0xb1, 0xb2, 0xb3, 0xb4]);

  const u16 = Uint8Array.of(0x01, 0x02, 0x03, 0x04);
  const out = new Uint8Array(4);
  convert(u16, out, 2, true);
  t.same([...out], [0x02, 0x01, 0x04, 0x03], 'a little-endian host swaps each 2-byte word');
  convert(u16, out, 2, false);
  t.same([...out], [0x01, 0x02, 0x03, 0x04], 'a big-endian host copies');
  convert(u16, out, 1, true);
  t.same([...out], [0x01, 0x02, 0x03, 0x04], 'W = 1 never swaps');
});
