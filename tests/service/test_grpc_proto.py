"""The committed protocol modules are what the pinned grpcio-tools makes of the vendored api.proto,
and they speak Katib's package and method names."""

from __future__ import annotations

import pytest

from katibsim.service.proto import api_pb2


def test_generated_modules_match_the_vendored_proto():
    pytest.importorskip("grpc_tools", reason="grpcio-tools (the test extra) is not installed")
    from katibsim.service.proto import regenerate

    assert regenerate.main(["--check"]) == 0


def test_katibs_full_method_names():
    services = api_pb2.DESCRIPTOR.services_by_name
    assert {m.full_name for m in services["Suggestion"].methods} == {
        "api.v1.beta1.Suggestion.GetSuggestions", "api.v1.beta1.Suggestion.ValidateAlgorithmSettings"}
    assert {m.name for m in services["EarlyStopping"].methods} == {
        "GetEarlyStoppingRules", "SetTrialStatus", "ValidateEarlyStoppingSettings"}
    # Katib's numbering (api.proto): max is field 1, min field 2; conditions CREATED 0 .. UNKNOWN 7.
    fs = api_pb2.FeasibleSpace.DESCRIPTOR.fields_by_name
    assert (fs["max"].number, fs["min"].number) == (1, 2)
    assert api_pb2.TrialStatus.EARLYSTOPPED == 6 and api_pb2.TrialStatus.UNKNOWN == 7


def test_vendored_proto_keeps_its_origin_and_license():
    from pathlib import Path

    head = (Path(api_pb2.__file__).parent / "api.proto").read_text(encoding="utf-8").splitlines()[:6]
    text = "\n".join(head)
    assert "kubeflow/katib" in text and "Apache License, Version 2.0" in text
