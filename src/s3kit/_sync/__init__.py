"""Sync: one-way (`oneway`: walk with `scan`, decide with `plan`, act with `execute`, or
streamed with `stream`) and two-way (`bisync`, `bisync_run`), run for the library and the CLI
by `run`.

This package's `__init__` imports nothing: deploy and the config store use a piece of it (the
ignore rules, the audit log) without paying for the whole sync machinery at start-up.
"""
