"""The one exception hierarchy of katibsim; the CLI turns these into exit codes and text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable


@dataclass(frozen=True)
class FieldError:
    """One problem at one place: the file, the field path (Katib style), and what was expected.

    ``kind`` follows Kubernetes' field.Error types: "invalid", "required", "forbidden",
    "not-supported"; ``severity`` is "error" or "warning".
    """

    path: str
    message: str
    file: str | None = None
    value: Any = None
    kind: str = "invalid"
    severity: str = "error"

    def render(self) -> str:
        """Katib's rendering, ``<path>: Invalid value: <v>: <detail>``, prefixed by the file."""
        where = f"{self.file}: " if self.file else ""
        if self.kind == "required":
            body = f"Required value: {self.message}"
        elif self.kind == "forbidden":
            body = f"Forbidden: {self.message}"
        elif self.value is not None:
            body = f"Invalid value: {self.value!r}: {self.message}"
        else:
            body = self.message
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}{prefix}{self.path}: {body}" if self.path else f"{where}{prefix}{body}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "path": self.path,
            "message": self.message,
            "value": self.value if isinstance(self.value, (str, int, float, bool, type(None))) else repr(self.value),
            "kind": self.kind,
            "severity": self.severity,
        }


class KatibsimError(Exception):
    """Base of every error katibsim raises on purpose. Exit code 2 unless a subclass says otherwise."""

    exit_code = 2


class InputError(KatibsimError):
    """Unreadable input: a missing file, YAML that does not parse, a usage error (exit 2)."""

    exit_code = 2


class SpecError(KatibsimError):
    """An experiment, scenario or setting that is read fine but invalid (exit 1).

    Carries every problem found, not only the first.
    """

    exit_code = 1

    def __init__(self, errors: Iterable[FieldError] | FieldError | str, *, file: str | None = None):
        if isinstance(errors, str):
            errors = [FieldError(path="", message=errors, file=file)]
        elif isinstance(errors, FieldError):
            errors = [errors]
        self.errors: list[FieldError] = list(errors)
        super().__init__("\n".join(e.render() for e in self.errors))


class PluginError(KatibsimError):
    """A plugin failed to load, registered a duplicate name, or broke its contract."""

    exit_code = 2


class ContractError(PluginError):
    """A plugin's answer broke the suggestion contract (wrong count, type, out of space)."""


class SearchSpaceExhausted(KatibsimError):
    """An algorithm has no new assignment to give (a finished grid). Not a failure of the plugin.

    ``assignments`` holds the (fewer than requested) assignments that were still available.
    """

    exit_code = 1

    def __init__(self, message: str, assignments: list | None = None):
        self.assignments = list(assignments or [])
        super().__init__(message)


class SuggestionServiceFailure(KatibsimError):
    """Katib's own suggestion service would fail here: raised by a Katib-named algorithm plugin.

    Not a bug of the plugin: the plugin reproduces a failure of the Katib service it stands for
    (e.g. scikit-optimize refusing a log-uniform dimension that contains 0, Optuna's grid sampler
    refusing a ``normal`` distribution). Katib's suggestion controller answers such a failure by
    retrying ``SyncAssignments`` on every reconcile: no trial is created and the Experiment stays
    Running. The engine simulates exactly that and puts the three texts below at the top of every
    output.

    ``message``: the service's error as Katib would log it (the library's own text);
    ``why``: the library and the rule behind it; ``fix``: how to change the Experiment so it runs.
    """

    exit_code = 1

    def __init__(self, message: str, *, why: str, fix: str):
        self.message = message
        self.why = why
        self.fix = fix
        super().__init__(message)
