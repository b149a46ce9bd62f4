/**
 * IP address literals, through ipaddr.js (a kept library: RFC 4291/5952 parsing and
 * formatting, IPv4-mapped IPv6, ranges) instead of string slicing: the wire's 4- or 16-byte
 * address fields (WELCOME's MULTICAST_GROUP), the `::ffff:` form a dual-stack socket reports
 * for IPv4 peers, and the multicast test of `-m`.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Strict literals only: ipaddr.js alone also takes inet_aton's forms ("239.1.2" = 239.1.0.2). */
const isLiteral = (address: string): boolean => isIP(address) !== 0;

/** "::ffff:192.0.2.1" (an IPv4 peer on a dual-stack socket) -> "192.0.2.1"; anything else unchanged. */
export function plainAddress(address: string): string {
  // Fast path, taken for every datagram (session lookup): an IPv4 literal, or an IPv6 one
  // without an ffff group, is no IPv4-mapped address (::ffff:0:0/96) and comes back as is.
  if (!address.includes(':') || !/ffff/i.test(address)) return address;
  if (!isLiteral(address)) return address;
  const a = ipaddr.parse(address);
  return a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress() ? (a as ipaddr.IPv6).toIPv4Address().toString() : address;
}

/** The 4 or 16 bytes of an IPv4 or IPv6 address literal; RangeError naming it when it is none. */
export function addressBytes(address: string): Uint8Array {
  if (!isLiteral(address)) throw new RangeError(`not an IP address literal: "${address}"`);
  return Uint8Array.from(ipaddr.parse(address).toByteArray());
}

/** The literal (RFC 5952 for IPv6) of 4 or 16 address bytes; RangeError for any other length. */
export function addressText(bytes: Uint8Array): string {
  if (bytes.length !== 4 && bytes.length !== 16) throw new RangeError(`an address has 4 or 16 bytes, not ${bytes.length}`);
  const a = ipaddr.fromByteArray([...bytes]);
  return a.kind() === 'ipv6' ? (a as ipaddr.IPv6).toRFC5952String() : a.toString();
}

/** True for an IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) multicast literal. */
export function isMulticast(address: string): boolean {
  return isLiteral(address) && ipaddr.parse(address).range() === 'multicast';
}
