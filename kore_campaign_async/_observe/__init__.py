"""What the SDK tells an operator: logs, OpenTelemetry, and the caller's hooks."""
