"""The core: the scenario format and its validation, estimates, errors, and sampling a scenario
into batched arrays. It imports nothing else of parley (docs/architecture.md)."""
