"""The release engine: the state observed once, a pure plan, one step registry, executed with a journal."""
