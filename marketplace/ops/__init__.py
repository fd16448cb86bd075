"""Operations run from the command line (see marketplace/cli.py): sweep.py removes uploads nothing refers to,
backup.py makes and restores a consistent copy of the database and the upload folder."""
