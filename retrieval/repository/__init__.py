"""The history's database: the connection (one writer, per-thread readers, stored files) and its migrations."""
