"""The pressrun service: web app, API, recipient pages, tracking and delivery state."""
