"""Tasks as data: their types (nndl.tasks.types) and the registry of them (nndl.tasks.registry)."""
