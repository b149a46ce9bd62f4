// src/udp/address.ts: the dual-stack strip, wire bytes <-> literals, the multicast test.
import t from 'tap';
import { addressBytes, addressText, isMulticast, plainAddress } from '../../src/udp/address.js';

t.test('plainAddress strips only the IPv4-mapped prefix', async (t) => {
  t.equal(plainAddress('::ffff:192.0.2.1'), '192.0.2.1');
  t.equal(plainAddress('::FFFF:192.0.2.1'), '192.0.2.1', 'in capitals too');
  t.equal(plainAddress('::ffff:c000:201'), '192.0.2.1', 'and in hex form');
  t.equal(plainAddress('192.0.2.1'), '192.0.2.1');
  t.equal(plainAddress('2001:db8::1'), '2001:db8::1', 'a real IPv6 address is left alone');
  t.equal(plainAddress('::ffff'), '::ffff', 'so is an address that only ends in ffff');
  t.equal(plainAddress('0:0:0:0:0:ffff:192.0.2.1'), '192.0.2.1', 'the uncompressed form is mapped too');
  t.equal(plainAddress('2001:db8::ffff:1'), '2001:db8::ffff:1', 'an ffff group elsewhere is no mapping');
  t.equal(plainAddress('not an address'), 'not an address', 'and anything that is no address');
});

t.test('addressBytes and addressText round-trip both families, IPv6 in RFC 5952 form', async (t) => {
  t.same([...addressBytes('239.1.2.3')], [239, 1, 2, 3]);
  const v6 = addressBytes('ff02::1:3');
  t.equal(v6.length, 16);
  t.same([...v6.subarray(0, 2)], [0xff, 0x02]);
  t.same([...v6.subarray(12)], [0, 1, 0, 3]);
  t.equal(addressText(v6), 'ff02::1:3');
  t.equal(addressText(addressBytes('FF02:0:0:0:0:0:0:1')), 'ff02::1', 'zeros compressed, lower case');
  t.equal(addressText(Uint8Array.from([10, 0, 0, 1])), '10.0.0.1');
  t.throws(() => addressBytes('239.1.2'), /not an IP address literal: "239\.1\.2"/);
  t.throws(() => addressText(new Uint8Array(5)), /4 or 16 bytes, not 5/);
});

t.test('isMulticast is 224.0.0.0/4 and ff00::/8, nothing else', async (t) => {
  for (const a of ['224.0.0.1', '239.255.255.255', 'ff02::1', 'ff3e::8000:1']) t.ok(isMulticast(a), a);
  for (const a of ['223.255.255.255', '240.0.0.1', '127.0.0.1', 'fe80::1', '::1', 'ff', '', '239.1']) t.notOk(isMulticast(a), a || '(empty)');
});
