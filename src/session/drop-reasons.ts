/**
 * Why a datagram was dropped: one list of stable names (spec/protocol.md §10.2). The same
 * name is the key in `pdsm status` drops, the `reason` label of the drop metric and the
 * `reason=` field of the "dropped datagram" log line; never a free string at a call site.
 */
import { DECODE_REJECT_REASONS } from '../udp/codec.js';

export const DROP_REASONS = [
  // spec §10.1: the datagram does not decode (decode-<reason of §10.2's first table>)
  ...DECODE_REJECT_REASONS.map((r) => `decode-${r}` as const),
  // spec §9.5: opening (with a key) or refusing (without) sealed datagrams
  'sealed-without-key', // SEALED set and this node has no key
  'unsealed', // this node has a key and the datagram is not sealed
  'auth-short', // sealed, shorter than header + tag
  'auth-magic', // sealed, wrong magic
  'auth-not-sealed', // (not reached: the SEALED check comes first)
  'auth-unknown-route', // sealed, from a Src or to a Dst this node has no key for
  'auth-auth', // the AEAD tag did not verify
  'auth-old-epoch', // sealed, from an older epoch of that sender than already seen
  'auth-replay', // the replay window refused the packet number (§9.4)
  'auth-wrong-address', // sealed session datagram from another address and port than its session's (§9.3)
  'no-session', // sealed session datagram and no session (keys) installed for its Src (§9.3)
  'send-without-session', // (outgoing) a session datagram before its keys were installed: not sent
  // spec §7.1, §7.11: session checks
  'not-for-master', // master: Dst is not 0xffff
  'unknown-client', // master: Src is no client id of this master (non-HELLO)
  'not-joined', // no session for this Src, source address and port, and Epoch
  'not-validated', // master: a datagram other than HEARTBEAT or GOODBYE before the session's address is validated (§13)
  'unknown-source', // remote: not from the master's address and port
  'not-for-us', // remote: Src is not the master, or Dst neither this client nor ALL for BC
  'old-master-epoch', // remote: DATA/COMMIT/NACK/RESYNC/DIGEST of another master epoch
  'stale-welcome', // remote: WELCOME for another remote epoch, or while UP
  'stale-reject', // remote: REJECT for another remote epoch
  'unexpected-type', // a type this side never receives (WELCOME at the master, HELLO at a remote)
  'wrong-flow', // a flow this side does not have in this session
  // spec §7.5: the receiver refused DATA or COMMIT
  'invalid-data', // checks of §5 against the segment failed
  'beyond-window', // too far ahead of what the receiver holds
  'duplicate', // already received (retransmission, loss repair)
  // spec §6.4: the sender refused a RESYNC
  'invalid-resync', // First Page + Page Count beyond the segment, or a count of 0 (dropped whole)
] as const;

export type DropReason = (typeof DROP_REASONS)[number];
