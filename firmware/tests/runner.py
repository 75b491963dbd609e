# Minimal test runner for the MicroPython unix port (pytest does not run there):
#   micropython firmware/tests/runner.py test_codec
# runs every test_* function of the module; exit status 1 if any failed.
import sys

sys.path.insert(0, sys.path[0] + "/..")  # the firmware modules


def main(module_name):
    module = __import__(module_name)
    failed = 0
    names = sorted(n for n in dir(module) if n.startswith("test_"))
    for name in names:
        try:
            getattr(module, name)()
            print("ok", name)
        except Exception as exc:  # report every failure, then exit non-zero
            failed += 1
            print("FAIL", name, type(exc).__name__, exc)
            sys.print_exception(exc)
    print("%d passed, %d failed" % (len(names) - failed, failed))
    sys.exit(1 if failed or not names else 0)


main(sys.argv[1])
