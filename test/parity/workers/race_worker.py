"""Python worker of the three-language race (test/parity/race.test.ts), using ``import psmc``.

    PYTHONPATH=clients/python/src python3 test/parity/workers/race_worker.py <storeDir> <count> [key]

Same protocol as race-worker.ts: print {"type":"ready"}, wait for one line on stdin, do ``count``
compare-and-set increments of ``key`` (default ``counter``), retrying on PSMC_CONFLICT and
PSMC_BUSY, print {"type":"done","successes","conflicts","busy","errors"} and exit 0. Writes use
the Python client's default source (``python``).
"""
import json
import os
import sys
import traceback

import psmc


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: race_worker.py <storeDir> <count> [key]\n")
        return 2
    store_dir, count = sys.argv[1], int(sys.argv[2])
    key = sys.argv[3] if len(sys.argv) > 3 else "counter"
    store = psmc.open_store(dir=store_dir, env={})
    sys.stdout.write(json.dumps({"type": "ready", "pid": os.getpid()}) + "\n")
    sys.stdout.flush()
    sys.stdin.readline()
    successes = conflicts = busy = 0
    errors = []
    while successes < count and not errors:
        try:
            r = store.resolve(key)
            # An absent key (revision 0) counts as 0: the store-creation race starts from nothing.
            value = 0 if r.value is None and r.revision == 0 else r.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError("%s is not a number: %r" % (key, r.value))
            store.set(key, value + 1, expect_revision=r.revision)
            successes += 1
        except psmc.PsmcError as e:
            if e.code == "PSMC_CONFLICT":
                conflicts += 1
            elif e.code == "PSMC_BUSY":
                busy += 1
            else:
                errors.append("%s: %s" % (e.code, e.message))
        except Exception:  # reported to the test, which fails on it
            errors.append(traceback.format_exc())
    try:
        store.close()
    except Exception:
        errors.append(traceback.format_exc())
    report = {"type": "done", "successes": successes, "conflicts": conflicts, "busy": busy, "errors": errors}
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
