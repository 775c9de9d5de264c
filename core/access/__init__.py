"""SAS read access to disk restore points: grants, tokens and the HTTP endpoint."""
