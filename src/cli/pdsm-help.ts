/** The help screen of `pdsm`, the admin tool (a constant so that a test can compare it). */
export const PDSM_HELP = `Usage: pdsm <command> [options]

Commands that ask a running daemon (through its control socket):
  status [--json] [--client n]
                             role, parameters, epoch and every peer: up or down,
                             address, last heard, RTT, pages and bytes each way,
                             NACKs, retransmits, resyncs, datagrams pending
  top [--client n] [--interval ms]
                             the same as a live view, refreshed every second;
                             q or Ctrl-C quits (without a terminal: prints once)
  flush [--client n] [--slice n | --bc] [--no-wait] [--timeout ms]
                             scan and send the daemon's outgoing flows now, not at
                             the next interval: the master's MO slices and BC (or
                             only --slice n, only --bc), remote n's RO; prints per
                             flow sent, unchanged, busy (exit 1) or down (no session)

Commands that go through the registry files, never through a daemon:
  dump SEG [--client n] [--slice n] [--offset o] [--length l] [--as hex|u32|u64|f64]
                             print a segment's bytes (default: the whole segment as hex)
  poke SEG [--client n] [--slice n] --offset o (--u32 v | --u64 v | --f64 v | --hex bytes)
                             store a value into a segment
  watch SEG [--client n] [--slice n] [--offset o] [--length l] [--as hex|u32|u64|f64]
        [--interval ms] [--count n]
                             dump again every interval (default 1000 ms), highlighting
                             what changed; q or Ctrl-C quits; --count n stops after n
                             views. Without a terminal: the first view, then only the
                             lines that changed, changed values marked with *

Conformance (spec/protocol.md Appendix C):
  conformance master --host H --port P [--psk-file F] [-d dir] [--client n] [--only id,...]
        [--list] [-y 6]
                             play a remote against the master at H:P, case by case:
                             one line per case (pass, fail with expected and seen, skip
                             with why) and a summary; exit 1 if any case failed. Joins
                             as client n (default 0), which no other remote may hold;
                             with -d (the master's registry folder, on this host) it
                             also checks what the batches carry against its segments
  conformance remote --master-port P [--listen A] [--psk-file F] [-d dir] [--wait s]
        [--only id,...] [--list] [-y 6]
                             play a master on UDP port P (default address 127.0.0.1,
                             or ::1 with -y 6) against the remote under test, which the
                             user starts pointing at it (pdsm_remote -H A -P P): one
                             session per case, ended with GOODBYE; --wait s: how long
                             to wait for its first HELLO (default 30); with -d (the
                             remote's registry folder, on this host) it also checks
                             what its MO holds after each batch

SEG is MO, RO, BC or ST. With --client n the segments (or the daemon) are remote n's
(pdsm_registry_client_n, pdsm_remote_n.sock); without it, the master's
(pdsm_master_registry, pdsm_master.sock), where --slice n limits MO or RO to slice n.
Offsets and lengths are bytes (0x hex allowed) and must stay inside the segment (or
slice). Values are stored in native byte order, as applications on this node store them.

Options:
  -d, --registry-dir dir     folder of the registry files and control sockets
                             (default $PDSM_REGISTRY_DIR or /tmp)
  -h, --help                 show this help and exit

Exit status: 0 ok, 1 runtime failure (no registry, no segment, daemon not running,
a conformance case failed),
2 usage error (including an offset or length outside the segment).
`;
