"""The domain: what a report is and what it means, with no I/O.

The result model, the headline figures, rule names and the catalogue, week-over-week changes, accepted
risks and the run's outcome. Pure functions of their inputs; imports only the base (errors, logs,
clock, settings, retry).
"""
