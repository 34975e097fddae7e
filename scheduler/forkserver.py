"""A pre-imported process the daemon forks its crawl processes from.

Every crawl runs in a process of its own (Twisted's reactor cannot restart, and
a leaking or crashing spider must not take the daemon down), but a fresh
interpreter spends 1.5 CPU-s importing Scrapy, Twisted, SQLAlchemy, pydantic and
the archive's modules before it fetches anything: nearly all of what a crawl
whose feed answers 304 costs. The fork server pays those imports once per
daemon (or cluster worker): ``python -m newsarchive.scheduler.forkserver``
imports them and then forks one process per crawl, which runs
:func:`newsarchive.scheduler.child.main` exactly as ``python -m
newsarchive.scheduler.child`` would (same protocol, same exit codes), with the
daemon's pipes as its stdin and stdout and the daemon's stderr as its stderr.

What keeps a forked crawl as clean as a spawned one: the server installs no
reactor, creates no event loop and opens no database connection; it forks only
while it runs a single thread; the forked process closes the server's
descriptors, starts its own session (as ``start_new_session`` does) and only
then imports what it still lacks and installs Scrapy's reactor.

Protocol, on a Unix socket pair whose server end's descriptor is ``argv[1]``:

- server → client, once: ``ready CPU\\n`` (the CPU seconds the imports took).
- client → server: ``fork`` with four descriptors (SCM_RIGHTS): the crawl's own
  channel (a socket), its stdin, its stdout and its stderr.
- server → client on the crawl's channel: ``pid N\\n``, then, once the crawl is
  reaped, ``exit STATUS CPU\\n`` (its wait status, and the CPU seconds of it and
  of the processes it waited for).
- client → server on the crawl's channel: a signal number and ``\\n``; the server
  signals the crawl while it has not reaped it, so a reused pid is never hit.
- end of file on the control socket (the daemon is gone): the server exits.
  Its running crawls carry on and notice on their own (end of file on stdin).

The client (:func:`fork_crawl`) falls back to a spawned ``python -m
newsarchive.scheduler.child`` whenever the server cannot start or has died.
Set ``NEWSARCHIVE_FORK_SERVER=0`` to always spawn.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

logger = logging.getLogger(__name__)

ENABLED_ENV = "NEWSARCHIVE_FORK_SERVER"
# Importing everything takes 1.5 s on an idle machine, many times that under load.
READY_TIMEOUT_SECONDS = 60
# A server that failed to start or died is not tried again before this.
RETRY_AFTER_SECONDS = 300
# A wait status the client cannot learn (the server died mid-crawl) reads as a failure.
UNKNOWN_EXIT = 1

# What a crawl imports before its first request; anything missing from this list
# is still imported by the crawl itself, only not paid for in advance. Listed
# by name because the components a crawl's settings name are loaded only when
# its crawler is built, and the reactor must never be.
PRELOAD = (
    "newsarchive.scheduler.child",
    "newsarchive.config",
    "newsarchive.logformat",
    "newsarchive.crawler.run",
    "newsarchive.migrations",
    "scrapy.core.engine",
    "scrapy.core.scheduler",
    "scrapy.core.scraper",
    "scrapy.core.downloader",
    "scrapy.core.downloader.handlers.http11",
    "scrapy.core.downloader.contextfactory",
    "scrapy.pqueues",
    "scrapy.squeues",
    "scrapy.dupefilters",
    "scrapy.robotstxt",
    "scrapy.resolver",
    "scrapy.logformatter",
    "scrapy.statscollectors",
    "scrapy.spiderloader",
    "scrapy.extensions.closespider",
    "scrapy.extensions.corestats",
    "scrapy.extensions.logstats",
    "scrapy.extensions.memusage",
    "scrapy.extensions.throttle",
    "twisted.internet.asyncioreactor",
    "twisted.web.client",
    "sqlite3",
    "psycopg",
    "tldextract",
    "protego",
)
# Components named in Scrapy's settings, loaded with the crawler (see _preload).
COMPONENT_SETTINGS = (
    "DOWNLOADER_MIDDLEWARES_BASE",
    "SPIDER_MIDDLEWARES_BASE",
    "EXTENSIONS_BASE",
    "DOWNLOAD_HANDLERS_BASE",
)


# ---------------------------------------------------------------------- server


def _reactor_installed() -> bool:
    return "twisted.internet.reactor" in sys.modules


def _threads() -> int:
    """This process's threads, native ones included (a BLAS pool is invisible to threading)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def _preload() -> None:
    # numpy's OpenBLAS starts a thread pool when it loads, and a process must not
    # fork with threads running; a crawl does no linear algebra that needs them.
    saved = {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    os.environ.update(dict.fromkeys(saved, "1"))
    try:
        for name in PRELOAD:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        from scrapy.settings import default_settings

        from newsarchive.crawler.settings import DEFAULTS

        paths: set[str] = set()
        for setting in COMPONENT_SETTINGS:
            paths.update(getattr(default_settings, setting))
            paths.update(DEFAULTS.get(setting.removesuffix("_BASE"), {}))  # type: ignore[arg-type]
        paths.update(getattr(default_settings, s) for s in ("SCHEDULER", "DUPEFILTER_CLASS"))
        for path in paths:
            # Handlers whose optional dependencies are missing (S3) fail to import.
            with contextlib.suppress(ImportError):
                importlib.import_module(str(path).rsplit(".", 1)[0])
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _become_crawl(fds: list[int]) -> None:
    """In the forked process: the received stdin, stdout and stderr become 0, 1 and 2."""
    os.setsid()  # a Ctrl-C at the daemon's terminal must not reach the crawl
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)


