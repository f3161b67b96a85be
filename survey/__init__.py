"""The shared core: survey definitions, reply reading, scoring, the local store."""
