#!/usr/bin/env python3
"""Run the VM tests: smoke.py first (the harness self-test), then every
test_* function of every Tests/VM/test_*.py module, in file order.

  python3 Tests/VM/run.py [--quick] [-k SUBSTRING] [--list]

--quick skips tests marked @vmlib.slow.  The last line is exactly
"N passed, N failed"; the exit status is non-zero if anything failed.
A test function takes no arguments and raises on failure (use vmlib.VM).
"""

import argparse
import glob
import importlib.util
import inspect
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import vmlib  # noqa: E402


def load(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def discover():
    """(label, function) pairs: smoke first, then test_*.py in name order."""
    files = [os.path.join(HERE, "smoke.py")] + sorted(glob.glob(os.path.join(HERE, "test_*.py")))
    tests = []
    for path in files:
        mod = load(path)
        funcs = [f for n, f in vars(mod).items()
                 if n.startswith("test_") and inspect.isfunction(f) and f.__module__ == mod.__name__]
        funcs.sort(key=lambda f: f.__code__.co_firstlineno)   # definition order
        tests += [(f"{mod.__name__}.{f.__name__}", f) for f in funcs]
    return tests


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="skip tests marked @vmlib.slow")
    ap.add_argument("-k", default="", help="only tests whose name contains this")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    args = ap.parse_args()
    vmlib.install_signal_handlers()

    tests = [(n, f) for n, f in discover() if args.k in n]
    if args.quick:
        tests = [(n, f) for n, f in tests if not getattr(f, "slow", False)]
    if args.list:
        print("\n".join(n for n, _ in tests))
        return 0

    passed = failed = 0
    for name, fn in tests:
        print(f"=== {name}", flush=True)
        t0 = time.monotonic()
        try:
            fn()
        except (KeyboardInterrupt, SystemExit):
            # SIGINT/SIGTERM: the VM has already cleaned up while unwinding.
            failed += 1
            print(f"INTERRUPTED {name}")
            print(f"{passed} passed, {failed} failed")
            raise
        except Exception as e:        # AssertionError included
            failed += 1
            print(f"FAIL {name} ({time.monotonic() - t0:.1f} s): {e}")
            traceback.print_exc(limit=3)
        else:
            passed += 1
            print(f"PASS {name} ({time.monotonic() - t0:.1f} s)")
        sys.stdout.flush()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not tests else 0


if __name__ == "__main__":
    sys.exit(main())
