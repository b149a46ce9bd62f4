/**
 * Every MUST and MUST NOT of spec/protocol.md §3..§13, each with the cases of `pdsm
 * conformance master` and `conformance remote` that judge it, or why that role's tool does
 * not (a duty of the other role, a local duty no peer sees on the wire, or no case yet).
 * Spec Appendix C.3 lists the same rows; test/conformance/ keeps them equal, checks that
 * every MUST of the spec falls inside one row's words and that every case named exists.
 */

/** The ids of the cases that judge a requirement, or why this role's tool does not. */
export type Cover = readonly string[] | string;

export interface Requirement {
  /** Section of spec/protocol.md, e.g. "4.6". */
  section: string;
  /** The spec's own words (whitespace collapsed), holding the MUST or MUST NOT it stands for. */
  text: string;
  master: Cover;
  remote: Cover;
}

const REMOTES = 'a remote’s duty: `conformance remote` judges it';
const MASTERS = 'a master’s duty: `conformance master` judges it';

export const REQUIREMENTS: readonly Requirement[] = [
  { section: '3', text: 'the top 16 bits MUST be 0', master: ['sent-datagrams-decode'], remote: ['sent-datagrams-decode'] },
  {
    section: '3',
    text: 'A node MUST NOT send two datagrams of one session with the same (src, dst, epoch, packet number)',
    master: ['packet-numbers-unique'],
    remote: ['packet-numbers-unique'],
  },
  {
    section: '3',
    text: 'a sender that would exceed it MUST start a new epoch',
    master: 'needs 2^48 datagrams of one epoch: out of reach of a run',
    remote: 'needs 2^48 datagrams of one epoch: out of reach of a run',
  },
  { section: '3.2', text: 'A flag not listed for a type MUST be sent as 0', master: ['sent-datagrams-decode'], remote: ['sent-datagrams-decode'] },
  { section: '3.2', text: 'a receiver MUST drop a datagram that has one set', master: ['malformed-dropped'], remote: ['malformed-dropped'] },
  { section: '3.4', text: 'a receiver MUST drop any other combination', master: ['malformed-dropped'], remote: ['malformed-dropped'] },
  {
    section: '3.4',
    text: 'A node MUST also drop a datagram whose Dst is not itself (a remote accepts ALL too)',
    master: ['malformed-dropped'],
    remote: ['malformed-dropped'],
  },
  {
    section: '3.4',
    text: 'the master MUST drop a datagram whose Src is not the client id of the session bound to its source address (§7.1), except HELLO',
    master: ['not-joined-answered'],
    remote: MASTERS,
  },
  { section: '4.1', text: 'NONCE MUST be present when Version Max ≥ 2', master: ['malformed-hello-no-answer'], remote: ['hello-fields'] },
  {
    section: '4.2',
    text: "A WELCOME MUST carry the HELLO's Epoch as Remote Epoch, the sizes the HELLO passed admission with (§4.6), a version within the HELLO's range and an MTU of at most the HELLO's",
    master: ['hello-welcome-fields'],
    remote: MASTERS,
  },
  { section: '4.2', text: 'both sides MUST keep every datagram within it', master: ['session-mtu-kept'], remote: ['session-mtu-kept'] },
  {
    section: '4.3',
    text: "`Expected` MUST be the master's value and `Offered` the remote's, as the table of reasons gives them",
    master: ['reject-version-expected-offered', 'check-order-client-id-before-sizes', 'check-order-page-word-seg'],
    remote: MASTERS,
  },
  {
    section: '4.3',
    text: 'A remote MUST ignore a REJECT whose Remote Epoch is not its own current epoch',
    master: REMOTES,
    remote: ['reject-ignored-while-up'],
  },
  {
    section: '4.3',
    text: 'the remote MUST report Expected and Offered and MUST NOT say HELLO again without a configuration change',
    master: REMOTES,
    remote: ['sealed-config-reject-final'],
  },
  { section: '4.3', text: 'the remote MUST NOT stop', master: REMOTES, remote: ['config-reject-keeps-trying'] },
  { section: '4.3', text: 'Any other REJECT while UP MUST be ignored', master: REMOTES, remote: ['reject-ignored-while-up'] },
  { section: '4.4', text: 'the master MUST end that session', master: ['goodbye-ends-session'], remote: MASTERS },
  {
    section: '4.4',
    text: 'A GOODBYE that matches no session MUST be dropped (the master counts it `not-joined` and, unlike other datagrams, MUST NOT answer it with REJECT)',
    master: ['goodbye-without-session-no-answer'],
    remote: MASTERS,
  },
  {
    section: '4.5',
    text: 'Options MUST appear in strictly increasing Type order (so each at most once); Type 0 is invalid; the last option MUST end exactly at the end of the datagram',
    master: ['hello-welcome-fields'],
    remote: ['sent-datagrams-decode'],
  },
  {
    section: '4.5',
    text: 'A receiver MUST skip an option whose Type it does not know',
    master: ['large-hello-accepted'],
    remote: ['large-welcome-accepted'],
  },
  {
    section: '4.6',
    text: 'The master MUST check a HELLO in this order and answer with the first that fails',
    master: ['check-order-version-first', 'check-order-client-id-before-sizes', 'check-order-page-word-seg'],
    remote: MASTERS,
  },
  {
    section: '4.6',
    text: 'the master MUST answer as this table says',
    master: ['hello-welcome-fields', 'hello-retransmission-same-welcome', 'duplicate-other-port-new-epoch', 'duplicate-other-port-same-epoch'],
    remote: MASTERS,
  },
  {
    section: '4.6',
    text: 'then MUST resend it until a WELCOME or a REJECT that ends the wait arrives',
    master: REMOTES,
    remote: ['hello-retransmitted'],
  },
  {
    section: '4.6',
    text: 'The remote MUST ignore a WELCOME whose Remote Epoch is not its own epoch',
    master: REMOTES,
    remote: ['welcome-other-epoch-ignored'],
  },
  {
    section: '4.6',
    text: 'A remote therefore MUST send a datagram of the session promptly after it accepts WELCOME',
    master: REMOTES,
    remote: ['cookie-echoed'],
  },
  {
    section: '5.1',
    text: 'A receiver MUST also check, before writing anything, that Page, Offset and Length fit the segment and W as the table says, and drop the datagram if not',
    master: ['ro-data-beyond-page-dropped'],
    remote: ['data-beyond-page-dropped'],
  },
  {
    section: '5.3',
    text: 'the sender MUST send it as page_size / W unsigned integers of W bytes in its native byte order, each written big-endian',
    master: ['first-batch-matches-segment'],
    remote: ['ro-first-batch-full'],
  },
  {
    section: '5.3',
    text: 'the receiver MUST write each word back in its native order',
    master: ['ro-full-batch-applied'],
    remote: ['full-batch-applied'],
  },
  {
    section: '5.3',
    text: 'a deployment that may mix byte orders MUST store only W-wide values',
    master: 'a duty of the applications that write the segments, not of a node on the wire',
    remote: 'a duty of the applications that write the segments, not of a node on the wire',
  },
  {
    section: '5.3',
    text: 'Every datagram a node sends, sealed or not, MUST be at most the session MTU (WELCOME_MTU) bytes of UDP payload',
    master: ['session-mtu-kept'],
    remote: ['hello-fields', 'session-mtu-kept'],
  },
  {
    section: '5.3',
    text: 'A receiver MUST accept any datagram up to 65507 bytes whatever the MTU',
    master: ['large-hello-accepted'],
    remote: ['large-welcome-accepted'],
  },
  {
    section: '5.3',
    text: 'the ranges of one page MUST cover 0..page_size-1 exactly once',
    master: ['first-batch-full-after-validation'],
    remote: ['ro-first-batch-full'],
  },
  { section: '5.3', text: 'a receiver MUST accept any such cut', master: ['ro-any-cut-applied'], remote: ['any-cut-applied'] },
  {
    section: '5.3',
    text: 'DATA of different pages MUST NOT share a datagram',
    master: ['first-batch-full-after-validation'],
    remote: ['ro-first-batch-full'],
  },
  { section: '6.1', text: 'a sender MUST tolerate overlaps', master: ['nack-overlapping-ranges'], remote: ['nack-overlapping-ranges'] },
  {
    section: '6.1',
    text: "A sender's work for one NACK MUST be bounded by what it holds, whatever the ranges say",
    master: 'a node’s work shows on no wire; test/reliability/hostile-counts-bounded.test.ts checks PDSM’s',
    remote: 'a node’s work shows on no wire; test/reliability/hostile-counts-bounded.test.ts checks PDSM’s',
  },
  {
    section: '6.2',
    text: 'Flow entries MUST be in increasing Flow order, at most one per flow, and only for flows the sender sends',
    master: ['sent-datagrams-decode'],
    remote: ['sent-datagrams-decode'],
  },
  { section: '6.2', text: 'WANT_BC_UNICAST and COOKIE MUST NOT be set by the master', master: ['sent-datagrams-decode'], remote: MASTERS },
  { section: '6.3', text: 'the datagram MUST fit the MTU', master: ['digest-fits-mtu'], remote: ['digest-fits-mtu'] },
  {
    section: '6.3',
    text: "A DIGEST whose First Page + Hash Count goes beyond the receiver's segment is invalid and MUST be dropped whole",
    master: ['digest-beyond-segment-dropped'],
    remote: ['digest-beyond-segment-dropped'],
  },
  {
    section: '6.4',
    text: 'is invalid and MUST be dropped whole, never partly answered',
    master: ['resync-beyond-segment-dropped'],
    remote: ['resync-beyond-segment-dropped'],
  },
  {
    section: '7.1',
    text: 'A node MUST pick the epoch so that it never repeats across restarts',
    master: 'needs restarts of the implementation, which the tool does not drive; test/security/daemon-state-file-claims-and-epochs.test.ts checks PDSM’s',
    remote: 'needs restarts of the implementation, which the tool does not drive; test/security/daemon-state-file-claims-and-epochs.test.ts checks PDSM’s',
  },
  {
    section: '7.1',
    text: "The last epoch MUST be kept where only the node's own user can write it",
    master: 'a local file’s owner and mode, not on the wire; test/security/daemon-state-is-private.test.ts checks PDSM’s',
    remote: 'a local file’s owner and mode, not on the wire; test/security/daemon-state-is-private.test.ts checks PDSM’s',
  },
  {
    section: '7.1',
    text: 'Each end MUST end it',
    master: ['goodbye-ends-session'],
    remote: ['goodbye-new-epoch-hello', 'reject-not-joined-rejoins', 'heartbeat-other-master-epoch'],
  },
  {
    section: '7.1',
    text: 'A remote that leaves a session without restarting MUST take a new epoch before it says HELLO again',
    master: REMOTES,
    remote: ['goodbye-new-epoch-hello', 'reject-not-joined-rejoins'],
  },
  {
    section: '7.1',
    text: 'the **first batch of every flow in a session MUST be FULL and REPLACES**',
    master: ['first-batch-full-after-validation'],
    remote: ['ro-first-batch-full'],
  },
  {
    section: '7.1',
    text: 'MUST be dropped and counted `not-joined` (§10.2) and, unless it is a GOODBYE or a REJECT, MUST be answered with REJECT `not-joined`',
    master: ['not-joined-answered', 'goodbye-without-session-no-answer'],
    remote: MASTERS,
  },
  {
    section: '7.1',
    text: "A remote MUST accept datagrams only from the master's address and port",
    master: REMOTES,
    remote: ['other-source-dropped'],
  },
  { section: '7.1', text: 'and it MUST go back to JOINING (§7.11)', master: REMOTES, remote: ['heartbeat-other-master-epoch'] },
  {
    section: '7.2',
    text: "Every window the protocol uses (the sender's history, a receiver's pending batches, a NACK range, a batch) MUST stay below 2^31 numbers",
    master: 'windows are a node’s own state; the one on the wire, a NACK range, the codec bounds (decode)',
    remote: 'windows are a node’s own state; the one on the wire, a NACK range, the codec bounds (decode)',
  },
  {
    section: '7.3',
    text: 'The receiver MUST apply a complete batch when',
    master: ['ro-full-batch-applied'],
    remote: ['full-batch-applied', 'missing-data-nacked-not-applied'],
  },
  {
    section: '7.3',
    text: 'MUST NOT let a reader that follows its rule see part of a batch',
    master:
      'between a node and its local readers (status generation), not on the wire; test/reliability/batch-applier-keeps-generation-odd.test.ts checks PDSM’s',
    remote:
      'between a node and its local readers (status generation), not on the wire; test/reliability/batch-applier-keeps-generation-odd.test.ts checks PDSM’s',
  },
  {
    section: '7.3',
    text: 'A receiver MUST NOT apply a batch whose pages are not exactly covered (§5.3), whose DATA carry another Batch Id than its COMMIT, or whose distinct pages differ from Page Count',
    master: ['ro-mixed-batch-id-not-applied'],
    remote: ['missing-data-nacked-not-applied', 'mixed-batch-id-resynced'],
  },
  { section: '7.3', text: 'That bound MUST hold the largest batch, a full one, whole', master: ['ro-full-batch-applied'], remote: ['full-batch-applied'] },
  {
    section: '7.5',
    text: 'A receiver MUST keep NACKing missing numbers (at NACK Max) as long as the session lives',
    master: ['ro-missing-data-nacked'],
    remote: ['missing-data-nacked-not-applied'],
  },
  {
    section: '7.6',
    text: 'The sender MUST retransmit the datagrams a NACK names that are still in history, with the same body',
    master: ['nack-retransmits-same-data'],
    remote: ['ro-nack-retransmits'],
  },
  {
    section: '7.6',
    text: "Sequence numbers after the highest sent, and before the session's first, MUST be ignored",
    master: ['nack-before-first-ignored'],
    remote: ['nack-before-first-ignored'],
  },
  {
    section: '7.8',
    text: 'for every run of pages whose hashes differ it MUST send RESYNC for that run',
    master: ['digest-differing-run-resynced'],
    remote: ['digest-differing-run-resynced'],
  },
  {
    section: '8.1',
    text: "a BC retransmission by unicast (fan-out, fallback) MUST fit the NACKing session's MTU, and one to the group MUST fit the BC MTU",
    master: ['bc-repair-fits-session-mtu'],
    remote: MASTERS,
  },
  {
    section: '9.1',
    text: 'All nodes of a deployment MUST use the same PSK',
    master: 'a duty of whoever deploys the nodes, not of a node',
    remote: 'a duty of whoever deploys the nodes, not of a node',
  },
  {
    section: '9.2',
    text: "a remote MUST draw a new hello_nonce (16 bytes from a cryptographically secure generator) for every epoch it says HELLO with, and send the same one in that epoch's retransmitted HELLOs",
    master: REMOTES,
    remote: ['hello-retransmitted', 'goodbye-new-epoch-hello'],
  },
  { section: '9.2', text: 'A master MUST draw a new welcome_nonce for every session it opens', master: ['welcome-nonce-per-session'], remote: MASTERS },
  {
    section: '9.2',
    text: 'A master MUST draw group_nonce once per process start, before it sends any BC to the group',
    master: 'needs restarts of the master and a multicast group, which the tool does not drive',
    remote: MASTERS,
  },
  {
    section: '9.3',
    text: 'the sender MUST draw a new Salt for every datagram, retransmissions included',
    master: ['welcome-new-salt'],
    remote: ['hello-retransmitted'],
  },
  { section: '9.3', text: 'Every sealed datagram MUST still fit the session MTU', master: ['session-mtu-kept'], remote: ['session-mtu-kept'] },
  {
    section: '9.3',
    text: 'To open, a receiver MUST run these checks in order and drop the datagram (counting the reason) at the first that fails',
    master: ['mixed-seal-dropped', 'wrong-key-dropped', 'replay-dropped'],
    remote: ['mixed-seal-dropped', 'wrong-key-dropped', 'replay-dropped'],
  },
  {
    section: '9.3',
    text: 'A master MUST then drop a HELLO whose Epoch is older (§7.2 serial order) than the newest authenticated HELLO of that Src seen since its last session ended',
    master: ['older-hello-dropped'],
    remote: MASTERS,
  },
  { section: '9.3', text: 'on the master, the source address and port MUST be the session address', master: ['session-address-checked'], remote: MASTERS },
  {
    section: '9.3',
    text: "Epoch MUST be the peer's epoch of the session (the group: the master epoch it was keyed with)",
    master: ['malformed-dropped'],
    remote: ['heartbeat-other-master-epoch'],
  },
  {
    section: '9.3',
    text: 'the replay window (§9.4) MUST accept the packet number',
    master: ['replay-dropped'],
    remote: ['replay-dropped', 'replay-window-far-edge'],
  },
  {
    section: '9.4',
    text: 'A datagram MUST be dropped if its number is more than 1023 below the highest or its bit is set',
    master: ['replay-dropped'],
    remote: ['replay-dropped', 'replay-window-far-edge'],
  },
  {
    section: '9.5',
    text: 'A node with a PSK MUST drop every unsealed datagram; a node without a PSK MUST drop every sealed one',
    master: ['mixed-seal-dropped'],
    remote: ['mixed-seal-dropped'],
  },
  {
    section: '9.5',
    text: "A node MUST NOT send a session datagram before it has the session's keys",
    master: ['sent-datagrams-decode'],
    remote: ['sent-datagrams-decode'],
  },
  {
    section: '9.6',
    text: 'the master MUST NOT send that session more than 3 times the bytes it received from it',
    master: ['unvalidated-three-times-budget'],
    remote: MASTERS,
  },
  { section: '9.6', text: 'and MUST NOT send it DATA, COMMIT or DIGEST', master: ['unvalidated-no-page-content'], remote: MASTERS },
  { section: '9.6', text: 'A version-2 remote MUST echo it in every HEARTBEAT of the session', master: REMOTES, remote: ['cookie-echoed'] },
  { section: '9.6', text: 'The master MUST NOT set COOKIE', master: ['sent-datagrams-decode'], remote: MASTERS },
  {
    section: '10.1',
    text: 'A receiver MUST check every length, count, index and enumerated value against the datagram before using it, and drop the datagram when a check fails',
    master: ['malformed-hello-no-answer', 'malformed-dropped'],
    remote: ['malformed-dropped'],
  },
  {
    section: '10.1',
    text: 'it MUST never act on part of an invalid datagram',
    master: ['malformed-hello-no-answer'],
    remote: ['data-beyond-page-dropped'],
  },
  {
    section: '10.1',
    text: 'In particular a receiver MUST drop a datagram that',
    master: ['malformed-hello-no-answer', 'malformed-dropped'],
    remote: ['malformed-dropped'],
  },
  {
    section: '10.4',
    text: 'A receiver MUST drop a datagram whose header Version is not the one of its Type',
    master: ['malformed-dropped'],
    remote: ['malformed-dropped'],
  },
  {
    section: '10.4',
    text: 'a WELCOME with WELCOME_VERSION 2 MUST carry NONCE and COOKIE, and GROUP_NONCE when BC Mode = 2',
    master: ['hello-welcome-fields'],
    remote: ['welcome-without-cookie-dropped'],
  },
  {
    section: '13',
    text: 'a remote without a PSK MUST NOT end for good on any REJECT',
    master: REMOTES,
    remote: ['config-reject-keeps-trying'],
  },
];
