"""Derived facts over the model: workers, pools, replicas, database links."""
