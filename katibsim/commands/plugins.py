"""``katibsim plugins``: every loaded plugin, what it registers, each algorithm's capabilities and settings.

Plugins that failed to load are listed with their error (the exit code stays 0: the listing
itself worked). ``-o json`` gives the same data for machines.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

NAME = "plugins"
HELP = "List the installed plugins: algorithms (capabilities, settings), early stopping, objectives, backends."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text", help="text for people (default), json for machines")


def run(args: argparse.Namespace) -> int:
    from katibsim import plugins

    info = plugins.plugin_info()
    registered = plugins.algorithms()
    for p in info:
        for a in p["algorithms"]:
            # Katib's algorithms reproduce Katib's services; katibsim's own (katib_algorithm = False) do not.
            a["katib"] = bool(getattr(registered.get(a["name"]), "katib_algorithm", True))
    if args.output == "json":
        json.dump({"plugins": info}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(to_text(info))
    return 0


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _origin(p: dict[str, Any]) -> str:
    if p["source"] == "builtin":
        return f"built-in ({p['module']})"
    if p["source"] == "entry point":
        return f"entry point of {p['distribution']} ({p['module']})"
    return f"{p['source']} ({p['module']})" if p["module"] else p["source"]


def to_text(info: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    loaded = [p for p in info if p["error"] is None]
    failed = [p for p in info if p["error"] is not None]
    for p in loaded:
        lines.append(f"{p['name']} {p['version'] or ''}".rstrip() + f"  {_origin(p)}")
        for kind, names in p["registers"].items():
            lines.append(f"  {kind.replace('_', ' ')}: {', '.join(names)}")
        for a in p["algorithms"]:
            caps = a["capabilities"]
            tag = "" if a.get("katib", True) else " [not in Katib]"
            lines.append(f"  algorithm {a['name']}{tag}: {a['description']}")
            lines.append(f"    parameter types: {', '.join(caps['parameter_types'])}")
            lines.append(f"    distributions: {', '.join(caps['distributions'])}")
            lines.append(
                f"    double needs step: {_yes(caps['double_needs_step'])}; batch: {_yes(caps['batch'])}; "
                f"multi-fidelity: {_yes(caps['multi_fidelity'])}"
            )
            if a["settings"]:
                lines.append("    settings:")
                for s in a["settings"]:
                    default = "(none)" if s["default"] is None else s["default"]
                    origin = "" if s["katib"] else " [katibsim]"
                    lines.append(f"      {s['name']} = {default}{origin}: {s['description']}")
            else:
                lines.append("    settings: none")
    if not loaded:
        lines.append("no plugins loaded")
    algorithms = [a for p in loaded for a in p["algorithms"]]
    if algorithms:
        lines.append("")
        lines.append("Katib's algorithms: " + (", ".join(sorted(a["name"] for a in algorithms if a.get("katib", True))) or "none"))
        lines.append("not in Katib: " + (", ".join(sorted(a["name"] for a in algorithms if not a.get("katib", True))) or "none"))
    if failed:
        lines.append("")
        lines.append("failed to load:")
        for p in failed:
            where = f" ({p['distribution']} {p['version'] or ''})".rstrip() if p["distribution"] else ""
            lines.append(f"  {p['name']}{where}: {p['error']}")
    return "\n".join(lines) + "\n"
