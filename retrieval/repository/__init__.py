"""The one home of the history's SQL: every statement the retrieval layer runs lives in this package.

`database` holds the connection (one writer transaction, per-thread readers, stored files, the keyword
postings and embeddings writes), `schema` the migrations; `invoices`, `vendors`, `search` and `stats` hold
the statements of one group of tables or one job each, as plain functions that take a cursor (this
thread's reader, `store.cursor()`, or the writer's transaction cursor) and return plain values.
"""
