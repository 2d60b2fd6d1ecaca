"""The local web app behind `parley ui` (needs the `web` extra: `pip install 'parley[web]'`).

Import `parley.web.app.create_app` to build the FastAPI application; importing this package
alone loads nothing else.
"""
