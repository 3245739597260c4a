"""Affordance queries as users write them: the one parser for the CLI, the detector and evaluation."""

from __future__ import annotations

import warnings

NONE_QUERY = "none"


def parse_queries(queries) -> list[str]:
    """``"grasp, pour,where to sit"`` or a list of strings -> stripped, non-empty queries, each once.

    A query given twice is kept once, with a warning; a list with nothing but ``none`` (or
    nothing at all) is refused.
    """
    if isinstance(queries, str):
        queries = queries.split(",")
    try:
        stripped = [str(q).strip() for q in queries if q is not None and str(q).strip()]
    except TypeError:
        raise ValueError(f"queries must be a comma-separated string or a list of strings, got {queries!r}") from None
    for query in stripped:
        try:
            query.encode("utf-8")
        except UnicodeEncodeError:  # e.g. bytes from a terminal or file in another encoding
            shown = query.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
            raise ValueError(f"query {shown!r} is not valid UTF-8 text; write the queries in UTF-8 "
                             "(check the terminal's or the script's encoding)") from None
    unique = list(dict.fromkeys(stripped))
    if len(unique) < len(stripped):
        repeated = sorted({q for q in stripped if stripped.count(q) > 1})
        warnings.warn(f"queries {repeated} were given more than once; each is scored once", stacklevel=2)
    if not [q for q in unique if q != NONE_QUERY]:
        raise ValueError("give at least one query other than 'none', e.g. 'grasp,pour'")
    return unique


def affordance_indices(names) -> list[int]:
    """Positions of the names that are not ``none``: the questions a per-query model answers."""
    return [i for i, name in enumerate(names) if name != NONE_QUERY]
