"""Migration scripts, applied in order by ``newsarchive db upgrade``."""
