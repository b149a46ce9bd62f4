"""On the master, print the first two u64 of RO slice n, read whole: never half of a batch."""
import sys

import pdsm

n = int(sys.argv[1])
with pdsm.open_master(read_only=True) as master:
    for attempt in master.read_consistent("ro", n):
        with attempt:
            a, b = master.slice("ro", n).cast("Q")[0:2]
print(a, b)
