"""The analyses that run models: Monte Carlo simulation, the settlement test, the zone of
agreement, forecasts, lever comparisons, sensitivity, the variance decomposition, advice and the
forecast ledger. They import the core, io, the store and the models (docs/architecture.md)."""
