"""Hot-folder watchers: readiness, claim and dispatch of batches; no business logic."""
