"""Formatters: pure functions from a RunResult to text.

Imported lazily by the CLI so a run pays only for the format it prints.
"""
