"""``RemoteAlgorithm``: the katibsim Algorithm contract answered by a Katib suggestion service over gRPC.

This is Katib's suggestion client (``suggestionclient.go``) inside katibsim's controller: built,
it validates the settings through ``ValidateAlgorithmSettings``; each ``suggest(trials, count)``
is one ``GetSuggestions`` with the Experiment, the trials converted as Katib converts them,
``current_request_number = count`` and ``total_request_number`` = every assignment asked of it so
far plus ``count`` (the Suggestion's ``spec.requests``). Answers are handled as Katib handles them:

* each assignment's ``labels`` and ``trial_name`` go to the trial the engine creates for it
  (:attr:`RemoteAlgorithm.last_labels`, :attr:`RemoteAlgorithm.last_trial_names`); a name Kubernetes
  would refuse is a :class:`SuggestionServiceFailure`;
* the reply's ``algorithm`` settings are kept as the Suggestion's ``status.algorithmSettings`` and
  merged into the settings of every later request;

* ``INVALID_ARGUMENT`` / ``UNKNOWN`` from validation: the Suggestion (so the Experiment) fails with
  ``Validation failed: ValidateAlgorithmSettings Error: <message>`` (SpecError, exit 1);
* a failing ``GetSuggestions``: :class:`SuggestionServiceFailure` (Katib logs the error and retries
  on every reconcile: no trial is created);
* a reply with another number of assignments: Katib's ``The response contains unexpected trials``
  (also a failure Katib retries);
* a service that cannot be reached: :class:`InputError` naming the address (exit 2). A service
  that goes away mid-experiment is waited for up to ``connect_timeout`` seconds, as Katib's
  controller keeps reconciling until the suggestion Deployment is back.
"""

from __future__ import annotations

import re
import time
from typing import Mapping, Sequence

import grpc

from katibsim.algorithm import Algorithm, Trial
from katibsim.errors import FieldError, InputError, SearchSpaceExhausted, SpecError, SuggestionServiceFailure
from katibsim.service import convert
from katibsim.service.proto import api_pb2 as api
from katibsim.service.proto import api_pb2_grpc as api_grpc
from katibsim.service.server import CORRECTED_HEADER, EXHAUSTED_HEADER, FAILURE_HEADERS, SEED_HEADER
from katibsim.spec.model import Experiment
from katibsim.spec.space import Value

KATIB_TIMEOUT = 60.0  # suggestionclient.go: every call gets a 60 s deadline
UNEXPECTED_TRIALS = "The response contains unexpected trials"
_NAME_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def _go_code(code: grpc.StatusCode) -> str:
    """A status code as Go's grpc prints it in ``rpc error: code = ... desc = ...``."""
    return "".join(part.capitalize() for part in code.name.split("_"))


_GO_NAMES = {
    grpc.StatusCode.DEADLINE_EXCEEDED: "DeadlineExceeded",
    grpc.StatusCode.INVALID_ARGUMENT: "InvalidArgument",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "ResourceExhausted",
    grpc.StatusCode.FAILED_PRECONDITION: "FailedPrecondition",
    grpc.StatusCode.OUT_OF_RANGE: "OutOfRange",
    grpc.StatusCode.DATA_LOSS: "DataLoss",
    grpc.StatusCode.NOT_FOUND: "NotFound",
    grpc.StatusCode.ALREADY_EXISTS: "AlreadyExists",
    grpc.StatusCode.PERMISSION_DENIED: "PermissionDenied",
}


def rpc_error_text(err: grpc.RpcError) -> str:
    code = err.code()
    return f"rpc error: code = {_GO_NAMES.get(code, _go_code(code))} desc = {err.details()}"


