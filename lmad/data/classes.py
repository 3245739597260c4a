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

# lmad's own paraphrases of each affordance, used in training (``data.paraphrases``) so that free
# text works; disjoint from SYNONYM_QUERIES, which stay the test of it.
PARAPHRASES: dict[str, tuple[str, ...]] = {
    "grasp": ("hold", "grip", "hold in the hand", "handle", "pick it up here"),
    "contain": ("hold liquid", "fill", "store things inside", "put things in", "container"),
    "lift": ("carry", "pick up", "hoist", "carry by"),
    "openable": ("open", "opening", "uncover", "open the lid"),
    "layable": ("lie down", "lie on", "sleep on", "recline"),
    "sittable": ("sit", "sit on", "sitting place", "sit down"),
    "support": ("place things on", "put on top", "set down on", "surface to hold objects"),
    "wrap_grasp": ("hand around the body", "clasp", "hold around the body", "encircle with fingers"),
    "pourable": ("spout", "empty out", "tip out", "decant"),
    "move": ("shift", "relocate", "slide", "move around"),
    "display": ("show", "screen", "look at", "view"),
    "pushable": ("shove", "nudge", "shove open", "swing open by hand"),
    "pull": ("tug", "yank", "pull open", "draw towards you"),
    "listen": ("listen to", "sound", "headphone speaker", "audio"),
    "wear": ("put on", "don", "wear on the head", "worn"),
    "press": ("tap", "type", "click", "key"),
    "cut": ("cutting edge", "chop", "carve", "blade edge"),
    "stab": ("pierce", "poke", "puncture", "point"),
}

# spellings found in the public files -> the name lmad presents
_ALIASES = {"displaY": "display"}


def canonical_class_name(name: str) -> str:
    """Normalise a class name from a data file (``displaY`` -> ``display``)."""
    return _ALIASES.get(name, name)
