"""A service that names its trials, as Katib's PBT does (``trial_name`` in the reply, and the
finished trials looked up by that name): katibsim's controller uses the names, as Katib's
``SyncAssignments`` does, and refuses the names Kubernetes would."""

from __future__ import annotations

import json

import grpc
import pytest

from katibsim.cli import main
from katibsim.service.proto import api_pb2 as api
from katibsim.service.proto import api_pb2_grpc as api_grpc


class Naming(api_grpc.SuggestionServicer):
    """Katib's PBT bookkeeping in small: every job it hands out has its name, and a finished
    trial it never named fails the call (Katib's ``self.running.pop(uid)``: a KeyError)."""

    def __init__(self, name=lambda exp, n: f"{exp}-job-{n}") -> None:
        self.name = name
        self.handed: set[str] = set()
        self.seen: list[str] = []

    def ValidateAlgorithmSettings(self, request, context):  # noqa: N802
        return api.ValidateAlgorithmSettingsReply()

    def GetSuggestions(self, request, context):  # noqa: N802
        for t in request.trials:
            if t.name not in self.handed:
                context.abort(grpc.StatusCode.UNKNOWN, f"Exception calling application: '{t.name}'")
            self.seen.append(t.name)
        out = []
        for _ in range(request.current_request_number):
            n = len(self.handed)
            name = self.name(request.experiment.name, n)
            self.handed.add(name)
            out.append(api.GetSuggestionsReply.ParameterAssignments(
                assignments=[api.ParameterAssignment(name="x", value=str(-5.0 + 2.5 * (n % 7))),
                             api.ParameterAssignment(name="y", value=str(2.5 * (n % 5)))],
                trial_name=name, labels={"job": str(n)},
            ))
        return api.GetSuggestionsReply(parameter_assignments=out)


def _simulate(capsys, path, address):
    rc = main(["simulate", str(path), "--objective", "branin", "-o", "json", "--seed", "3",
               "--suggestion-service", address])
    out, err = capsys.readouterr()
    return rc, out, err


def test_the_controller_names_trials_as_the_service_says(fake, small_experiment, capsys):
    servicer = Naming()
    rc, out, err = _simulate(capsys, small_experiment("random"), fake(servicer))
    assert rc == 0, err
    doc = json.loads(out)
    names = [t["metadata"]["name"] for t in doc["trials"]]
    assert names == [f"small-job-{n}" for n in range(9)]
    assert set(servicer.seen) <= servicer.handed and servicer.seen  # every finished trial was known to it
    assert [s["name"] for s in doc["suggestion"]["status"]["suggestions"]] == names
    assert doc["trials"][4]["metadata"]["labels"]["job"] == "4"


@pytest.mark.parametrize("name, words", [
    (lambda exp, n: "Not_A_Name", "not a valid Kubernetes object name"),
    (lambda exp, n: f"{exp}-same", "the name of an existing Trial"),
])
def test_a_name_kubernetes_refuses_is_a_service_failure(fake, small_experiment, capsys, name, words):
    rc, out, err = _simulate(capsys, small_experiment("random"), fake(Naming(name)))
    text = out + err
    assert "cannot be created" in text and words in text
