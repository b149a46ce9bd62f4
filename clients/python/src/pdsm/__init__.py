"""pdsm: attach a Python program to the segments of a PDSM node (docs/design.md §3, §3b).

    import pdsm
    node = pdsm.open_remote(3)          # registry in $PDSM_REGISTRY_DIR or /tmp
    ro = node.ro.cast("Q")              # native u64 words; numpy.frombuffer(node.ro, "u8") works too
    ro[0] = 42                          # a plain store: travels to slice 3 of the master's RO
    with node.write_consistent():       # stores that travel in one batch
        ro[1] = ro[2] = 7
    for attempt in node.read_consistent("mo"):
        with attempt:                   # repeated until it ran while no batch was applied
            a, b = node.mo.cast("Q")[0:2]
    node.close()

Segments are memoryviews over the shared memory itself (no copy). Only the standard library
is used: ctypes for shmget/shmat. Errors are PdsmError with a stable `code`.
"""
import errno
import json
import os
import socket
import time
from collections import namedtuple

from . import _shm
from ._errors import CODES, PdsmError

__all__ = ["open_master", "open_remote", "Node", "FlowStatus", "PdsmError", "CODES", "PEER_STATES", "registry_dir"]
__version__ = "0.1.0"

ST_RECORD = 64
MAX_REMOTES = 16384
MAX_KEY = 0x7FFFFFFF
PEER_STATES = {0: "unknown", 1: "joining", 2: "up", 3: "down"}
DEFAULT_TIMEOUT = 0.2
FLUSH_TIMEOUT = 10.0
MAX_ANSWER_BYTES = 65536

FlowStatus = namedtuple("FlowStatus", "generation last_batch_ns peer_heard_ns peer_state batches")
FlowStatus.__doc__ = "A status record (docs/design.md §3b); times in Unix ns, 0 = never; peer_state 0..3 (PEER_STATES)."


def registry_dir(directory=None):
    """The registry folder: the argument, else $PDSM_REGISTRY_DIR, else /tmp (as the daemons)."""
    return directory or os.environ.get("PDSM_REGISTRY_DIR") or "/tmp"


def _number(text, hexadecimal, limit):
    digits = text[2:] if hexadecimal and text[:2] in ("0x", "0X") else None if hexadecimal else text
    allowed = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
    if not digits or any(c not in allowed for c in digits) or len(digits) > 20:
        return None
    value = int(digits, 16 if hexadecimal else 10)
    return value if value <= limit else None


def _segment_line(line):
    """(name, key, size, segs, seg_size) for a segment line, None for another line; raises on a bad one."""
    words = line.split(" ")
    if len(words[0]) != 11 or not words[0].startswith("PDSM_") or not words[0].endswith("_key"):
        return None
    name = words[0][5:7]
    if name not in ("MO", "RO", "BC", "ST"):
        return None
    if len(words) not in (4, 8) or words[2] != "PDSM_%s_size" % name:
        raise ValueError("malformed PDSM_%s_key line" % name)
    key = _number(words[1], True, MAX_KEY)
    size = _number(words[3], False, 1 << 48)
    if not key or not size:
        raise ValueError("bad key or size in the PDSM_%s_key line" % name)
    segs = seg_size = None
    if len(words) == 8:
        if words[4] != "Number_of_segs" or words[6] != "Seg_size":
            raise ValueError("malformed PDSM_%s_key line" % name)
        segs = _number(words[5], False, MAX_REMOTES)
        seg_size = _number(words[7], False, 1 << 48)
        if not segs or not seg_size:
            raise ValueError("bad Number_of_segs or Seg_size")
    return name, key, size, segs, seg_size


NAMESPACES = ("Global", "Local")


def _namespace_line(line):
    """The value of a PDSM_namespace line (issue 15), None for another line; raises on a bad value."""
    if line != "PDSM_namespace" and not line.startswith("PDSM_namespace "):
        return None
    value = line[len("PDSM_namespace ") :]
    if value not in NAMESPACES:
        raise ValueError("PDSM_namespace %s is neither Global nor Local" % json.dumps(value))
    return value