class _Server:
    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.selector = selectors.DefaultSelector()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.crawls: dict[int, socket.socket] = {}
        """Each unreaped crawl's channel."""

    def serve(self) -> list[int] | None:
        """Fork crawls until the client is gone (None); in a forked crawl, its three descriptors."""
        # SIGCHLD wakes the select through the wakeup fd; the handler itself does nothing.
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)
        self.selector.register(self.control, selectors.EVENT_READ, None)
        self.selector.register(self.wake_r, selectors.EVENT_READ, None)
        while True:
            # The timeout only guards against a lost wake-up: reaping is idempotent.
            for key, _ in self.selector.select(timeout=5):
                if key.fileobj is self.control:
                    try:
                        msg, fds, _flags, _addr = socket.recv_fds(self.control, 64, 4)
                    except OSError:
                        msg, fds = b"", []
                    if not msg:
                        return None
                    forked = self._fork(fds)
                    if forked is not None:
                        return forked
                elif key.fileobj is self.wake_r:
                    with contextlib.suppress(BlockingIOError):
                        while os.read(self.wake_r, 4096):
                            pass
                else:
                    self._command(key.data)
            self._reap()

    def _fork(self, fds: list[int]) -> list[int] | None:
        if len(fds) != 4:
            for fd in fds:
                os.close(fd)
            return None
        channel = socket.socket(fileno=fds[0])
        if _threads() != 1 or _reactor_installed():
            # Never expected; refusing beats a crawl forked with a lock held by a
            # thread that does not exist in it. The client then spawns.
            channel.close()
            for fd in fds[1:]:
                os.close(fd)
            return None
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            self.selector.close()
            os.close(self.wake_r)
            os.close(self.wake_w)
            self.control.close()
            channel.close()
            for other in self.crawls.values():
                other.close()
            # The server's objects stay frozen: collecting them would write to
            # (and so copy) every page the crawl shares with the server.
            return fds[1:]
        for fd in fds[1:]:
            os.close(fd)
        # A client that gave up on the crawl does not read this; it is reaped all the same.
        with contextlib.suppress(OSError):
            channel.sendall(f"pid {pid}\n".encode())
        self.crawls[pid] = channel
        self.selector.register(channel, selectors.EVENT_READ, pid)
        return None

    def _command(self, pid: int) -> None:
        channel = self.crawls.get(pid)
        if channel is None:
            return
        try:
            data = channel.recv(256)
        except OSError:
            data = b""
        if not data:  # the client stopped watching this crawl; it is reaped all the same
            self.selector.unregister(channel)
            return
        for word in data.split():
            with contextlib.suppress(ValueError, ProcessLookupError):
                os.kill(pid, int(word))

    def _reap(self) -> None:
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            channel = self.crawls.pop(pid, None)
            if channel is None:
                continue
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(channel)
            with contextlib.suppress(OSError):
                channel.sendall(f"exit {status} {usage.ru_utime + usage.ru_stime:.3f}\n".encode())
            channel.close()


