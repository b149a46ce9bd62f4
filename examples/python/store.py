"""On the master, store VALUE and 2*VALUE into MO slice n: they travel to remote n in one batch."""
import sys

import pdsm

n, value = int(sys.argv[1]), int(sys.argv[2])
with pdsm.open_master() as master:  # $PDSM_REGISTRY_DIR or /tmp
    mo = master.slice("mo", n).cast("Q")
    with master.write_consistent("mo", n):
        mo[0], mo[1] = value, 2 * value
