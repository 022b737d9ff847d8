"""The OpenAPI 3.1 document (GET /openapi.json), generated from the routes, the actions'
declarations, the validators and the error catalog:

    schemas.py    the actions' `data` schemas and the component schemas
    errors.py     which catalog errors a route can answer; named groups for the declarations
    fields.py     request parameters from a validator's rules
    envelopes.py  each version's envelope as JSON Schema
    operation.py  one route in one version
    document.py   the whole document
"""
from app.common.openapi.document import build_openapi

__all__ = ["build_openapi"]
