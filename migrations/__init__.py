"""Alembic migrations: the only place the schema is created or changed."""

# The checkout's folders are not packages of their own: from the repository
# root `import migrations` would load a second copy of every module beside the
# installed newsarchive.migrations.
if __name__ != "newsarchive.migrations":
    raise ImportError(f"import newsarchive.migrations, not {__name__} (a folder of the checkout)")
