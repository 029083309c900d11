"""A scenario's run key holds the content of the files its objective reads: an edited trials file
(or mnist-tfjob table) is run again by `compare --resume`, never taken from the stored results."""

from __future__ import annotations

import shutil
from pathlib import Path

from katibsim.scenario import scenario_from_dict

ROOT = Path(__file__).resolve().parents[2]
TRIALS = ROOT / "examples" / "workload" / "trials.csv"
EXPERIMENT = ROOT / "examples" / "workload" / "mnist-random.yaml"


def _scenario(trials: Path, objective: str = "from-trials", option: str = "file"):
    import yaml

    experiment = yaml.safe_load(EXPERIMENT.read_text())
    return scenario_from_dict({
        "name": "keys", "experiment": experiment, "seeds": {"count": 1},
        "objective": {"name": objective, "options": {option: str(trials)}},
        "variants": [{"name": "r", "algorithm": "random"}],
    })


def test_an_edited_trials_file_changes_the_run_key_and_the_same_content_does_not(tmp_path):
    copy = tmp_path / "trials.csv"
    shutil.copy(TRIALS, copy)
    before = _scenario(copy)
    key = before.run_key(before.variants[0], 1)
    content = before.content_hash()
    elsewhere = tmp_path / "same.csv"
    shutil.copy(TRIALS, elsewhere)
    # The same content under another name: the option differs, so the key does too (as before).
    assert _scenario(elsewhere).run_key(before.variants[0], 1) != key
    # Same path, same content: the same key (a resumed comparison reuses its runs).
    assert _scenario(copy).run_key(before.variants[0], 1) == key
    lines = copy.read_text().splitlines()
    copy.write_text("\n".join(lines[:-1]) + "\n")  # one trial fewer
    after = _scenario(copy)
    assert after.run_key(after.variants[0], 1) != key
    assert after.content_hash() != content


def test_an_objective_without_file_options_keeps_its_keys():
    from katibsim.scenario.model import objective_file_digests

    sc = scenario_from_dict({"name": "h", "experiment": {"spec": {}}, "objective": "branin",
                             "variants": [{"name": "v", "algorithm": "random"}]})
    assert objective_file_digests(sc.objective) == {}
