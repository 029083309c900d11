"""Subcommands of the `katibsim` CLI, one module each (NAME, HELP, configure, run).

``BUILTIN_COMMANDS`` lists them in the order ``katibsim --help`` shows them; a plugin command
(``katibsim_register_commands``) of the same name is left out in their favour.
"""

# Built-in subcommands; module katibsim.commands.<name with - as _> implements each.
BUILTIN_COMMANDS: tuple[str, ...] = (
    "validate",
    "show",
    "plugins",
    "check-metrics",
    "simulate",
    "run",
    "compare",
    "kind",
    "serve",
)
