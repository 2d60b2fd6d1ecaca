"""The runs registry (sqlite): every forecast recorded so it can be listed and reproduced. Beside
the core: it imports only the core (docs/architecture.md)."""
