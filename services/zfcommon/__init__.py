"""Code every Zhengfeng service needs: event envelope and catalogue, PostgreSQL and Kafka adapters,
settings, auth, problem+json, logs and metrics. No service imports another service's code; they all
import this package."""
