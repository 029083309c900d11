"""Trial processes for the local backend: started in their own process group, stopped as a group,
never left behind.

- :func:`spawn` starts a command without a shell, in a new session (so its process group is its
  own and a terminal's Ctrl-C reaches katibsim only), stdin from /dev/null, stdout and stderr into
  one file (what Katib's StdOut collector reads, ``docs/katib-behaviour.md`` §6.1). On Linux a tiny exec shim
  first asks the kernel to SIGKILL the child if katibsim itself dies (``PR_SET_PDEATHSIG``); the
  shim then ``exec``s the command, keeping the process id.
- :class:`Watchdog`: the death signal reaches only the trial's main process, not the processes it
  started. So every spawned group is also registered with a watchdog, one small process per
  katibsim process that reads a pipe whose only writer is katibsim. When katibsim ends in any
  way (``kill -9`` included) the kernel closes the pipe; the watchdog reads end-of-file and
  SIGKILLs every group still registered, then exits. Portable (a pipe and ``killpg``).
- :func:`stop_group` sends SIGTERM to the group, waits a grace period, then SIGKILLs it.
- :class:`SignalGuard` turns SIGINT, SIGTERM and SIGHUP into a flag the backend polls, so an
  interrupted run can stop every child and write what finished.
- :class:`Tail` reads a growing file line by line (for early stopping while a trial runs).
"""

from __future__ import annotations

import codecs
import os
import signal
import stat
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


# The watchdog: reads "+PGID" / "-PGID" lines from stdin (a pipe only katibsim writes to); at
# end-of-file, katibsim is gone: SIGKILL every group still registered. Terminal signals are
# ignored (it is in its own session anyway), so only the pipe decides when it acts.
_WATCHDOG = (
    "import os,signal\n"
    "for s in (signal.SIGINT,signal.SIGHUP,signal.SIGTERM,signal.SIGQUIT):\n"
    " signal.signal(s,signal.SIG_IGN)\n"
    "groups=set();buf=b''\n"
    "while True:\n"
    " try:\n"
    "  data=os.read(0,65536)\n"
    " except InterruptedError:\n"
    "  continue\n"
    " except OSError:\n"
    "  data=b''\n"
    " if not data:\n"
    "  break\n"
    " buf+=data\n"
    " *lines,buf=buf.split(b'\\n')\n"
    " for line in lines:\n"
    "  if line[:1]==b'+':\n"
    "   groups.add(int(line[1:]))\n"
    "  elif line[:1]==b'-':\n"
    "   groups.discard(int(line[1:]))\n"
    "for g in groups:\n"
    " try:\n"
    "  os.killpg(g,signal.SIGKILL)\n"
    " except OSError:\n"
    "  pass\n"
)


class Watchdog:
    """Kills registered process groups when this process dies, however it dies.

    Started lazily by the first :meth:`watch`; one per process (a forked child, e.g. a pool
    worker, starts its own and closes its parent's pipe end). :meth:`close` ends it cleanly.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._fd: int | None = None
        self._owner = 0
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._owner == os.getpid() else None

    def _ensure(self) -> None:
        if self._fd is not None and self._owner == os.getpid():
            return
        read_end, write_end = os.pipe()  # both non-inheritable: no trial ever holds the write end
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _WATCHDOG],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                close_fds=True,
            )
        except OSError:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        self._fd, self._owner = write_end, os.getpid()

    def _send(self, line: str) -> None:
        with self._lock:
            self._ensure()
            assert self._fd is not None
            try:
                os.write(self._fd, line.encode())
            except OSError:  # the watchdog is gone (killed by hand): start another for the next groups
                self._forget()
                if line.startswith("+"):
                    self._ensure()
                    os.write(self._fd, line.encode())

    def watch(self, pgid: int) -> None:
        self._send(f"+{pgid}\n")

    def release(self, pgid: int) -> None:
        if self._fd is not None and self._owner == os.getpid():
            self._send(f"-{pgid}\n")

    def _forget(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
        self._fd, self._proc, self._owner = None, None, 0

    def close(self) -> None:
        """End the watchdog (it then kills any group still registered: none after a clean stop)."""
        with self._lock:
            if self._fd is None or self._owner != os.getpid():
                self._fd, self._proc = None, None
                return
            proc = self._proc
            self._forget()
        if proc is not None:
            try:
                proc.wait(timeout=10.0)
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass

    def _after_fork_in_child(self) -> None:
        # The parent's pipe end must not keep the parent's watchdog waiting on this process.
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
        self._fd, self._proc, self._owner = None, None, 0
        self._lock = threading.Lock()


WATCHDOG = Watchdog()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=WATCHDOG._after_fork_in_child)


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
        proc = subprocess.Popen(
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
        WATCHDOG.watch(proc.pid)  # start_new_session: the group id is the process id
        return proc
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
    WATCHDOG.release(proc.pid)


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
    WATCHDOG.release(proc.pid)
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
    """Complete lines appended to a file since the last read (the file may not exist yet).

    Only a regular file is read (a named pipe would block), at most ``max_read`` bytes per call,
    and, with ``root``, only while the path resolves inside ``root``: a trainer cannot make the
    collector read a file outside its trial's folder through a symbolic link.
    """

    def __init__(self, path: str | Path, *, root: str | Path | None = None, max_read: int = 4 << 20) -> None:
        self.path = Path(path)
        self.root = Path(root) if root is not None else None
        self.max_read = max_read
        self._pos = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""

    def lines(self) -> list[str]:
        if self.root is not None and not inside(self.path, self.root):
            return []
        data = read_regular(self.path, self._pos, self.max_read)
        if not data:
            return []
        self._pos += len(data)
        text = self._partial + self._decoder.decode(data)
        *complete, self._partial = text.split("\n")
        return complete


def inside(path: str | Path, root: str | Path) -> bool:
    """Whether ``path``, with every symbolic link and ``..`` resolved, is ``root`` or below it."""
    real = os.path.realpath(path)
    base = os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def read_regular(path: str | Path, offset: int, limit: int) -> bytes:
    """Up to ``limit`` bytes of a regular file from ``offset``; b"" when it is missing or not a regular file.

    Opened without blocking, so a named pipe in its place cannot hang the caller.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return b""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        return os.pread(fd, limit, offset)
    except OSError:
        return b""
    finally:
        os.close(fd)


def last_lines(path: str | Path, n: int = 20, max_bytes: int = 32_768) -> tuple[str, ...]:
    """The last ``n`` lines of a file (trailing blank lines dropped); () when it cannot be read."""
    try:
        size = os.stat(path).st_size
    except OSError:
        return ()
    data = read_regular(path, max(0, size - max_bytes), max_bytes)
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if size > max_bytes and len(lines) > 1:
        lines = lines[1:]  # the first one is cut
    while lines and not lines[-1].strip():
        lines.pop()
    return tuple(line.rstrip("\r") for line in lines[-n:])


def monotonic() -> float:
    return time.monotonic()


__all__ = [
    "WATCHDOG", "Watchdog", "spawn", "stop_group", "reap_group", "group_alive", "SignalGuard", "Tail", "inside",
    "read_regular", "last_lines", "monotonic",
]
