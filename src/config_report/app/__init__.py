"""The application: wires settings, readers, store, renderers and Jira into the commands.

The run context is built once; `run`, the shards and their merge, `check` and the demo reuse the same
stages. The only package that may import every other one.
"""
