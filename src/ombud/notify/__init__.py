"""notify: outgoing mail and signed webhooks through an outbox, so nothing is lost and nothing is sent twice."""
