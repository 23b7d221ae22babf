"""The Datasette plugin, its templates and static files: how analysts see the database."""

from pathlib import Path

# Datasette's two files, as links to the top-level files in a checkout and copies in an
# installed package: the metadata (tables, facets, canned queries) and the settings.
METADATA = Path(__file__).with_name("metadata.yml")
CONFIG = Path(__file__).with_name("datasette.yaml")
# The public profile (`dangjian serve --public`): settings applied on top of CONFIG.
PUBLIC_CONFIG = Path(__file__).with_name("datasette-public.yaml")
