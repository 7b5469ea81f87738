"""The API routes, one module per resource; handlers parse, authorise, call a use case and shape the answer."""
