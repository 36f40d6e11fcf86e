"""Warm-handle throughput of the Python client for bench/clients-bench.ts (run by it).

    PYTHONPATH=clients/python/src python3 bench/clients-bench.py <storeDir> <getOps> <setOps>

The same workload as the TypeScript and Rust parts: open a fresh store (defaults: durability
full, mirror on), write 1,000 keys ``bench.k<i>`` = ``"value <i>"`` in one batch (and its mirror
export: see main), time ``getOps`` gets cycling over them (every one must be found), then
``setOps`` sets of ``bench.counter`` = i, and print one JSON line:
{"get": {"ops", "seconds"}, "set": {"ops", "seconds"}}.
"""
import json
import sys
import time

import psmc

KEYS = 1000


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: clients-bench.py <storeDir> <getOps> <setOps>\n")
        return 2
    store_dir, get_ops, set_ops = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    store = psmc.open_store(dir=store_dir, env={})
    keys = ["bench.k%d" % i for i in range(KEYS)]
    store.batch([{"op": "set", "key": k, "value": "value %d" % i} for i, k in enumerate(keys)])
    # The batch's export is pending now (it came within the export interval of the one that created
    # the file), and this client, having no timer, writes it at the first read after the interval:
    # inside the timed gets. TypeScript's waits on a timer that cannot fire during its synchronous
    # loops, so its gets never include it. Write it before timing, so both time gets only.
    store.flush()

    get = store.get
    missing = psmc.MISSING
    found = 0
    t0 = time.perf_counter()
    for i in range(get_ops):
        if get(keys[i % KEYS], missing) is not missing:
            found += 1
    get_s = time.perf_counter() - t0
    if found != get_ops:
        raise AssertionError("get missed %d keys that exist" % (get_ops - found))

    t0 = time.perf_counter()
    for i in range(set_ops):
        store.set("bench.counter", i)
    set_s = time.perf_counter() - t0
    store.close()
    print(json.dumps({"get": {"ops": get_ops, "seconds": get_s}, "set": {"ops": set_ops, "seconds": set_s}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
