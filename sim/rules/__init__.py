"""Update rules: one pure, vectorised kernel module per phase of a day.

Each kernel reads the old state and writes the new one (synchronous); every
random draw it uses is passed in, so tests can feed the same draws to a
plain-Python reference. See docs/model.md for the equations.
"""

from . import events, influence, media, protest, repression

__all__ = ["events", "influence", "media", "protest", "repression"]
