"""The Datasette plugin, its templates and static files: how analysts see the database."""
