"""The errors lmad raises for things a user can fix: one base, :class:`LMADError`.

Each message says what was wrong (the file, field, flag or value) and what to do instead; the
``lmad`` command prints it as one line and exits with status 2, never with a traceback.
"""

from __future__ import annotations


class LMADError(Exception):
    """A problem with what lmad was given (input, configuration, environment) that the user can fix."""


class ConfigError(LMADError, ValueError):
    """A training configuration that cannot run: a YAML error, an unknown key, a wrong type or range."""


__all__ = ["ConfigError", "LMADError"]
