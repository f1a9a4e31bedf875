"""Everything that talks to the database; the only package that imports SQLAlchemy."""
