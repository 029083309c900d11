"""``katibsim serve``: katibsim's algorithms as a Katib suggestion service (gRPC, ``api.v1.beta1``).

With no ``--algorithm`` every registered algorithm is served, chosen by the request's
``algorithmName``; ``--early-stopping NAME`` also serves Katib's EarlyStopping service. The gRPC
health service answers SERVING (Katib's suggestion Deployment probes it). One log line per call
on stderr; Ctrl-C or SIGTERM stop it (calls in flight get a grace period). See ``docs/serve.md``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from katibsim.errors import InputError

NAME = "serve"
HELP = "Serve katibsim's algorithms as a Katib suggestion (and early-stopping) gRPC service."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--algorithm", action="append", default=[], metavar="NAME",
                        help="serve only this algorithm (repeatable; default: every registered one)")
    parser.add_argument("--early-stopping", action="append", default=[], metavar="NAME",
                        help="also serve Katib's EarlyStopping service for this algorithm (e.g. medianstop; repeatable)")
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    parser.add_argument("--port", type=int, default=6789, help="port (default 6789, Katib's)")
    parser.add_argument("--workers", type=int, default=10, help="worker threads (default 10, as Katib's services)")


def run(args: argparse.Namespace) -> int:
    try:
        from katibsim.service.server import build_server
    except ImportError as exc:
        raise InputError(f"katibsim serve needs the grpc extra: pip install 'katibsim[grpc]' ({exc})") from None
    from katibsim import plugins

    known = plugins.algorithms()
    unknown = [n for n in args.algorithm if n not in known]
    if unknown:
        raise InputError(f"--algorithm: unknown algorithm {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    known_es = plugins.early_stopping()
    unknown = [n for n in args.early_stopping if n not in known_es]
    if unknown:
        raise InputError(f"--early-stopping: unknown early-stopping algorithm {', '.join(unknown)}; "
                         f"known: {', '.join(sorted(known_es)) or '(none)'}")
    if not 0 <= args.port <= 65535:
        raise InputError(f"--port: expected 0..65535, got {args.port}")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    try:
        server, port, suggestion = build_server(algorithms=args.algorithm or None, early_stopping=args.early_stopping,
                                                host=args.host, port=args.port, workers=args.workers)
    except (OSError, RuntimeError) as exc:
        raise InputError(f"cannot listen on {args.host}:{args.port}: {exc}") from None
    stop = threading.Event()

    def _stop(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    server.start()
    served = ", ".join(suggestion.served()) or "(none)"
    es = f"; early stopping: {', '.join(args.early_stopping)}" if args.early_stopping else ""
    # The one line a caller (a test, a script) can wait for: the port is bound and serving.
    print(f"katibsim serve: listening on {args.host}:{port}; algorithms: {served}{es}", file=sys.stderr, flush=True)
    while not stop.wait(0.5):
        pass
    server.stop(grace=5).wait()
    print("katibsim serve: stopped", file=sys.stderr, flush=True)
    return 0
