"""Typed run configuration: dataclasses loaded from YAML, dotted ``--set`` overrides, strict keys.

A config has four sections, one file and one dataclass each:

- ``data``       what to read and how to tokenize it (:class:`DataConfig`, :mod:`.data`)
- ``model``      the input layer, the encoder and the head (:class:`ModelConfig`, :mod:`.model`), with
  nested sections ``encoder``, ``positional``, ``decoder``, ``generation`` and ``patches`` (images,
  :mod:`.image`)
- ``train``      optimisation, schedule, checkpoints (:class:`TrainConfig`, :mod:`.train`)
- ``vectors``    how to pretrain initial token vectors when ``model.init: word2vec`` (:class:`VectorsConfig`,
  :mod:`.vectors`)

:mod:`.run` puts them together (:class:`RunConfig`) and reads and writes YAML; :mod:`.checks` holds what
every section uses (strict keys with suggestions, type conversion, minimums and choices); :mod:`.migrate`
reads keys of earlier versions under their new names. Unknown keys are errors that name the key and
suggest the closest valid ones (no ``**kwargs`` sinks: a typo never silently falls back to a default).

This module only re-exports; import from here.
"""

from __future__ import annotations

from scratchlm.config.checks import (
    SYNONYMS,
    build_section,
    check_choice,
    check_positive,
    coerce,
    field_types,
    unknown_key,
)
from scratchlm.config.data import OLD_TASK_NAMES, TASK_NAMES, DataConfig
from scratchlm.config.image import PatchConfig
from scratchlm.config.migrate import RULES, Rule, migrate
from scratchlm.config.model import (
    ENCODER_KINDS,
    IMAGE_POSITIONAL_KINDS,
    POSITIONAL_KINDS,
    POSITIONAL_KINDS_2D,
    DecoderConfig,
    EncoderConfig,
    GenerationConfig,
    ModelConfig,
    PositionalConfig,
)
from scratchlm.config.run import (
    SECTIONS,
    RunConfig,
    apply_overrides,
    config_from_dict,
    dump_config,
    load_config,
    parse_override,
    read_yaml,
)
from scratchlm.config.train import TrainConfig
from scratchlm.config.vectors import VectorsConfig
from scratchlm.errors import ConfigError

# the private names this module had before it became a package, for code written against them
_build_section, _coerce, _field_types, _unknown_key = build_section, coerce, field_types, unknown_key

__all__ = [
    "ENCODER_KINDS",
    "IMAGE_POSITIONAL_KINDS",
    "OLD_TASK_NAMES",
    "POSITIONAL_KINDS",
    "POSITIONAL_KINDS_2D",
    "RULES",
    "SECTIONS",
    "SYNONYMS",
    "TASK_NAMES",
    "ConfigError",
    "DataConfig",
    "DecoderConfig",
    "EncoderConfig",
    "GenerationConfig",
    "ModelConfig",
    "PatchConfig",
    "PositionalConfig",
    "Rule",
    "RunConfig",
    "TrainConfig",
    "VectorsConfig",
    "apply_overrides",
    "build_section",
    "check_choice",
    "check_positive",
    "coerce",
    "config_from_dict",
    "dump_config",
    "field_types",
    "load_config",
    "migrate",
    "parse_override",
    "read_yaml",
    "unknown_key",
]
