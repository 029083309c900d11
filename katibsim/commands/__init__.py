"""Subcommands of the `katibsim` CLI, one module each (NAME, HELP, configure, run)."""