class RemoteAlgorithm(Algorithm):
    """An Algorithm whose answers come from the suggestion service at ``address`` (HOST:PORT)."""

    def __init__(
        self,
        address: str,
        experiment: Experiment,
        *,
        seed: int | None = None,
        settings: Mapping[str, str] | None = None,
        timeout: float = KATIB_TIMEOUT,
        connect_timeout: float = 10.0,
    ) -> None:
        # Not Algorithm.__init__: the service, not a settings_spec, decides which settings exist.
        from katibsim import plugins

        algo = experiment.spec.algorithm
        self.name = (algo.algorithm_name if algo else None) or ""  # type: ignore[misc]
        self.address = address
        self.experiment = experiment
        self.space = experiment.search_space()
        from katibsim.algorithm import objective_info

        self.objective = objective_info(experiment)
        self.settings = dict(algo.settings() if settings is None and algo else settings or {})
        self.seed = seed
        self.max_trial_count = experiment.spec.max_trial_count
        self.parallel_trial_count = experiment.spec.parallel_trial_count
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._message = convert.experiment_message(experiment, self.settings)
        self._requested = 0
        #: The labels of the last reply, one mapping per assignment (the host's ``last_labels``).
        self.last_labels: list[dict[str, str]] = []
        #: The trial names of the last reply ("" where the service left the name to the controller).
        self.last_trial_names: list[str] = []
        self._named: set[str] = set()  # every name a reply gave
        #: The Suggestion's ``status.algorithmSettings``: what the replies' ``algorithm`` set.
        self.status_algorithm_settings: dict[str, str] = {}
        self._channel = grpc.insecure_channel(address)
        self._stub = api_grpc.SuggestionStub(self._channel)
        self._wait_until_reachable("ValidateAlgorithmSettings")
        self._validate()

    # -- plumbing ----------------------------------------------------------------------------------
    def _metadata(self) -> tuple[tuple[str, str], ...]:
        md = [(CORRECTED_HEADER, "true" if self.corrected else "false")]
        if self.seed is not None:
            md.append((SEED_HEADER, str(self.seed)))
        return tuple(md)

    def _down(self, call: str, why: str) -> InputError:
        return InputError(
            f"suggestion service {self.address} is not reachable ({why}) for {call}; start one with "
            f"`katibsim serve --port PORT` or check --suggestion-service HOST:PORT"
        )

    def _wait_until_reachable(self, call: str) -> None:
        try:
            grpc.channel_ready_future(self._channel).result(timeout=self.connect_timeout)
        except grpc.FutureTimeoutError:
            raise self._down(call, f"no connection within {self.connect_timeout:g} s") from None

    def close(self) -> None:
        self._channel.close()

    def __del__(self) -> None:  # the channel's threads must not outlive the object
        channel = getattr(self, "_channel", None)
        if channel is not None:
            channel.close()

    # -- ValidateAlgorithmSettings -------------------------------------------------------------------
    def _validate(self) -> None:
        request = api.ValidateAlgorithmSettingsRequest(experiment=self._message)
        try:
            self._stub.ValidateAlgorithmSettings(request, timeout=self.timeout, metadata=self._metadata(), wait_for_ready=True)
        except grpc.RpcError as err:
            code = err.code()
            if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNKNOWN):
                raise SpecError(FieldError(
                    "spec.algorithm",
                    f"Validation failed: ValidateAlgorithmSettings Error: {err.details()}",
                    self.experiment.source_file,
                )) from None
            if code == grpc.StatusCode.UNIMPLEMENTED:
                return  # Katib: "Method ValidateAlgorithmSettings not found", and goes on
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise self._down("ValidateAlgorithmSettings", f"no answer within {self.timeout:g} s") from None
            raise self._down("ValidateAlgorithmSettings", rpc_error_text(err)) from None

    # -- GetSuggestions ------------------------------------------------------------------------------
    def suggest(self, trials: Sequence[Trial], count: int) -> list[dict[str, Value]]:
        obj = self.experiment.spec.objective
        assert obj is not None
        request = api.GetSuggestionsRequest(
            experiment=self._message,
            trials=convert.trials_message(trials, obj),
            current_request_number=count,
            total_request_number=self._requested + count,
        )
        self.last_labels, self.last_trial_names = [], []
        reply, trailing = self._call(request)
        assignments = convert.assignments_from_reply(reply, self.space)
        # The reply's labels, one mapping per assignment: the engine puts them on the trials it
        # creates, as Katib's controller puts them on the Trials (Katib's PBT sends generation and parent).
        self.last_labels = convert.labels_from_reply(reply)
        names = self._trial_names(reply, trials)
        exhausted = trailing.get(EXHAUSTED_HEADER)
        if exhausted is not None and len(assignments) < count:
            self._requested += len(assignments)
            raise SearchSpaceExhausted(exhausted, assignments)
        if len(assignments) != count:
            raise SuggestionServiceFailure(
                UNEXPECTED_TRIALS,
                why=f"asked the service at {self.address} for {count} assignment(s), it answered "
                    f"{len(assignments)}; Katib's controller refuses such a reply and retries on every reconcile",
                fix="the suggestion service must answer exactly current_request_number assignments",
            )
        self._requested += count
        self._update_status_settings(reply)
        self.last_trial_names = names
        self._named.update(n for n in names if n)
        return assignments

    def _update_status_settings(self, reply: api.GetSuggestionsReply) -> None:
        """``updateAlgorithmSettings`` on an accepted reply, then, for the next request,
        ``appendAlgorithmSettingsFromSuggestion``: each status setting overwrites the experiment's
        setting of its name, or is appended."""
        changed = False
        for setting in reply.algorithm.algorithm_settings:
            if self.status_algorithm_settings.get(setting.name) != setting.value:
                self.status_algorithm_settings[setting.name] = setting.value
                changed = True
        if changed:
            self._message = convert.experiment_message(self.experiment, {**self.settings, **self.status_algorithm_settings})

    def _trial_names(self, reply: api.GetSuggestionsReply, trials: Sequence[Trial]) -> list[str]:
        """The reply's ``trial_name`` of each assignment, which Katib's controller uses as the new
        Trial's name. A name Kubernetes refuses, or one a Trial already has, means the Trial is
        never created and Katib's controller fails the same way on every reconcile."""
        names = [pa.trial_name for pa in reply.parameter_assignments]
        taken = self._named | {t.name for t in trials}
        for n in names:
            if not n:
                continue
            why = None
            if len(n) > 253 or not _NAME_RE.fullmatch(n):
                why = (f"trial name {n!r} from the service at {self.address} is not a valid Kubernetes object name "
                       "(lowercase RFC 1123 subdomain, at most 253 characters)")
            elif n in taken:
                why = f"the service at {self.address} named a new trial {n!r}, the name of an existing Trial"
            if why is not None:
                raise SuggestionServiceFailure(
                    f'trials.kubeflow.org "{n}" cannot be created',
                    why=why + "; Katib's experiment controller fails to create it and retries on every reconcile",
                    fix="the suggestion service must give each new trial a new, valid name, or leave trial_name empty",
                )
            taken.add(n)
        return names

    def _call(self, request: api.GetSuggestionsRequest) -> tuple[api.GetSuggestionsReply, dict[str, str]]:
        deadline = time.monotonic() + self.connect_timeout
        while True:
            try:
                reply, call = self._stub.GetSuggestions.with_call(request, timeout=self.timeout, metadata=self._metadata())
                return reply, dict(call.trailing_metadata() or ())
            except grpc.RpcError as err:
                code = err.code()
                if code == grpc.StatusCode.UNAVAILABLE:
                    # The pod is restarting: Katib reconciles again until it answers.
                    if time.monotonic() >= deadline:
                        raise self._down("GetSuggestions", rpc_error_text(err)) from None
                    try:
                        grpc.channel_ready_future(self._channel).result(timeout=max(0.0, deadline - time.monotonic()))
                    except grpc.FutureTimeoutError:
                        raise self._down("GetSuggestions", f"still down after {self.connect_timeout:g} s") from None
                    continue
                trailing = dict(err.trailing_metadata() or ())
                message, why, fix = (trailing.get(h) for h in FAILURE_HEADERS)
                if message is not None:  # a katibsim plugin reproducing its Katib service's failure
                    raise SuggestionServiceFailure(message, why=why or "", fix=fix or "") from None
                if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                    raise SuggestionServiceFailure(
                        "rpc error: code = DeadlineExceeded desc = context deadline exceeded",
                        why=f"the service at {self.address} did not answer GetSuggestions within {self.timeout:g} s "
                            f"(Katib's controller gives every call 60 s, then retries)",
                        fix="make the service answer faster, or raise --suggestion-timeout",
                    ) from None
                raise SuggestionServiceFailure(
                    rpc_error_text(err),
                    why=f"GetSuggestions failed at {self.address}; Katib's controller retries on every reconcile "
                        f"and creates no trial",
                    fix="see the suggestion service's log for the cause",
                ) from None


