"""Item pipelines, in order: clean (extract the article) → dedupe (story identity) → store."""
