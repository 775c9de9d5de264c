"""Resource types: a schema plus CRUD each, calling the core. Found by the engine through entry points."""
