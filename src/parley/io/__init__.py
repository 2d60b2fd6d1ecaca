"""Reading and writing scenario files in parley's YAML and other tools' formats."""
