"""Base for every frozen value in events and commands."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic._internal._model_construction import ModelMetaclass


class _PlainChecks(ModelMetaclass):
    """pydantic's metaclass, with the plain ``type`` instance and subclass checks.

    pydantic's metaclass derives from ``ABCMeta``, whose checks consult weak-reference
    caches for classes ``register``-ed as virtual subclasses; none of ours ever is, so
    the answers are the same, without that lookup. It matters on the append path: the
    deciders, ``authorize`` (a tuple of twenty command types), ``evolve`` and the
    return-part tally test an event or command against dozens of classes per append
    (``match`` class patterns included), and every miss went through ``ABCMeta``."""

    # ``type``'s own (C) methods: no Python frame per check
    __instancecheck__ = type.__instancecheck__
    __subclasscheck__ = type.__subclasscheck__


class Frozen(BaseModel, metaclass=_PlainChecks):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)
