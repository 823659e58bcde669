"""What every process runs on: settings, database, broker, logging, workers, the HTTP edge
(problem+json, request ids, OpenAPI, operational endpoints) and who is calling. It imports
nothing from the content app or the consumers."""
