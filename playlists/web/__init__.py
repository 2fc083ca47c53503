"""The curator's workbench in the browser (`tastemaker serve`).

A thin Flask layer over the same library calls as the CLI: `app` (the application factory),
`routes` (the pages), `curators` (who may sign in, their sessions, CSRF), `serve` (the WSGI
server). `templates/` and `static/` hold the pages' one template set and stylesheet, shared
with the static `report --html` page (`playlists.report`); importing this package alone pulls
in nothing, so the report can read them without Flask.
"""

DEFAULT_HOST = "127.0.0.1"  # `tastemaker serve` listens here unless told otherwise
DEFAULT_PORT = 8765
