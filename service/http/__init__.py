"""The HTTP service: app factory, middleware, problem details, OpenAPI, auth and the routes."""
