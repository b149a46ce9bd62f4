/**
 * Cases of `pdsm conformance master` over everything the master sent in the run so far
 * (spec §3, §3.2, §6.2, §9.5): each datagram decodes (no unlisted flag, no COOKIE or
 * WANT_BC_UNICAST from the master, packet numbers below 2^48, options and flow entries in
 * order), with a PSK each is sealed, and no packet number repeats within one session. They
 * run last, over the datagrams the other cases drew (WireTally).
 */
import { fail, pass, skip, type MasterCase } from './case.js';

export const MASTER_WIRE_CASES: MasterCase[] = [
  {
    id: 'sent-datagrams-decode',
    section: '3.2',
    requirement:
      'A master MUST send every unlisted flag as 0 (and, §3, §4.5, §6.2, §9.5: packet numbers below 2^48, options and flow entries in order, no COOKIE, sealed with a PSK): every datagram it sent in the run decodes.',
    run: ({ tally }) => {
      if (tally.count === 0) return Promise.resolve(skip('the master sent nothing'));
      if (tally.undecodable !== null)
        return Promise.resolve(
          fail(`${tally.count} datagrams that decode`, `one that does not (${tally.undecodable.reason}, ${tally.undecodable.bytes} bytes)`),
        );
      if (tally.unsealed !== null) return Promise.resolve(fail('every datagram sealed (§9.5)', `an unsealed ${tally.unsealed}`));
      return Promise.resolve(pass);
    },
  },
  {
    id: 'packet-numbers-unique',
    section: '3',
    requirement:
      'A master MUST NOT send two datagrams of one session with the same (Src, Dst, Epoch, Packet Number): none repeats one between a WELCOME and the next (WELCOME and REJECT aside).',
    run: ({ tally }) =>
      Promise.resolve(
        tally.count === 0 ? skip('the master sent nothing') : tally.repeated === null ? pass : fail('a new packet number for every datagram', tally.repeated),
      ),
  },
];