def main(argv: list[str]) -> int:
    """The server's life; in each forked crawl, the crawl's (returns its exit status)."""
    control = socket.socket(fileno=int(argv[1]))
    _preload()
    if _reactor_installed() or _threads() != 1:
        print("newsarchive fork server: preloading left threads or a reactor", file=sys.stderr)
        return 1
    # The imported modules' objects stay where they are: a forked crawl then
    # dirties (and copies) fewer of the pages it shares with the server.
    gc.freeze()
    cpu = sum(os.times()[:2])
    sys.stdout.flush()
    sys.stderr.flush()
    control.sendall(f"ready {cpu:.3f}\n".encode())
    fds = _Server(control).serve()
    if fds is None:
        return 0
    _become_crawl(fds)
    from newsarchive.scheduler import child

    return child.main()


# ---------------------------------------------------------------------- client


def _process_stat(pid: int) -> tuple[str, str] | None:
    """``pid``'s state and start time (from /proc), or None if there is no such process."""
    try:
        # The command name may contain spaces; fields resume after its ")".
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], fields[19]


def _gone(pid: int, started: str | None) -> bool:
    """True once the process ``pid`` started at ``started`` has exited (a zombie is gone)."""
    stat = _process_stat(pid)
    # Another start time: the pid has been reused since our process exited.
    return stat is None or stat[0] in ("Z", "X") or (started is not None and stat[1] != started)


def _read_line(sock: socket.socket, timeout: float | None) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(256)
        if not chunk:
            break
        data += chunk
    return data


