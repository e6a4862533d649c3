"""Development-only tools: the local OTLP receiver and the dev-stack seeder. Never used by the api or the worker."""
