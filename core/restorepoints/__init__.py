"""Restore points: capture across disks, incremental manifests, restore, copy and estimates."""
