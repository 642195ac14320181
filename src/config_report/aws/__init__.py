"""The readers of AWS: sessions and credentials, one translation of AWS errors, the organization, and
AWS Config through the spoke roles.

Imports the domain and the base; never the store, the renderers or Jira.
"""