def remote_algorithm(experiment: Experiment, address: str, *, seed: int, algorithm: str | None = None,
                     settings: Mapping[str, str] | None = None, timeout: float = KATIB_TIMEOUT,
                     notes: Sequence = ()) -> tuple["RemoteAlgorithm", list]:
    """``simulate --suggestion-service`` and a scenario variant's ``service``: the algorithm
    answered by the service at ``address``, seeded as the in-process run of ``seed`` seeds it,
    with the note an in-process ``--algorithm`` override adds."""
    from katibsim.engine.result import Note
    from katibsim.engine.run import Streams, _with_algorithm

    if not re.fullmatch(r"\[?[\w.:-]+\]?:\d{1,5}", address):
        raise InputError(f"suggestion service: expected HOST:PORT, got {address!r}")
    notes = list(notes)
    if algorithm:
        original = experiment.spec.algorithm.algorithm_name if experiment.spec.algorithm else None
        if algorithm != original:
            notes.append(Note("algorithm-override", f"algorithm {algorithm} was used instead of the experiment's {original}"))
        experiment = _with_algorithm(experiment, algorithm, settings)
        settings = None
    remote = RemoteAlgorithm(address, experiment, seed=Streams.from_seed(seed).algorithm_seed, settings=settings,
                             timeout=timeout, connect_timeout=min(10.0, timeout))
    return remote, notes
