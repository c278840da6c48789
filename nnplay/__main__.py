"""`python -m nnplay` and the `nnplay` command: Ctrl+C is answered from the first moment.

Importing the command line takes ~0.1 s; a Ctrl+C meanwhile raised KeyboardInterrupt inside some
import (a traceback; inside a class being made, "RuntimeError: Error calling __set_name__"). Nothing
has been done yet then, so the process just ends by the signal. The command installs its own
handlers while it runs and gives this one back when done: a Ctrl+C while Python shuts down
(multiprocessing's and torch's exit handlers) ends it the same way, without a traceback.
"""

import os
import signal


def interrupted_quietly(signum, frame):
    """End by the signal itself, as a program without a handler would (the shell sees 130 and
    stops a script): no clean-up to run, nothing is started or written outside a command."""
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def run() -> int:
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when ignored (nohup)
        signal.signal(signal.SIGINT, interrupted_quietly)
    from nnplay.cli import main

    return main()


if __name__ == "__main__":
    raise SystemExit(run())
