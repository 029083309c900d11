"""The gRPC server of ``katibsim serve``: Katib's Suggestion and EarlyStopping services plus gRPC health.

Any registered algorithm is served through the plugin contract, as Katib's service for it would
answer: the request's ``algorithmName`` picks the plugin (``unknown algorithm name <name>`` with
``INVALID_ARGUMENT`` otherwise, Katib's text), settings errors travel as ``INVALID_ARGUMENT`` with
the plugin's (Katib's) message, and a failing ``GetSuggestions`` is an error status the controller
retries. Like a live suggestion pod, the server keeps one algorithm object per experiment name; it
is rebuilt when the experiment's spec changes and, after a restart, from the trials it is sent.

Two optional request headers carry what Katib's protocol has no field for, so that a run through
the server can match the same run in process: ``katibsim-seed`` (the algorithm's seed) and
``katibsim-corrected`` ("true": the plugin runs katibsim's corrected behaviour). Katib's controller
sends neither; the algorithm then gets no seed (``random_state`` settings still apply).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from katibsim.algorithm import Algorithm, ObjectiveInfo, Trial, TrialCondition
from katibsim.errors import SearchSpaceExhausted, SpecError, SuggestionServiceFailure
from katibsim.service import convert
from katibsim.service.proto import api_pb2 as api
from katibsim.service.proto import api_pb2_grpc as api_grpc

log = logging.getLogger("katibsim.serve")

DEFAULT_PORT = 6789  # Katib's suggestion and early-stopping services listen here
SEED_HEADER = "katibsim-seed"
CORRECTED_HEADER = "katibsim-corrected"
# Trailing metadata of a GetSuggestions answer, read back by katibsim's client.
EXHAUSTED_HEADER = "katibsim-exhausted"
FAILURE_HEADERS = ("katibsim-failure-message", "katibsim-failure-why", "katibsim-failure-fix")
KATIB_PROBE_SERVICE = "manager.v1beta1.Suggestion"
DB_TIMEOUT = 120.0  # medianstop's APISERVER_TIMEOUT for its observation-log calls


def _headers(context: grpc.ServicerContext) -> dict[str, str]:
    return {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}


def _first_message(exc: SpecError) -> str:
    """The service's text for a settings error: the plugin's message, without katibsim's field path."""
    if exc.errors:
        return exc.errors[0].message
    return str(exc)


@dataclass
class _Live:
    """One experiment's live algorithm and the spec it was built from."""

    fingerprint: bytes
    algorithm: Any
    lock: threading.Lock = field(default_factory=threading.Lock)


