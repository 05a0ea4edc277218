"""The one home of the history's SQL: every query and write of the retrieval layer lives in this package.

`database` holds the connection (one writer, per-thread readers, migrations, stored files), `schema` the
migrations; the other modules hold the statements of one group of tables each, as plain functions that
take a cursor (a reader's `store.cursor()` or the writer's transaction cursor) and return plain values.
"""
