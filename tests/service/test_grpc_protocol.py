"""Katib's codes and texts over real gRPC: validation, unknown names, health, failures, addresses, timeouts."""

from __future__ import annotations

import socket
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from katibsim.cli import main
from katibsim.errors import InputError, SearchSpaceExhausted, SpecError, SuggestionServiceFailure
from katibsim.service import convert
from katibsim.service.client import UNEXPECTED_TRIALS, RemoteAlgorithm
from katibsim.service.proto import api_pb2 as api
from katibsim.service.proto import api_pb2_grpc as api_grpc
from katibsim.service.server import FAILURE_HEADERS
from katibsim.spec.loader import load_experiment


def _stub(address: str) -> api_grpc.SuggestionStub:
    return api_grpc.SuggestionStub(grpc.insecure_channel(address))


def _request(path, **settings) -> api.Experiment:
    exp = load_experiment(path)
    return convert.experiment_message(exp, settings or None)


def test_unknown_algorithm_is_invalid_argument_with_katibs_text(served, small_experiment):
    server = served(algorithms=["random"])
    msg = _request(small_experiment("grid"))
    for call in (lambda: _stub(server.address).GetSuggestions(api.GetSuggestionsRequest(experiment=msg, current_request_number=1)),
                 lambda: _stub(server.address).ValidateAlgorithmSettings(api.ValidateAlgorithmSettingsRequest(experiment=msg))):
        with pytest.raises(grpc.RpcError) as err:
            call()
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert err.value.details() == "unknown algorithm name grid"


def test_bad_setting_is_invalid_argument_with_the_plugins_katib_message(served, small_experiment):
    server = served()
    msg = _request(small_experiment("random"), random_state="-1")
    with pytest.raises(grpc.RpcError) as err:
        _stub(server.address).ValidateAlgorithmSettings(api.ValidateAlgorithmSettingsRequest(experiment=msg))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details() == "random_state should be great or equal than zero"
    msg = _request(small_experiment("random"), nope="1")
    with pytest.raises(grpc.RpcError) as err:
        _stub(server.address).ValidateAlgorithmSettings(api.ValidateAlgorithmSettingsRequest(experiment=msg))
    assert err.value.details() == "unknown setting nope for algorithm random"
    # A good one answers an empty reply.
    ok = _stub(server.address).ValidateAlgorithmSettings(api.ValidateAlgorithmSettingsRequest(experiment=_request(small_experiment("random"))))
    assert ok == api.ValidateAlgorithmSettingsReply()


