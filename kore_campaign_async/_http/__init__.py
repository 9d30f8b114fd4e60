"""HTTP machinery: transport, auth, pacing, retries and the one request path."""
