"""The interactions API: verifies, routes and answers Discord's requests."""
