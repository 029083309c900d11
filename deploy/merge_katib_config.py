"""Merges katibsim's katib-config entries into Katib's KatibConfig document (stdout), keeping Katib's own.

``python deploy/merge_katib_config.py KATIB_CONFIG.yaml deploy/katib-config-katibsim.yaml``:
every ``runtime.suggestions`` / ``runtime.earlyStoppings`` entry of the second file replaces the
entry of the same ``algorithmName`` in the first, or is appended. Used by docs/serve.md and the
e2e-kind workflow's ``serve`` job.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def merge(katib: dict, ours: dict) -> dict:
    runtime = katib.setdefault("runtime", {})
    for key in ("suggestions", "earlyStoppings"):
        entries = list(runtime.get(key) or [])
        for new in (ours.get("runtime") or {}).get(key) or []:
            entries = [e for e in entries if e.get("algorithmName") != new["algorithmName"]] + [new]
        if entries:
            runtime[key] = entries
    return katib


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.splitlines()[2].strip(), file=sys.stderr)
        return 2
    katib, ours = (yaml.safe_load(Path(p).read_text(encoding="utf-8")) or {} for p in argv)
    sys.stdout.write(yaml.safe_dump(merge(katib, ours), sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