class SuggestionServicer(api_grpc.SuggestionServicer):
    """``api.v1.beta1.Suggestion`` for the algorithms in ``names`` (every registered one when None)."""

    def __init__(self, names: Iterable[str] | None = None) -> None:
        self.names = None if names is None else frozenset(names)
        self._live: dict[str, _Live] = {}
        self._lock = threading.Lock()
        self.builds = 0  # how many algorithm objects were built (a restart builds afresh)

    def served(self) -> list[str]:
        from katibsim import plugins

        known = plugins.algorithms()
        return sorted(known if self.names is None else self.names & set(known))

    def _check_name(self, name: str, context: grpc.ServicerContext) -> None:
        if name not in self.served():
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unknown algorithm name {name}")

    # -- ValidateAlgorithmSettings ------------------------------------------------------------------
    def ValidateAlgorithmSettings(self, request, context):  # noqa: N802 - the protocol's name
        from katibsim import algorithm_factory, plugins

        start = time.perf_counter()
        name = request.experiment.spec.algorithm.algorithm_name
        outcome = "ok"
        try:
            self._check_name(name, context)
            experiment = convert.experiment_from_message(request.experiment)
            errors = [e for e in algorithm_factory.validate_algorithm(experiment) if e.severity == "error"]
            if errors:
                outcome = f"INVALID_ARGUMENT {errors[0].message}"
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, errors[0].message)
            return api.ValidateAlgorithmSettingsReply()
        finally:
            if outcome == "ok" and context.code() not in (None, grpc.StatusCode.OK):
                outcome = f"{context.code().name} {context.details()}"
            log.info("ValidateAlgorithmSettings experiment=%s algorithm=%s -> %s (%.1f ms)",
                     request.experiment.name, name, outcome, 1000 * (time.perf_counter() - start))

    # -- GetSuggestions -----------------------------------------------------------------------------
    def _algorithm(self, request, headers: dict[str, str], context) -> tuple[_Live, bool]:
        from katibsim import algorithm_factory, plugins

        seed_text = headers.get(SEED_HEADER)
        corrected = headers.get(CORRECTED_HEADER, "").lower() == "true"
        fingerprint = request.experiment.spec.SerializeToString(deterministic=True) + f"|{seed_text}|{corrected}".encode()
        key = request.experiment.name
        with self._lock:
            live = self._live.get(key)
            if live is not None and live.fingerprint == fingerprint:
                return live, False
            experiment = convert.experiment_from_message(request.experiment)
            try:
                seed = int(seed_text) if seed_text else None
            except ValueError:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"header {SEED_HEADER} must be an integer, got {seed_text!r}")
            try:
                algorithm = algorithm_factory.build_algorithm(experiment, seed=seed)
            except SpecError as exc:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, _first_message(exc))
            algorithm.corrected = corrected
            live = _Live(fingerprint, algorithm)
            self._live[key] = live
            self.builds += 1
            return live, True

    def GetSuggestions(self, request, context):  # noqa: N802
        start = time.perf_counter()
        name = request.experiment.spec.algorithm.algorithm_name
        count = request.current_request_number
        outcome = "?"
        built = False
        try:
            self._check_name(name, context)
            live, built = self._algorithm(request, _headers(context), context)
            algorithm: Algorithm = live.algorithm
            with live.lock:
                trials = tuple(convert.trials_from_message(request.trials, algorithm.space, algorithm.objective))
                try:
                    assignments = algorithm.suggest(trials, count)
                except SearchSpaceExhausted as exc:
                    assignments = list(exc.assignments)
                    context.set_trailing_metadata(((EXHAUSTED_HEADER, str(exc)),))
                except SuggestionServiceFailure as exc:
                    context.set_trailing_metadata(tuple(zip(FAILURE_HEADERS, (exc.message, exc.why, exc.fix))))
                    outcome = f"UNKNOWN {exc.message}"
                    context.abort(grpc.StatusCode.UNKNOWN, f"Exception calling application: {exc.message}")
                # Read what the algorithm left beside its answer while no other call for this
                # experiment can change it: per-assignment trial labels and names (the host's
                # `last_labels`, `last_trial_names`), and the state it keeps in the Suggestion's
                # status.algorithmSettings (Katib's hyperband), which the controller merges into
                # the settings of the next request.
                reply = api.GetSuggestionsReply(parameter_assignments=convert.assignments_reply(
                    assignments, getattr(algorithm, "last_labels", None), getattr(algorithm, "last_trial_names", None)))
                status_settings = getattr(algorithm, "status_algorithm_settings", None)
                if status_settings:
                    reply.algorithm.algorithm_settings.extend(
                        api.AlgorithmSetting(name=str(k), value=str(v)) for k, v in status_settings)
            outcome = f"{len(assignments)} assignment(s)"
            return reply
        except Exception as exc:  # noqa: BLE001 - grpc turns it into UNKNOWN, as for Katib's services
            if outcome == "?":
                outcome = f"{type(exc).__name__}: {exc}" if not isinstance(exc, grpc.RpcError) else "aborted"
            raise
        finally:
            if context.code() not in (None, grpc.StatusCode.OK) and not outcome.startswith("UNKNOWN"):
                outcome = f"{context.code().name} {context.details()}"
            log.info("GetSuggestions experiment=%s algorithm=%s trials=%d current=%d total=%d%s -> %s (%.1f ms)",
                     request.experiment.name, name, len(request.trials), count, request.total_request_number,
                     " (built)" if built else "", outcome, 1000 * (time.perf_counter() - start))


