"""Stated preferences from the shopper's own chat messages: a deterministic extractor (no API key needed) and a
Claude extractor (tool use with a strict schema), both returning validated `Statement`s that the worker applies
through `worker_apply_stated_preferences`."""

from worker.extract.model import Statement, Statements
from worker.extract.rules import RuleExtractor

__all__ = ["RuleExtractor", "Statement", "Statements"]