def test_validation_error_fails_the_experiment_with_katibs_message(served, small_experiment, capsys):
    server = served()
    rc = main(["simulate", str(small_experiment("random")), "--objective", "branin", "--suggestion-service", server.address,
               "--algorithm-setting", "random_state=-1"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "spec.algorithm: Validation failed: ValidateAlgorithmSettings Error: random_state should be great or equal than zero" in err


def test_health_answers_serving(served):
    server = served(early_stopping=["medianstop"])
    stub = health_pb2_grpc.HealthStub(grpc.insecure_channel(server.address))
    # "manager.v1beta1.Suggestion" is what Katib's Deployment probe asks for (consts.DefaultGRPCService).
    for service in ("", "api.v1.beta1.Suggestion", "api.v1.beta1.EarlyStopping", "manager.v1beta1.Suggestion"):
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_assignments_are_python_str_and_counts_are_sent(served, small_experiment):
    server = served()
    msg = _request(small_experiment("random"))
    reply = _stub(server.address).GetSuggestions(api.GetSuggestionsRequest(experiment=msg, current_request_number=2, total_request_number=2))
    assert len(reply.parameter_assignments) == 2
    for pa in reply.parameter_assignments:
        values = {a.name: a.value for a in pa.assignments}
        assert set(values) == {"x", "y"}
        assert all(str(float(v)) == v for v in values.values())


# -- the client against services that misbehave -------------------------------------------------------


class _Fake(api_grpc.SuggestionServicer):
    def __init__(self, *, answer: int | None = None, sleep: float = 0.0, fail: bool = False, headers=None) -> None:
        self.answer, self.sleep, self.fail, self.headers = answer, sleep, fail, headers
        self.requests: list[api.GetSuggestionsRequest] = []

    def ValidateAlgorithmSettings(self, request, context):  # noqa: N802
        return api.ValidateAlgorithmSettingsReply()

    def GetSuggestions(self, request, context):  # noqa: N802
        self.requests.append(request)
        time.sleep(self.sleep)
        if self.headers:
            context.set_trailing_metadata(self.headers)
        if self.fail:
            context.abort(grpc.StatusCode.INTERNAL, "the optimizer blew up")
        n = request.current_request_number if self.answer is None else self.answer
        return api.GetSuggestionsReply(parameter_assignments=convert.assignments_reply([{"x": 0.0, "y": 0.0}] * n))


def test_wrong_number_of_assignments_is_katibs_unexpected_trials(fake, small_experiment):
    address = fake(_Fake(answer=1))
    remote = RemoteAlgorithm(address, load_experiment(small_experiment("random")))
    with pytest.raises(SuggestionServiceFailure) as err:
        remote.suggest([], 3)
    assert err.value.message == UNEXPECTED_TRIALS


def test_counts_follow_the_suggestions_requests(fake, small_experiment):
    servicer = _Fake()
    remote = RemoteAlgorithm(fake(servicer), load_experiment(small_experiment("random")))
    remote.suggest([], 3)
    remote.suggest([], 2)
    assert [(r.current_request_number, r.total_request_number) for r in servicer.requests] == [(3, 3), (2, 5)]


def test_failing_get_suggestions_is_a_service_failure_with_gos_text(fake, small_experiment):
    remote = RemoteAlgorithm(fake(_Fake(fail=True)), load_experiment(small_experiment("random")))
    with pytest.raises(SuggestionServiceFailure) as err:
        remote.suggest([], 1)
    assert err.value.message == "rpc error: code = Internal desc = the optimizer blew up"


def test_a_plugins_service_failure_round_trips(fake, small_experiment):
    headers = tuple(zip(FAILURE_HEADERS, ("skopt refuses 0 in log-uniform", "why", "fix")))
    remote = RemoteAlgorithm(fake(_Fake(fail=True, headers=headers)), load_experiment(small_experiment("random")))
    with pytest.raises(SuggestionServiceFailure) as err:
        remote.suggest([], 1)
    assert (err.value.message, err.value.why, err.value.fix) == ("skopt refuses 0 in log-uniform", "why", "fix")


def test_timeout_is_katibs_deadline_failure(fake, small_experiment):
    remote = RemoteAlgorithm(fake(_Fake(sleep=1.0)), load_experiment(small_experiment("random")), timeout=0.2)
    with pytest.raises(SuggestionServiceFailure) as err:
        remote.suggest([], 1)
    assert "DeadlineExceeded" in err.value.message


def test_exhausted_grid_round_trips(served, small_experiment):
    server = served()
    exp = load_experiment(small_experiment("grid"))
    remote = RemoteAlgorithm(server.address, exp)
    remote.corrected = True  # Katib's own grid re-offers points instead; the corrected one ends
    with pytest.raises(SearchSpaceExhausted) as err:
        remote.suggest([], 100)  # the grid has 7 x 7 = 49 points
    assert len(err.value.assignments) == 49


def test_service_down_names_the_address(small_experiment):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once this closes: nobody listens there
    with pytest.raises(InputError) as err:
        RemoteAlgorithm(f"127.0.0.1:{port}", load_experiment(small_experiment("random")), connect_timeout=0.3)
    assert f"127.0.0.1:{port}" in str(err.value)
    assert err.value.exit_code == 2


def test_cli_bad_addresses_exit_2(small_experiment, capsys):
    path = str(small_experiment("random"))
    assert main(["simulate", path, "--objective", "branin", "--suggestion-service", "no-port"]) == 2
    assert "suggestion service: expected HOST:PORT, got 'no-port'" in capsys.readouterr().err
    assert main(["simulate", path, "--objective", "branin", "--suggestion-service", "127.0.0.1:1",
                 "--suggestion-timeout", "0.3"]) == 2
    assert "suggestion service 127.0.0.1:1 is not reachable" in capsys.readouterr().err


def test_validation_spec_error_is_exit_1(served, small_experiment):
    server = served()
    with pytest.raises(SpecError):
        RemoteAlgorithm(server.address, load_experiment(small_experiment("random")), settings={"random_state": "x"})