class ForkedCrawl:
    """A crawl process forked by the server, driven like the ``subprocess.Popen`` it replaces.

    It is the server's child, not ours: its exit status arrives on its channel,
    and signals go through the server, which alone knows whether its pid is
    still the crawl's.
    """

    def __init__(self, pid: int, channel: socket.socket, stdin_fd: int, stdout_fd: int) -> None:
        self.pid = pid
        self.stdin = open(stdin_fd, "w")  # noqa: SIM115 - open for the crawl's life
        self.stdout = open(stdout_fd)  # noqa: SIM115
        self.returncode: int | None = None
        self.cpu_seconds: float | None = None
        """CPU seconds of the crawl and the processes it waited for, once it has exited."""
        self._channel = channel
        # Told apart from a later process given the same pid, should the server die.
        stat = _process_stat(pid)
        self._started = stat[1] if stat else None
        self._exited = threading.Event()
        threading.Thread(target=self._watch, name=f"forked-{pid}", daemon=True).start()

    def _watch(self) -> None:
        try:
            line = _read_line(self._channel, None).split()
        except OSError:
            line = []
        if len(line) == 3 and line[0] == b"exit":
            self.returncode = os.waitstatus_to_exitcode(int(line[1]))
            self.cpu_seconds = float(line[2])
        else:
            logger.warning(
                "the fork server died during crawl process %d: its exit status is unknown",
                self.pid,
            )
            while not _gone(self.pid, self._started):
                time.sleep(0.2)
            self.returncode = UNKNOWN_EXIT
        self._channel.close()
        self._exited.set()

    def poll(self) -> int | None:
        return self.returncode if self._exited.is_set() else None

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired(f"crawl process {self.pid}", timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self._exited.is_set():
            return
        try:
            self._channel.sendall(f"{int(signum)}\n".encode())
        except OSError:
            # The server is gone: the crawl is init's child now, and signalled
            # directly unless it has exited (its pid may be another's by now).
            if not _gone(self.pid, self._started):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkServer:
    """The client's handle on one fork server, started on first use; thread-safe."""

    def __init__(self, command: list[str] | None = None) -> None:
        """``command`` starts the server, its control socket's descriptor appended."""
        self._command = command or [sys.executable, "-m", __name__]
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._retry_at = 0.0
        self.started_in: tuple[float, float] | None = None
        """(wall, CPU) seconds the server took to start, once it has."""

    @property
    def pid(self) -> int | None:
        """The server process's pid while it runs."""
        return self._proc.pid if self._running() and self._proc is not None else None

    def start(self) -> bool:
        """Start the server now, not at the first :meth:`fork`; whether it is running."""
        with self._lock:
            return self._running() or self._start()

    def fork(self) -> ForkedCrawl | None:
        """A new crawl process, or None when there is no fork server (the caller spawns)."""
        with self._lock:
            if not self._running() and not self._start():
                return None
            assert self._control is not None
            stdin_r, stdin_w = os.pipe()
            stdout_r, stdout_w = os.pipe()
            mine, theirs = socket.socketpair()
            try:
                socket.send_fds(self._control, [b"fork"], [theirs.fileno(), stdin_r, stdout_w, 2])
                reply = _read_line(mine, READY_TIMEOUT_SECONDS).split()
            except OSError:
                reply = []
            finally:
                for fd in (stdin_r, stdout_w):
                    os.close(fd)
                theirs.close()
            if len(reply) != 2 or reply[0] != b"pid":
                mine.close()
                os.close(stdin_w)
                os.close(stdout_r)
                self._lost("it did not fork the crawl")
                return None
        mine.settimeout(None)
        return ForkedCrawl(int(reply[1]), mine, stdin_w, stdout_r)

    def _running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _start(self) -> bool:
        if time.monotonic() < self._retry_at:
            return False
        self.close()
        began = time.perf_counter()
        mine, theirs = socket.socketpair()
        try:
            self._proc = subprocess.Popen(
                [*self._command, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            mine.close()
            self._lost(f"it could not start ({exc})")
            return False
        finally:
            theirs.close()
        self._control = mine
        try:
            reply = _read_line(mine, READY_TIMEOUT_SECONDS).split()
        except OSError:
            reply = []
        if len(reply) != 2 or reply[0] != b"ready":
            self._lost("it did not start")
            return False
        mine.settimeout(None)
        self.started_in = (time.perf_counter() - began, float(reply[1]))
        logger.info(
            "crawl fork server started (pid %d) in %.1fs", self._proc.pid, self.started_in[0]
        )
        return True

    def _lost(self, why: str) -> None:
        logger.warning(
            "crawl fork server unavailable (%s): crawls start as new processes, "
            "which costs each about a CPU-second more",
            why,
        )
        self.close()
        self._retry_at = time.monotonic() + RETRY_AFTER_SECONDS

    def close(self) -> None:
        """Stop the server (running crawls go on); the next :meth:`fork` starts a new one."""
        if self._control is not None:
            self._control.close()  # end of file: the server exits
            self._control = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None


_server = ForkServer()


def enabled() -> bool:
    return os.environ.get(ENABLED_ENV, "1") != "0"


def fork_crawl() -> ForkedCrawl | None:
    """A crawl process forked from this process's fork server; None means spawn one."""
    return _server.fork() if enabled() else None


def server() -> ForkServer:
    """This process's fork server (for the benchmark's figures and for tests)."""
    return _server


if __name__ == "__main__":
    sys.exit(main(sys.argv))
