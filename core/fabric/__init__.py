"""The fabric: tenant, subscriptions, regions and pairs, resource ids and the fabric.db file."""
