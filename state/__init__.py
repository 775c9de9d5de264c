"""The SQLite state store (sqlite-utils): resources, outputs, lineage and serial, lock, history."""
