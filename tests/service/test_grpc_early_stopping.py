"""The EarlyStopping service (medianstop) over gRPC, reading logs from a DB manager as Katib's does."""

from __future__ import annotations

from concurrent import futures

import grpc
import pytest

from katibsim.service.proto import api_pb2 as api
from katibsim.service.proto import api_pb2_grpc as api_grpc


class _DBManager(api_grpc.DBManagerServicer):
    def __init__(self, logs: dict[str, list[float]]) -> None:
        self.logs = logs
        self.asked: list[tuple[str, str]] = []

    def GetObservationLog(self, request, context):  # noqa: N802
        self.asked.append((request.trial_name, request.metric_name))
        return api.GetObservationLogReply(observation_log=api.ObservationLog(metric_logs=[
            api.MetricLog(time_stamp=f"2026-01-01T00:00:0{i}Z", metric=api.Metric(name=request.metric_name, value=str(v)))
            for i, v in enumerate(self.logs[request.trial_name])
        ]))


@pytest.fixture
def db():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    logs = {"t1": [1.0, 2.0, 3.0, 4.0, 9.0], "t2": [2.0, 2.0, 2.0, 2.0], "t3": [0.5, 0.5, 0.5, 0.5], "t4": [7.0]}
    manager = _DBManager(logs)
    api_grpc.add_DBManagerServicer_to_server(manager, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield manager, f"127.0.0.1:{port}"
    server.stop(None)


def _experiment(**settings: str) -> api.Experiment:
    exp = api.Experiment(name="es")
    exp.spec.objective.type = api.MAXIMIZE
    exp.spec.objective.objective_metric_name = "acc"
    exp.spec.early_stopping.algorithm_name = "medianstop"
    exp.spec.early_stopping.algorithm_settings.extend(api.EarlyStoppingSetting(name=k, value=v) for k, v in settings.items())
    return exp


def _trial(name: str, condition=api.TrialStatus.SUCCEEDED) -> api.Trial:
    t = api.Trial(name=name)
    t.status.condition = condition
    return t


def test_rules_are_the_mean_of_the_first_start_step_reports(served, db):
    manager, db_address = db
    stub = api_grpc.EarlyStoppingStub(grpc.insecure_channel(served(early_stopping=["medianstop"]).address))
    exp = _experiment(min_trials_required="3", start_step="4")
    few = stub.GetEarlyStoppingRules(api.GetEarlyStoppingRulesRequest(
        experiment=exp, trials=[_trial("t1"), _trial("t2")], db_manager_address=db_address))
    assert list(few.early_stopping_rules) == []
    reply = stub.GetEarlyStoppingRules(api.GetEarlyStoppingRulesRequest(
        experiment=exp, trials=[_trial("t1"), _trial("t2"), _trial("t3"), _trial("t4", api.TrialStatus.RUNNING)],
        db_manager_address=db_address))
    (rule,) = reply.early_stopping_rules
    assert (rule.name, rule.comparison, rule.start_step) == ("acc", api.LESS, 4)
    assert rule.value == str((2.5 + 2.0 + 0.5) / 3)
    # Each Succeeded trial's log is read once (the live service keeps the means); running ones never.
    assert sorted(manager.asked) == [("t1", "acc"), ("t2", "acc"), ("t3", "acc")]


def test_bad_settings_and_names_are_invalid_argument(served):
    stub = api_grpc.EarlyStoppingStub(grpc.insecure_channel(served(early_stopping=["medianstop"]).address))
    for spec, text in (
        (_experiment(min_trials_required="0").spec.early_stopping, "min_trials_required must be greater than zero (>0)"),
        (_experiment(start_step="x").spec.early_stopping, "failed to validate start_step(x): invalid literal for int() with base 10: 'x'"),
        (api.EarlyStoppingSpec(algorithm_name="nope"), "unknown algorithm name nope"),
    ):
        with pytest.raises(grpc.RpcError) as err:
            stub.ValidateEarlyStoppingSettings(api.ValidateEarlyStoppingSettingsRequest(early_stopping=spec))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert err.value.details() == text
    stub.ValidateEarlyStoppingSettings(api.ValidateEarlyStoppingSettingsRequest(early_stopping=_experiment().spec.early_stopping))


def test_a_db_address_without_a_port_fails_like_katibs(served):
    stub = api_grpc.EarlyStoppingStub(grpc.insecure_channel(served(early_stopping=["medianstop"]).address))
    with pytest.raises(grpc.RpcError) as err:
        stub.GetEarlyStoppingRules(api.GetEarlyStoppingRulesRequest(experiment=_experiment(), db_manager_address="db"))
    assert err.value.code() == grpc.StatusCode.UNKNOWN
    assert "Invalid Katib DB manager service address: ['db']" in err.value.details()


def test_set_trial_status_answers(served):
    stub = api_grpc.EarlyStoppingStub(grpc.insecure_channel(served(early_stopping=["medianstop"]).address))
    assert stub.SetTrialStatus(api.SetTrialStatusRequest(trial_name="t1")) == api.SetTrialStatusReply()
