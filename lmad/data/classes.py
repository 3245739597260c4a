"""The 3D AffordanceNet affordance classes, in the order every benchmark file uses."""

from __future__ import annotations

AFFORDANCE_CLASSES: tuple[str, ...] = (
    "grasp", "contain", "lift", "openable", "layable", "sittable", "support", "wrap_grasp", "pourable",
    "move", "display", "pushable", "pull", "listen", "wear", "press", "cut", "stab", "none",
)
NONE_INDEX = AFFORDANCE_CLASSES.index("none")

# OpenAD's open-vocabulary protocol: the same labels, queried by these words, in class order.
SYNONYM_QUERIES: tuple[str, ...] = (
    "grab", "accommodate", "raise", "unlock", "rest", "take a seat", "bear", "wrap", "pour",
    "reposition", "demonstrate", "push", "drag", "hear", "clothe", "thumb", "slice", "jab", "none",
)

# spellings found in the public files -> the name lmad presents
_ALIASES = {"displaY": "display"}


def canonical_class_name(name: str) -> str:
    """Normalise a class name from a data file (``displaY`` -> ``display``)."""
    return _ALIASES.get(name, name)
