"""Trial processes for the local backend: started in their own process group, stopped as a group,
never left behind.

- :func:`spawn` starts a command without a shell, in a new session (so its process group is its
  own and a terminal's Ctrl-C reaches katibsim only), stdin from /dev/null, stdout and stderr into
  one file (what Katib's StdOut collector reads, ``docs/katib-behaviour.md`` §6.1). On Linux a tiny exec shim
  first asks the kernel to SIGKILL the child if katibsim itself dies (``PR_SET_PDEATHSIG``), so
  even ``kill -9`` of katibsim leaves no training process running; the shim then ``exec``s the
  command, keeping the process id.
- :func:`stop_group` sends SIGTERM to the group, waits a grace period, then SIGKILLs it.
- :class:`SignalGuard` turns SIGINT, SIGTERM and SIGHUP into a flag the backend polls, so an
  interrupted run can stop every child and write what finished.
- :class:`Tail` reads a growing file line by line (for early stopping while a trial runs).
"""

from __future__ import annotations

import codecs
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Mapping, Sequence

# Runs in the child before exec: die with the parent (Linux prctl PR_SET_PDEATHSIG = 1), then
# become the command. argv: parent pid, executable, the command's argv.
_SHIM = (
    "import os,sys\n"
    "try:\n"
    " import ctypes,signal\n"
    " if ctypes.CDLL(None,use_errno=True).prctl(1,signal.SIGKILL)==0 and os.getppid()!=int(sys.argv[1]):\n"
    "  os._exit(137)\n"
    "except Exception:\n"
    " pass\n"
    "try:\n"
    " os.execv(sys.argv[2],sys.argv[3:])\n"
    "except OSError as e:\n"
    " sys.stderr.write('katibsim: cannot execute %s: %s\\n'%(sys.argv[2],e.strerror))\n"
    " os._exit(126 if e.errno==13 else 127)\n"
)


def _use_shim() -> bool:
    return sys.platform.startswith("linux")


def spawn(argv: Sequence[str], *, executable: str, cwd: str | Path, env: Mapping[str, str],
          output: str | Path) -> subprocess.Popen:
    """Start ``argv`` (``executable`` is the resolved ``argv[0]``) in its own session; raises OSError."""
    out = open(output, "ab", buffering=0)
    try:
        if _use_shim():
            args, exe = [sys.executable, "-I", "-S", "-c", _SHIM, str(os.getpid()), executable, *argv], None
        else:
            args, exe = list(argv), executable
        return subprocess.Popen(
            args,
            executable=exe,
            cwd=str(cwd),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    finally:
        out.close()  # the child has its own copy


def _killpg(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still exists (zombies of other parents count)."""
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's group: not ours
        return False


def reap_group(proc: subprocess.Popen) -> None:
    """After the leader ended: SIGKILL whatever is left in its group (a container stops all its
    processes when its main process exits)."""
    _killpg(proc.pid, signal.SIGKILL)


def stop_group(proc: subprocess.Popen, grace: float = 3.0) -> int | None:
    """SIGTERM the process group, wait up to ``grace`` seconds for the leader, then SIGKILL the group.

    Returns the leader's exit status (negative: the signal that ended it)."""
    if proc.poll() is None:
        _killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=max(grace, 0.0))
        except subprocess.TimeoutExpired:
            pass
    _killpg(proc.pid, signal.SIGKILL)
    try:
        return proc.wait(timeout=10.0)
    except subprocess.TimeoutExpired:  # pragma: no cover - unkillable (D state)
        return None


class SignalGuard:
    """While installed, SIGINT / SIGTERM / SIGHUP set :attr:`signum` instead of ending katibsim.

    Installed only from the main thread (Python's rule); elsewhere it does nothing and the caller's
    own handling applies. A second signal sets :attr:`forced` (stop now, without a grace period)
    and, with ``raise_on_second`` (the default), raises KeyboardInterrupt; a third always raises,
    so a stuck shutdown can still be forced.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self, *, raise_on_second: bool = True) -> None:
        self.raise_on_second = raise_on_second
        self.signum: int | None = None
        self.forced = False
        self._old: dict[int, object] = {}

    @property
    def received(self) -> bool:
        return self.signum is not None

    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else ""

    def _handle(self, signum, frame) -> None:  # noqa: ARG002 - the signal API
        if self.signum is None:
            self.signum = signum
            return
        if self.raise_on_second or self.forced:
            self.forced = True
            raise KeyboardInterrupt
        self.forced = True

    def install(self) -> bool:
        if threading.current_thread() is not threading.main_thread() or self._old:
            return False
        for s in self.SIGNALS:
            try:
                self._old[s] = signal.signal(s, self._handle)
            except (ValueError, OSError):  # pragma: no cover - not allowed here
                pass
        return True

    def restore(self) -> None:
        for s, old in self._old.items():
            try:
                signal.signal(s, old)  # type: ignore[arg-type]
            except (ValueError, OSError, TypeError):  # pragma: no cover
                pass
        self._old = {}


class Tail:
    """Complete lines appended to a file since the last read (the file may not exist yet)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._pos = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""

    def lines(self) -> list[str]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self._pos)
                data = f.read()
        except OSError:
            return []
        if not data:
            return []
        self._pos += len(data)
        text = self._partial + self._decoder.decode(data)
        *complete, self._partial = text.split("\n")
        return complete


def last_lines(path: str | Path, n: int = 20, max_bytes: int = 32_768) -> tuple[str, ...]:
    """The last ``n`` lines of a file (trailing blank lines dropped); () when it cannot be read."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except OSError:
        return ()
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if size > max_bytes and len(lines) > 1:
        lines = lines[1:]  # the first one is cut
    while lines and not lines[-1].strip():
        lines.pop()
    return tuple(line.rstrip("\r") for line in lines[-n:])


def monotonic() -> float:
    return time.monotonic()


__all__ = ["spawn", "stop_group", "reap_group", "group_alive", "SignalGuard", "Tail", "last_lines", "monotonic"]
