"""Property: the same trials written as a Trial List, a CSV and a JSON table read back alike."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

from hypothesis import given, strategies as st

from katibsim.workload.readers import read_trials

from .conftest import metric, trial_object, write_list

STATUSES = ("Succeeded", "Failed", "EarlyStopped", "Running")
trial = st.fixed_dictionaries({
    "lr": st.floats(1e-5, 1.0).map(repr),
    "units": st.integers(1, 4096).map(str),
    "opt": st.sampled_from(["adam", "sgd"]),
    "acc": st.floats(0.0, 1.0),
    "status": st.sampled_from(STATUSES),
    "seconds": st.integers(0, 3600),
})


@given(st.lists(trial, min_size=1, max_size=8).filter(lambda ts: any(t["status"] in ("Succeeded", "EarlyStopped")
                                                                        for t in ts)))
def test_every_format_reads_the_same_table(trials):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        items = []
        for i, t in enumerate(trials):
            created = f"2026-01-01T00:{i:02d}:00Z"
            end = 60 * i + t["seconds"]
            ended = None if t["status"] == "Running" else f"2026-01-01T{end // 3600:02d}:{end // 60 % 60:02d}:{end % 60:02d}Z"
            items.append(trial_object(f"t{i}", {"lr": t["lr"], "units": t["units"], "opt": t["opt"]},
                                      condition=t["status"], created=created, ended=ended,
                                      objective={"type": "minimize", "objectiveMetricName": "acc"},
                                      metrics=[metric("acc", t["acc"], t["acc"], t["acc"])]))
        listed = read_trials(write_list(tmp / "t.yaml", items))
        rows = [{"name": f"t{i}", "status": t["status"], "lr": t["lr"], "units": t["units"], "opt": t["opt"],
                 "acc": t["acc"], "created": 60 * i, "ended": "" if t["status"] == "Running" else 60 * i + t["seconds"]}
                for i, t in enumerate(trials)]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        (tmp / "t.csv").write_text(out.getvalue())
        (tmp / "t.json").write_text(json.dumps(rows))
        tables = [listed, read_trials(tmp / "t.csv", metric="acc"), read_trials(tmp / "t.json", metric="acc")]
    want = [(f"t{i}", t["status"], t["acc"]) for i, t in enumerate(trials)]
    for table in tables:
        assert [(t.name, t.status, t.value) for t in table.trials] == want
        assert [dict(t.parameters) for t in table.trials] == [dict(t.parameters) for t in listed.trials]
        assert [t.duration for t in table.trials] == [t.duration for t in listed.trials]
        assert table.space == listed.space
        for t in table.trials:  # the inferred space holds every value the trials took
            assert table.space.contains(table.space.parse(dict(t.parameters)))
    assert listed.direction == "minimize" and tables[1].direction is None
