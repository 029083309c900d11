"""Hostile result files: `compare --resume` re-runs a run whose stored file does not parse or fit its schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fuzz_helpers import tiny_scenario
from katibsim.cli import main
from katibsim.errors import InputError
from katibsim.runner import load_envelope


def _result_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.glob("*/runs/*/*.json"))}


def _corrupt(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "non-utf8":
        path.write_bytes(data[:40] + b"\xff\xfe" + data[40:])
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "no-result":
        env = json.loads(data)
        del env["result"]
        path.write_text(json.dumps(env))
    elif how == "trials-5":
        env = json.loads(data)
        env["result"]["trials"] = 5
        path.write_text(json.dumps(env))
    elif how == "trial-without-name":
        env = json.loads(data)
        del env["result"]["trials"][0]["name"]
        path.write_text(json.dumps(env))
    elif how == "huge-int":
        path.write_text(data.decode().replace('"seed":', '"seed":' + "9" * 5000 + ",\"x\":", 1))
    else:  # pragma: no cover
        raise AssertionError(how)


HOWS = ["non-utf8", "truncated", "no-result", "trials-5", "trial-without-name", "huge-int"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    d = tmp_path_factory.mktemp("ref")
    sc = tiny_scenario(d)
    out = d / "out"
    assert main(["compare", str(sc), "--out", str(out), "--jobs", "1", "--no-png"]) in (0, 1)
    return sc, out, _result_files(out)


@pytest.mark.parametrize("how", HOWS)
def test_load_envelope_refuses_with_a_clear_input_error(reference, tmp_path, how):
    _, out, files = reference
    name = next(iter(files))
    p = tmp_path / "r.json"
    p.write_bytes(files[name])
    assert load_envelope(p)["key"]
    _corrupt(p, how)
    with pytest.raises(InputError, match=r"r\.json: not a (readable|valid) run result"):
        load_envelope(p)


@pytest.mark.parametrize("how", ["non-utf8", "no-result", "trials-5"])
def test_resume_reruns_a_broken_result_file_and_ends_with_the_same_bytes(reference, tmp_path, how, capsys):
    sc, ref_out, want = reference
    out = tmp_path / "out"
    assert main(["compare", str(sc), "--out", str(out), "--jobs", "1", "--no-png"]) in (0, 1)
    victim = sorted(out.glob("*/runs/*/seed-*.json"))[0]
    _corrupt(victim, how)
    capsys.readouterr()
    assert main(["compare", str(sc), "--out", str(out), "--jobs", "1", "--no-png", "--resume"]) in (0, 1)
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    assert _result_files(out) == {k: v for k, v in want.items()}
