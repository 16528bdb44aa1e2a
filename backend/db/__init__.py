"""Database: declarative base, engine factory, migrations and the session dependency."""
