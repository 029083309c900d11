"""``katibsim show FILE [-o yaml|json]``: the experiment with Katib's defaults applied, as ``kubectl get experiment -o yaml`` shows it.

``-o json`` follows kubectl: one experiment is printed as the object itself, several as a
``v1`` ``List`` with the experiments in ``items``.

A v1alpha3 file is shown as v1alpha3 (with v1alpha3's defaults); ``--api-version v1beta1``
shows the converted experiment. Reading problems go to stderr; a file that cannot be read
faithfully exits 1 (2 when unreadable) and prints nothing on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys

from katibsim.errors import FieldError, SpecError
from katibsim.spec.loader import load_file
from katibsim.spec.serialize import experiment_to_dict, normalize_api_version, to_yaml

NAME = "show"
HELP = "Print an Experiment file's experiments with Katib's defaults applied, as YAML or JSON."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="an Experiment file (YAML or JSON); - reads standard input")
    parser.add_argument(
        "--api-version", default=None, metavar="VERSION",
        help="show as this version (v1beta1 converts a v1alpha3 experiment); default: the file's own",
    )
    parser.add_argument("-o", "--output", choices=("yaml", "json"), default="yaml", help="output format (default yaml)")


def run(args: argparse.Namespace) -> int:
    target = normalize_api_version(args.api_version)
    result = load_file(args.file)
    errors = [e for e in result.errors if e.severity == "error"]
    if errors:
        raise SpecError(errors)
    if not result.experiments:
        raise SpecError(FieldError("", "no Experiment found", args.file))
    objects = [experiment_to_dict(exp, target) for exp in result.experiments]
    for note in result.notes:
        print(f"{args.file}: note: {note}", file=sys.stderr)
    for warning in result.errors:
        print(warning.render(), file=sys.stderr)
    if getattr(args, "output", "yaml") == "json":
        doc = objects[0] if len(objects) == 1 else {"apiVersion": "v1", "kind": "List", "items": objects, "metadata": {}}
        sys.stdout.write(json.dumps(doc, indent=4, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(to_yaml(objects))
    return 0
