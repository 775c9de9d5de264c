"""Key vaults, keys, secrets, disk encryption sets and envelope encryption of blocks."""