class EarlyStoppingServicer(api_grpc.EarlyStoppingServicer):
    """``api.v1.beta1.EarlyStopping`` for the early-stopping algorithms in ``names``.

    As Katib's medianstop service does, it reads each new Succeeded trial's objective log from the
    DB manager whose address comes in the request (``GetObservationLog``), once per trial.
    """

    def __init__(self, names: Iterable[str], *, channel_factory: Callable[[str], grpc.Channel] = grpc.insecure_channel) -> None:
        self.names = frozenset(names)
        self._channel_factory = channel_factory
        self._live: dict[str, _Live] = {}
        self._logs: dict[tuple[str, str], tuple[tuple[int, float], ...]] = {}
        self._lock = threading.Lock()

    def _check_name(self, name: str, context) -> None:
        if name not in self.names:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unknown algorithm name {name}")

    def ValidateEarlyStoppingSettings(self, request, context):  # noqa: N802
        from katibsim import plugins

        name = request.early_stopping.algorithm_name
        outcome = "ok"
        try:
            self._check_name(name, context)
            cls = plugins.get_early_stopping(name)
            settings = {s.name: s.value for s in request.early_stopping.algorithm_settings}
            try:
                validate = getattr(cls, "validate_settings", None)
                if callable(validate):
                    validate(settings)
                else:
                    cls(ObjectiveInfo(metric_name="", maximize=False), settings)
            except SpecError as exc:
                outcome = f"INVALID_ARGUMENT {_first_message(exc)}"
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, _first_message(exc))
            return api.ValidateEarlyStoppingSettingsReply()
        finally:
            if outcome == "ok" and context.code() not in (None, grpc.StatusCode.OK):
                outcome = f"{context.code().name} {context.details()}"
            log.info("ValidateEarlyStoppingSettings algorithm=%s -> %s", name, outcome)

    def _fetch_log(self, address: str, trial: str, metric: str) -> tuple[tuple[int, float], ...]:
        key = (trial, metric)
        if key not in self._logs:
            with self._channel_factory(address) as channel:
                reply = api_grpc.DBManagerStub(channel).GetObservationLog(
                    api.GetObservationLogRequest(trial_name=trial, metric_name=metric), timeout=DB_TIMEOUT
                )
            self._logs[key] = tuple(
                (i + 1, float(m.metric.value)) for i, m in enumerate(reply.observation_log.metric_logs)
            )
        return self._logs[key]

    def GetEarlyStoppingRules(self, request, context):  # noqa: N802
        name = request.experiment.spec.early_stopping.algorithm_name
        try:
            return self._rules(request, context)
        except Exception as exc:  # noqa: BLE001 - logged, then grpc answers UNKNOWN (or the abort's code)
            outcome = f"{context.code().name} {context.details()}" if context.code() not in (None, grpc.StatusCode.OK) \
                else f"{type(exc).__name__}: {exc}"
            log.info("GetEarlyStoppingRules experiment=%s algorithm=%s trials=%d -> %s", request.experiment.name, name,
                     len(request.trials), outcome)
            raise

    def _rules(self, request, context):
        from katibsim import plugins

        spec = request.experiment.spec
        name = spec.early_stopping.algorithm_name
        self._check_name(name, context)
        parts = request.db_manager_address.split(":")
        if len(parts) != 2:
            # Katib's text (medianstop/service.py), raised: the controller sees UNKNOWN.
            raise RuntimeError(f"Invalid Katib DB manager service address: {parts}")
        experiment = convert.experiment_from_message(request.experiment)
        from katibsim.algorithm import objective_info

        objective = objective_info(experiment)
        fingerprint = spec.early_stopping.SerializeToString(deterministic=True) + spec.objective.SerializeToString(deterministic=True)
        with self._lock:
            live = self._live.get(request.experiment.name)
            if live is None or live.fingerprint != fingerprint:
                try:
                    es = plugins.get_early_stopping(name)(objective, experiment.spec.early_stopping.settings())
                except SpecError as exc:
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, _first_message(exc))
                live = _Live(fingerprint, es)
                self._live[request.experiment.name] = live
        space = experiment.search_space()
        trials: list[Trial] = []
        for t in convert.trials_from_message(request.trials, space, objective):
            if t.condition == TrialCondition.SUCCEEDED:
                logs = self._fetch_log(request.db_manager_address, t.name, objective.metric_name)
                t = Trial(t.name, t.assignment, t.condition, t.value, t.observation, logs, t.start_time,
                          t.completion_time, t.labels)
            trials.append(t)
        with live.lock:
            rules = live.algorithm.rules(trials)
        comparisons = {"equal": api.EQUAL, "less": api.LESS, "greater": api.GREATER}
        reply = api.GetEarlyStoppingRulesReply(early_stopping_rules=[
            api.EarlyStoppingRule(name=r.metric, value=str(r.value), comparison=comparisons[r.comparison.value],
                                  start_step=r.start_step)
            for r in rules
        ])
        log.info("GetEarlyStoppingRules experiment=%s algorithm=%s trials=%d -> %s", request.experiment.name, name,
                 len(request.trials), "; ".join(f"{r.metric} {r.comparison.value} {r.value} from step {r.start_step}" for r in rules) or "no rule")
        return reply

    def SetTrialStatus(self, request, context):  # noqa: N802
        # Katib's service patches the Trial's status to EarlyStopped through the Kubernetes API;
        # katibsim serve has no cluster access (docs/serve.md): it tells the plugin and logs.
        for live in list(self._live.values()):
            live.algorithm.set_trial_status(request.trial_name)
        log.info("SetTrialStatus trial=%s (the Trial object is not patched: no Kubernetes access)", request.trial_name)
        return api.SetTrialStatusReply()


def build_server(
    *,
    algorithms: Sequence[str] | None = None,
    early_stopping: Sequence[str] = (),
    host: str = "0.0.0.0",
    port: int = DEFAULT_PORT,
    workers: int = 10,
) -> tuple[grpc.Server, int, SuggestionServicer]:
    """A started-to-be server: Suggestion (unless only early stopping is asked for with an empty
    algorithm list), EarlyStopping when ``early_stopping`` names any, and health. Returns the
    server, the bound port (``port`` 0 picks a free one) and the suggestion servicer."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    suggestion = SuggestionServicer(algorithms)
    api_grpc.add_SuggestionServicer_to_server(suggestion, server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    # Katib's suggestion Deployment probes the service name "manager.v1beta1.Suggestion"
    # (consts.DefaultGRPCService) with a Kubernetes gRPC probe; the overall "" and the protocol's
    # own service names answer too.
    services = ["", "api.v1.beta1.Suggestion", KATIB_PROBE_SERVICE]
    if early_stopping:
        api_grpc.add_EarlyStoppingServicer_to_server(EarlyStoppingServicer(early_stopping), server)
        services.append("api.v1.beta1.EarlyStopping")
    for name in services:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot listen on {host}:{port}")
    return server, bound, suggestion
