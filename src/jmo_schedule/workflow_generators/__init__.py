"""Generators: pure functions from schedules to {relative path: file text}.

No clock, no environment, no file access: the same schedules give the same bytes.
"""
