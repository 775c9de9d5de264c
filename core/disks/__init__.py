"""Managed disks: sparse raw images with changed-block tracking and per-disk write locks."""
