"""Regenerates ``api_pb2.py`` / ``api_pb2_grpc.py`` from the vendored Katib ``api.proto``.

The generated modules are committed (so an install needs no compiler) and
``tests/service/test_grpc_proto.py`` checks that they match what this script produces with the
pinned grpcio-tools. Run from anywhere: ``python -m katibsim.service.proto.regenerate``
(``--check`` only compares, exit 1 on a difference).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]  # the directory holding the katibsim package
PROTO = "katibsim/service/proto/api.proto"
OUTPUTS = ("api_pb2.py", "api_pb2_grpc.py")


def generate(out_dir: Path) -> dict[str, str]:
    """Run protoc (grpcio-tools) on the vendored proto into ``out_dir``; the modules' text by name."""
    from grpc_tools import protoc  # the build-time dependency, only needed here

    args = ["grpc_tools.protoc", f"-I{ROOT}", f"--python_out={out_dir}", f"--grpc_python_out={out_dir}", str(ROOT / PROTO)]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed on {PROTO}")
    gen = out_dir / "katibsim" / "service" / "proto"
    return {name: (gen / name).read_text(encoding="utf-8") for name in OUTPUTS}


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the committed modules")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
    stale = [n for n, text in fresh.items() if _read(HERE / n) != text]
    if args.check:
        for name in stale:
            print(f"{HERE / name} differs from what grpcio-tools generates", file=sys.stderr)
        return 1 if stale else 0
    for name, text in fresh.items():
        (HERE / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
