"""Unit tests of the pdsm package without a daemon: the test plays the daemon (it makes the
segments and the registry files) and checks every call and refusal.

    python3 -m unittest discover -s clients/python/tests

PDSM_TEST_DIR and PDSM_TEST_KEY_BASE (set by test/clients/python-package.test.ts) give a
private folder and SysV key base; otherwise a temp folder and a random base are used. The
segments are the master's keys K..K+3 and remote 0's K+0x28..K+0x2b, removed at the end.
"""
import ctypes
import ctypes.util
import json
import os
import random
import shutil
import socket
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
import pdsm  # noqa: E402

libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmat.restype = ctypes.c_void_p
libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
IPC_CREAT, IPC_EXCL, IPC_RMID = 0o1000, 0o2000, 0


class Place:
    def __init__(self):
        self.own_dir = "PDSM_TEST_DIR" not in os.environ
        self.dir = os.environ.get("PDSM_TEST_DIR") or tempfile.mkdtemp(prefix="pdsm-py-")
        self.base = int(os.environ.get("PDSM_TEST_KEY_BASE") or "0x%x" % (0x2F000000 + (random.randrange(0x800) << 8)), 0)
        self.ids = []

    def segment(self, key, size):
        shmid = libc.shmget(key, size, IPC_CREAT | IPC_EXCL | 0o600)
        if shmid < 0:
            raise OSError(ctypes.get_errno(), "shmget 0x%x" % key)
        self.ids.append(shmid)
        address = libc.shmat(shmid, None, 0)
        return (ctypes.c_uint64 * (size // 8)).from_address(address)

    def write(self, name, text):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(text)

    def cleanup(self):
        for shmid in self.ids:
            libc.shmctl(shmid, IPC_RMID, None)
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


P = None


def setUpModule():
    global P, MO, RO, BC, ST, MMO, MRO, MST
    P = Place()
    b = P.base
    MO, RO, BC, ST = P.segment(b + 0x28, 4096), P.segment(b + 0x29, 4096), P.segment(b + 0x2A, 8192), P.segment(b + 0x2B, 4096)
    MMO, MRO, MST = P.segment(b, 8192), P.segment(b + 1, 8192), P.segment(b + 3, 4096)


def tearDownModule():
    P.cleanup()


def remote_text(mo_size=4096, extra="", st=True):
    b = P.base
    return (
        "PDSM_MO_key 0x%x PDSM_MO_size %d\nPDSM_RO_key 0x%x PDSM_RO_size 4096\n" % (b + 0x28, mo_size, b + 0x29)
        + extra
        + ("PDSM_ST_key 0x%x PDSM_ST_size 4096\n" % (b + 0x2B) if st else "")
        + "PDSM_port 1\nPDSM_client_id 0\n"
    )


def master_text(segs=2, ro_segs=None):
    b = P.base
    return (
        "PDSM_MO_key 0x%x PDSM_MO_size 8192 Number_of_segs %d Seg_size 4096\n" % (b, segs)
        + "PDSM_RO_key 0x%x PDSM_RO_size 8192 Number_of_segs %d Seg_size 4096\n" % (b + 1, ro_segs or segs)
        + "PDSM_ST_key 0x%x PDSM_ST_size 4096\n" % (b + 3)
    )


class RemoteNode(unittest.TestCase):
    def setUp(self):
        for i in range(len(ST)):
            ST[i] = 0
        P.write("pdsm_registry_client_0", remote_text(extra="PDSM_BC_key 0x%x PDSM_BC_size 8192\n" % (P.base + 0x2A)))
        self.node = pdsm.open_remote(0, P.dir)

    def tearDown(self):
        self.node.close()

    def test_segments_are_memoryviews_over_shared_memory(self):
        MO[3] = 77
        self.assertEqual(len(self.node.mo), 4096)
        self.assertEqual(self.node.mo.cast("Q")[3], 77)
        self.node.ro.cast("Q")[5] = 99
        self.assertEqual(RO[5], 99, "a store through the view is a store into the segment")
        self.assertEqual(len(self.node.bc), 8192)

    def test_a_missing_bc_is_none(self):
        P.write("pdsm_registry_client_0", remote_text())
        with pdsm.open_remote(0, P.dir) as node:
            self.assertIsNone(node.bc)

    def test_status_reads_every_field(self):
        ST[0], ST[1], ST[2], ST[4] = 4, 1111, 2222, 9
        ctypes.c_uint32.from_address(ctypes.addressof(ST) + 24).value = 2
        s = self.node.status("mo")
        self.assertEqual(s, pdsm.FlowStatus(4, 1111, 2222, 2, 9))
        self.assertEqual(pdsm.PEER_STATES[s.peer_state], "up")
        ST[16] = 6
        self.assertEqual(self.node.status("ro").generation, 6, "RO's flow is record 2")
        self.assertIsNone(self.node.age("bc"), "no batch yet: no age")

    def test_consistent_read_retries_while_odd_and_gives_up_busy(self):
        MO[10], MO[11] = 5, 6
        self.assertEqual(self.node.read("mo", 0, 80, 16), bytes(ctypes.c_uint64(5)) + bytes(ctypes.c_uint64(6)))
        ST[0] = 5
        with self.assertRaises(pdsm.PdsmError) as e:
            self.node.read("mo", 0, 80, 16, timeout=0.02)
        self.assertEqual(e.exception.code, "PDSM_ERR_BUSY")

    def test_an_attempt_that_saw_the_generation_change_is_repeated(self):
        runs = 0
        for attempt in self.node.read_consistent("mo"):
            with attempt:
                runs += 1
                if runs == 1:
                    ST[0] += 2  # a batch was applied during the first attempt
        self.assertEqual(runs, 2)

    def test_write_consistent_bumps_the_outgoing_generation_twice(self):
        with self.node.write_consistent():
            self.assertEqual(ST[16] % 2, 1, "odd inside")
            self.node.ro.cast("Q")[1] = 1
        self.assertEqual(ST[16], 2)
        self.node.write("ro", 0, 16, bytes(ctypes.c_uint64(3)))
        self.assertEqual((RO[2], ST[16]), (3, 4))

    def test_write_consistent_ends_even_when_the_block_raises(self):
        with self.assertRaises(KeyError):
            with self.node.write_consistent("ro"):
                raise KeyError("x")
        self.assertEqual(ST[16] % 2, 0)

    def test_refusals_have_stable_codes(self):
        cases = [
            (lambda: self.node.write_consistent("mo"), "PDSM_ERR_USAGE"),
            (lambda: self.node.read("mo", 0, 4090, 8), "PDSM_ERR_RANGE"),
            (lambda: self.node.read("mo", 0, -1, 8), "PDSM_ERR_RANGE"),
            (lambda: self.node.slice("ro", 1), "PDSM_ERR_RANGE"),
            (lambda: self.node.status("st"), "PDSM_ERR_USAGE"),
            (lambda: self.node.status("xx"), "PDSM_ERR_USAGE"),
            (lambda: pdsm.open_remote(-1, P.dir), "PDSM_ERR_USAGE"),
            (lambda: pdsm.open_remote(16384, P.dir), "PDSM_ERR_USAGE"),
        ]
        for call, code in cases:
            with self.assertRaises(pdsm.PdsmError) as e:
                call()
            self.assertEqual(e.exception.code, code)

    def test_read_only_refuses_writes(self):
        with pdsm.open_remote(0, P.dir, read_only=True) as node:
            self.assertTrue(node.mo.readonly)
            with self.assertRaises(pdsm.PdsmError) as e:
                node.write_consistent()
            self.assertEqual(e.exception.code, "PDSM_ERR_USAGE")

    def test_a_view_kept_after_close_stays_valid(self):
        view = self.node.mo.cast("Q")
        self.node.close()
        MO[0] = 1234
        self.assertEqual(view[0], 1234, "the mapping lives as long as a view of it")
        self.node.close()  # idempotent

    def test_registry_dir_from_the_environment(self):
        old = os.environ.get("PDSM_REGISTRY_DIR")
        os.environ["PDSM_REGISTRY_DIR"] = P.dir
        try:
            with pdsm.open_remote(0) as node:
                self.assertEqual(len(node.ro), 4096)
        finally:
            if old is None:
                del os.environ["PDSM_REGISTRY_DIR"]
            else:
                os.environ["PDSM_REGISTRY_DIR"] = old

    @unittest.skipUnless(__import__("importlib").util.find_spec("numpy"), "numpy is not installed")
    def test_numpy_frombuffer_shares_the_memory(self):
        import numpy

        a = numpy.frombuffer(self.node.mo, dtype=numpy.uint64)
        MO[7] = 4242
        self.assertEqual(int(a[7]), 4242)


class Flush(unittest.TestCase):
    """flush() against a control socket the test plays (the daemon's own tests are in test/clients/)."""

    def setUp(self):
        P.write("pdsm_registry_client_0", remote_text())
        self.node = pdsm.open_remote(0, P.dir)
        self.path = os.path.join(P.dir, "pdsm_remote_0.sock")
        if os.path.exists(self.path):
            os.unlink(self.path)

    def tearDown(self):
        self.node.close()
        if os.path.exists(self.path):
            os.unlink(self.path)

    def serve(self, reply):
        """Answer one connection's request line with `reply`; the line it got is in self.got."""
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(self.path)
        server.listen(1)
        self.got = None

        def run():
            conn, _ = server.accept()
            with conn:
                data = b""
                while b"\n" not in data:
                    data += conn.recv(1024)
                self.got = json.loads(data.split(b"\n")[0])
                if reply is not None:
                    conn.sendall((json.dumps(reply) + "\n").encode())
                else:
                    conn.recv(1)  # never answers; waits for the client to give up
            server.close()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def test_flush_without_a_daemon_names_the_socket(self):
        with self.assertRaises(pdsm.PdsmError) as e:
            self.node.flush()
        self.assertEqual(e.exception.code, "PDSM_ERR_DAEMON")
        self.assertIn("no daemon answers on %s: no such socket" % self.path, str(e.exception))

    def test_flush_sends_the_request_and_returns_the_flows(self):
        done = [{"flow": "ro", "outcome": "sent", "pages": 2}]
        thread = self.serve({"flushed": done})
        self.assertEqual(self.node.flush(), done)
        thread.join(5)
        self.assertEqual(self.got, {"cmd": "flush"})

    def test_a_busy_flow_is_pdsm_err_busy_and_a_refusal_pdsm_err_daemon(self):
        for reply, code in (({"flushed": [{"flow": "ro", "outcome": "busy", "pages": 0}]}, "PDSM_ERR_BUSY"), ({"error": "no"}, "PDSM_ERR_DAEMON")):
            thread = self.serve(reply)
            with self.assertRaises(pdsm.PdsmError) as e:
                self.node.flush("ro")
            thread.join(5)
            self.assertEqual(e.exception.code, code)
            self.assertEqual(self.got, {"cmd": "flush", "flow": "ro"})
            os.unlink(self.path)

    def test_a_daemon_that_does_not_answer_times_out(self):
        thread = self.serve(None)
        with self.assertRaises(pdsm.PdsmError) as e:
            self.node.flush(timeout=0.2)
        self.assertEqual(e.exception.code, "PDSM_ERR_DAEMON")
        self.assertIn("no answer from the daemon on %s" % self.path, str(e.exception))
        thread.join(5)

    def test_a_remote_flushes_only_ro(self):
        with self.assertRaises(pdsm.PdsmError) as e:
            self.node.flush("mo")
        self.assertEqual(e.exception.code, "PDSM_ERR_RANGE")


class HostileRegistry(unittest.TestCase):
    def code(self, text):
        P.write("pdsm_registry_client_0", text)
        with self.assertRaises(pdsm.PdsmError) as e:
            pdsm.open_remote(0, P.dir).close()
        return e.exception

    def test_each_bad_file_is_refused_with_its_code(self):
        b = P.base
        self.assertEqual(self.code(remote_text(mo_size=8192)).code, "PDSM_ERR_SEGMENT_SIZE")
        e = self.code("PDSM_MO_key 0x%x PDSM_MO_size 8192\nPDSM_RO_key 0x%x PDSM_RO_size 8192\n" % (b + 0x28, b + 0x29))
        self.assertEqual(e.code, "PDSM_ERR_SEGMENT_SIZE")
        self.assertIn("has 4096 bytes but the registry says 8192", str(e))
        e = self.code("PDSM_MO_key 0x%x PDSM_MO_size 4096\nPDSM_RO_key 0x%x PDSM_RO_size 4096\n" % (b + 0x30, b + 0x31))
        self.assertEqual(e.code, "PDSM_ERR_SEGMENT")
        for text in [
            "",
            "PDSM_MO_key 0x1 PDSM_MO_size 4096\n",
            "PDSM_RO_key 0x1 PDSM_RO_size 4096\nPDSM_MO_key 0x2 PDSM_MO_size 4096\n",
            "PDSM_MO_key 0x0 PDSM_MO_size 4096\nPDSM_RO_key 0x2 PDSM_RO_size 4096\n",
            "PDSM_MO_key 0x80000000 PDSM_MO_size 4096\nPDSM_RO_key 0x2 PDSM_RO_size 4096\n",
            "PDSM_MO_key 0x1 PDSM_MO_size -4096\nPDSM_RO_key 0x2 PDSM_RO_size 4096\n",
            "PDSM_MO_key 0x1 PDSM_MO_size 99999999999999999999999\nPDSM_RO_key 0x2 PDSM_RO_size 4096\n",
            "PDSM_MO_key 0x1 PDSM_MO_size 4096 Number_of_segs 1 Seg_size 4096\nPDSM_RO_key 0x2 PDSM_RO_size 4096\n",
            remote_text() + "PDSM_MO_key 0x1 PDSM_MO_size 4096\n",
        ]:
            self.assertEqual(self.code(text).code, "PDSM_ERR_REGISTRY", text)
        e = self.code("PDSM_MO_key 0x%x PDSM_MO_size 4096\nPDSM_RO_key 0x%x PDSM_RO_size 4096\nPDSM_ST_key 0x%x PDSM_ST_size 64\n" % (b + 0x28, b + 0x29, b + 0x2B))
        self.assertEqual(e.code, "PDSM_ERR_SEGMENT_SIZE")

    def test_the_namespace_line_is_checked(self):
        # Issue 15: a Windows daemon's last line says Global or Local; a file without one means
        # Local. Anything else is refused naming the value, and so is a second line.
        for value in ("Global", "Local"):
            P.write("pdsm_registry_client_0", remote_text() + "PDSM_namespace %s\n" % value)
            with pdsm.open_remote(0, P.dir) as node:
                self.assertEqual(node.namespace, value)
        P.write("pdsm_registry_client_0", remote_text())
        with pdsm.open_remote(0, P.dir) as node:
            self.assertIsNone(node.namespace)
        for bad in ("global", "GLOBAL", "Session", "Global ", " Global", "", "Local Global"):
            e = self.code(remote_text() + "PDSM_namespace %s\n" % bad)
            self.assertEqual(e.code, "PDSM_ERR_REGISTRY")
            self.assertIn('PDSM_namespace "%s" is neither Global nor Local' % bad, str(e))
        e = self.code(remote_text() + "PDSM_namespace Local\nPDSM_namespace Local\n")
        self.assertIn("listed twice", str(e))

    def test_a_symlink_is_refused(self):
        path = os.path.join(P.dir, "pdsm_registry_client_0")
        P.write("elsewhere", remote_text())
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(os.path.join(P.dir, "elsewhere"), path)
        try:
            with self.assertRaises(pdsm.PdsmError) as e:
                pdsm.open_remote(0, P.dir)
            self.assertEqual(e.exception.code, "PDSM_ERR_REGISTRY")
            self.assertIn("symlink", str(e.exception))
        finally:
            os.unlink(path)

    def test_no_status_segment_means_no_seqlock(self):
        P.write("pdsm_registry_client_0", remote_text(st=False))
        with pdsm.open_remote(0, P.dir) as node:
            self.assertEqual(len(node.mo), 4096)
            with self.assertRaises(pdsm.PdsmError) as e:
                node.status("mo")
            self.assertEqual(e.exception.code, "PDSM_ERR_NO_STATUS")


class MasterNode(unittest.TestCase):
    def test_slices_and_records(self):
        P.write("pdsm_master_registry", master_text())
        for i in range(len(MST)):
            MST[i] = 0
        with pdsm.open_master(P.dir) as node:
            self.assertEqual((node.master, node.remotes, node.seg_size), (True, 2, 4096))
            s1 = node.slice("mo", 1)
            s1.cast("Q")[0] = 11
            self.assertEqual(MMO[512], 11, "slice 1 starts at 4096")
            with node.write_consistent("mo", 1):
                pass
            self.assertEqual(MST[3 * 8], 2, "MO slice 1 out is record 2 + 1")
            MST[1 * 8] = 3
            with self.assertRaises(pdsm.PdsmError) as e:
                node.read("ro", 1, timeout=0.01)
            self.assertEqual(e.exception.code, "PDSM_ERR_BUSY", "RO slice 1 in is record 1")
            for bad in (2, -1, "1"):
                with self.assertRaises(pdsm.PdsmError):
                    node.slice("ro", bad)
            with self.assertRaises(pdsm.PdsmError) as e:
                node.write_consistent("bc")
            self.assertEqual(e.exception.code, "PDSM_ERR_RANGE", "no BC on this master")

    def test_disagreeing_lines_are_refused(self):
        for text, code in [(master_text(ro_segs=3), "PDSM_ERR_REGISTRY"), (master_text(segs=4), "PDSM_ERR_SEGMENT_SIZE")]:
            P.write("pdsm_master_registry", text)
            with self.assertRaises(pdsm.PdsmError) as e:
                pdsm.open_master(P.dir)
            self.assertEqual(e.exception.code, code)


if __name__ == "__main__":
    unittest.main()
