"""The embedded platform's provider: its resource types, their frame and its CLI verbs."""
