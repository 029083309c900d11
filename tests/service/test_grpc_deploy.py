"""The deployable pieces: katib-config entries merge into Katib's config; the image runs the server."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _merge_module():
    spec = importlib.util.spec_from_file_location("merge_katib_config", ROOT / "deploy" / "merge_katib_config.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_katibsim_entries_join_katibs_own():
    katib = {"runtime": {"suggestions": [{"algorithmName": "random", "image": "hyperopt"},
                                         {"algorithmName": "katibsim-bo", "image": "old"}],
                         "earlyStoppings": [{"algorithmName": "medianstop", "image": "ms"}]}}
    ours = yaml.safe_load((ROOT / "deploy" / "katib-config-katibsim.yaml").read_text(encoding="utf-8"))
    merged = _merge_module().merge(katib, ours)
    names = [(s["algorithmName"], s["image"]) for s in merged["runtime"]["suggestions"]]
    assert names == [("random", "hyperopt"), ("katibsim-bo", "katibsim-serve:0.1")]
    assert merged["runtime"]["earlyStoppings"] == [{"algorithmName": "medianstop", "image": "ms"}]


def test_image_entry_point_is_the_server_on_katibs_port():
    text = (ROOT / "deploy" / "Dockerfile.serve").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["katibsim", "serve"]' in text
    assert '"--port", "6789"' in text and "'.[grpc]'" in text