def _parse(path, text, master):
    """(entries, segs, seg_size, namespace); namespace is None when the file names none (Local)."""
    entries = {}
    namespace = None
    segs = seg_size = None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, 1):
        try:
            parsed = _segment_line(line)
            found = _namespace_line(line) if number > 2 else None
            if found is not None and namespace is not None:
                raise ValueError("PDSM_namespace listed twice")
            namespace = found or namespace
        except ValueError as e:
            raise PdsmError("PDSM_ERR_REGISTRY", "registry file %s line %d: %s" % (path, number, e)) from None
        if number <= 2:
            want = "MO" if number == 1 else "RO"
            if parsed is None or parsed[0] != want:
                raise PdsmError("PDSM_ERR_REGISTRY", "registry file %s line %d: expected the PDSM_%s_key line" % (path, number, want))
            if master != (parsed[3] is not None):
                raise PdsmError(
                    "PDSM_ERR_REGISTRY",
                    "registry file %s line %d: %s" % (path, number, "expected Number_of_segs and Seg_size" if master else "a remote's line has no Number_of_segs"),
                )
            if number == 1:
                segs, seg_size = parsed[3], parsed[4]
            elif master and (parsed[3], parsed[4]) != (segs, seg_size):
                raise PdsmError("PDSM_ERR_REGISTRY", "registry file %s: the MO and RO lines disagree on Number_of_segs or Seg_size" % path)
        elif parsed is not None:
            if parsed[3] is not None or parsed[0] in entries:
                raise PdsmError("PDSM_ERR_REGISTRY", "registry file %s line %d: unexpected PDSM_%s_key line" % (path, number, parsed[0]))
        if parsed is not None:
            entries[parsed[0]] = (parsed[1], parsed[2])
    if "MO" not in entries or "RO" not in entries:
        raise PdsmError("PDSM_ERR_REGISTRY", "registry file %s lacks the MO and RO lines" % path)
    mo_size, ro_size = entries["MO"][1], entries["RO"][1]
    if master:
        if mo_size != segs * seg_size or ro_size != segs * seg_size:
            raise PdsmError("PDSM_ERR_SEGMENT_SIZE", "registry file %s: MO and RO must be Number_of_segs x Seg_size = %d bytes" % (path, segs * seg_size))
    else:
        if mo_size != ro_size:
            raise PdsmError("PDSM_ERR_SEGMENT_SIZE", "registry file %s: MO has %d bytes and RO %d" % (path, mo_size, ro_size))
        segs, seg_size = 1, mo_size
    if "ST" in entries:
        records = 2 * segs + 1 if master else 3
        if entries["ST"][1] < (records + 1) * ST_RECORD:
            raise PdsmError("PDSM_ERR_SEGMENT_SIZE", "registry file %s: ST has %d bytes, too few for %d records" % (path, entries["ST"][1], records))
    return entries, segs, seg_size, namespace


class _Attempt:
    """One try of a consistent read: a context manager that checks the generation on exit."""

    __slots__ = ("_node", "_rec", "_before", "ok")

    def __init__(self, node, rec):
        self._node, self._rec, self.ok = node, rec, False
        self._before = None

    def __enter__(self):
        self._before = self._node._generation(self._rec)
        return self

    def __exit__(self, kind, value, tb):
        if kind is not None:
            return False
        # Even before and unchanged after: what the block read is one whole batch.
        self.ok = self._before % 2 == 0 and self._node._generation(self._rec) == self._before
        return False


class _Write:
    __slots__ = ("_node", "_rec")

    def __init__(self, node, rec):
        self._node, self._rec = node, rec

    def __enter__(self):
        self._node._bump(self._rec)
        return self

    def __exit__(self, kind, value, tb):
        self._node._bump(self._rec)
        return False


