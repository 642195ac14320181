"""The store: the report bucket and what is kept in it (run files, snapshots, history, ticket records).

Imports the domain and the base, and `aws.errors` to translate S3's answers; never the renderers or Jira.
"""