class Node:
    """The segments of one node. Use open_master() or open_remote()."""

    def __init__(self, directory, master, client_id, read_only):
        self.master = master
        self.client_id = None if master else client_id
        self.read_only = read_only
        folder = registry_dir(directory)
        name = "pdsm_master_registry" if master else "pdsm_registry_client_%d" % client_id
        path = os.path.join(folder, name)
        self.control_socket = os.path.join(folder, "pdsm_master.sock" if master else "pdsm_remote_%d.sock" % client_id)
        # namespace: which Windows namespace the daemon's mappings are in (None: Local); the
        # SysV attach below needs none, keys have no namespace.
        entries, self.remotes, self.seg_size, self.namespace = _parse(path, _shm.read_registry_file(path), master)
        self._views = {}
        try:
            for seg, (key, size) in entries.items():
                try:
                    self._views[seg] = _shm.attach(seg, key, size, read_only)
                except PdsmError as e:
                    raise PdsmError(e.code, "%s (listed in %s)" % (e.detail, path)) from None
        except BaseException:
            self.close()
            raise
        st = self._views.get("ST")
        self._st64 = st.cast("Q") if st is not None else None
        self._st32 = st.cast("I") if st is not None else None

    # -- segments ------------------------------------------------------------------
    def _segment(self, name):
        if not self._views and name in ("MO", "RO"):
            raise PdsmError("PDSM_ERR_USAGE", "the node is closed")
        return self._views.get(name)

    mo = property(lambda self: self._segment("MO"), doc="Master owned: a byte memoryview (master: every slice).")
    ro = property(lambda self: self._segment("RO"), doc="Remote owned: a byte memoryview (master: every slice).")
    bc = property(lambda self: self._segment("BC"), doc="Broadcast, or None when the master has none.")
    st = property(lambda self: self._segment("ST"), doc="Status segment, or None; prefer status().")

    def slice(self, seg, n=0):
        """Slice n of 'mo' or 'ro' on the master; on a remote (n = 0 or its id) and for 'bc' the whole segment."""
        name = self._name(seg)
        view = self._segment(name)
        if view is None or name == "ST":
            raise PdsmError("PDSM_ERR_RANGE", "the registry lists no %s segment" % name if view is None else "ST has no slices")
        if name == "BC" or not self.master:
            if n not in (0, self.client_id):
                raise PdsmError("PDSM_ERR_RANGE", "slice %r: %s has one slice here" % (n, name))
            return view
        if not isinstance(n, int) or not 0 <= n < self.remotes:
            raise PdsmError("PDSM_ERR_RANGE", "slice %r is out of range 0..%d" % (n, self.remotes - 1))
        return view[n * self.seg_size : (n + 1) * self.seg_size]

    @staticmethod
    def _name(seg):
        name = str(seg).upper()
        if name not in ("MO", "RO", "BC", "ST"):
            raise PdsmError("PDSM_ERR_USAGE", "segment %r: expected 'mo', 'ro' or 'bc'" % (seg,))
        return name

    # -- status records --------------------------------------------------------------
    def _record(self, seg, n):
        """(record index, incoming) of the flow that carries seg (slice n on the master)."""
        name = self._name(seg)
        if name == "ST":
            raise PdsmError("PDSM_ERR_USAGE", "ST carries no flow")
        if self._st64 is None:
            raise PdsmError("PDSM_ERR_NO_STATUS", "the registry lists no status segment (PDSM_ST_key): the daemon is too old")
        if name not in self._views:
            raise PdsmError("PDSM_ERR_RANGE", "the registry lists no %s segment" % name)
        if not self.master:
            return {"MO": 0, "BC": 1, "RO": 2}[name], name != "RO"
        if name == "BC":
            return 2 * self.remotes, False
        if not isinstance(n, int) or not 0 <= n < self.remotes:
            raise PdsmError("PDSM_ERR_RANGE", "slice %r is out of range 0..%d" % (n, self.remotes - 1))
        return (n if name == "RO" else self.remotes + n), name == "RO"

    def _generation(self, rec):
        # An aligned 8-byte load: one instruction, never torn.
        return self._st64[rec * 8]

    def _bump(self, rec):
        # Writers of one flow on one node coordinate among themselves (docs/design.md §3b),
        # so a load and an aligned 8-byte store suffice; on x86-64 (TSO) stores become
        # visible in program order, so the odd generation precedes the data stores.
        self._st64[rec * 8] = (self._st64[rec * 8] + 1) & 0xFFFFFFFFFFFFFFFF

    def status(self, seg, n=0):
        """The FlowStatus of the flow that carries seg. Remote: mo in, bc in, ro out; master: ro n in, mo n out, bc out."""
        rec, _ = self._record(seg, n)
        q, i = rec * 8, rec * 16
        return FlowStatus(self._st64[q], self._st64[q + 1], self._st64[q + 2], self._st32[i + 6], self._st64[q + 4])

    def age(self, seg, n=0):
        """Seconds since the flow's last batch (None when none yet): its freshness."""
        last = self.status(seg, n).last_batch_ns
        return None if last == 0 else max(0.0, (time.time_ns() - last) / 1e9)

    def read_consistent(self, seg, n=0, timeout=DEFAULT_TIMEOUT):
        """Attempts of a consistent read; use each as a context manager and stop at the first good one:

            for attempt in node.read_consistent("mo"):
                with attempt:
                    values = node.mo.cast("Q")[0:4].tolist()

        The loop ends after the first attempt that ran while the generation was even and
        unchanged; PdsmError PDSM_ERR_BUSY when none did within `timeout` seconds.
        """
        rec, _ = self._record(seg, n)
        deadline = time.monotonic() + timeout
        tries = 0
        while True:
            attempt = _Attempt(self, rec)
            yield attempt
            if attempt.ok:
                return
            tries += 1
            if time.monotonic() > deadline:
                raise PdsmError("PDSM_ERR_BUSY", "%s flow: no stable generation within %g s (%d tries)" % (self._name(seg), timeout, tries))

    def read(self, seg, n=0, offset=0, length=None, timeout=DEFAULT_TIMEOUT):
        """A consistent copy (bytes) of `length` bytes at `offset` of slice n."""
        view = self.slice(seg, n)
        length = len(view) - offset if length is None else length
        if not 0 <= offset <= len(view) or not 0 <= length <= len(view) - offset:
            raise PdsmError("PDSM_ERR_RANGE", "offset %d length %d is outside %s (%d bytes)" % (offset, length, self._name(seg), len(view)))
        for attempt in self.read_consistent(seg, n, timeout):
            with attempt:
                data = bytes(view[offset : offset + length])
        return data

    def write_consistent(self, seg=None, n=0):
        """A context manager: the stores inside it travel in one batch. seg defaults to the
        node's outgoing flow ('ro' on a remote; on the master pass 'mo' with n, or 'bc')."""
        seg = seg or ("MO" if self.master else "RO")
        rec, incoming = self._record(seg, n)
        if incoming:
            raise PdsmError("PDSM_ERR_USAGE", "%s is an incoming flow here: the daemon owns its generation" % self._name(seg))
        if self.read_only:
            raise PdsmError("PDSM_ERR_USAGE", "the node was opened read-only")
        return _Write(self, rec)

    def write(self, seg, n, offset, data):
        """Store bytes at `offset` of slice n inside one odd generation."""
        view = self.slice(seg, n)
        if not 0 <= offset <= len(view) or len(data) > len(view) - offset:
            raise PdsmError("PDSM_ERR_RANGE", "offset %d length %d is outside %s (%d bytes)" % (offset, len(data), self._name(seg), len(view)))
        with self.write_consistent(seg, n):
            view[offset : offset + len(data)] = data

    # -- flush on demand -------------------------------------------------------------
    def flush(self, seg=None, n=None, timeout=FLUSH_TIMEOUT):
        """Have the daemon scan and send now instead of at the next interval (README "Flush
        on demand"); returns its answer, one dict per flow (flow, client, outcome, pages)
        once the datagrams are queued. Remote: RO. Master: 'mo' slice n, 'mo' without n
        (every slice), 'bc', or no seg (every outgoing flow). PDSM_ERR_BUSY when writers held
        a flow's generation, PDSM_ERR_DAEMON naming the socket when no daemon answers."""
        request = {"cmd": "flush"}
        if seg is not None:
            name = self._name(seg)
            if name not in (("MO", "BC") if self.master else ("RO",)):
                raise PdsmError("PDSM_ERR_RANGE", "this node sends %s: flush %s" % (("MO and BC", "'mo' or 'bc'") if self.master else ("only RO", "'ro'")))
            request["flow"] = name.lower()
            if name == "MO" and n is not None:
                if not isinstance(n, int) or not 0 <= n < self.remotes:
                    raise PdsmError("PDSM_ERR_RANGE", "slice %r is out of range 0..%d" % (n, self.remotes - 1))
                request["client"] = n
        answer = self._ask(request, timeout)
        if "error" in answer or not isinstance(answer.get("flushed"), list):
            raise PdsmError("PDSM_ERR_DAEMON", "the daemon on %s refused the flush: %s" % (self.control_socket, answer.get("error", answer)))
        busy = [f for f in answer["flushed"] if f.get("outcome") == "busy"]
        if busy:
            raise PdsmError("PDSM_ERR_BUSY", "writers hold the generation of %s odd or moving: nothing was sent" % ", ".join(f["flow"] for f in busy))
        return answer["flushed"]

    def _ask(self, request, timeout):
        """One request line on the control socket, one JSON answer line back."""
        path = self.control_socket
        deadline = time.monotonic() + timeout
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(timeout)
                s.connect(path)
                s.sendall((json.dumps(request) + "\n").encode())
                data = b""
                while b"\n" not in data:
                    s.settimeout(max(0.001, deadline - time.monotonic()))
                    chunk = s.recv(4096)
                    if not chunk:
                        raise PdsmError("PDSM_ERR_DAEMON", "the daemon on %s closed the connection without an answer" % path)
                    data += chunk
                    if len(data) > MAX_ANSWER_BYTES:
                        raise PdsmError("PDSM_ERR_DAEMON", "the daemon on %s answered more than %d bytes" % (path, MAX_ANSWER_BYTES))
        except socket.timeout:
            raise PdsmError("PDSM_ERR_DAEMON", "no answer from the daemon on %s within %g s" % (path, timeout)) from None
        except OSError as e:
            why = {
                errno.ENOENT: "no such socket",
                errno.ECONNREFUSED: "nobody listens (a stale socket)",
                errno.EACCES: "permission denied (the socket is not writable by you)",
            }.get(e.errno, e.strerror)
            raise PdsmError("PDSM_ERR_DAEMON", "no daemon answers on %s: %s (not running, or another folder or client id?)" % (path, why)) from None
        try:
            return json.loads(data.split(b"\n", 1)[0])
        except ValueError:
            raise PdsmError("PDSM_ERR_DAEMON", "the daemon on %s sent an answer that is not JSON" % path) from None

    # -- lifetime --------------------------------------------------------------------
    def close(self):
        """Release the node's views. Each segment is detached once no view taken from it
        (slices, casts, numpy arrays) remains, so a kept view stays valid. Idempotent."""
        for attr in ("_st64", "_st32"):
            view = getattr(self, attr, None)
            if view is not None:
                view.release()
            setattr(self, attr, None)
        for view in getattr(self, "_views", {}).values():
            try:
                view.release()
            except BufferError:
                pass  # something still holds a buffer of it: it stays mapped until that goes
        self._views = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def open_master(registry_dir=None, read_only=False):
    """Attach to the master's segments through pdsm_master_registry."""
    return Node(registry_dir, True, None, read_only)


def open_remote(client_id, registry_dir=None, read_only=False):
    """Attach to remote client_id's segments through pdsm_registry_client_<client_id>."""
    if not isinstance(client_id, int) or not 0 <= client_id < MAX_REMOTES:
        raise PdsmError("PDSM_ERR_USAGE", "client id %r is out of range 0..%d" % (client_id, MAX_REMOTES - 1))
    return Node(registry_dir, False, client_id, read_only)
